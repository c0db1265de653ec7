"""Holds where.json: where the build hook of this test sdist ran (see ../setup.py)."""

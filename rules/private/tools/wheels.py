"""Helpers shared by the tools that take wheels."""

import os


def wheels_of(path):
    """The wheels a --wheel argument names: the file itself, or the .whl files in a directory (as
    wheel_from_sdist makes: one wheel under its real file name)."""
    if os.path.isdir(path):
        return [os.path.join(path, f) for f in sorted(os.listdir(path)) if f.endswith(".whl")]
    return [path]

"""Constants every part of rules_pyimage shares."""

# The fixed SOURCE_DATE_EPOCH of every build (1980-01-01, the earliest a zip can hold): it fixes
# __DATE__/__TIME__ in the interpreter, makes every .pyc checked-hash, and is the mtime of every
# tar entry.
SOURCE_DATE_EPOCH = 315532800

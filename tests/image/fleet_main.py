"""A fleet service: says which of the lock's packages its image holds."""

import importlib.util

print("fleet service with: %s" % ", ".join(
    name for name in ("attr", "markupsafe", "yaml") if importlib.util.find_spec(name)))

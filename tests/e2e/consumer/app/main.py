"""The consumer's app: a PNG drawn by Pillow (its vendored libraries) and markupsafe's C speedups."""
import io
import sys

import markupsafe
from markupsafe import _speedups
from PIL import Image, features

img = Image.new("RGB", (4, 4), (200, 10, 10))
buf = io.BytesIO()
img.save(buf, format="PNG")
print("python", ".".join(map(str, sys.version_info[:3])))
print("png", len(buf.getvalue()) > 0, "zlib", features.check("zlib"), "jpg", features.check("jpg"))
print("speedups", _speedups.__file__.endswith(".so"), markupsafe.escape("<ok>"))

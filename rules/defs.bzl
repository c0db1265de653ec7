"""Public API of rules_pyimage.

```starlark
load("@rules_pyimage//rules:defs.bzl", "CPythonInfo", "cpython_build")
```

Repository setup (the CPython toolchains) is in `@rules_pyimage//rules:repositories.bzl`.
"""

load("//rules/private:providers.bzl", _CPythonInfo = "CPythonInfo")
load("//toolchains/private:cpython.bzl", _cpython_build = "cpython_build")

CPythonInfo = _CPythonInfo
cpython_build = _cpython_build

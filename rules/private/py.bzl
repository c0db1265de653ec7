"""The one place that uses Bazel's built-in Python rules.

Moving to rules_python is a change to these lines only.
"""

def py_binary(**kwargs):
    native.py_binary(**kwargs)

def py_library(**kwargs):
    native.py_library(**kwargs)

def py_test(**kwargs):
    native.py_test(**kwargs)

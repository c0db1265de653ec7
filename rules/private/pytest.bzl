"""`py_pytest_test`: pytest from the rules' tools lock, on the from-source interpreter."""

load("//rules/private:py.bzl", "py_test")

def py_pytest_test(name, srcs, deps = [], args = [], **kwargs):
    """A py_test that runs pytest (from the rules' lock) on `srcs`, on the from-source interpreter.

    Args:
      name: the test.
      srcs: the pytest files.
      deps: what they import.
      args: extra pytest arguments.
      **kwargs: passed to the py_test.
    """
    runner = Label("//rules/private/tools:pytest_runner.py")
    py_test(
        name = name,
        srcs = [runner] + srcs,
        main = runner,
        args = ["$(rootpath %s)" % s for s in srcs] + args,
        deps = deps + [Label("@pyimage_tools//pytest")],
        **kwargs
    )

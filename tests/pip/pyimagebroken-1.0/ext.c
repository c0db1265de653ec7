/* Needs a header that no builder has: the wheel build must name it. */
#include <pyimage_no_such_lib.h>
#include <Python.h>

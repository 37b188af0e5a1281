"""The NumPy-like surface of tracers: operators, methods, attributes, and NumPy's
dispatch protocols (``__array_ufunc__``, ``__array_function__``) so that plain
``numpy.sin(tracer)`` runs funcdiff's ``sin``."""
from __future__ import annotations

import numpy as np

from ..core.errors import UnsupportedNumpyFunctionError
from ..core.trace import Tracer, current_source_info, leak_error
from ._core import FUNCTIONS, UFUNC_METHODS


_FNP = []


def _fnp():
    if not _FNP:
        from .. import numpy as fnp
        _FNP.append(fnp)
    return _FNP[0]


def _binop(name, reflected=False):
    if reflected:
        def op(self, other):
            return getattr(_fnp(), name)(other, self)
    else:
        def op(self, other):
            return getattr(_fnp(), name)(self, other)
    return op


def _unop(name):
    def op(self):
        return getattr(_fnp(), name)(self)
    return op


def _method(name):
    def m(self, *args, **kwargs):
        return getattr(_fnp(), name)(self, *args, **kwargs)
    m.__name__ = name
    return m


_BINOPS = {"add": "add", "sub": "subtract", "mul": "multiply", "truediv": "divide",
           "floordiv": "floor_divide", "mod": "remainder", "pow": "power",
           "matmul": "matmul", "and": "bitwise_and", "or": "bitwise_or",
           "xor": "bitwise_xor"}
for _op, _fn in _BINOPS.items():
    setattr(Tracer, f"__{_op}__", _binop(_fn))
    setattr(Tracer, f"__r{_op}__", _binop(_fn, reflected=True))
for _op, _fn in {"lt": "less", "le": "less_equal", "gt": "greater", "ge": "greater_equal",
                 "eq": "equal", "ne": "not_equal"}.items():
    setattr(Tracer, f"__{_op}__", _binop(_fn))
Tracer.__neg__ = _unop("negative")
Tracer.__pos__ = _unop("positive")
Tracer.__abs__ = _unop("absolute")
Tracer.__invert__ = _unop("invert")
Tracer.__round__ = lambda self, ndigits=None: _fnp().round(self, ndigits or 0)

for _name in ["sum", "mean", "prod", "max", "min", "var", "std", "cumsum", "cumprod",
              "argmax", "argmin", "all", "any", "dot", "squeeze", "ravel", "clip",
              "round", "conj", "conjugate", "swapaxes", "diagonal", "trace", "repeat",
              "nonzero", "take"]:
    setattr(Tracer, _name, _method(_name))


def _reshape(self, *shape, order="C"):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return _fnp().reshape(self, shape, order=order)


def _transpose(self, *axes):
    if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
        axes = axes[0]
    return _fnp().transpose(self, axes or None)


def _astype(self, dtype, copy=True, **kwargs):
    from ..primitives.elementwise import convert_element_type
    dtype = np.dtype(dtype)
    if dtype == self.dtype and not self.weak_type:
        return self
    return convert_element_type(self, dtype=dtype)


def _flatten(self, order="C"):
    return _fnp().ravel(self, order=order)


def _copy(self, order="K"):
    return self


def _item(self, *args):
    return self.concrete_value("item()").item(*args)


def _tolist(self):
    return self.concrete_value("tolist()").tolist()


Tracer.reshape = _reshape
Tracer.transpose = _transpose
Tracer.astype = _astype
Tracer.flatten = _flatten
Tracer.copy = _copy
Tracer.item = _item
Tracer.tolist = _tolist
Tracer.T = property(lambda self: _fnp().transpose(self))
Tracer.mT = property(lambda self: _fnp().swapaxes(self, -1, -2))
Tracer.real = property(lambda self: _fnp().real(self))
Tracer.imag = property(lambda self: _fnp().imag(self))
Tracer.nbytes = property(lambda self: self.aval.nbytes)
Tracer.itemsize = property(lambda self: self.aval.dtype.itemsize)


def _getitem(self, idx):
    from ._indexing import getitem
    return getitem(self, idx)


def _at(self):
    from ._indexing import _IndexUpdateHelper
    return _IndexUpdateHelper(self)


Tracer.__getitem__ = _getitem
Tracer.at = property(_at)


# --- NumPy's dispatch protocols ---------------------------------------------------------

def _check_alive(args):
    for a in args:
        if type(a) is Tracer and not a._trace.active:
            raise leak_error(a, "passed to a NumPy function")


def _unsupported(what):
    return UnsupportedNumpyFunctionError(
        f"{what} was applied to a traced value (at {current_source_info()}), and funcdiff "
        "does not trace it yet.  Use a funcdiff.numpy function that does the same, "
        "rewrite it with supported operations, or ask for it in the issue tracker; "
        "docs/numpy-coverage.md lists what is supported.")


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    _check_alive(inputs)
    if method == "__call__":
        f = FUNCTIONS.get(ufunc)
        if f is None:
            raise _unsupported(f"numpy.{ufunc.__name__}")
        return f.traced(*inputs, **kwargs)
    f = UFUNC_METHODS.get((ufunc, method))
    if f is None:
        raise _unsupported(f"numpy.{ufunc.__name__}.{method}")
    return f(*inputs, **kwargs)


def _array_function(self, func, types, args, kwargs):
    from ..tree_util import tree_leaves
    _check_alive(tree_leaves((args, kwargs)))
    f = FUNCTIONS.get(func)
    if f is None:
        mod = getattr(func, "__module__", "numpy") or "numpy"
        mod = mod.replace("numpy._core", "numpy").replace("numpy.core", "numpy")
        mod = mod.replace("numpy.linalg._linalg", "numpy.linalg")
        raise _unsupported(f"{mod}.{getattr(func, '__name__', func)}")
    return f.traced(*args, **kwargs)


Tracer.__array_ufunc__ = _array_ufunc
Tracer.__array_function__ = _array_function

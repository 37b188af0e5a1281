"""The NumPy-like surface of tracers: operators, methods, attributes, and NumPy's
dispatch protocols (``__array_ufunc__``, ``__array_function__``) so that plain
``numpy.sin(tracer)`` runs funcdiff's ``sin``.

Conversions out of the trace never cut a derivative silently.  ``numpy.asarray`` /
``numpy.array`` of a value that carries a derivative (a floating value computed from the
inputs being differentiated) raises ``TracerArrayConversionError``; of integers,
booleans, constants or ``funcdiff.stop_gradient(x)`` it gives the value.  Python-number
conversions (``float() int() complex() bool() .item() .tolist()``) give the value when it
is known, as Python control flow on values needs under ``grad`` (API.md), and raise
``ConcretizationError`` under ``jit``/``vmap``; ``float complex .item .tolist`` of a value
carrying a derivative also warn (``DerivativeCutWarning``) naming the line.
"""
from __future__ import annotations

import os
import sys
import warnings
import weakref

import numpy as np

from ..core.errors import ConcretizationError, DerivativeCutWarning, FuncdiffTypeError, \
    TracerArrayConversionError, UnsupportedNumpyFunctionError
from ..core.ir import Var
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
# functional, as jax.Array's: x.sort() returns the sorted value and leaves x unchanged
# (a traced value cannot be sorted in place; docs/sharp-edges.md)
for _name in ["sort", "argsort", "searchsorted", "partition", "argpartition"]:
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


# --- conversions out of the trace ------------------------------------------------------

# per trace: (eqns seen, constvars seen, vars carrying a derivative), grown incrementally
_DERIV: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _inexact(a) -> bool:
    return a.dtype.kind in "fc"


def _carries_derivative(t: Tracer) -> bool:
    """Whether ``t`` is floating and depends, through floating values, on an input of
    its trace or on a captured tracer (of an enclosing trace) that does.  Integer and
    boolean values carry no derivative, and ``stop_gradient`` ends the dependence."""
    if not _inexact(t.aval):
        return False
    trace = t._trace
    n_eqns, n_consts, dep = _DERIV.get(trace, (0, 0, None))
    if dep is None:
        dep = {v for v in trace.invars if _inexact(v.aval)}
    for v, c in zip(trace.constvars[n_consts:], trace.consts[n_consts:]):
        if type(c) is Tracer and c._trace.active and _carries_derivative(c):
            dep.add(v)
    for eqn in trace.eqns[n_eqns:]:
        if eqn.primitive.name == "stop_gradient":
            continue
        if any(type(a) is Var and a in dep for a in eqn.invars):
            dep.update(o for o in eqn.outvars if _inexact(o.aval))
    _DERIV[trace] = (len(trace.eqns), len(trace.constvars), dep)
    return t.ir_var in dep


_KEEP_TRACED = ("Keep it traced: a 0-d traced value works wherever a NumPy scalar does "
                "(x * 2.0, np.sin(x), x > 0), so use x itself.")
_STOP = "Convert funcdiff.stop_gradient(x) instead of x if no derivative is intended."


_FUNCDIFF_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _user_stacklevel() -> int:
    """``warnings.warn``'s stacklevel for the first frame outside funcdiff."""
    root = _FUNCDIFF_DIR
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(root):
        frame, level = frame.f_back, level + 1
    return level


def _convert(t: Tracer, what: str, instead: str, cuts: bool):
    """``t``'s concrete value for a conversion to a Python number.  Unknown (jit, vmap):
    ``ConcretizationError``.  Known and carrying a derivative that the conversion drops
    (``cuts``; not for int()/bool(), whose derivative is zero anyway): the value, with a
    ``DerivativeCutWarning`` -- fine for control flow, never silent."""
    t._check_alive(what)
    if t._val is None:
        raise ConcretizationError(
            f"{what} needs the concrete value of a traced {t.aval.str_short()} value, which "
            f"is not known inside jit (at {current_source_info()}).  {instead}  For "
            "control flow on traced values use funcdiff.lax.cond / switch / while_loop / "
            "fori_loop; for a configuration value, mark the argument static with "
            "jit(f, static_argnums=...).")
    if cuts and _carries_derivative(t):
        warnings.warn(DerivativeCutWarning(
            f"{what} on a traced {t.aval.str_short()} value that carries a derivative (at "
            f"{current_source_info()}): the Python number has no derivative, so anything "
            f"computed from it is a constant to grad/jvp/vjp.  That is fine for control "
            f"flow (`while abs(float(err)) > tol:`).  {instead}  {_STOP}"),
            stacklevel=_user_stacklevel())
    return t._val


def _float(self):
    return float(_convert(self, "float() (or a math.* function, or `buf[i] = x` into a "
                                "NumPy array)", _KEEP_TRACED + "  To fill an array with "
                          "traced values use buf = buf.at[i].set(x) on a funcdiff.numpy "
                          "array, or np.stack([...]).", True))


def _int(self):
    return int(_convert(self, "int()", "For integer values that stay traced use "
                        "np.floor(x).astype(int).", False))


def _complex(self):
    return complex(_convert(self, "complex()", _KEEP_TRACED, True))


def _item(self, *args):
    return np.asarray(_convert(self, "item()", _KEEP_TRACED, True)).item(*args)


def _tolist(self):
    return np.asarray(_convert(self, "tolist()", "Iterate over the traced value instead: "
                               "list(x) or `for row in x` keeps each element traced.",
                               True)).tolist()


def _array(self, dtype=None, copy=None):
    """``numpy.asarray(x)``: the value if it carries no derivative (integers, booleans,
    constants, ``stop_gradient``); otherwise ``TracerArrayConversionError``, since the
    array would silently have no derivative (or, under jit, no value at all)."""
    what = "numpy.asarray() / numpy.array()"
    self._check_alive(what)
    instead = ("Use numpy functions (they dispatch to funcdiff) or funcdiff.numpy on traced "
               "values; for a list mixing traced values and numbers use "
               "funcdiff.numpy.array([...]) or np.stack([...]); to fill an array use "
               "x.at[i].set(v) instead of assigning into a NumPy array.")
    if self._val is None:
        raise TracerArrayConversionError(
            f"{what} was applied to a traced {self.aval.str_short()} value at "
            f"{current_source_info()}, whose value is not known here (inside jit or "
            f"vmap).  {instead}")
    if _carries_derivative(self):
        raise TracerArrayConversionError(
            f"{what} was applied to a traced {self.aval.str_short()} value at "
            f"{current_source_info()}.  The NumPy array would have no derivative, "
            f"silently cutting the gradient through it.  {instead}  {_STOP}")
    out = np.asarray(self._val, dtype=dtype)
    return out.copy() if copy else out


def _format(self, spec):
    if self._val is not None and self._trace.active:
        return format(self._val, spec)      # printing a value loses no derivative
    if spec:
        return format(self.concrete_value(f"formatting with {spec!r}"), spec)
    return repr(self)


Tracer.__float__ = _float
Tracer.__int__ = _int
Tracer.__complex__ = _complex
Tracer.__array__ = _array
Tracer.__format__ = _format


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


def _no_out_where(ufunc, method, kwargs):
    """A clear error for ``out=`` (in-place operators on NumPy arrays included) and, for
    a plain ufunc call, ``where=``."""
    name = f"numpy.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
    src = current_source_info()
    out = kwargs.get("out")
    if out is not None:
        outs = out if isinstance(out, tuple) else (out,)
        if any(o is not None and type(o) is not Tracer for o in outs):
            raise FuncdiffTypeError(
                f"{name}(..., out=a) writes a traced result into the NumPy array `a` (at "
                f"{src}); an in-place operator such as `a += x` or `a *= x` on a NumPy "
                "array does this too.  That would cut the derivative.  Write `a = a + x` "
                f"(or a = {name}(...) without out=): the result is then traced.")
        raise FuncdiffTypeError(
            f"{name}(..., out=x) on a traced value (at {src}): traced values are "
            "immutable.  Use the returned value, e.g. y = np.add(a, b).")
    where = kwargs.get("where", True)
    if method == "__call__" and not (where is True or (
            isinstance(where, (bool, np.bool_)) and where)):
        raise FuncdiffTypeError(
            f"{name}(..., where=mask) on a traced value (at {src}): the masked-out "
            "entries would be whatever the uninitialized output holds.  Use "
            f"funcdiff.numpy.where(mask, {name}(...), fallback) (np.where works too).")


def _outer(f, a, b, **kwargs):
    """``ufunc.outer(a, b)``: ``a`` reshaped to ``a.shape + (1,) * b.ndim``, then the
    ufunc broadcasts (exact, and differentiable like the ufunc)."""
    fnp = _fnp()
    a, b = fnp.asarray(a), fnp.asarray(b)
    return f.traced(fnp.reshape(a, fnp.shape(a) + (1,) * fnp.ndim(b)), b, **kwargs)


def _lookup(func):
    """The funcdiff function registered for a NumPy/SciPy callable, or None.  SciPy's
    registrations are made when ``funcdiff.scipy`` is imported, which ``import funcdiff``
    does not do (it would import SciPy): a SciPy function seen here imports it first."""
    f = FUNCTIONS.get(func)
    if f is None and "scipy" in sys.modules and "funcdiff.scipy" not in sys.modules:
        import funcdiff.scipy  # noqa: F401  (registers scipy.special/linalg/... functions)
        f = FUNCTIONS.get(func)
    return f


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    _check_alive(inputs)
    _no_out_where(ufunc, method, kwargs)
    kwargs.pop("out", None)
    if method == "__call__":
        f = _lookup(ufunc)
        if f is None:
            raise _unsupported(f"numpy.{ufunc.__name__}")
        return f.traced(*inputs, **kwargs)
    if method == "at":
        raise FuncdiffTypeError(
            f"numpy.{ufunc.__name__}.at(a, idx, v) modifies `a` in place, and traced "
            f"values are immutable (at {current_source_info()}).  Use the functional "
            "update a = funcdiff.numpy.asarray(a).at[idx].add(v) (.multiply, .min, .max, "
            ".set likewise): it returns the updated array.")
    if method == "outer" and ufunc.nin == 2 and ufunc in FUNCTIONS:
        return _outer(FUNCTIONS[ufunc], *inputs, **kwargs)
    f = UFUNC_METHODS.get((ufunc, method))
    if f is None:
        raise _unsupported(f"numpy.{ufunc.__name__}.{method}")
    return f(*inputs, **kwargs)


def _array_function(self, func, types, args, kwargs):
    from ..tree_util import tree_leaves
    _check_alive(tree_leaves((args, kwargs)))
    f = _lookup(func)
    if f is None:
        mod = getattr(func, "__module__", "numpy") or "numpy"
        mod = mod.replace("numpy._core", "numpy").replace("numpy.core", "numpy")
        mod = mod.replace("numpy.linalg._linalg", "numpy.linalg")
        raise _unsupported(f"{mod}.{getattr(func, '__name__', func)}")
    return f.traced(*args, **kwargs)


Tracer.__array_ufunc__ = _array_ufunc
Tracer.__array_function__ = _array_function


# --- NumPy names that are other objects than the one a function is registered for ------
# (``numpy.round`` is not ``numpy.around``): every funcdiff.numpy / .linalg / .fft function
# is reachable under its name in the matching NumPy namespace (if NumPy dispatches it:
# plain-Python wrappers such as the deprecated ``row_stack`` call a dispatched function).

def _register_aliases():
    from . import fft as fnp_fft, linalg as fnp_linalg
    for ours, theirs in ((_fnp(), np), (fnp_linalg, np.linalg), (fnp_fft, np.fft)):
        for name in [n for n in dir(ours) if not n.startswith("_")]:
            f, np_f = getattr(ours, name, None), getattr(theirs, name, None)
            dispatched = isinstance(np_f, np.ufunc) or hasattr(np_f, "_implementation")
            if dispatched and np_f not in FUNCTIONS and hasattr(f, "traced"):
                FUNCTIONS[np_f] = f


_register_aliases()

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
carrying a derivative also warn (``DerivativeCutWarning``) naming the line.  Writing a
traced value into a NumPy array (``buf[i] = x``, ``buf.fill(x)``, ``out=buf``,
``numpy.copyto``, ...) is not a conversion the user asked for: it raises
``TracerBufferWriteError`` when the value carries a derivative or is unknown (see
"writes into NumPy arrays" below for how such writes are told apart).
"""
from __future__ import annotations

import dis
import functools
import itertools
import linecache
import os
import re
import sys
import warnings
import weakref

import numpy as np

from ..core.errors import ConcretizationError, DerivativeCutWarning, FuncdiffTypeError, \
    TracerArrayConversionError, TracerBufferWriteError, UnsupportedNumpyFunctionError
from ..core.ir import Var
from ..core.source import NP_DIR as _NP_DIR
from ..core.trace import Tracer, current_source_info, leak_error, state, \
    numpy_may_replace
from ..tree_util import tree_leaves, tree_map
from . import fft as fnp_fft, linalg as fnp_linalg
from ._core import FUNCTIONS, ON_LOOKUP_MISS, UFUNC_METHODS
from ._indexing import _IndexUpdateHelper, getitem
from ..primitives.base import convert_element_type
from ._index_tricks import called_from_axis_concatenator, concat_part
from ._vectorize import numpy_ufunc_method


_FNP = []   # funcdiff.numpy itself, given to ``install``


def _fnp():
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
           "xor": "bitwise_xor", "lshift": "left_shift", "rshift": "right_shift"}
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


def _user_frame():
    """(the innermost frame outside funcdiff, its ``warnings.warn`` stacklevel in the
    caller)."""
    root = _FUNCDIFF_DIR
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(root):
        frame, level = frame.f_back, level + 1
    return frame, level


# --- writes into NumPy arrays -------------------------------------------------------------
# NumPy stores an object into an array by asking it for a number or an array: `buf[i] = x`,
# `buf.flat[i] = x` and `buf.fill(x)` call x.__float__ (__complex__, __int__, __bool__ by
# the array's dtype); `buf[:] = x`, `buf[mask] = x`, `buf[:2] = [x, y]` and
# `buf.put(i, x)` call x.__array__.  The user's own float(x) and np.asarray(x) call the
# same methods, so a conversion looks at what the innermost frame outside funcdiff is
# executing: an item assignment (STORE_SUBSCR / STORE_SLICE; the container is C code,
# since a Python __setitem__ would be a frame of its own) or a call of a storing method
# (`fill`, `put`, ..., named by the call's source position).  NumPy functions that write
# into an argument (`out=`, in-place operators, `copyto`, `put`, `place`, `putmask`,
# `ufunc.at`) reach funcdiff through __array_ufunc__ / __array_function__ instead.  All
# paths apply one rule, as np.asarray does: a known value without a derivative is stored;
# a value with a derivative, or unknown (jit, vmap), raises TracerBufferWriteError.

_STORE_OPS = frozenset({"STORE_SUBSCR", "STORE_SLICE"})
_STORE_METHODS = frozenset({"fill", "itemset", "put", "__setitem__", "setitem"})
_NAME = r"[A-Za-z_][\w.]*"


@functools.lru_cache(maxsize=1024)
def _instruction(code, offset):
    """``(opname, callee, source)`` of the instruction at ``offset`` of ``code``: the
    name the called object was loaded by (calls only, else None) and the instruction's
    one-line source text ("" where unknown)."""
    opname = dis.opname[code.co_code[offset]]
    pos = _positions(code, offset)
    # (Python 3.11 specializes PRECALL into variants that make the call themselves)
    callee = _callee(code, offset, pos) if opname.startswith(("CALL", "PRECALL")) else None
    return opname, callee, _segment(code.co_filename, pos)


def _user_instruction():
    """``(frame, opname, callee, source)`` of what the innermost frame outside funcdiff
    is executing (``_instruction``)."""
    frame = _user_frame()[0]
    if frame is None:
        return None, "", None, ""
    return (frame, *_instruction(frame.f_code, frame.f_lasti))


def _positions(code, offset):
    """The source span ``(line, end_line, col, end_col)`` of the instruction at
    ``offset``, or None (Python 3.10 has no ``co_positions``)."""
    if not hasattr(code, "co_positions"):
        return None
    pos = next(itertools.islice(code.co_positions(), offset // 2, None), None)
    return pos if pos is not None and None not in pos else None


def _callee(code, offset, pos):
    """The name the called object is loaded by (``fill`` for ``buf.fill(x)``): the
    load before the call whose span is the longest one starting where the call's does."""
    if pos is None:
        return None
    best, best_end = None, None
    for ins in dis.get_instructions(code):
        if ins.offset >= offset:
            break
        p = ins.positions
        if p is None or p.lineno is None or (p.lineno, p.col_offset) != (pos[0], pos[2]):
            continue
        end = (p.end_lineno, p.end_col_offset)
        if end < (pos[1], pos[3]) and (best_end is None or end >= best_end):
            best, best_end = ins, end
    return best.argval if best is not None and isinstance(best.argval, str) else None


def _segment(filename, pos):
    """The one-line source text of a span, or "" (no source, or several lines)."""
    if pos is None or pos[0] != pos[1]:
        return ""
    line = linecache.getline(filename, pos[0]).encode()   # columns count UTF-8 bytes
    return line[pos[2]:pos[3]].decode(errors="replace").strip()


def _at_advice(name="a", idx="i"):
    return (f"Make `{name}` with funcdiff.numpy (fnp.zeros(...) or fnp.asarray({name})) and "
            f"update it functionally: `{name} = {name}.at[{idx}].set(v)` returns the "
            "updated array (traced indices work too); or collect the values in a list "
            "and np.stack them.")


def _buffer_write_error(t: Tracer, what: str, advice: str, maybe_index=False):
    """``TracerBufferWriteError``: ``what`` (the write, as the user wrote it) stores
    ``t`` into a NumPy array (or, ``maybe_index``, may be indexing it with ``t``)."""
    aval = t.aval.str_short()
    if maybe_index and t.aval.dtype.kind in "biu":
        does = f"uses a traced {aval} value in a write into a NumPy array"
    else:
        does = f"writes a traced {aval} value into a NumPy array"
    if t._val is None:
        why = "Its value is not known while tracing (inside jit or vmap)."
    else:
        why = ("The array would hold a plain number without the derivative, silently "
               "cutting the gradient through it.")
        advice += "  Write funcdiff.stop_gradient(v) if no derivative is intended."
    return TracerBufferWriteError(f"{what} {does} (at {current_source_info()}).  {why}  "
                                  f"{advice}")


def _store_in_progress():
    """``(frame, what, advice, maybe_index)`` for ``_buffer_write_error`` when the
    innermost frame outside funcdiff assigns into an item or calls a storing method (so
    the conversion being made is NumPy's, to store the value), else None."""
    frame, opname, callee, text = _user_instruction()
    if opname not in _STORE_OPS and callee not in _STORE_METHODS:
        return None
    if frame.f_code.co_filename.startswith(_NP_DIR):
        # NumPy's own Python code stores (np.fill_diagonal): name the user's call
        user = frame
        while user is not None and user.f_code.co_filename.startswith(_NP_DIR):
            user = user.f_back
        text = "" if user is None else _instruction(user.f_code, user.f_lasti)[2]
        return frame, f"`{text}`" if text else "A NumPy function", _at_advice(), True
    if opname in _STORE_OPS:
        m = re.fullmatch(rf"({_NAME})\[(.+)\]", text)
        return (frame, f"`{text} = ...`" if text else "An assignment `a[i] = v`",
                _at_advice(*m.groups()) if m else _at_advice(), True)
    m = re.match(rf"({_NAME})\.fill\(", text)
    return (frame, f"`{text}`" if text else f"`{callee}(...)`",
            f"Make it with funcdiff.numpy instead: `{m[1]} = fnp.full_like({m[1]}, v)`."
            if m else _at_advice(), False)


def _store_error(t: Tracer, store):
    """The error for NumPy storing ``t`` as ``_store_in_progress`` found (raised from a
    conversion NumPy's C code called, which NumPy may replace by its own)."""
    frame, what, advice, maybe_index = store
    return numpy_may_replace(_buffer_write_error(t, what, advice, maybe_index), frame)


def _stored_value(t, what: str, advice: str):
    """What NumPy may store of ``t`` (a leaf of a NumPy call's arguments): the value of
    a known tracer without a derivative, else ``TracerBufferWriteError``."""
    if type(t) is not Tracer:
        return t
    t._check_alive(what)
    if t._val is None or _carries_derivative(t):
        raise _buffer_write_error(t, what, advice, maybe_index=True)
    return t._val


def _into_numpy_array(func, what, advice, args, kwargs):
    """``func(*args, **kwargs)``, a NumPy call that writes into a NumPy array (``what``
    and ``advice`` for the error), on what may be stored of each traced value."""
    args, kwargs = tree_map(lambda v: _stored_value(v, what, advice), (args, kwargs))
    return func(*args, **kwargs)


def _convert(t: Tracer, what: str, instead: str, cuts: bool):
    """``t``'s concrete value for a conversion to a Python number.  Asked for by NumPy
    to store an unknown value or one carrying a derivative into an array:
    ``TracerBufferWriteError``.  Otherwise unknown (jit, vmap): ``ConcretizationError``.
    Known and carrying a derivative that the conversion drops (``cuts``; not for
    int()/bool(), whose derivative is zero anyway): the value, with a
    ``DerivativeCutWarning`` -- fine for control flow, never silent."""
    t._check_alive(what)
    unknown = t._val is None
    derivative = not unknown and _carries_derivative(t)
    if unknown or derivative:
        store = _store_in_progress()
        if store is not None:
            raise _store_error(t, store)
    if unknown:
        raise ConcretizationError(
            f"{what} needs the concrete value of a traced {t.aval.str_short()} value, which "
            f"is not known inside jit (at {current_source_info()}).  {instead}  For "
            "control flow on traced values use funcdiff.lax.cond / switch / while_loop / "
            "fori_loop; for a configuration value, mark the argument static with "
            "jit(f, static_argnums=...).")
    if cuts and derivative:
        warnings.warn(DerivativeCutWarning(
            f"{what} on a traced {t.aval.str_short()} value that carries a derivative (at "
            f"{current_source_info()}): the Python number has no derivative, so anything "
            f"computed from it is a constant to grad/jvp/vjp.  That is fine for control "
            f"flow (`while abs(float(err)) > tol:`).  {instead}  {_STOP}"),
            stacklevel=_user_frame()[1])
    return t._val


def _float(self):
    return float(_convert(self, "float() (or a math.* function)", _KEEP_TRACED, True))


def _int(self):
    return int(_convert(self, "int()", "For integer values that stay traced use "
                        "np.floor(x).astype(int).", False))


def _complex(self):
    return complex(_convert(self, "complex()", _KEEP_TRACED, True))


def _bool(self):
    return bool(_convert(self, "bool() (an `if`, `while`, `and`/`or` or assert)",
                         "To choose between values elementwise use np.where(c, a, b).",
                         False))


def _item(self, *args):
    return np.asarray(_convert(self, "item()", _KEEP_TRACED, True)).item(*args)


def _tolist(self):
    return np.asarray(_convert(self, "tolist()", "Iterate over the traced value instead: "
                               "list(x) or `for row in x` keeps each element traced.",
                               True)).tolist()


def _array(self, dtype=None, copy=None):
    """``numpy.asarray(x)``: the value if it carries no derivative (integers, booleans,
    constants, ``stop_gradient``); otherwise ``TracerArrayConversionError``, since the
    array would silently have no derivative (or, under jit, no value at all) -- its
    subclass ``TracerBufferWriteError`` when NumPy converts ``x`` to store it
    (``buf[:] = x``).  Inside ``numpy.r_[...]``/``c_[...]`` a stand-in that keeps it
    traced (``_index_tricks``)."""
    caller = sys._getframe(1)
    if called_from_axis_concatenator(caller):
        self._check_alive("numpy.r_ / numpy.c_")
        return concat_part(self, dtype)
    if _subscripting(caller) and (self._val is None or _carries_derivative(self)):
        self._check_alive("indexing")
        raise TracerArrayConversionError(
            f"indexing a NumPy array with a traced {self.aval.str_short()} value (at "
            f"{current_source_info()}): NumPy needs the index's value, "
            + ("which is not known inside jit or vmap" if self._val is None else
               "and converting it would cut the derivative")
            + ".  Wrap the array in funcdiff.numpy.asarray: fnp.asarray(a)[i] records a "
            "gather, which works under every transform (so do arrays made by "
            "funcdiff.numpy, and np.take(a, i)).")
    what = "numpy.asarray() / numpy.array()"
    self._check_alive(what)
    if self._val is None or _carries_derivative(self):
        store = _store_in_progress()
        if store is not None:
            raise _store_error(self, store)
    instead = ("Use numpy functions (they dispatch to funcdiff) or funcdiff.numpy on traced "
               "values; for a list mixing traced values and numbers use "
               "funcdiff.numpy.array([...]) or np.stack([...]); to fill an array use "
               "x.at[i].set(v) instead of assigning into a NumPy array.")
    if _from_numpy_vectorize(caller):
        what = "numpy.vectorize (its numpy.asarray())"
        instead = ("numpy.vectorize calls its function on Python objects, one element at "
                   "a time: use funcdiff.numpy.vectorize (same arguments), which maps it "
                   "with funcdiff.vmap and differentiates.  Elsewhere: " + instead)
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


def _from_numpy_vectorize(frame) -> bool:
    """Whether ``numpy.vectorize`` is converting its arguments (``frame``: the caller
    of ``__array__``, a comprehension in its call)."""
    for _ in range(3):
        if frame is None:
            return False
        name = frame.f_code.co_name
        if name.startswith("_vectorize_call") or name == "_get_ufunc_and_otypes":
            return os.path.basename(frame.f_code.co_filename) in (
                "_function_base_impl.py", "function_base.py")
        frame = frame.f_back
    return False


_SUBSCRIPT_OPS = frozenset({"BINARY_SUBSCR", "BINARY_SLICE"})


def _subscripting(frame) -> bool:
    """Whether ``frame`` is executing ``a[i]`` (so NumPy's C indexing code is asking
    for the index's value)."""
    code, i = frame.f_code, frame.f_lasti
    name = dis.opname[code.co_code[i]]
    if name == "BINARY_OP":     # Python 3.14: a[i] is BINARY_OP with the [] operator
        ops = getattr(dis, "_nb_ops", ())
        arg = code.co_code[i + 1]
        return arg < len(ops) and ops[arg][1] == "[]"
    return name in _SUBSCRIPT_OPS


def _format(self, spec):
    if self._val is not None and self._trace.active:
        return format(self._val, spec)      # printing a value loses no derivative
    if spec:
        return format(self.concrete_value(f"formatting with {spec!r}"), spec)
    return repr(self)


Tracer.__float__ = _float
Tracer.__int__ = _int
Tracer.__complex__ = _complex
Tracer.__bool__ = _bool
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
    return getitem(self, idx)


def _at(self):
    return _IndexUpdateHelper(self)


Tracer.__getitem__ = _getitem
Tracer.at = property(_at)


# --- more ndarray methods (values are immutable: the in-place ones raise) ------------------

def _compress(self, condition, axis=None, out=None, **kwargs):
    return _fnp().compress(condition, self, axis, out, **kwargs)


def _ptp(self, axis=None, out=None, keepdims=False):
    """``max - min`` (NumPy 2 dropped ``ndarray.ptp``; JAX arrays have it)."""
    fnp = _fnp()
    if out is not None:
        raise FuncdiffTypeError("`ptp`: out= is not supported on traced values (they are "
                                "immutable); use the returned value")
    return fnp.subtract(fnp.max(self, axis=axis, keepdims=keepdims),
                        fnp.min(self, axis=axis, keepdims=keepdims))


def _view(self, dtype=None, type=None):  # noqa: A002 - NumPy's name
    if type is None and (dtype is None or np.dtype(dtype) == self.dtype):
        return self
    raise FuncdiffTypeError(
        f"x.view({dtype!r}) on a traced {self.aval.str_short()} value (at "
        f"{current_source_info()}): reinterpreting the bytes is not supported.  Use "
        "x.astype(dtype) to convert the values.")


def _in_place_method(name, fix):
    def m(self, *args, **kwargs):
        self._check_alive(f"x.{name}()")
        raise FuncdiffTypeError(
            f"x.{name}(...) modifies x in place (at {current_source_info()}), and traced "
            f"values are immutable.  {fix}")
    m.__name__ = name
    return m


Tracer.choose = _method("choose")
Tracer.compress = _compress
Tracer.ptp = _ptp
Tracer.view = _view
Tracer.flat = property(lambda self: _fnp().ravel(self))   # reading only: x.flat[i]
Tracer.device = property(lambda self: "cpu")
Tracer.to_device = lambda self, device, /, *, stream=None: self
Tracer.fill = _in_place_method("fill", "Use x = funcdiff.numpy.full_like(x, value).")
Tracer.put = _in_place_method(
    "put", "Use x = x.at[idx].set(v) on the unraveled array, or "
           "x = funcdiff.numpy.put(x, ind, v, inplace=False).")
Tracer.resize = _in_place_method("resize", "Use x = x.reshape(shape) (same size), or "
                                           "numpy.resize(x, shape), which returns a copy.")
Tracer.itemset = _in_place_method("itemset", "Use x = x.at[idx].set(v).")


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


def _immutable(what, returns=False, functional=None):
    """The error for ``what`` writing into a traced value in place (``returns``: the
    NumPy function also returns its result, which is the fix; ``functional``: the name
    of a funcdiff.numpy function that takes ``inplace=False``, as JAX's does)."""
    fix = ("Use the returned value instead (y = np.add(a, b) without out=)" if returns else
           "Use the functional update a = a.at[idx].add(v) (.set, .multiply, .min, .max "
           "likewise), which returns the updated array")
    if functional is not None:
        fix = (f"Pass inplace=False: funcdiff.numpy.{functional}(..., inplace=False) returns "
               f"the updated array (as in JAX).  Or: {fix[0].lower()}{fix[1:]}")
    return FuncdiffTypeError(
        f"{what} on a traced value (at {current_source_info()}) writes into it in place, "
        f"and traced values are immutable.  {fix}.")


def _no_where(ufunc, method, kwargs):
    """A clear error for ``where=`` in a plain ufunc call without ``out=``."""
    where = kwargs.get("where", True)
    if method == "__call__" and not (where is True or (
            isinstance(where, (bool, np.bool_)) and where)):
        name = f"numpy.{ufunc.__name__}"
        raise FuncdiffTypeError(
            f"{name}(..., where=mask) on a traced value (at {current_source_info()}): the "
            "masked-out entries would be whatever the uninitialized output holds.  Use "
            f"funcdiff.numpy.where(mask, {name}(...), fallback) (np.where works too).")


def _outer(f, a, b, **kwargs):
    """``ufunc.outer(a, b)``: ``a`` reshaped to ``a.shape + (1,) * b.ndim``, then the
    ufunc broadcasts (exact, and differentiable like the ufunc)."""
    fnp = _fnp()
    a, b = fnp.asarray(a), fnp.asarray(b)
    return f.traced(fnp.reshape(a, fnp.shape(a) + (1,) * fnp.ndim(b)), b, **kwargs)


def _lookup(func):
    """The funcdiff function registered for a NumPy/SciPy callable, or None.  On a miss
    the ``ON_LOOKUP_MISS`` hooks may register more (``funcdiff.scipy``'s functions are
    registered when it is imported, which ``import funcdiff`` does not do -- it would
    import SciPy -- so funcdiff's top-level package installs a hook importing it when a
    SciPy function meets a traced value)."""
    f = FUNCTIONS.get(func)
    if f is None:
        for hook in ON_LOOKUP_MISS:
            if hook():
                return FUNCTIONS.get(func)
    return f


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    _check_alive(inputs)
    name = f"numpy.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
    out = kwargs.get("out")
    outs = () if out is None else out if isinstance(out, tuple) else (out,)
    if any(type(o) is Tracer for o in outs):
        raise _immutable(f"{name}(..., out=x)", returns=True)
    if method == "at" and type(inputs[0]) is Tracer:
        raise _immutable(f"{name}(x, idx, v)")
    if any(o is not None for o in outs):
        _, opname, _, text = _user_instruction()
        m = re.fullmatch(rf"({_NAME})\s*(\S+)=\s*(.+)", text)
        if opname.startswith(("BINARY_OP", "INPLACE_")) and m:    # `a += x`: out=a
            what, advice = f"`{text}`", (f"Write `{m[1]} = {m[1]} {m[2]} {m[3]}`: the "
                                         "result is then traced.")
        else:
            what, advice = f"`{name}(..., out=a)`", (f"Use the returned value instead: "
                                                     f"`y = {name}(...)` is traced.")
        return _into_numpy_array(getattr(ufunc, method), what, advice, inputs, kwargs)
    if method == "at":
        return _into_numpy_array(ufunc.at, f"`{name}(a, idx, v)`",
                                 "Use `a = fnp.asarray(a).at[idx].add(v)` (.multiply, .min, "
                                 ".max likewise): it returns the updated array.",
                                 inputs, kwargs)
    _no_where(ufunc, method, kwargs)
    kwargs.pop("out", None)
    if ufunc.types and all(set(t) <= set("O->") for t in ufunc.types):
        # numpy.frompyfunc's ufuncs hide their Python function, so funcdiff cannot
        # reach it: the same call with funcdiff's frompyfunc traces
        raise UnsupportedNumpyFunctionError(
            f"{name} (a numpy.frompyfunc ufunc, on object arrays) was applied to a traced "
            f"value (at {current_source_info()}).  Make it with "
            "funcdiff.numpy.frompyfunc(func, nin, nout) (or funcdiff.numpy.vectorize) "
            "instead: the same ufunc, mapping func with funcdiff.vmap, so it differentiates.")
    if method == "__call__":
        f = _lookup(ufunc)
        if f is None:
            raise _unsupported(f"numpy.{ufunc.__name__}")
        return f.traced(*inputs, **kwargs)
    if method == "outer" and ufunc.nin == 2 and ufunc in FUNCTIONS:
        return _outer(FUNCTIONS[ufunc], *inputs, **kwargs)
    f = UFUNC_METHODS.get((ufunc, method)) or numpy_ufunc_method(ufunc, method)
    if f is None:
        raise _unsupported(f"numpy.{ufunc.__name__}.{method}")
    return f(*inputs, **kwargs)


# NumPy functions that write into an argument: that argument's name
_IN_PLACE = {np.copyto: "dst", np.put: "a", np.place: "arr", np.putmask: "a",
             np.put_along_axis: "arr", np.fill_diagonal: "a"}


# of those, the ones funcdiff.numpy also offers with JAX's inplace=False
_FUNCTIONAL = ("put", "place", "put_along_axis", "fill_diagonal")


def _array_function(self, func, types, args, kwargs):
    _check_alive(tree_leaves((args, kwargs)))
    dst = _IN_PLACE.get(func)
    if dst is not None:
        name = f"numpy.{func.__name__}"
        if type(args[0] if args else kwargs.get(dst)) is Tracer:
            raise _immutable(f"{name}({dst}=x, ...)", functional=func.__name__ if
                             func.__name__ in _FUNCTIONAL else None)
        return _into_numpy_array(func, f"`{name}({dst}, ...)`", _at_advice(), args, kwargs)
    out = kwargs.get("out")
    if out is not None and type(out) is not Tracer and not (
            isinstance(out, tuple) and all(o is None for o in out)):
        name = f"numpy.{func.__name__}"
        return _into_numpy_array(func, f"`{name}(..., out=a)`", "Use the returned value "
                                 f"instead: `y = {name}(...)` is traced.", args, kwargs)
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
    for ours, theirs in ((_fnp(), np), (fnp_linalg, np.linalg), (fnp_fft, np.fft)):
        for name in [n for n in dir(ours) if not n.startswith("_")]:
            f, np_f = getattr(ours, name, None), getattr(theirs, name, None)
            dispatched = isinstance(np_f, np.ufunc) or hasattr(np_f, "_implementation")
            if dispatched and np_f not in FUNCTIONS and hasattr(f, "traced"):
                FUNCTIONS[np_f] = f


# --- NumPy's ufunc methods on funcdiff.numpy's binary ufuncs -------------------------------

def _ufunc_method(np_ufunc, method):
    """``fnp.maximum.accumulate`` & co. (as jax.numpy's ufuncs have them): NumPy's own
    method outside transforms, else what ``numpy.maximum.accumulate(traced)`` runs."""
    def call(*args, **kwargs):
        if not state.stack:
            return getattr(np_ufunc, method)(*args, **kwargs)
        f = UFUNC_METHODS.get((np_ufunc, method)) or numpy_ufunc_method(np_ufunc, method)
        return f(*args, **kwargs)
    call.__name__ = call.__qualname__ = f"{np_ufunc.__name__}.{method}"
    call.__doc__ = f"NumPy's ``{np_ufunc.__name__}.{method}`` (traceable)."
    return call


def _attach_ufunc_methods():
    for np_fn, f in list(FUNCTIONS.items()):
        if not (isinstance(np_fn, np.ufunc) and np_fn.nin == 2 and np_fn.nout == 1
                and np_fn.signature is None
                and (getattr(f, "__module__", "") or "").startswith("funcdiff.numpy")):
            continue
        for method in ("reduce", "accumulate", "reduceat"):
            setattr(f, method, _ufunc_method(np_fn, method))
        f.outer = functools.partial(_outer, f)
        f.nin, f.nout, f.identity = np_fn.nin, np_fn.nout, np_fn.identity



def install(fnp):
    """Attach the NumPy-like surface to ``Tracer``, calling the functions of ``fnp``
    (``funcdiff.numpy``, which calls this once everything in it is defined)."""
    _FNP[:] = [fnp]
    _register_aliases()
    _attach_ufunc_methods()

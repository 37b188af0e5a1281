"""Abstract values.

``ShapedArray(shape, dtype, weak_type)`` describes a value without holding it.  A weak
type marks a 0-d value that came from a Python scalar: it takes the dtype of whatever
array it meets (``x * 2.0`` keeps a float32 ``x`` float32), exactly as NumPy 2 treats
Python scalars.  Weak types exist only for 0-d values.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .errors import FuncdiffTypeError

_SHORT = {
    "float16": "f16", "float32": "f32", "float64": "f64", "longdouble": "f128",
    "complex64": "c64", "complex128": "c128",
    "int8": "i8", "int16": "i16", "int32": "i32", "int64": "i64",
    "uint8": "u8", "uint16": "u16", "uint32": "u32", "uint64": "u64",
    "bool": "bool",
}


def short_dtype(dtype) -> str:
    name = np.dtype(dtype).name
    return _SHORT.get(name, name)


_SHAPES: dict = {}   # canonical shape tuple -> itself


def _canonical_shape(shape) -> tuple:
    shape = tuple(int(d) for d in shape)
    if len(_SHAPES) > 4096:
        _SHAPES.clear()
    return _SHAPES.setdefault(shape, shape)


class ShapedArray:
    """Shape + dtype (+ weak type) of an array value; hashable and immutable."""

    __slots__ = ("shape", "dtype", "weak_type", "_hash")

    def __init__(self, shape, dtype, weak_type=False):
        # canonical shapes (tuples of ints) are memoized: a tuple equal to one of them
        # (NumPy ints, bools) maps to the canonical tuple in one dict lookup
        try:
            canon = _SHAPES.get(shape) if type(shape) is tuple else None
        except TypeError:   # unhashable dims (0-d arrays): converted below
            canon = None
        if canon is None:
            canon = _canonical_shape(shape)
        self.shape = canon
        self.dtype = dtype if isinstance(dtype, np.dtype) else np.dtype(dtype)
        self.weak_type = weak_type is True and canon == ()
        self._hash = None

    def __hash__(self):
        h = self._hash
        if h is None:
            h = self._hash = hash((self.shape, self.dtype, self.weak_type))
        return h

    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: math.prod(self.shape))

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    def strengthen(self) -> "ShapedArray":
        return ShapedArray(self.shape, self.dtype) if self.weak_type else self

    def update(self, shape=None, dtype=None, weak_type=None) -> "ShapedArray":
        return ShapedArray(self.shape if shape is None else shape,
                           self.dtype if dtype is None else dtype,
                           self.weak_type if weak_type is None else weak_type)

    def __eq__(self, other):
        return (isinstance(other, ShapedArray) and self.shape == other.shape
                and self.dtype == other.dtype and self.weak_type == other.weak_type)

    def str_short(self) -> str:
        return f"{short_dtype(self.dtype)}[{','.join(map(str, self.shape))}]"

    def __repr__(self):
        weak = ", weak_type=True" if self.weak_type else ""
        return f"ShapedArray({self.shape}, {self.dtype.name}{weak})"

    __str__ = str_short


# dtypes of Python scalars (weak): the kind matters, the width follows NumPy's defaults
_PY_SCALAR_DTYPES = {bool: np.dtype(bool), int: np.dtype(np.int64),
                     float: np.dtype(np.float64), complex: np.dtype(np.complex128)}


def is_python_scalar(x) -> bool:
    return type(x) in _PY_SCALAR_DTYPES


# avals are immutable, so Python scalars of one type share one (weak) aval, and NumPy's
# numeric scalar types one (strong) aval each: their dtype is their type's
_PY_SCALAR_AVALS = {t: ShapedArray((), d, weak_type=True) for t, d in _PY_SCALAR_DTYPES.items()}
_NP_SCALAR_AVALS = {t: ShapedArray((), np.dtype(t)) for t in {
    np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
    np.uint64, np.longlong, np.ulonglong, np.intc, np.uintc, np.float16, np.float32,
    np.float64, np.longdouble, np.complex64, np.complex128, np.clongdouble}}


def aval_of_value(x) -> ShapedArray:
    """The aval of a concrete value (ndarray, NumPy scalar or Python scalar)."""
    t = type(x)
    if t is np.ndarray:
        return ShapedArray(x.shape, x.dtype)
    a = _PY_SCALAR_AVALS.get(t) or _NP_SCALAR_AVALS.get(t)
    if a is not None:
        return a
    if isinstance(x, (np.ndarray, np.generic)):
        return ShapedArray(x.shape, x.dtype)
    if isinstance(x, numbers.Number):
        return aval_of_value(np.asarray(x))
    raise TypeError(f"{t.__name__} is not an array type")


float0 = np.dtype([("float0", np.void, 0)])
"""dtype of the (empty) tangent of an integer input, as in JAX."""

OPERAND_KINDS = "biufc"   # bool, signed/unsigned int, float, complex: what funcdiff computes on

_KIND_HINTS = {
    "O": "Convert it to a numeric dtype first, e.g. numpy.asarray(x, dtype=float) "
         "(Fraction and Decimal values become floats).",
    "M": "Convert times to numbers first, e.g. (t - t0) / numpy.timedelta64(1, 's') "
         "for seconds since t0.",
    "m": "Convert durations to numbers first, e.g. d / numpy.timedelta64(1, 's') for "
         "seconds.",
    "V": "Pass the fields as separate arrays (x['a'], x['b'], or a dict of them, which "
         "is a pytree).",
    "U": "Strings cannot be traced: pass them as static arguments (jit's "
         "static_argnums) or through a closure.",
}
_KIND_HINTS["S"] = _KIND_HINTS["T"] = _KIND_HINTS["U"]


def check_operand(x, what):
    """``x`` (an ndarray or NumPy scalar) if funcdiff can compute on it, else a
    ``FuncdiffTypeError`` naming ``what``.  Rejected: masked arrays, whose mask every
    transform would drop silently (NumPy's own functions honour it), and dtypes that are
    not numbers (object arrays -- what Fraction and Decimal become --, structured,
    datetime64/timedelta64, strings), which would otherwise meet a raw ufunc TypeError
    deep inside a trace or, under ``jit``, compute a silently different result."""
    if isinstance(x, np.ma.MaskedArray):
        n = int(np.ma.count_masked(x))
        raise FuncdiffTypeError(
            f"{what} is a numpy.ma.MaskedArray (shape {np.shape(x)}, dtype {x.dtype}, {n} of "
            "its entries masked).  funcdiff computes on plain arrays and would silently use "
            "the masked entries' data.  Pass x.filled(value) (e.g. x.filled(0.0)) or "
            "x.compressed() (the unmasked entries only), or pass x.data and the mask "
            "numpy.ma.getmaskarray(x) separately and select with "
            "funcdiff.numpy.where(mask, 0.0, x).")
    dt = x.dtype
    if dt.kind in OPERAND_KINDS or dt == float0:
        return x
    raise FuncdiffTypeError(
        f"{what} has dtype {dt}, which funcdiff cannot compute on: it traces boolean, "
        "integer, floating-point and complex arrays only.  "
        + _KIND_HINTS.get(dt.kind, "Convert it to a numeric dtype first."))


def is_float(dtype) -> bool:
    if isinstance(dtype, np.dtype):
        return dtype.kind in _INEXACT_KINDS
    return np.issubdtype(dtype, np.inexact)


def is_differentiable_dtype(dtype) -> bool:
    """Floating and complex dtypes carry tangents; ints and bools do not."""
    if isinstance(dtype, np.dtype):
        return dtype.kind in _INEXACT_KINDS
    return np.issubdtype(np.dtype(dtype), np.inexact)


_INEXACT_KINDS = ("f", "c")   # np.inexact's kinds: floating, complexfloating


def weak_sample(dtype):
    """A Python scalar standing for a weak-typed value of ``dtype``'s kind."""
    kind = np.dtype(dtype).kind
    return {"b": True, "i": 1, "u": 1, "f": 1.0, "c": 1j}[kind]

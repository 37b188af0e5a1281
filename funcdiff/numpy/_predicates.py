"""Predicates and dtype helpers: ``isclose allclose array_equal array_equiv iscomplex
iscomplexobj isreal isrealobj isscalar iterable isdtype can_cast promote_types
result_type real_if_close``.

Elementwise predicates are traced boolean arrays (no derivative).  ``allclose``,
``array_equal`` and ``array_equiv``, which NumPy returns as a Python ``bool``, give a
traced 0-d boolean (so they compile under ``jit``); ``bool(...)``/``if`` on it sees the
value under ``grad``/``jvp``/``vjp``, as with any traced comparison.  What depends only
on shapes and dtypes (``iscomplexobj``, ``isscalar``, ``result_type``, a shape mismatch
in ``array_equal``...) is answered from the avals, without concretizing anything.
``real_if_close`` decides its output dtype from the values: it needs them concrete
(outside ``jit``/``vmap``) for complex input.
"""
from __future__ import annotations

import numpy as np

from ..core.avals import weak_sample
from ..core.trace import Tracer
from ..primitives import base as pb, elementwise as ew
from ._core import aval, implements, operand
from ._reductions import all as _all
from ._ufuncs import _strong as _array

__all__ = ["isclose", "allclose", "array_equal", "array_equiv", "iscomplex", "isreal",
           "iscomplexobj", "isrealobj", "isscalar", "iterable", "can_cast",
           "promote_types", "result_type", "real_if_close", "common_type"]


def _dtype_of(x):
    """What ``numpy.result_type`` should see for ``x``: a traced value's dtype, or a
    Python scalar of its kind when it is weakly typed (NumPy 2's weak promotion)."""
    if type(x) is Tracer:
        return weak_sample(x.dtype) if x.weak_type else x.dtype
    return x


@implements(np.isclose)
def isclose(a, b, rtol=1.e-5, atol=1.e-8, equal_nan=False):
    """Like numpy.isclose: ``|a - b| <= atol + rtol * |b|`` (``b`` finite) or ``a == b``,
    elementwise; NaNs equal with ``equal_nan``.  Boolean: no derivative."""
    x, y = operand(a), operand(b)
    ya = aval(y)
    if not ya.weak_type:     # NumPy makes b inexact (abs(MIN_INT) would overflow)
        dt = np.result_type(ya.dtype, 1.0)
        if dt != ya.dtype:
            y = pb.convert_element_type(y, dtype=dt)
    elif ya.dtype.kind in "iub":
        y = pb.convert_element_type(y, dtype=np.float64, weak_type=True)
    # the distance only where both are finite (NumPy silences inf - inf; here it is
    # never computed): elsewhere only x == y can hold
    finite = ew.logical_and(ew.isfinite(x), ew.isfinite(y))
    xs, ys = ew.select(finite, x, 0), ew.select(finite, y, 0)
    close = ew.le(ew.abs_(ew.sub(xs, ys)), pb.add(operand(atol),
                                                  ew.mul(operand(rtol), ew.abs_(ys))))
    result = ew.logical_or(ew.logical_and(close, finite), ew.eq(x, y))
    if equal_nan:
        result = ew.logical_or(result, ew.logical_and(ew.isnan(x), ew.isnan(y)))
    return result


@implements(np.allclose)
def allclose(a, b, rtol=1.e-5, atol=1.e-8, equal_nan=False):
    """Like numpy.allclose: ``all(isclose(...))``, as a traced 0-d boolean."""
    return _all(isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


@implements(np.array_equal)
def array_equal(a1, a2, equal_nan=False):
    """Like numpy.array_equal: ``False`` (a Python bool, as NumPy's) when the shapes
    differ, else a traced 0-d boolean; with ``equal_nan`` NaNs must sit at the same
    places."""
    x, y = _array(a1), _array(a2)
    if aval(x).shape != aval(y).shape:
        return False
    eq = ew.eq(x, y)
    if equal_nan and (aval(x).dtype.kind in "fc" or aval(y).dtype.kind in "fc"):
        nx, ny = ew.isnan(x), ew.isnan(y)
        eq = ew.select(ew.logical_or(nx, ny), ew.eq(nx, ny), eq)
    return _all(eq)


@implements(np.array_equiv)
def array_equiv(a1, a2):
    """Like numpy.array_equiv: equal after broadcasting (``False`` when the shapes do
    not broadcast)."""
    x, y = _array(a1), _array(a2)
    try:
        np.broadcast_shapes(aval(x).shape, aval(y).shape)
    except ValueError:
        return False
    return _all(ew.eq(x, y))


@implements(np.iscomplex)
def iscomplex(x):
    """Like numpy.iscomplex: ``imag(x) != 0`` (all False for a real dtype)."""
    x = _array(x)
    a = aval(x)
    if a.dtype.kind == "c":
        return ew.ne(pb.imag(x), 0)
    return pb.full(a.shape, False, np.dtype(bool))


@implements(np.isreal)
def isreal(x):
    """Like numpy.isreal: ``imag(x) == 0``."""
    x = _array(x)
    if aval(x).dtype.kind == "c":
        return ew.eq(pb.imag(x), 0)
    return pb.full(aval(x).shape, True, np.dtype(bool))


@implements(np.iscomplexobj)
def iscomplexobj(x):
    """Like numpy.iscomplexobj: from the dtype alone (a Python bool)."""
    return aval(operand(x)).dtype.kind == "c"


@implements(np.isrealobj)
def isrealobj(x):
    """Like numpy.isrealobj: from the dtype alone (a Python bool)."""
    return not iscomplexobj(x)


@implements(np.isscalar)
def isscalar(element):
    """Like numpy.isscalar; a traced value counts as a scalar when it is 0-d (JAX's
    rule: a tracer may stand for a NumPy scalar or a 0-d array)."""
    if type(element) is Tracer:
        return element.ndim == 0
    return np.isscalar(element)


@implements(np.iterable)
def iterable(y):
    """Like numpy.iterable: a traced value is iterable when it has an axis."""
    if type(y) is Tracer:
        return y.ndim > 0
    return np.iterable(y)


@implements(np.can_cast)
def can_cast(from_, to, casting="safe"):
    """Like numpy.can_cast; a traced ``from_`` is judged by its dtype."""
    return np.can_cast(from_.dtype if type(from_) is Tracer else from_, to, casting)


@implements(np.promote_types)
def promote_types(type1, type2):
    """Like numpy.promote_types (traced values stand for their dtypes)."""
    return np.promote_types(*[t.dtype if type(t) is Tracer else t for t in (type1, type2)])


@implements(np.result_type)
def result_type(*arrays_and_dtypes):
    """Like numpy.result_type, from the avals: a weakly typed traced value (a Python
    scalar in the user's code) promotes as that Python scalar does."""
    return np.result_type(*[_dtype_of(x) for x in arrays_and_dtypes])


@implements(np.common_type)
def common_type(*arrays):
    """Like numpy.common_type: the inexact scalar type of the arrays' dtypes."""
    return np.common_type(*[np.empty((0,), aval(operand(a)).dtype) for a in arrays])


@implements(np.real_if_close)
def real_if_close(a, tol=100):
    """Like numpy.real_if_close: the real part when every imaginary part is below ``tol``
    (in machine epsilons when ``tol > 1``).  Real input is returned under every
    transform; for complex input the output dtype depends on the values, so they must be
    concrete (``grad``/``jvp``/``vjp`` yes, ``jit``/``vmap`` raise ConcretizationError)."""
    x = _array(a)
    dt = aval(x).dtype
    if dt.kind != "c":
        return x
    if tol > 1:
        tol = np.finfo(dt).eps * tol
    small = _all(ew.lt(ew.abs_(pb.imag(x)), tol))
    if small.concrete_value("funcdiff.numpy.real_if_close (whether the result is real "
                            "depends on the values; call it outside jit/vmap or take "
                            "the real part explicitly)"):
        return pb.real(x)
    return x


if hasattr(np, "isdtype"):   # NumPy >= 2.0
    @implements(np.isdtype)
    def isdtype(dtype, kind):
        """Like numpy.isdtype (dtypes only, as NumPy)."""
        return np.isdtype(dtype, kind)

    __all__.append("isdtype")

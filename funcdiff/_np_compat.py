"""What differs between the supported NumPy versions (1.26 and 2.x), in one place.

funcdiff's dtype rules are NumPy 2's (NEP 50): a Python scalar is weak and takes the
dtype of what it meets, while NumPy scalars and 0-d arrays are strong.  NumPy 1.x
instead casts by value: a 0-d operand next to arrays is demoted (``f32[n] * f64(2.)`` is
float32), and among 0-d operands a Python float counts as float64 (``f32(1) / 3.0`` is
float64).  ``nep50_operands`` makes NumPy 1.x compute what NumPy 2 computes; everything
else here is a keyword or function that NumPy 1.26 lacks.  A leaf module: it imports
NumPy only, so every layer may use it.
"""
from __future__ import annotations

import numpy as np

NUMPY2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"
#: NumPy 1.x casts 0-d operands by value (and knows no weak Python scalars)
LEGACY_PROMOTION = not NUMPY2

_PY = (bool, int, float, complex)


def nep50_operands(args):
    """``(operands, scalar_out)``: on NumPy 1.x, the strong 0-d operands (NumPy scalars,
    0-d arrays) of a call that also has arrays or Python scalars become 1-element arrays,
    so NumPy 1.x promotes them by dtype, not by value -- exactly as NumPy 2 does;
    ``scalar_out`` says the call had only 0-d operands (its result is then ``out[0]``).
    ``None`` when nothing needs changing.  Called on NumPy 1.x only."""
    strong0d = other = False
    nd = 0
    for a in args:
        if type(a) in _PY:
            other = True
        elif np.ndim(a) == 0:
            strong0d = True
        else:
            other = True
            nd = 1
    if not (strong0d and other):
        return None
    ops = [a if type(a) in _PY or np.ndim(a) else np.reshape(a, (1,)) for a in args]
    return ops, nd == 0


def promotes_by_value(invars):
    """Whether NumPy 1.x would promote an elementwise call on these IR operands (vars and
    literals: ``.aval``, literals ``.val``) by value where NumPy 2 does not: a strong 0-d
    operand next to arrays or Python scalars, a Python scalar whose value is unknown (a
    weak var) next to arrays, or a literal too large for the arrays' dtype.  Generated
    code calls the impl for those (``nep50_operands``); always ``False`` on NumPy 2."""
    if not LEGACY_PROMOTION:
        return False
    avals = [a.aval for a in invars]
    weak = [a for a in invars if a.aval.weak_type]
    arrays = [np.empty(1, a.dtype) for a in avals if a.shape]
    strong0d = [a.dtype for a in avals if not a.shape and not a.weak_type]
    if strong0d and (weak or arrays):
        # A floating (or complex) 0-d operand whose dtype the arrays' already contains
        # (``nextafter(f64[n], f64[])``) gives the arrays' dtype either way
        r = np.result_type(*arrays) if arrays else None
        return bool(weak) or r.kind not in "fc" or \
            any(np.promote_types(r, d) != r for d in strong0d)
    if not arrays:
        return False
    if any(not hasattr(a, "val") for a in weak):
        return True
    sample = {"b": True, "i": 1, "u": 1, "f": 1.0, "c": 1j}
    return bool(weak) and np.result_type(*arrays, *[a.val for a in weak]) != np.result_type(
        *arrays, *[sample[a.aval.dtype.kind] for a in weak])


def pinv(a, rcond=None, hermitian=False, *, rtol=np._NoValue):
    """``np.linalg.pinv`` with NumPy 2's ``rtol`` (``None``: ``max(m, n) * eps``), on
    NumPy 1.x."""
    if rtol is not np._NoValue:
        if rcond is not None:
            raise ValueError("`rtol` and `rcond` can't be both set.")
        rcond = max(np.shape(a)[-2:]) * np.finfo(np.asarray(a).dtype).eps if rtol is None \
            else rtol
    return np.linalg.pinv(a, 1e-15 if rcond is None else rcond, hermitian)


def matrix_rank(A, tol=None, hermitian=False, *, rtol=None):
    """``np.linalg.matrix_rank`` with NumPy 2's ``rtol`` (relative to the largest
    singular value), on NumPy 1.x."""
    if rtol is None or np.ndim(A) < 2:
        return np.linalg.matrix_rank(A, tol, hermitian)
    if tol is not None:
        raise ValueError("`tol` and `rtol` can't be both set.")
    S = np.linalg.svd(A, compute_uv=False, hermitian=hermitian)
    return np.count_nonzero(S > S.max(axis=-1, keepdims=True) * np.asarray(rtol)[..., None],
                            axis=-1)

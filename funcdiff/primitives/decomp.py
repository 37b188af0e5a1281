"""Factorization primitives behind ``funcdiff.scipy.linalg``: ``lu`` (with
``lu_pivots_to_permutation``), ``schur``, ``hessenberg`` and ``rsf2csf``.

Conventions as in ``funcdiff.primitives.linalg``: matrices are the last two axes, leading
axes are batch axes (``vmap`` moves the mapped axis to the front), operands are
float32/float64/complex64/complex128 (``funcdiff.scipy.linalg`` converts first, as SciPy
does).  Values are LAPACK's through SciPy when it is importable (bit for bit SciPy's),
otherwise NumPy fallbacks (LU only; the others need SciPy).

Derivatives:

* ``lu``: JAX's ``lu_jvp_rule`` (Differentiation of Matrix Functionals Using Triangular
  Factorization, F. R. de Hoog et al.): with ``P A = L U`` and the pivots locally
  constant, ``L^{-1} P dA U^{-1} = L^{-1} dL + dU U^{-1}``, a strictly lower plus an upper
  triangular part, so ``dL = L tril(X, -1)``, ``dU = triu(X) U`` with
  ``X = L^{-1} P dA U^{-1}``.  Needs the leading ``k x k`` block of ``U`` nonsingular.
* ``schur``, ``hessenberg``, ``rsf2csf``: no derivative, as in JAX: the factors are not
  unique (the real Schur form's 2x2 blocks, the phases of Schur/Hessenberg vectors), and
  LAPACK's choice is not a differentiable function of the matrix in general.  Their
  tangents are ``no_derivative``: a ``GradientError`` once a derivative is actually used
  (a factor whose tangent is never used costs nothing).
"""
from __future__ import annotations

import warnings

import numpy as np

from ..core.avals import ShapedArray
from ..core.errors import FuncdiffValueError, ShapeError
from ..core.trace import Primitive
from .base import Zero, add, aval, convert_element_type, fit_to, instantiate
from .elementwise import eq, select
from .linalg import (_check_dtype, _check_square, _cols, _front_batcher,
                     _matmul, _mT, _rows, _zero_scalar, _zeros_out,
                     triangular_solve)
from .base import reshape
from .shape import iota, pad
from .special import no_derivative_p

try:  # LAPACK through SciPy; NumPy fallback for lu below
    import scipy.linalg as _sla
except ImportError:  # pragma: no cover - exercised only without SciPy
    _sla = None

__all__ = ["lu", "lu_pivots_to_permutation", "schur", "hessenberg", "rsf2csf",
           "lu_p", "lu_pivots_to_permutation_p", "schur_p", "hessenberg_p", "rsf2csf_p"]


def _mnk_flops(factor):
    def cost(avals_in, avals_out, **params):
        a = avals_in[0]
        m, n = a.shape[-2:]
        batch = int(np.prod(a.shape[:-2], dtype=np.int64))
        return {"flops": int(factor * batch * m * n * max(min(m, n), 1)),
                "transcendentals": 0}
    return cost


def _no_derivative(name):
    """A jvp rule for a primitive without a derivative: each float output's tangent is a
    ``no_derivative`` (raises ``GradientError`` when used), integer outputs get zeros."""
    message = (f"`{name}` has no derivative in funcdiff (nor in JAX): its factors are "
               "not unique, and LAPACK's choice is not a differentiable function of the "
               "matrix.  Differentiate a quantity that does not depend on that choice "
               "through another route (e.g. eigenvalues with `eigvals`/`eigh`, or "
               "`funm`/`expm`/`sqrtm` instead of a Schur form), or wrap this call in "
               "funcdiff.stop_gradient if you do not need its derivative.")

    def jvp(primals, tangents, **params):
        outs = _PRIMS[name].bind(*primals, **params)
        if all(type(t) is Zero for t in tangents):
            return outs, _zeros_out(outs)
        # every output has the operands' matrix shape: the tangent, as the output's dtype
        t = next(instantiate(t) for t in tangents if type(t) is not Zero)
        return outs, [no_derivative_p.bind(fit_to(t, aval(o)), message=message)
                      if aval(o).dtype.kind in "fc" else Zero(aval(o).strengthen())
                      for o in outs]
    return jvp


# --- lu --------------------------------------------------------------------------------------

lu_p = Primitive("lu", multiple_results=True)
lu_p.doc = ("LU factorization with partial pivoting of each matrix (..., m, n): "
            "[lu, pivots, permutation] as LAPACK's getrf (0-based)")


def lu(a):
    """``[lu, pivots, permutation]`` for ``a (..., m, n)``, ``k = min(m, n)``: ``lu``
    packs the unit lower triangular ``L (m, k)`` (below the diagonal) and the upper
    triangular ``U (k, n)``; ``pivots (..., k)`` int32 are LAPACK's row interchanges
    (0-based: row ``i`` was swapped with row ``pivots[i]``), ``permutation (..., m)``
    int32 their product: ``a[..., permutation, :] == L @ U``."""
    return list(lu_p.bind(a))


def _perm_from_pivots(piv, m):
    perm = np.broadcast_to(np.arange(m, dtype=np.int32), piv.shape[:-1] + (m,)).copy()
    for idx in np.ndindex(*piv.shape[:-1]):
        p = perm[idx]
        for i, j in enumerate(piv[idx]):
            p[i], p[j] = p[j], p[i]
    return perm


def _np_getrf(a):
    """Partial-pivoting LU of one matrix (LAPACK's ``getrf`` without blocking)."""
    a = np.array(a)
    m, n = a.shape
    k = min(m, n)
    piv = np.zeros(k, np.int32)
    for j in range(k):
        p = j + int(np.argmax(np.abs(a[j:, j])))
        piv[j] = p
        if p != j:
            a[[j, p]] = a[[p, j]]
        if a[j, j] != 0:
            a[j + 1:, j] /= a[j, j]
        a[j + 1:, j + 1:] -= np.outer(a[j + 1:, j], a[j, j + 1:])
    return a, piv


def _lu_impl(a):
    a = np.asarray(a)
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    lu_out = np.empty(a.shape, a.dtype)
    piv = np.zeros(batch + (k,), np.int32)
    if k:
        for idx in np.ndindex(*batch):
            if _sla is not None:
                with warnings.catch_warnings():   # singular: LinAlgWarning, NaN-free
                    warnings.simplefilter("ignore")
                    lu_out[idx], piv[idx] = _sla.lu_factor(a[idx], check_finite=False)
            else:
                lu_out[idx], piv[idx] = _np_getrf(a[idx])
    return [lu_out, piv, _perm_from_pivots(piv, m)]


def _lu_abstract(a):
    if a.ndim < 2:
        raise ShapeError(f"`lu`: expected a matrix or a stack of them, shape (..., m, n); "
                         f"got shape {a.shape}")
    _check_dtype("lu", a)
    batch, (m, n) = a.shape[:-2], a.shape[-2:]
    i32 = np.dtype(np.int32)
    return [ShapedArray(a.shape, a.dtype), ShapedArray(batch + (min(m, n),), i32),
            ShapedArray(batch + (m,), i32)]


def _tri_rect(x, lower, k=0):
    """``tril(x, k)`` / ``triu(x, k)`` of (possibly rectangular) matrices."""
    m, n = aval(x).shape[-2:]
    mask = np.tri(m, n, k, dtype=bool) if lower else ~np.tri(m, n, k - 1, dtype=bool)
    return select(mask, x, _zero_scalar(aval(x).dtype))


def _permutation_matrix(perm, m, dtype):
    """``P`` with ``P[i, perm[i]] = 1``: ``P @ x == x[perm]`` (exact: 0/1 products)."""
    batch = aval(perm).shape[:-1]
    onehot = eq(reshape(perm, batch + (m, 1)), reshape(iota(0, m, 1, np.int32), (1, m)))
    return convert_element_type(onehot, dtype=np.dtype(dtype))


def _lu_jvp(primals, tangents):
    (a,), (ta,) = primals, tangents
    outs = lu_p.bind(a)
    packed, _, perm = outs
    aa = aval(a)
    m, n = aa.shape[-2:]
    k = min(m, n)
    if type(ta) is Zero or k == 0:
        return outs, _zeros_out(outs)
    nd, dt = aa.ndim, aa.dtype
    x = _matmul(_permutation_matrix(perm, m, dt), instantiate(ta))     # P dA
    zero = _zero_scalar(dt)
    keep = [(0, 0, 0)] * (nd - 2)
    l = pad(_tri_rect(_cols(packed, 0, k), True, -1), zero, keep + [(0, 0, 0),
                                                                     (0, m - k, 0)])
    l = add(l, np.eye(m, dtype=dt))                                   # unit lower (m, m)
    u = pad(_tri_rect(_rows(packed, 0, k), False), zero, keep + [(0, n - k, 0), (0, 0, 0)])
    u = add(u, np.diag((np.arange(n) >= k).astype(dt)))               # (n, n), nonsingular
    la_ = triangular_solve(l, x, lower=True, unit_diagonal=True)      # L^{-1} P dA
    lau = _mT(triangular_solve(u, _mT(la_), lower=False, transpose_a=True))   # ... U^{-1}
    dlu = add(_matmul(l, _tri_rect(lau, True, -1)), _matmul(_tri_rect(lau, False), u))
    return outs, [fit_to(dlu, aa), Zero(aval(outs[1]).strengthen()),
                  Zero(aval(outs[2]).strengthen())]


lu_p.impl = _lu_impl
lu_p.abstract_eval = _lu_abstract
lu_p.jvp = _lu_jvp
lu_p.batch = _front_batcher(lu_p)
lu_p.cost = _mnk_flops(1)

# --- lu_pivots_to_permutation (integers only) ---------------------------------------------

lu_pivots_to_permutation_p = Primitive("lu_pivots_to_permutation")
lu_pivots_to_permutation_p.doc = ("LAPACK row interchanges (..., k) -> the permutation "
                                  "(..., permutation_size) they make (int32)")


def lu_pivots_to_permutation(pivots, permutation_size):
    """The permutation ``perm (..., permutation_size)`` that the row interchanges
    ``pivots (..., k)`` (0-based, applied in order) make of ``arange``."""
    return lu_pivots_to_permutation_p.bind(pivots, permutation_size=int(permutation_size))


def _pivots_abstract(piv, *, permutation_size):
    if piv.dtype.kind not in "iu" or piv.ndim < 1:
        raise FuncdiffValueError(f"`lu_pivots_to_permutation`: pivots must be integers "
                                 f"with at least one axis, got {piv.str_short()}")
    if piv.shape[-1] > permutation_size:
        raise ShapeError(f"`lu_pivots_to_permutation`: {piv.shape[-1]} pivots for a "
                         f"permutation of size {permutation_size}")
    return ShapedArray(piv.shape[:-1] + (permutation_size,), np.dtype(np.int32))


def _pivots_impl(piv, *, permutation_size):
    piv = np.asarray(piv)
    if np.any((piv < 0) | (piv >= permutation_size)):
        raise FuncdiffValueError(f"`lu_solve`: pivot indices must lie in [0, "
                                 f"{permutation_size}), got {piv}")
    return _perm_from_pivots(piv, permutation_size)


lu_pivots_to_permutation_p.impl = _pivots_impl
lu_pivots_to_permutation_p.abstract_eval = _pivots_abstract
lu_pivots_to_permutation_p.batch = _front_batcher(lu_pivots_to_permutation_p)
lu_pivots_to_permutation_p.cost = lambda avals_in, avals_out, **p: {
    "flops": int(avals_in[0].size), "transcendentals": 0}

# --- schur -----------------------------------------------------------------------------------

schur_p = Primitive("schur", multiple_results=True)
schur_p.doc = ("Schur decomposition of each matrix (..., n, n): [T, Z, sdim] "
               "(`scipy.linalg.schur`); no derivative")


def schur(a, output="real", sort=None):
    """``[T, Z, sdim]`` with ``a = Z T Z^H``: ``T`` quasi upper triangular (``output``
    'real': 1x1 and 2x2 blocks) or upper triangular ('complex': pass a complex ``a``),
    ``Z`` unitary; ``sort`` (None, 'lhp', 'rhp', 'iuc', 'ouc' or a callable, as SciPy's)
    moves the selected eigenvalues to the top left, ``sdim`` (int32) counts them."""
    return list(schur_p.bind(a, output=output, sort=sort))


def _need_scipy(name):
    if _sla is None:
        raise FuncdiffValueError(f"`{name}` needs SciPy (LAPACK's routine); install scipy")


def _schur_impl(a, *, output, sort):
    _need_scipy("schur")
    a = np.asarray(a)
    n = a.shape[-1]
    t = np.empty(a.shape, a.dtype)
    z = np.empty(a.shape, a.dtype)
    sdim = np.zeros(a.shape[:-2], np.int32)
    if n:
        for idx in np.ndindex(*a.shape[:-2]):
            if sort is None:
                t[idx], z[idx] = _sla.schur(a[idx], output=output, check_finite=False)
            else:
                t[idx], z[idx], sdim[idx] = _sla.schur(a[idx], output=output, sort=sort,
                                                       check_finite=False)
    return [t, z, sdim]


def _schur_abstract(a, *, output, sort):
    _check_square("schur", a)
    _check_dtype("schur", a)
    return [ShapedArray(a.shape, a.dtype), ShapedArray(a.shape, a.dtype),
            ShapedArray(a.shape[:-2], np.dtype(np.int32))]


schur_p.impl = _schur_impl
schur_p.abstract_eval = _schur_abstract
schur_p.batch = _front_batcher(schur_p)
schur_p.cost = _mnk_flops(25)

# --- hessenberg -------------------------------------------------------------------------------

hessenberg_p = Primitive("hessenberg", multiple_results=True)
hessenberg_p.doc = ("Hessenberg form of each matrix (..., n, n): [H] or [H, Q] "
                    "(`scipy.linalg.hessenberg`); no derivative")


def hessenberg(a, calc_q=False):
    """``[H]`` (``[H, Q]`` with ``calc_q``): ``a = Q H Q^H`` with ``H`` upper Hessenberg
    (zero below the first subdiagonal) and ``Q`` unitary."""
    return list(hessenberg_p.bind(a, calc_q=bool(calc_q)))


def _hessenberg_impl(a, *, calc_q):
    _need_scipy("hessenberg")
    a = np.asarray(a)
    h = np.empty(a.shape, a.dtype)
    q = np.empty(a.shape, a.dtype)
    if a.shape[-1]:
        for idx in np.ndindex(*a.shape[:-2]):
            if calc_q:
                h[idx], q[idx] = _sla.hessenberg(a[idx], calc_q=True, check_finite=False)
            else:
                h[idx] = _sla.hessenberg(a[idx], check_finite=False)
    return [h, q] if calc_q else [h]


def _hessenberg_abstract(a, *, calc_q):
    _check_square("hessenberg", a)
    _check_dtype("hessenberg", a)
    return [ShapedArray(a.shape, a.dtype)] * (2 if calc_q else 1)


hessenberg_p.impl = _hessenberg_impl
hessenberg_p.abstract_eval = _hessenberg_abstract
hessenberg_p.batch = _front_batcher(hessenberg_p)
hessenberg_p.cost = _mnk_flops(10 / 3)

# --- rsf2csf ---------------------------------------------------------------------------------

rsf2csf_p = Primitive("rsf2csf", multiple_results=True)
rsf2csf_p.doc = ("real Schur form (T, Z) -> complex Schur form (`scipy.linalg.rsf2csf`); "
                 "no derivative")


def rsf2csf(t, z):
    """The complex Schur form ``[T, Z]`` of a real Schur form ``(t, z)`` (equal shapes
    ``(..., n, n)``, complex dtype: cast first)."""
    return list(rsf2csf_p.bind(t, z))


def _rsf2csf_impl(t, z):
    _need_scipy("rsf2csf")
    t, z = np.asarray(t), np.asarray(z)
    tt, zz = np.empty(t.shape, t.dtype), np.empty(z.shape, z.dtype)
    if t.shape[-1]:
        for idx in np.ndindex(*t.shape[:-2]):
            tt[idx], zz[idx] = _sla.rsf2csf(t[idx].real, z[idx].real, check_finite=False)
    return [tt, zz]


def _rsf2csf_abstract(t, z):
    _check_square("rsf2csf", t)
    _check_dtype("rsf2csf", t, z)
    if t.shape != z.shape or t.dtype.kind != "c":
        raise ShapeError(f"`rsf2csf`: T and Z must be complex with equal shapes "
                         f"(..., n, n), got {t.str_short()} and {z.str_short()}")
    return [ShapedArray(t.shape, t.dtype), ShapedArray(z.shape, z.dtype)]


rsf2csf_p.impl = _rsf2csf_impl
rsf2csf_p.abstract_eval = _rsf2csf_abstract
rsf2csf_p.batch = _front_batcher(rsf2csf_p)
rsf2csf_p.cost = _mnk_flops(6)

_PRIMS = {"schur": schur_p, "hessenberg": hessenberg_p, "rsf2csf": rsf2csf_p}
for _name, _p in _PRIMS.items():
    _p.jvp = _no_derivative(_name)
del _name, _p

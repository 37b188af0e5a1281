"""``funcdiff.scipy.linalg``: eigenvalue and orthogonal decompositions (``eigh``
``eigvalsh`` ``eig`` ``eigvals`` ``eigh_tridiagonal`` ``svd`` ``qr`` ``qr_multiply``
``polar`` ``schur`` ``rsf2csf`` ``hessenberg``) and the least-squares helpers built on the
SVD (``pinv`` ``lstsq`` ``norm``).  See ``funcdiff.scipy.linalg`` for the conventions."""
from __future__ import annotations

import numpy as np

from .. import numpy as fnp
from ..core.errors import FuncdiffValueError
from ..api.custom_derivatives import custom_jvp
from ..numpy._core import aval
from ..primitives import decomp as dc
from ..primitives import elementwise as ew
from ..primitives import linalg as la
from ..primitives import matfun as mf
from ..primitives.reduce import reduce_max, reduce_sum
from ..primitives.base import broadcast_to, full, reshape
from ..primitives.shape import pad, slice_
from ._linalg_util import (arr, batch_shape, blas_dtype, cast, complex_dtype, concrete,
                           conj, pack, real_dtype, scipy_linalg)


def _core_square(name, a, what="a"):
    a = arr(a)
    A = aval(a)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise ValueError(f'expected square "{what}" matrix' if name == "eigh"
                         else "expected square matrix")
    return a


# --- eigh, eigvalsh -----------------------------------------------------------------------

_EIGH_DRIVERS = (None, "ev", "evd", "evr", "evx", "gv", "gvd", "gvx")


def _value_subset(a, lo, hi, lower, dtype, what="eigh(subset_by_value=...)"):
    """A value subset ``(lo, hi]`` as an index range, from the eigenvalues of the
    concrete matrix (the number of eigenvalues decides the output shape)."""
    w = np.linalg.eigvalsh(np.asarray(concrete(a, what), dtype), UPLO="L" if lower else "U")
    inside = (w > lo) & (w <= hi)
    counts = inside.sum(-1)
    if np.ndim(counts) and np.any(counts != counts.flat[0]):
        raise FuncdiffValueError(f"{what}: the batch's matrices have different numbers "
                                 "of eigenvalues in the interval; their results cannot "
                                 "be stacked")
    first = np.argmax(inside, -1)
    if np.ndim(first) and np.any(first != first.flat[0]):
        raise FuncdiffValueError(f"{what}: the eigenvalues in the interval have "
                                 "different indices across the batch")
    c = int(counts.flat[0]) if np.ndim(counts) else int(counts)
    f = int(first.flat[0]) if np.ndim(first) else int(first)
    return None if c == 0 else (f, f + c - 1)


def _generalized(a, b, lower, type_, compute_v, inner, subset):
    """``eigh(a, b)`` by Cholesky reduction, as LAPACK's ``sygvd``: ``b = L L^H``, the
    standard problem for ``C = L^{-1} A L^{-H}`` (type 1) or ``L^H A L`` (types 2, 3),
    then ``v = L^{-H} y`` (types 1, 2) or ``L y`` (type 3)."""
    L = la.cholesky(b if lower else la._H(b))
    A = la._sym_from_triangle(a, lower)
    if type_ == 1:
        y = la.triangular_solve(L, A, lower=True)                  # L^{-1} A
        c = la.triangular_solve(L, la._H(y), lower=True)           # L^{-1} A L^{-H}
    else:
        c = la._matmul(la._H(L), la._matmul(A, L))
    # LAPACK's inner driver reads C's triangle by the same uplo (eigenvector signs)
    outs = la.eigh(c, lower=lower, compute_v=compute_v, driver=inner, subset=subset)
    if not compute_v:
        return outs
    w, y = outs
    if type_ == 3:
        return [w, la._matmul(L, y)]
    return [w, la.triangular_solve(conj(L), y, lower=True, transpose_a=True)]


@scipy_linalg("eigh")
def eigh(a, b=None, *, lower=True, eigvals_only=False, overwrite_a=False,
         overwrite_b=False, type=1, check_finite=True, subset_by_index=None,
         subset_by_value=None, driver=None):
    """Eigenvalues ``w`` (ascending) and orthonormal eigenvectors ``v`` of the Hermitian
    ``a (..., M, M)`` (only its ``lower``/upper triangle is read), or of the generalized
    problem with Hermitian positive definite ``b`` (``type`` 1: ``a v = w b v``; 2:
    ``a b v = w v``; 3: ``b a v = w v``; ``v`` is then ``b``-orthonormal).
    ``subset_by_index=(lo, hi)`` keeps eigenpairs ``lo..hi``; ``subset_by_value=(lo,
    hi)`` those with ``lo < w <= hi`` (needs the matrix's values: not under ``jit``).
    Values and eigenvector signs are LAPACK's through SciPy's ``driver`` (for the
    generalized problem: the Cholesky reduction LAPACK's ``sygvd`` does, then its inner
    driver).  Derivatives: ``funcdiff.primitives.linalg.eigh`` (eigenvectors need
    distinct eigenvalues)."""
    if driver not in _EIGH_DRIVERS:
        raise ValueError(f'"{driver}" is unknown. Possible values are "None", "'
                         + '", "'.join(_EIGH_DRIVERS[1:]) + '".')
    a = _core_square("eigh", a)
    A = aval(a)
    n = A.shape[-1]
    if b is not None:
        b = _core_square("eigh", b, "b")
        if aval(b).shape[-2:] != A.shape[-2:]:
            raise ValueError(f"wrong b dimensions {aval(b).shape[-2:]}, should be "
                             f"{A.shape[-2:]}")
        if type not in (1, 2, 3):
            raise ValueError('"type" keyword only accepts 1, 2, and 3.')
    batch = batch_shape("eigh", A.shape[:-2], () if b is None else aval(b).shape[:-2])
    if subset_by_index and subset_by_value:
        raise ValueError("Either index or value subset can be requested.")
    subset = None
    if subset_by_index:
        lo, hi = (int(x) for x in subset_by_index)
        if not 0 <= lo <= hi < n:
            raise ValueError("Requested eigenvalue indices are not valid. Valid range is "
                             f"[0, {n - 1}] and start <= end, but start={lo}, end={hi} "
                             "is given")
        subset = (lo, hi)
    subsetted = bool(subset_by_index) or bool(subset_by_value)
    if driver:
        if b is None and driver in ("gv", "gvd", "gvx"):
            raise ValueError(f"{driver} requires input b array to be supplied for "
                             "generalized eigenvalue problems.")
        if b is not None and driver in ("ev", "evd", "evr", "evx"):
            raise ValueError(f'"{driver}" does not accept input b array for standard '
                             "eigenvalue problems.")
        if subsetted and driver in ("ev", "evd", "gv", "gvd"):
            raise ValueError(f'"{driver}" cannot compute subsets of eigenvalues')
    else:
        driver = "evr" if b is None else ("gvx" if subsetted else "gvd")
    dt = blas_dtype(A.dtype) if b is None else blas_dtype(A.dtype, aval(b).dtype)
    rdt = real_dtype(dt)
    compute_v = not eigvals_only
    if n == 0:
        w, v = full(batch + (0,), 0, rdt), full(batch + (0, 0), 0, dt)
        return w if eigvals_only else pack((w, v), batch)
    a = broadcast_to(cast(a, dt), batch + (n, n))
    if b is not None:
        b = broadcast_to(cast(b, dt), batch + (n, n))
    if subset_by_value:
        lo, hi = subset_by_value
        if not -np.inf <= lo < hi <= np.inf:
            raise ValueError("Requested eigenvalue bounds are not valid. Valid range is "
                             f"(-inf, inf) and low < high, but low={lo}, high={hi} is "
                             "given")
        if b is not None:
            raise FuncdiffValueError("eigh(a, b, subset_by_value=...) is not supported on "
                                     "traced values; use subset_by_index")
        subset = _value_subset(a, lo, hi, lower, dt)
        if subset is None:
            w, v = full(batch + (0,), 0, rdt), full(batch + (n, 0), 0, dt)
            return w if eigvals_only else pack((w, v), batch)
    if b is None:
        outs = la.eigh(a, lower=bool(lower), compute_v=compute_v, driver=driver,
                       subset=subset)
    else:
        inner = {"gv": "ev", "gvd": "evd", "gvx": "evx"}[driver]
        outs = _generalized(a, b, bool(lower), type, compute_v, inner, subset)
    return outs[0] if eigvals_only else pack(outs, batch)


@scipy_linalg("eigvalsh")
def eigvalsh(a, b=None, *, lower=True, overwrite_a=False, overwrite_b=False, type=1,
             check_finite=True, subset_by_index=None, subset_by_value=None, driver=None):
    """``eigh(..., eigvals_only=True)``: the eigenvalues, exact derivatives everywhere."""
    return eigh.traced(a, b, lower=lower, eigvals_only=True, type=type,
                       subset_by_index=subset_by_index, subset_by_value=subset_by_value,
                       driver=driver)


# --- eig, eigvals -----------------------------------------------------------------------------

def _eig_core(name, a, b, left, homogeneous_eigvals):
    if b is not None:
        raise FuncdiffValueError(f"`{name}` of a generalized problem (b given) is not "
                                 "supported on traced values")
    if left:
        raise FuncdiffValueError(f"`{name}(left=True)`: left eigenvectors are not "
                                 "supported on traced values")
    a = _core_square(name, a)
    dt = blas_dtype(aval(a).dtype)
    return cast(a, dt), homogeneous_eigvals


def _homogeneous(w, yes):
    if not yes:
        return w
    wa = aval(w)
    return fnp.stack([w, fnp.ones(wa.shape, wa.dtype)], axis=-2)


@scipy_linalg("eig")
def eig(a, b=None, left=False, right=True, overwrite_a=False, overwrite_b=False,
        check_finite=True, homogeneous_eigvals=False):
    """Eigenvalues ``w`` and right eigenvectors ``vr`` of a general square ``a``.  Both
    always complex on traced values (SciPy's ``w`` is always complex; its ``vr`` is real
    when every eigenvalue happens to be real, a value-dependent dtype).  ``b`` and
    ``left`` are not supported.  Derivatives: ``funcdiff.primitives.linalg.eig``."""
    a, homog = _eig_core("eig", a, b, left, homogeneous_eigvals)
    batch = aval(a).shape[:-2]
    batch_shape("eig", batch)
    if aval(a).shape[-1] == 0:
        cdt = complex_dtype(aval(a).dtype)
        w, v = full(batch + (0,), 0, cdt), full(aval(a).shape, 0, cdt)
    elif right:
        w, v = la.eig(a)
    else:
        w, v = la.eig(a, compute_v=False)[0], None
    w = _homogeneous(w, homog)
    return w if not right else pack((w, v), batch)


@scipy_linalg("eigvals")
def eigvals(a, b=None, overwrite_a=False, check_finite=True, homogeneous_eigvals=False):
    """The eigenvalues of a general square ``a``, complex (as SciPy's)."""
    return eig.traced(a, b, right=False, homogeneous_eigvals=homogeneous_eigvals)


# --- eigh_tridiagonal --------------------------------------------------------------------------

# the installed SciPy's drivers: 'stevd' (which 'auto' picks for select='a') is SciPy
# 1.16's; before, 'auto' picks 'stemr' (the eigenvector signs are the driver's)
_STEVD = la._sla is None or hasattr(la._sla.lapack, "dstevd")
_TRI_DRIVERS = ("auto", "stemr", "sterf", "stebz", "stev") + (("stevd",) if _STEVD else ())
_SELECT = {"a": 0, "all": 0, 0: 0, "v": 1, "value": 1, 1: 1, "i": 2, "index": 2, 2: 2}


@scipy_linalg("eigh_tridiagonal")
def eigh_tridiagonal(d, e, eigvals_only=False, select="a", select_range=None,
                     check_finite=True, tol=0., lapack_driver="auto"):
    """Eigenvalues (and eigenvectors) of the real symmetric tridiagonal matrix with
    diagonal ``d (..., N)`` and off-diagonal ``e (..., N-1)``; ``select`` 'a' (all), 'i'
    (indices ``select_range = (lo, hi)`` inclusive) or 'v' (values in ``(lo, hi]``: needs
    the values, not under ``jit``).  Values and eigenvector signs are SciPy's (its
    ``lapack_driver``); differentiable in ``d`` and ``e`` by the ``eigh`` rules."""
    d, e = arr(d), arr(e)
    D, E = aval(d), aval(e)
    for x in (D, E):
        if x.ndim < 1:
            raise ValueError("expected a 1-D array")
        if x.dtype.kind == "c":
            raise TypeError("Only real arrays currently supported")
    if D.shape[-1] != E.shape[-1] + 1:
        raise ValueError(f"d ({D.shape[-1]}) must have one more element than e "
                         f"({E.shape[-1]})")
    try:
        sel = _SELECT[select.lower() if isinstance(select, str) else select]
    except (KeyError, TypeError):
        raise ValueError(f"invalid argument for select: {select!r}") from None
    if not isinstance(lapack_driver, str):
        raise TypeError("lapack_driver must be str")
    if lapack_driver not in _TRI_DRIVERS:
        raise ValueError(f"lapack_driver must be one of {_TRI_DRIVERS}, got "
                         f"{lapack_driver}")
    if lapack_driver == "auto":
        driver = ("stevd" if _STEVD else "stemr") if sel == 0 else "stebz"
    else:
        driver = lapack_driver
    if driver in ("sterf", "stev", "stevd") and sel != 0:
        raise ValueError(f'{driver} can only be used when select == "a"')
    if driver == "sterf" and not eigvals_only:
        raise ValueError("sterf can only be used when eigvals_only is True")
    batch = batch_shape("eigh_tridiagonal", D.shape[:-1], E.shape[:-1])
    n = D.shape[-1]
    dt = blas_dtype(D.dtype, E.dtype)
    d = broadcast_to(cast(d, dt), batch + (n,))
    e = broadcast_to(cast(e, dt), batch + (n - 1,))
    # the lower triangle eigh reads: d on the diagonal, e below it
    eye = np.eye(n, dtype=bool)
    sub = np.eye(n, k=-1, dtype=bool)
    e_col = pad(e, np.zeros((), dt)[()], [(0, 0, 0)] * len(batch) + [(0, 1, 0)])
    t = ew.select(eye, reshape(d, batch + (1, n)),
                  ew.select(sub, reshape(e_col, batch + (1, n)), np.zeros((), dt)[()]))
    subset = None
    if sel == 2:
        lo, hi = (int(x) for x in select_range)
        if not 0 <= lo <= hi < n:
            raise ValueError("select_range out of bounds")
        subset = (lo, hi)
    elif sel == 1:
        lo, hi = select_range
        if lo >= hi:
            raise ValueError("select_range must satisfy vl < vu")
        subset = _value_subset(t, lo, hi, True, dt, "eigh_tridiagonal(select='v')")
        if subset is None:
            w, v = full(batch + (0,), 0, dt), full(batch + (n, 0), 0, dt)
            return w if eigvals_only else pack((w, v), batch)
    outs = la.eigh(t, lower=True, compute_v=not eigvals_only, driver=driver, subset=subset)
    return outs[0] if eigvals_only else pack(outs, batch)


# --- svd, qr, qr_multiply, polar ---------------------------------------------------------------

def _matrix(name, a, msg="expected matrix"):
    a = arr(a)
    if aval(a).ndim < 2:
        raise ValueError(msg)
    return a


@scipy_linalg("svd")
def svd(a, full_matrices=True, compute_uv=True, overwrite_a=False, check_finite=True,
        lapack_driver="gesdd"):
    """``(U, s, Vh)`` with ``a = U @ diag(s) @ Vh`` for ``a (..., M, N)`` (``s`` only with
    ``compute_uv=False``).  Values are LAPACK's ``gesdd`` (``lapack_driver='gesvd'`` is
    accepted and computed by ``gesdd`` too: equal up to rounding and the signs of
    singular vector pairs).  Derivatives: ``funcdiff.primitives.linalg.svd``."""
    a = _matrix("svd", a)
    if not isinstance(lapack_driver, str):
        raise TypeError("lapack_driver must be a string")
    if lapack_driver not in ("gesdd", "gesvd"):
        raise ValueError(f'lapack_driver must be "gesdd" or "gesvd", not '
                         f'"{lapack_driver}"')
    A = aval(a)
    batch = batch_shape("svd", A.shape[:-2])
    dt = blas_dtype(A.dtype)
    rdt = real_dtype(dt)
    m, n = A.shape[-2:]
    if m * n == 0:
        s = full(batch + (0,), 0, rdt)
        if full_matrices:
            u = broadcast_to(np.eye(m, dtype=dt), batch + (m, m))
            vh = broadcast_to(np.eye(n, dtype=dt), batch + (n, n))
        else:
            u, vh = full(batch + (m, 0), 0, dt), full(batch + (0, n), 0, dt)
        return pack((u, s, vh), batch) if compute_uv else s
    a = cast(a, dt)
    if not compute_uv:
        return la.svd(a, compute_uv=False)[0]
    s, u, vh = la.svd(a, full_matrices=bool(full_matrices))
    return pack((u, s, vh), batch)


_QR_MODES = ("full", "qr", "r", "economic", "raw")


@scipy_linalg("qr")
def qr(a, overwrite_a=False, lwork=None, mode="full", pivoting=False, check_finite=True):
    """QR decomposition of ``a (..., M, N)``: ``mode`` 'full' (``Q (M, M)``, ``R (M, N)``),
    'economic' (``Q (M, K)``, ``R (K, N)``), 'r' (``(R,)``, ``R (M, N)``; a bare ``R``
    for a batch, as SciPy).  ``mode='raw'`` (LAPACK's Householder reflectors) and
    ``pivoting=True`` (column pivoting) are not supported on traced values.
    Derivatives: ``funcdiff.primitives.linalg.qr`` (full column rank)."""
    if mode not in _QR_MODES:
        raise ValueError("Mode argument should be one of ['full', 'r', 'economic', "
                         "'raw']")
    if mode == "raw":
        raise FuncdiffValueError("qr(mode='raw') returns LAPACK's Householder "
                                 "reflectors, which funcdiff does not trace; use "
                                 "mode='full', 'economic' or 'r'")
    if pivoting:
        raise FuncdiffValueError("qr(pivoting=True) (column pivoting, LAPACK's geqp3) is "
                                 "not supported on traced values: the pivot order is an "
                                 "integer, value-dependent output.  Use pivoting=False")
    a = _matrix("qr", a, "expected a 2-D array")
    A = aval(a)
    batch = batch_shape("qr", A.shape[:-2])
    dt = blas_dtype(A.dtype)
    m, n = A.shape[-2:]
    k = min(m, n)
    if m * n == 0:
        if mode == "economic":
            q, r = full(batch + (m, k), 0, dt), full(batch + (k, n), 0, dt)
        else:
            q = broadcast_to(np.eye(m, dtype=A.dtype), batch + (m, m))
            r = full(A.shape, 0, A.dtype)
    else:
        q, r = la.qr(cast(a, dt), full_matrices=mode != "economic" and m > n)
    if mode == "r":
        return r if batch else (r,)
    return pack((q, r), batch)


@scipy_linalg("qr_multiply")
def qr_multiply(a, c, mode="right", pivoting=False, conjugate=False, overwrite_a=False,
                overwrite_c=False):
    """``(Q @ c, R)`` (``mode='left'``) or ``(c @ Q, R)`` (``'right'``) for the economic
    QR decomposition ``a = Q R`` (``conjugate``: ``Q``'s conjugate), without forming
    ``Q`` in SciPy; here ``Q`` is formed (the same values to rounding).  A 1-D ``c`` is
    a vector.  ``pivoting`` is not supported on traced values."""
    if mode not in ("left", "right"):
        raise ValueError(f"Mode argument can only be 'left' or 'right' but not '{mode}'")
    if pivoting:
        qr.traced(np.ones((1, 1)), pivoting=True)       # the same error as qr's
    a, c = arr(a), arr(c)
    A, C = aval(a), aval(c)
    if A.ndim < 2:
        a = reshape(a, (1,) * (2 - A.ndim) + A.shape)
        A = aval(a)
    onedim = C.ndim < 2
    if onedim:
        c = reshape(c, (1,) * (2 - C.ndim) + C.shape)
        if mode == "left":
            c = la._mT(c)
        C = aval(c)
    m, n = A.shape[-2:]
    k = min(m, n)
    full_q = bool(overwrite_c) and mode == "left" and m > n
    if mode == "left":
        if C.shape[-2] != min(m, n + bool(overwrite_c) * (m - n)):
            raise ValueError("Array shapes are not compatible for Q @ c operation: "
                             f"{A.shape[-2:]} vs {C.shape[-2:]}")
    elif m != C.shape[-1]:
        raise ValueError("Array shapes are not compatible for c @ Q operation: "
                         f"{C.shape[-2:]} vs {A.shape[-2:]}")
    batch = batch_shape("qr_multiply", A.shape[:-2], C.shape[:-2])
    dt = blas_dtype(A.dtype)
    a = broadcast_to(cast(a, dt), batch + (m, n))
    c = broadcast_to(cast(c, dt), batch + C.shape[-2:])
    q, r = la.qr(a, full_matrices=full_q)
    if aval(r).shape[-2] != k:
        r = slice_(r, (0,) * (len(batch) + 2), batch + (k, n))
    if conjugate:
        q = conj(q)
    cq = la._matmul(q, c) if mode == "left" else la._matmul(c, q)
    if onedim:
        cq = reshape(cq, batch + (aval(cq).shape[-2] * aval(cq).shape[-1],))
    return pack((cq, r), batch)


def _polar_svd(a, side):
    """SciPy's formula: ``u = w vh``, ``p = vh^H diag(s) vh`` (right) or ``w diag(s)
    w^H`` (left), from the thin SVD ``a = w diag(s) vh``."""
    s, w, vh = la.svd(a, full_matrices=False)
    u = la._matmul(w, vh)
    sc = cast(s, aval(a).dtype)
    if side == "right":
        p = la._matmul(ew.mul(la._H(vh), la._row(sc)), vh)
    else:
        p = la._matmul(ew.mul(w, la._row(sc)), la._H(w))
    return u, p


def _polar_jvp(side):
    """The derivative of the polar factors where ``p`` is nonsingular (right: ``M >= N``,
    left: ``M <= N``, full rank): ``p dp + dp p = d(p^2)`` (a Sylvester equation; ``p^2``
    is ``a^H a`` or ``a a^H``), then ``du = (da - u dp) p^{-1}`` (right) or ``p^{-1}(da -
    dp u)`` (left).  Exact, also at repeated singular values (where the SVD's derivative
    is not)."""
    def rule(primals, tangents):
        (a,), (da,) = primals, tangents
        u, p = _POLAR[side](a)
        ah, dah = la._H(a), la._H(da)
        if side == "right":
            dp2 = ew.add(la._matmul(dah, a), la._matmul(ah, da))
        else:
            dp2 = ew.add(la._matmul(da, ah), la._matmul(a, dah))
        dp = mf.sylvester(p, p, dp2)
        if side == "right":    # du p = da - u dp:  p^T du^T = (...)^T
            du = la._mT(la.solve(la._mT(p), la._mT(ew.sub(da, la._matmul(u, dp)))))
        else:
            du = la.solve(p, ew.sub(da, la._matmul(dp, u)))
        return (u, p), (du, dp)
    return rule


def _make_polar(side):
    f = custom_jvp(lambda a: _polar_svd(a, side))
    f.__name__ = f"polar_{side}"
    f.defjvp(_polar_jvp(side))
    return f


_POLAR = {"right": _make_polar("right"), "left": _make_polar("left")}


@scipy_linalg("polar")
def polar(a, side="right"):
    """The polar decomposition ``a = u p`` (``side='right'``) or ``a = p u`` ('left') of
    ``a (..., M, N)``: ``u`` with orthonormal columns (rows), ``p`` Hermitian positive
    semidefinite.  Derivative: exact from a Sylvester equation where ``p`` is
    nonsingular (``a`` of full rank; right: ``M >= N``, left: ``M <= N``), else through
    the SVD's derivative (distinct singular values needed)."""
    if side not in ("right", "left"):
        raise ValueError("`side` must be either 'right' or 'left'")
    a = arr(a)
    A = aval(a)
    if A.ndim < 2:
        raise ValueError("`a` must be a 2-D array.")
    batch = batch_shape("polar", A.shape[:-2])
    a = cast(a, blas_dtype(A.dtype))
    m, n = A.shape[-2:]
    if m * n == 0:
        u, p = _polar_svd(a, side)
    elif (side == "right" and m >= n) or (side == "left" and m <= n):
        u, p = _POLAR[side](a)
    else:
        u, p = _polar_svd(a, side)
    return pack((u, p), batch)


# --- schur, rsf2csf, hessenberg ----------------------------------------------------------

def _schur_dtype(dtype, output):
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":             # SciPy: integers become C long first
        dtype = np.dtype(np.int_)
    if output in ("complex", "c") and dtype.kind != "c":
        double = dtype.char in "ild"
        return np.dtype(np.complex128 if double else np.complex64), True
    return blas_dtype(dtype), False


@scipy_linalg("schur")
def schur(a, output="real", lwork=None, overwrite_a=False, sort=None, check_finite=True):
    """The Schur decomposition ``a = Z T Z^H`` of ``a (..., M, M)``: ``(T, Z)`` (and
    ``sdim``, the number of eigenvalues ``sort`` selects, when ``sort`` is given: 'lhp',
    'rhp', 'iuc', 'ouc' or a callable).  LAPACK's values through SciPy.  No derivative
    (``GradientError`` when one is used; JAX has none either): the Schur vectors are not
    unique."""
    if output not in ("real", "complex", "r", "c"):
        raise ValueError("argument must be 'real', or 'complex'")
    if sort is not None and not callable(sort) and sort not in ("lhp", "rhp", "iuc", "ouc"):
        raise ValueError("'sort' parameter must either be 'None', or a callable, or one "
                         "of ('lhp','rhp','iuc','ouc')")
    a = _core_square("schur", a)
    A = aval(a)
    batch = batch_shape("schur", A.shape[:-2])
    dt, _ = _schur_dtype(A.dtype, output)
    if A.shape[-1] == 0:
        t = full(A.shape, 0, dt)
        outs = (t, t) if sort is None else (t, t, 0)
        return pack(outs, batch)
    t, z, sdim = dc.schur(cast(a, dt), output="complex" if dt.kind == "c" else "real",
                          sort=sort)
    if sort is None:
        return pack((t, z), batch)
    return pack((t, z, cast(sdim, np.int_)), batch)     # SciPy's sdim: a Python int


def _rsf2csf_dtype(*dtypes):
    kinds = {"i": (0, 1), "l": (0, 1), "f": (0, 0), "d": (0, 1), "F": (1, 0), "D": (1, 1)}
    single = True
    for d in dtypes:
        if np.dtype(d).char not in kinds:
            raise TypeError(f"rsf2csf: array type {np.dtype(d).name} is not supported; "
                            "use float32, float64, complex64 or complex128")
        single = single and kinds[np.dtype(d).char][1] == 0
    return np.dtype(np.complex64 if single else np.complex128)


@scipy_linalg("rsf2csf")
def rsf2csf(T, Z, check_finite=True):
    """Convert a real Schur form ``(T, Z)`` to the complex one (Givens rotations of each
    2x2 block).  No derivative (as ``schur``)."""
    T, Z = arr(T), arr(Z)
    for name, x in (("Z", Z), ("T", T)):
        xa = aval(x)
        if xa.ndim < 2 or xa.shape[-1] != xa.shape[-2]:
            raise ValueError(f"Input '{name}' must be square.")
    if aval(T).shape[-1] != aval(Z).shape[-1]:
        raise ValueError(f"Input array shapes must match: Z: {aval(Z).shape[-2:]} vs. "
                         f"T: {aval(T).shape[-2:]}")
    dt = _rsf2csf_dtype(aval(Z).dtype, aval(T).dtype)
    batch = batch_shape("rsf2csf", aval(T).shape[:-2], aval(Z).shape[:-2])
    n = aval(T).shape[-1]
    T = broadcast_to(cast(T, dt), batch + (n, n))
    Z = broadcast_to(cast(Z, dt), batch + (n, n))
    if n == 0:
        return pack((T, Z), batch)
    return pack(dc.rsf2csf(T, Z), batch)


@scipy_linalg("hessenberg")
def hessenberg(a, calc_q=False, overwrite_a=False, check_finite=True):
    """The Hessenberg form ``H`` of ``a (..., M, M)`` (``(H, Q)`` with ``a = Q H Q^H``
    when ``calc_q``).  LAPACK's values through SciPy; no derivative (as ``schur``),
    except for ``M <= 2``, where ``H`` is ``a`` itself (and ``Q`` the float64 identity,
    as SciPy)."""
    a = _core_square("hessenberg", a)
    A = aval(a)
    batch = batch_shape("hessenberg", A.shape[:-2])
    n = A.shape[-1]
    dt = blas_dtype(A.dtype)
    if n == 0:
        h = full(A.shape, 0, dt)
        return pack((h, h), batch) if calc_q else h
    if n <= 2:
        q = broadcast_to(np.eye(n), A.shape)
        return pack((a, q), batch) if calc_q else a
    outs = dc.hessenberg(cast(a, dt), calc_q=calc_q)
    return pack(outs, batch) if calc_q else outs[0]


# --- pinv, lstsq, norm -------------------------------------------------------------------------

@scipy_linalg("pinv")
def pinv(a, *, atol=None, rtol=None, return_rank=False, check_finite=True):
    """The pseudo-inverse of ``a (..., M, N)``: singular values at or below ``atol +
    rtol * max(s)`` dropped (``rtol`` default ``max(M, N) * eps``).  Derivative:
    ``funcdiff.numpy.linalg.pinv``'s closed form, exact where the rank is locally
    constant."""
    a = _matrix("pinv", a, "expected a matrix")
    A = aval(a)
    batch_shape("pinv", A.shape[:-2])
    dt = blas_dtype(A.dtype)
    a = cast(a, dt)
    m, n = A.shape[-2:]
    atol = 0. if atol is None else atol
    rtol = max(m, n) * np.finfo(dt).eps if rtol is None else rtol
    if np.any(np.asarray(atol) < 0) or np.any(np.asarray(rtol) < 0):
        raise ValueError("atol and rtol values must be positive.")
    if m * n == 0:
        out = full(A.shape[:-2] + (n, m), 0, dt)
        rank = full(A.shape[:-2], 0, np.int_)
        return pack((out, rank), A.shape[:-2]) if return_rank else out
    s = la.svd(a, compute_uv=False)[0]
    last = aval(s).ndim - 1
    smax = reduce_max(s, (last,))
    rdt = aval(s).dtype
    val = ew.add(np.asarray(atol, rdt), ew.mul(smax, np.asarray(rtol, rdt)))
    # numpy's pinv drops s <= rcond * max(s): rcond = val / max(s) (0 for a zero matrix)
    zero = ew.eq(smax, 0)
    rcond = ew.select(zero, np.zeros((), rdt)[()],
                      ew.div(val, ew.select(zero, np.ones((), rdt)[()], smax)))
    out = fnp.linalg.pinv(a, rcond=rcond)
    if not return_rank:
        return out
    big = ew.gt(s, reshape(val, aval(val).shape + (1,)))
    rank = reduce_sum(ew.convert_element_type(big, dtype=np.dtype(np.int_)), (last,))
    return pack((out, rank), A.shape[:-2])


@scipy_linalg("lstsq")
def lstsq(a, b, cond=None, overwrite_a=False, overwrite_b=False, check_finite=True,
          lapack_driver=None):
    """The least-squares solution of ``a x = b``: ``(x, residues, rank, s)`` (LAPACK's
    ``gelsd`` rule: singular values at or below ``cond * max(s)`` count as zero; ``cond``
    default machine epsilon).  ``x`` differentiates as ``pinv(a) @ b``.  ``residues``
    (squared residual norms per column) is computed only for ``M > N`` and full rank;
    under ``jit``, where the rank is unknown, whenever ``M > N``.  Driver 'gelsy' is
    computed as 'gelsd' (its ``s`` is ``None``, as SciPy)."""
    if lapack_driver is not None and lapack_driver not in ("gelsd", "gelsy", "gelss"):
        raise ValueError(f'LAPACK driver "{lapack_driver}" is not found')
    a, b = arr(a), arr(b)
    A, B = aval(a), aval(b)
    if A.ndim != 2:
        raise ValueError("Input array a should be 2D")
    m, n = A.shape
    if B.ndim == 0 or m != B.shape[0]:
        raise ValueError("Shape mismatch: a and b should have the same number of rows "
                         f"({m} != {B.shape[0] if B.ndim else 1}).")
    if B.ndim > 2:
        raise ValueError("Input array b should be 1-D or 2-D")
    dt = blas_dtype(A.dtype, B.dtype)
    rdt = real_dtype(dt)
    if m == 0 or n == 0:
        x = full((n,) + B.shape[1:], 0, np.result_type(A.dtype, B.dtype, np.float16))
        if n == 0:       # SciPy: numpy.linalg.norm(b, axis=0) ** 2
            res = fnp.linalg.norm(b, axis=0) ** 2
        else:
            res = full((0,), 0, np.float64)
        return x, res, 0, full((0,), 0, np.float64)
    a, b = cast(a, dt), cast(b, dt)
    eps = np.finfo(dt).eps
    x, _, rank, s = fnp.linalg.lstsq(a, b, rcond=eps if cond is None else cond)
    rank = cast(rank, np.int_)                            # SciPy's: a Python int
    resids = full((0,), 0, rdt)
    if m > n:
        rv = getattr(rank, "_val", rank)
        if rv is None or int(rv) == n:
            r = ew.sub(b, la._matmul(a, x) if B.ndim == 2 else
                       reshape(la._matmul(a, reshape(x, (n, 1))), (m,)))
            resids = reduce_sum(ew.real(ew.mul(r, conj(r))) if dt.kind == "c"
                                else ew.mul(r, r), (0,))
    if lapack_driver == "gelsy":
        return x, full((0,), 0, dt), rank, None
    return x, resids, rank, s


@scipy_linalg("norm")
def norm(a, ord=None, axis=None, keepdims=False, check_finite=True):
    """NumPy's ``linalg.norm`` (SciPy's is it, with BLAS/LAPACK shortcuts for some
    cases: the same values to rounding)."""
    return fnp.linalg.norm(arr(a), ord=ord, axis=axis, keepdims=keepdims)


"""Linear-algebra primitives: cholesky, triangular_solve, solve, inv, eigh, slogdet,
svd, eig, qr, det and adjugate.

Conventions shared by every rule here:

* Matrices are the last two axes; any leading axes are batch axes (``(..., n, n)``), as
  in ``numpy.linalg``.  Primitives with two array operands want *equal* batch shapes
  and equal dtypes: ``funcdiff.numpy.linalg`` broadcasts and promotes first, so the
  rules stay simple (broadcasting is undone by ``broadcast_to``'s own transpose).
* Operands are float32/float64/complex64/complex128 (NumPy's linalg refuses float16;
  ``funcdiff.numpy.linalg`` casts ints and bools to float64 as NumPy does).
* ``cholesky`` and ``eigh`` read one triangle of their operand only (NumPy's
  ``UPLO``); their jvp rules therefore differentiate the function NumPy computes: the
  tangent is first made Hermitian from that triangle (``_sym_from_triangle``), so the
  rules agree with finite differences even for non-symmetric perturbations.
* Every jvp is written with funcdiff primitives (``dot_general``, ``transpose``,
  ``select``, these primitives again), so it differentiates again, to any order.
  ``triangular_solve`` and ``solve`` are linear in their right-hand side and carry
  transpose rules for it (a transpose, not an adjoint: no conjugation, as in JAX).
* Batching (``vmap``): the leading axes are batch axes already, so most rules move the
  mapped axis to the front (broadcasting an unmapped operand of a two-operand
  primitive); ``solve``/``triangular_solve`` with an unmapped matrix fold the batch
  into the right-hand side's columns instead (one factorization for all examples).
* Decompositions whose factors are not unique (signs/phases of singular vectors and
  eigenvectors, the extra columns of ``full_matrices`` / ``complete`` factors) get
  derivatives in a stated gauge; see each primitive's docstring.
"""
from __future__ import annotations

import numpy as np

from ..core.avals import ShapedArray
from ..core.errors import FuncdiffTypeError, FuncdiffValueError, ShapeError
from ..core.trace import Primitive
from .base import (Zero, add, aval, axis_size, bdim_at_front, broadcast_to, conj,
                   convert_element_type, fit_to, imag, instantiate, is_undefined,
                   make_complex, moveaxis, neg, real, reduce_sum, reshape, transpose)
from .dot import dot_general
from .elementwise import abs_, div, eq, mul, select, sub
from .reduce import argmax_p, _exclusive_products
from .shape import concatenate, iota, pad, slice_

try:  # optional accelerator for triangular solves; NumPy fallback below
    import scipy.linalg as _sla
except ImportError:  # pragma: no cover - exercised only without SciPy
    _sla = None

_LINALG_DTYPES = tuple(np.dtype(d) for d in (np.float32, np.float64, np.complex64,
                                             np.complex128))

# --- small helpers (all on funcdiff primitives, so usable inside rules) -----------------


def _check_dtype(name, *avals):
    for a in avals:
        if a.dtype not in _LINALG_DTYPES:
            raise FuncdiffTypeError(
                f"`{name}`: array type {a.dtype.name} is unsupported in linalg (operand "
                f"{a.str_short()}); use float32, float64, complex64 or complex128 "
                "(funcdiff.numpy.linalg casts integer inputs to float64, as NumPy does)")
    if len({a.dtype for a in avals}) > 1:
        raise FuncdiffTypeError(
            f"`{name}`: operands must have one dtype, got "
            f"{', '.join(a.str_short() for a in avals)}; cast them to a common dtype first")


def _check_square(name, a):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ShapeError(
            f"`{name}`: expected a square matrix or a stack of them, shape (..., n, n); "
            f"got shape {a.shape}.  The last two axes are the matrix axes.")


def _real_dtype(dtype):
    return np.finfo(dtype).dtype if np.dtype(dtype).kind == "c" else np.dtype(dtype)


def _is_complex(x):
    return aval(x).dtype.kind == "c"


def _mT(x):
    """Swap the last two axes."""
    nd = aval(x).ndim
    return transpose(x, tuple(range(nd - 2)) + (nd - 1, nd - 2))


def _H(x):
    """Conjugate transpose (plain transpose for real values)."""
    x = _mT(x)
    return conj(x) if _is_complex(x) else x


def _matmul(a, b):
    """``a @ b`` for operands with equal batch shapes ``(..., m, k) @ (..., k, n)``."""
    nd = aval(a).ndim
    batch = tuple(range(nd - 2))
    return dot_general(a, b, (((nd - 1,), (nd - 2,)), (batch, batch)))


def _zero_scalar(dtype):
    return np.zeros((), dtype)[()]


def _tri_mask(n, k=0, lower=True):
    """Constant boolean mask of the lower (upper) triangle from diagonal ``k``."""
    return np.tri(n, n, k, dtype=bool) if lower else ~np.tri(n, n, k - 1, dtype=bool)


def _tri(x, lower=True, k=0):
    """``tril(x, k)`` / ``triu(x, k)`` on the last two axes."""
    n = aval(x).shape[-1]
    return select(_tri_mask(n, k, lower), x, _zero_scalar(aval(x).dtype))


def _sym_from_triangle(t, lower):
    """The Hermitian matrix a LAPACK routine sees when it reads only one triangle of
    ``t`` (and, for complex values, only the real part of the diagonal)."""
    strict = _tri(t, lower, -1 if lower else 1)
    n = aval(t).shape[-1]
    eye = np.eye(n, dtype=bool)
    diag = select(eye, t, _zero_scalar(aval(t).dtype))
    if _is_complex(t):
        diag = convert_element_type(real(diag), dtype=aval(t).dtype)
    return add(add(strict, _H(strict)), diag)


def _cube_cost(factor):
    def cost(avals_in, avals_out, **params):
        a = avals_in[0]
        n = a.shape[-1] if a.ndim else 1
        batch = int(np.prod(a.shape[:-2], dtype=np.int64))
        extra = 1
        if len(avals_in) > 1:  # right-hand sides
            extra = max(1, avals_in[1].shape[-1])
        return {"flops": int(factor * batch * n ** 3 + 2 * batch * n * n * extra),
                "transcendentals": 0}
    return cost


def _batch_loop(fn, *arrays):
    """Apply a 2-D function over the (equal) leading batch axes; the result has the
    last operand's shape and dtype (true of every primitive using it)."""
    batch = arrays[0].shape[:-2]
    if not batch:
        return fn(*arrays)
    out = np.empty(arrays[-1].shape, arrays[-1].dtype)
    for idx in np.ndindex(*batch):
        out[idx] = fn(*[x[idx] for x in arrays])
    return out


def _stack_loop(fn, a):
    """``fn`` (a 2-D function returning a list of arrays) over the leading batch axes of
    ``a``, its outputs stacked: for SciPy before 1.16, which takes one matrix at a time."""
    batch = a.shape[:-2]
    outs = [fn(a[idx]) for idx in np.ndindex(*batch)]
    if not outs:     # an empty batch: the shapes and dtypes of one matrix's outputs
        return [np.empty(batch + o.shape, o.dtype)
                for o in fn(np.eye(a.shape[-1], dtype=a.dtype))]
    return [np.stack(o).reshape(batch + o[0].shape) for o in zip(*outs)]


# --- cholesky ----------------------------------------------------------------------------

cholesky_p = Primitive("cholesky")


def cholesky(a):
    """Lower Cholesky factor ``L`` (``a = L L^H``) of each matrix in ``a (..., n, n)``;
    only the lower triangle of ``a`` is read."""
    return cholesky_p.bind(a)


def _cholesky_abstract(a):
    _check_square("cholesky", a)
    _check_dtype("cholesky", a)
    return ShapedArray(a.shape, a.dtype)


def _cholesky_jvp(primals, tangents):
    (a,), (ta,) = primals, tangents
    L = cholesky_p.bind(a)
    if type(ta) is Zero:
        return L, Zero(aval(L).strengthen())
    # a = L L^H  =>  L^{-1} da L^{-H} = phi + phi^H with phi = L^{-1} dL lower triangular
    # with half the diagonal: dL = L Phi(L^{-1} da L^{-H}).
    da = _sym_from_triangle(ta, lower=True)
    tmp = triangular_solve(L, da, lower=True)                    # L^{-1} da
    phi = triangular_solve(L, _H(tmp), lower=True)               # L^{-1} da L^{-H}
    n = aval(a).shape[-1]
    half = np.where(np.eye(n, dtype=bool), 0.5, np.tri(n, n, -1)).astype(
        _real_dtype(aval(a).dtype))
    return L, fit_to(_matmul(L, mul(phi, half)), aval(L))


cholesky_p.impl = lambda a: np.linalg.cholesky(a)
cholesky_p.abstract_eval = _cholesky_abstract
cholesky_p.jvp = _cholesky_jvp
cholesky_p.cost = _cube_cost(1 / 3)

# --- triangular_solve -----------------------------------------------------------------------

triangular_solve_p = Primitive("triangular_solve")
triangular_solve_p.linear = True   # in b only


def triangular_solve(a, b, lower=True, transpose_a=False, unit_diagonal=False):
    """``op(a)^{-1} b`` with ``op(a) = a`` or ``a^T`` (no conjugation), where ``a`` is
    lower (upper) triangular: only that triangle of ``a`` is read, and with
    ``unit_diagonal`` its diagonal is taken to be ones.  ``a (..., n, n)`` and
    ``b (..., n, k)`` have equal batch shapes and dtypes."""
    return triangular_solve_p.bind(a, b, lower=bool(lower), transpose_a=bool(transpose_a),
                                   unit_diagonal=bool(unit_diagonal))


def _scipy_batched():
    if _sla is None:
        return False
    try:
        a = np.eye(2)[None].repeat(2, 0)
        return _sla.solve_triangular(a, np.ones((2, 2, 1)), lower=True).shape == (2, 2, 1)
    except Exception:  # noqa: BLE001 - older SciPy: 2-D only
        return False


SCIPY_BATCHED = _scipy_batched()


_SCIPY_MIN_N = 64   # below this NumPy's batched LU solve is faster than SciPy's call overhead


def _triangular_solve_impl(a, b, *, lower, transpose_a, unit_diagonal):
    a, b = np.asarray(a), np.asarray(b)
    n = a.shape[-1]
    if n == 0 or b.shape[-1] == 0:
        return np.zeros(b.shape, b.dtype)
    if _sla is not None and n >= _SCIPY_MIN_N:
        kw = dict(lower=lower, trans=1 if transpose_a else 0, unit_diagonal=unit_diagonal,
                  check_finite=False)
        if a.ndim == 2 or SCIPY_BATCHED:
            out = _sla.solve_triangular(a, b, **kw)
        else:
            out = _batch_loop(lambda x, y: _sla.solve_triangular(x, y, **kw), a, b)
        return np.asarray(out, dtype=b.dtype)
    # NumPy fallback: the triangle actually read, as a full matrix
    m = np.where(_tri_mask(n, 0, lower), a, np.zeros((), a.dtype))
    if unit_diagonal:
        m = np.where(np.eye(n, dtype=bool), np.ones((), a.dtype), m)
    if transpose_a:
        m = np.swapaxes(m, -1, -2)
    return np.linalg.solve(m, b)


def _triangular_solve_abstract(a, b, *, lower, transpose_a, unit_diagonal):
    _check_square("triangular_solve", a)
    _check_dtype("triangular_solve", a, b)
    if b.ndim != a.ndim or b.shape[:-2] != a.shape[:-2] or b.shape[-2] != a.shape[-1]:
        raise ShapeError(
            f"`triangular_solve`: right-hand side of shape {b.shape} does not fit matrix "
            f"shape {a.shape}: expected (..., {a.shape[-1]}, k) with batch shape "
            f"{a.shape[:-2]}")
    return ShapedArray(b.shape, b.dtype)


def _op_from_triangle(ta, lower, unit_diagonal):
    """The part of a tangent ``ta`` that a triangular solve reads."""
    return _tri(ta, lower, 0 if not unit_diagonal else (-1 if lower else 1))


def _triangular_solve_jvp(primals, tangents, *, lower, transpose_a, unit_diagonal):
    (a, b), (ta, tb) = primals, tangents
    params = dict(lower=lower, transpose_a=transpose_a, unit_diagonal=unit_diagonal)
    x = triangular_solve_p.bind(a, b, **params)
    xa = aval(x)
    if type(ta) is Zero and type(tb) is Zero:
        return x, Zero(xa.strengthen())
    rhs = Zero(xa.strengthen()) if type(tb) is Zero else tb
    if type(ta) is not Zero:
        dA = _op_from_triangle(ta, lower, unit_diagonal)
        dA = _mT(dA) if transpose_a else dA
        dA_x = _matmul(dA, x)                  # d(op(A)^{-1}) b = -op(A)^{-1} dA x
        rhs = neg(dA_x) if type(rhs) is Zero else sub(rhs, dA_x)
    return x, fit_to(triangular_solve_p.bind(a, rhs, **params), xa)


def _triangular_solve_transpose(ct, a, b, *, lower, transpose_a, unit_diagonal):
    if is_undefined(a):
        raise FuncdiffTypeError("transpose of `triangular_solve` in its matrix operand: "
                                "the program is not linear in its tangents")
    if type(ct) is Zero:
        return [None, Zero(aval(b).strengthen())]
    ct_b = triangular_solve_p.bind(a, instantiate(ct), lower=lower,
                                   transpose_a=not transpose_a, unit_diagonal=unit_diagonal)
    return [None, ct_b]


triangular_solve_p.impl = _triangular_solve_impl
triangular_solve_p.abstract_eval = _triangular_solve_abstract
triangular_solve_p.jvp = _triangular_solve_jvp
triangular_solve_p.transpose = _triangular_solve_transpose
triangular_solve_p.cost = _cube_cost(0)

# --- solve (general square systems, LU in LAPACK) --------------------------------------------

solve_p = Primitive("solve")
solve_p.linear = True   # in b only


def solve(a, b, check=True):
    """``a^{-1} b`` for ``a (..., n, n)``, ``b (..., n, k)`` with equal batch shapes and
    dtypes.  With ``check=False`` a singular matrix gives NaNs instead of raising
    ``LinAlgError`` (used inside derivative rules)."""
    return solve_p.bind(a, b, check=bool(check))


def _nan_on_singular(fn):
    """``fn`` (np.linalg.solve or inv), with NaNs for the singular matrices of a stack
    instead of ``LinAlgError``."""
    def run(*args):
        try:
            return fn(*args)
        except np.linalg.LinAlgError:
            if args[0].ndim > 2:
                return _batch_loop(run, *args)
            return np.full(args[-1].shape, np.nan, args[-1].dtype)
    return run


def _solve_impl(a, b, *, check):
    a, b = np.asarray(a), np.asarray(b)
    if a.shape[-1] == 0:
        return np.zeros(b.shape, b.dtype)
    return np.linalg.solve(a, b) if check else _nan_on_singular(np.linalg.solve)(a, b)


def _solve_abstract(a, b, *, check):
    _check_square("solve", a)
    _check_dtype("solve", a, b)
    if b.ndim != a.ndim or b.shape[:-2] != a.shape[:-2] or b.shape[-2] != a.shape[-1]:
        raise ShapeError(
            f"`solve`: right-hand side of shape {b.shape} does not fit matrix shape "
            f"{a.shape}: expected (..., {a.shape[-1]}, k) with batch shape {a.shape[:-2]}")
    return ShapedArray(b.shape, b.dtype)


def _solve_jvp(primals, tangents, *, check):
    (a, b), (ta, tb) = primals, tangents
    x = solve_p.bind(a, b, check=check)
    xa = aval(x)
    if type(ta) is Zero and type(tb) is Zero:
        return x, Zero(xa.strengthen())
    if type(ta) is Zero:
        rhs = tb
    elif type(tb) is Zero:
        rhs = neg(_matmul(ta, x))
    else:
        rhs = sub(tb, _matmul(ta, x))
    return x, fit_to(solve_p.bind(a, rhs, check=check), xa)


def _solve_transpose(ct, a, b, *, check):
    if is_undefined(a):
        raise FuncdiffTypeError("transpose of `solve` in its matrix operand: the program "
                                "is not linear in its tangents")
    if type(ct) is Zero:
        return [None, Zero(aval(b).strengthen())]
    return [None, solve_p.bind(_mT(a), instantiate(ct), check=check)]


solve_p.impl = _solve_impl
solve_p.abstract_eval = _solve_abstract
solve_p.jvp = _solve_jvp
solve_p.transpose = _solve_transpose
solve_p.cost = _cube_cost(2 / 3)

# --- inv ----------------------------------------------------------------------------------------

inv_p = Primitive("inv")


def inv(a, check=True):
    """Inverse of each matrix in ``a (..., n, n)``; ``check=False``: NaNs instead of
    ``LinAlgError`` for singular matrices."""
    return inv_p.bind(a, check=bool(check))


def _inv_impl(a, *, check):
    a = np.asarray(a)
    if a.shape[-1] == 0:
        return np.zeros(a.shape, a.dtype)
    return np.linalg.inv(a) if check else _nan_on_singular(np.linalg.inv)(a)


def _inv_abstract(a, *, check):
    _check_square("inv", a)
    _check_dtype("inv", a)
    return ShapedArray(a.shape, a.dtype)


def _inv_jvp(primals, tangents, *, check):
    (a,), (ta,) = primals, tangents
    x = inv_p.bind(a, check=check)
    if type(ta) is Zero:
        return x, Zero(aval(x).strengthen())
    return x, fit_to(neg(_matmul(_matmul(x, ta), x)), aval(x))   # -A^{-1} dA A^{-1}


inv_p.impl = _inv_impl
inv_p.abstract_eval = _inv_abstract
inv_p.jvp = _inv_jvp
inv_p.cost = _cube_cost(2)

def _same_primals(prim, a, **params):
    """The primal outputs of a values-only decomposition (``compute_uv`` /
    ``compute_v`` False) when its jvp needs the vectors too: LAPACK's values-only
    routines differ from the full ones in the last bits, so the primal must come from
    the values-only call -- the one the undifferentiated program makes -- or
    comparisons against it (e.g. the tie mask of a following ``min``) would see two
    slightly different copies of the same values (the values-only call costs one more
    decomposition, in the derivative only)."""
    return list(prim.bind(a, **params))


# --- eigh ---------------------------------------------------------------------------------------

eigh_p = Primitive("eigh", multiple_results=True)


def eigh(a, lower=True, compute_v=True, driver=None, subset=None):
    """Eigen-decomposition of Hermitian (real symmetric) matrices ``a (..., n, n)``.

    Returns ``[w, v]`` (``[w]`` with ``compute_v=False``): eigenvalues ``w (..., n)``
    in ascending order, real, and orthonormal eigenvectors as the columns of
    ``v (..., n, n)``.  Only the lower (``lower=True``) or upper triangle of ``a`` is
    read, and only the real part of its diagonal.  ``driver`` (None: NumPy's
    ``eigh``; else SciPy's LAPACK driver name, 'evr', 'evd', ...: eigenvector signs
    differ between drivers) and ``subset`` (``(lo, hi)``: eigenpairs ``lo..hi``
    inclusive, by index; ``w (..., k)``, ``v (..., n, k)``) serve
    ``funcdiff.scipy.linalg.eigh``.

    Derivatives: ``dw = diag(V^H dA V)`` is exact everywhere, repeated eigenvalues
    included.  ``dV = V (F o (V^H dA V))`` with ``F_ij = 1 / (w_j - w_i)`` is undefined
    when two eigenvalues are equal (the eigenvectors of a repeated eigenvalue are not
    unique), and comes out inf/NaN there.  If you need derivatives near repeated
    eigenvalues, differentiate only functions of ``w`` (``eigvalsh``) or of invariant
    subspaces, or perturb the matrix slightly (e.g. add ``diag(eps * arange(n))``) so
    the eigenvalues are distinct.  Also make sure your matrix really is symmetric
    (e.g. ``(a + a.T) / 2``): the derivative is that of the function NumPy computes,
    which reads one triangle.  With ``subset``, ``dV`` sums over *all* eigenpairs (a
    full decomposition in the derivative) and needs the subset's eigenvalues distinct
    from every other one.
    """
    extra = {} if driver is None and subset is None else dict(
        driver=driver, subset=None if subset is None else tuple(int(i) for i in subset))
    outs = eigh_p.bind(a, lower=bool(lower), compute_v=bool(compute_v), **extra)
    return list(outs)


def _eigh_impl(a, *, lower, compute_v, driver=None, subset=None):
    uplo = "L" if lower else "U"
    a = np.asarray(a)
    if driver in _TRIDIAGONAL_DRIVERS and _sla is not None and a.shape[-1]:
        return _eigh_tridiagonal_impl(a, lower, compute_v, driver, subset)
    if (driver is not None or subset is not None) and _sla is not None and a.shape[-1]:
        def run(m):
            out = _sla.eigh(m, lower=lower, eigvals_only=not compute_v, driver=driver,
                            subset_by_index=subset, check_finite=False)
            return list(out) if compute_v else [out]
        return run(a) if a.ndim == 2 or SCIPY_BATCHED else _stack_loop(run, a)
    if compute_v:
        w, v = np.linalg.eigh(a, UPLO=uplo)
        return [w, v] if subset is None else [w[..., subset[0]:subset[1] + 1],
                                             v[..., subset[0]:subset[1] + 1]]
    w = np.linalg.eigvalsh(a, UPLO=uplo)
    return [w if subset is None else w[..., subset[0]:subset[1] + 1]]


# SciPy's eigh_tridiagonal drivers: ``a`` is then tridiagonal, and its diagonal and one
# off-diagonal (by ``lower``) go to ``scipy.linalg.eigh_tridiagonal`` (its eigenvector
# signs differ from the dense drivers')
_TRIDIAGONAL_DRIVERS = ("stevd", "stev", "stebz", "stemr", "sterf")


def _eigh_tridiagonal_impl(a, lower, compute_v, driver, subset):
    k = a.shape[-1] if subset is None else subset[1] - subset[0] + 1
    w = np.empty(a.shape[:-2] + (k,), a.dtype)
    v = np.empty(a.shape[:-1] + (k,), a.dtype)
    kw = dict(select="a") if subset is None else dict(select="i", select_range=subset)
    for idx in np.ndindex(*a.shape[:-2]):
        m = a[idx]
        d, e = np.diagonal(m).copy(), np.diagonal(m, -1 if lower else 1).copy()
        if len(d) == 1:      # SciPy's quick exit ignores the driver
            w[idx], v[idx] = d, 1
            continue
        out = _sla.eigh_tridiagonal(d, e, eigvals_only=not compute_v, lapack_driver=driver,
                                    check_finite=False, **kw)
        if compute_v:
            w[idx], v[idx] = out
        else:
            w[idx] = out
    return [w, v] if compute_v else [w]


def _eigh_abstract(a, *, lower, compute_v, driver=None, subset=None):
    _check_square("eigh", a)
    _check_dtype("eigh", a)
    n = a.shape[-1]
    k = n
    if subset is not None:
        lo, hi = subset
        if driver in ("ev", "evd", "stev", "stevd", "sterf"):
            raise FuncdiffValueError(f"`eigh`: driver {driver!r} cannot compute subsets "
                                     "of eigenvalues")
        if not 0 <= lo <= hi < n:
            raise ShapeError(f"`eigh`: eigenvalue index subset {subset} is not within "
                             f"[0, {n - 1}] with start <= end")
        k = hi - lo + 1
    w = ShapedArray(a.shape[:-2] + (k,), _real_dtype(a.dtype))
    return [w, ShapedArray(a.shape[:-1] + (k,), a.dtype)] if compute_v else [w]


def _eigh_jvp(primals, tangents, *, lower, compute_v, driver=None, subset=None):
    (a,), (ta,) = primals, tangents
    extra = {} if driver is None and subset is None else dict(driver=driver,
                                                             subset=subset)
    if driver == "sterf":    # eigenvalues only: its vectors from stevd
        extra_v = dict(extra, driver="stevd")
    else:
        extra_v = extra
    w, v = eigh_p.bind(a, lower=lower, compute_v=True, **extra_v)
    outs = [w, v] if compute_v else _same_primals(eigh_p, a, lower=lower,
                                                  compute_v=False, **extra)
    if type(ta) is Zero:
        return outs, [Zero(aval(o).strengthen()) for o in outs]
    da = _sym_from_triangle(ta, lower)
    n = aval(a).shape[-1]
    if subset is None:
        w_all, v_all, lo = w, v, 0
    else:   # dV sums over all eigenpairs: the full decomposition, same driver
        w_all, v_all = eigh_p.bind(a, lower=lower, compute_v=True,
                                   driver=extra_v["driver"], subset=None)
        lo = subset[0]
    k = aval(w).shape[-1]
    da_v = _matmul(da, v)
    # dw_j = (V^H dA V)_jj, real
    dw = reduce_sum(mul(conj(v) if _is_complex(v) else v, da_v), (aval(v).ndim - 2,))
    if _is_complex(dw):
        dw = real(dw)
    dw = fit_to(dw, aval(w))
    if not compute_v:
        return outs, [dw]
    # dv_j = sum_{i != lo + j} v_i (v_i^H dA v_j) / (w_j - w_i)
    g = _matmul(_H(v_all), da_v)                             # (n, k)
    same = np.arange(n)[:, None] == lo + np.arange(k)[None, :]
    wj = reshape(w, aval(w).shape[:-1] + (1, k))
    wi = reshape(w_all, aval(w_all).shape[:-1] + (n, 1))
    diff = sub(wj, wi)
    one = np.ones((), aval(w).dtype)[()]
    f = select(same, _zero_scalar(aval(w).dtype), div(one, select(same, one, diff)))
    dv = _matmul(v_all, mul(g, f))
    return outs, [dw, fit_to(dv, aval(v))]


eigh_p.impl = _eigh_impl
eigh_p.abstract_eval = _eigh_abstract
eigh_p.jvp = _eigh_jvp
eigh_p.cost = _cube_cost(9)

# --- slogdet ------------------------------------------------------------------------------------

slogdet_p = Primitive("slogdet", multiple_results=True)


def slogdet(a):
    """``[sign, logabsdet]`` of each matrix in ``a (..., n, n)``: ``det = sign *
    exp(logabsdet)``.  For real ``a``, ``sign`` is -1, 0 or +1 (dtype of ``a``); for
    complex ``a`` it has modulus 1 (or 0).  ``logabsdet`` is real.

    Derivative: ``d logabsdet = Re tr(A^{-1} dA)``, ``d sign = i Im tr(A^{-1} dA) sign``
    (zero for real ``a``).  At a singular matrix (``sign == 0``) the derivative is NaN
    (no ``LinAlgError``)."""
    return list(slogdet_p.bind(a))


def _slogdet_impl(a):
    sign, logabsdet = np.linalg.slogdet(np.asarray(a))
    return [np.asarray(sign), np.asarray(logabsdet)]


def _slogdet_abstract(a):
    _check_square("slogdet", a)
    _check_dtype("slogdet", a)
    return [ShapedArray(a.shape[:-2], a.dtype),
            ShapedArray(a.shape[:-2], _real_dtype(a.dtype))]


def _slogdet_jvp(primals, tangents):
    (a,), (ta,) = primals, tangents
    sign, logabsdet = slogdet_p.bind(a)
    if type(ta) is Zero:
        return [sign, logabsdet], [Zero(aval(sign).strengthen()),
                                   Zero(aval(logabsdet).strengthen())]
    nd = aval(a).ndim
    # tr(A^{-1} dA) = sum_ij (A^{-1})_ji dA_ij: inv once, then linear in dA
    tr = reduce_sum(mul(_mT(inv(a, check=False)), ta), (nd - 2, nd - 1))
    if not _is_complex(tr):
        return [sign, logabsdet], [Zero(aval(sign).strengthen()),
                                   fit_to(tr, aval(logabsdet))]
    re = real(tr)
    dsign = mul(sign, sub(tr, re))      # i Im(tr) sign
    return [sign, logabsdet], [fit_to(dsign, aval(sign)), fit_to(re, aval(logabsdet))]


slogdet_p.impl = _slogdet_impl
slogdet_p.abstract_eval = _slogdet_abstract
slogdet_p.jvp = _slogdet_jvp
slogdet_p.cost = _cube_cost(2 / 3)


# --- more helpers for the decompositions below ---------------------------------------------


def _diag(x):
    """The diagonal of each matrix of a stack of square matrices ``(..., n, n) -> (..., n)``."""
    xa = aval(x)
    eye = np.eye(xa.shape[-1], dtype=bool)
    return reduce_sum(select(eye, x, _zero_scalar(xa.dtype)), (xa.ndim - 1,))


def _row(v):
    """``v[..., None, :]``."""
    va = aval(v)
    return reshape(v, va.shape[:-1] + (1, va.shape[-1]))


def _col(v):
    """``v[..., :, None]``."""
    va = aval(v)
    return reshape(v, va.shape + (1,))


def _cols(x, start, stop):
    """``x[..., :, start:stop]``."""
    xa = aval(x)
    return slice_(x, (0,) * (xa.ndim - 1) + (start,), xa.shape[:-1] + (stop,))


def _rows(x, start, stop):
    """``x[..., start:stop, :]``."""
    xa = aval(x)
    return slice_(x, (0,) * (xa.ndim - 2) + (start, 0), xa.shape[:-2] + (stop, xa.shape[-1]))


def _to_complex(x, dtype):
    return x if aval(x).dtype == dtype else convert_element_type(x, dtype=np.dtype(dtype))


def _complex_dtype(dtype):
    return np.result_type(dtype, np.complex64)


def _mnk_cost(factor, factor_uv=None):
    """flops ~ factor * m * n * min(m, n) per matrix (``factor_uv`` when the factors are
    computed too)."""
    def cost(avals_in, avals_out, **params):
        a = avals_in[0]
        m, n = a.shape[-2:]
        batch = int(np.prod(a.shape[:-2], dtype=np.int64))
        f = factor_uv if (factor_uv is not None and params.get("compute_uv", True)
                          and params.get("compute_v", True)) else factor
        return {"flops": int(f * batch * m * n * min(m, n)), "transcendentals": 0}
    return cost


def _zeros_out(outs):
    return [Zero(aval(o).strengthen()) for o in outs]


# --- svd ---------------------------------------------------------------------------------------

svd_p = Primitive("svd", multiple_results=True)


def svd(a, full_matrices=False, compute_uv=True):
    """Singular value decomposition of ``a (..., m, n)``, ``k = min(m, n)``.

    Returns ``[s, u, vh]`` (``[s]`` with ``compute_uv=False``): singular values
    ``s (..., k)`` in descending order (real), ``u (..., m, k)`` and ``vh (..., k, n)``
    with ``a = u @ diag(s) @ vh`` (``u (..., m, m)``, ``vh (..., n, n)`` with
    ``full_matrices``), exactly as ``numpy.linalg.svd`` computes them.

    Derivatives (JAX's ``svd_jvp_rule``, written with funcdiff ops so they differentiate
    again): ``ds = Re diag(U^H dA V)`` is exact wherever the singular values are
    distinct, and stays finite everywhere (also at repeated and zero singular values,
    where ``s`` is only directionally differentiable).  ``dU``, ``dV`` need *distinct*
    singular values: ``F_ij = 1 / (s_j^2 - s_i^2)`` is infinite at repeated ones and
    the result is inf/NaN there; for ``m != n`` they also need nonzero singular
    values (a division by ``s``).  Singular vectors are unique only up to a sign
    (real) or a phase (complex) per pair ``(u_i, v_i)``: for real matrices the rule
    differentiates the (continuous) LAPACK choice; for complex ones it fixes the phase
    by ``Im diag(U^H dU) = Im(diag(U^H dA V)) / s`` and ``diag(V^H dV)`` imaginary-free,
    which need not match LAPACK's phase choice, so differentiate only phase-invariant
    functions of complex singular vectors (``u @ diag(s) @ vh``, ``|u|``, projectors).
    With ``full_matrices`` and ``m != n`` the extra columns of ``u`` (rows of ``vh``)
    are any orthonormal basis of a complement; their derivative is the one of minimal
    rotation (``dU2 = -U1 dU1^H U2``), which again only functions invariant to that
    choice (e.g. the projector ``U2 U2^H``) see consistently."""
    full_matrices = bool(full_matrices) and bool(compute_uv)
    return list(svd_p.bind(a, full_matrices=full_matrices, compute_uv=bool(compute_uv)))


def _svd_impl(a, *, full_matrices, compute_uv):
    a = np.asarray(a)
    if compute_uv:
        u, s, vh = np.linalg.svd(a, full_matrices=full_matrices, compute_uv=True)
        return [s, u, vh]
    return [np.linalg.svd(a, compute_uv=False)]


def _svd_abstract(a, *, full_matrices, compute_uv):
    if a.ndim < 2:
        raise ShapeError(f"`svd`: expected a matrix or a stack of them, shape (..., m, n); "
                         f"got shape {a.shape}")
    _check_dtype("svd", a)
    batch, (m, n) = a.shape[:-2], a.shape[-2:]
    k = min(m, n)
    s = ShapedArray(batch + (k,), _real_dtype(a.dtype))
    if not compute_uv:
        return [s]
    return [s, ShapedArray(batch + (m, m if full_matrices else k), a.dtype),
            ShapedArray(batch + (n if full_matrices else k, n), a.dtype)]


def _safe_reciprocal(x):
    """1/x, and 0 where x == 0 (double where: no NaN in derivatives either)."""
    zero = eq(x, 0)
    one = np.ones((), aval(x).dtype)[()]
    return select(zero, _zero_scalar(aval(x).dtype), div(one, select(zero, one, x)))


def _svd_jvp(primals, tangents, *, full_matrices, compute_uv):
    (a,), (ta,) = primals, tangents
    s, u, vh = svd_p.bind(a, full_matrices=full_matrices, compute_uv=True)
    outs = [s, u, vh] if compute_uv else _same_primals(svd_p, a, full_matrices=False,
                                                       compute_uv=False)
    aa = aval(a)
    m, n = aa.shape[-2:]
    k = min(m, n)
    if type(ta) is Zero or k == 0:
        return outs, _zeros_out(outs)
    nd = aa.ndim
    cplx = _is_complex(a)
    ta = instantiate(ta)
    u1 = _cols(u, 0, k) if aval(u).shape[-1] != k else u
    vh1 = _rows(vh, 0, k) if aval(vh).shape[-2] != k else vh
    v1 = _H(vh1)
    dS = _matmul(_matmul(_H(u1), ta), v1)                    # U^H dA V  (k, k)
    ds = _diag(dS)
    ds = fit_to(real(ds) if cplx else ds, aval(s))
    if not compute_uv:
        return outs, [ds]
    rdt = aval(s).dtype
    eye = np.eye(k, dtype=rdt)
    s_row, s_col = _row(s), _col(s)
    s_diffs = mul(add(s_row, s_col), sub(s_row, s_col))      # s_j^2 - s_i^2
    F = sub(div(np.ones((), rdt)[()], add(s_diffs, eye)), eye)
    dSS = mul(dS, s_row)                                      # dS diag(s)
    SdS = mul(s_col, dS)                                      # diag(s) dS
    inner_u = mul(F, add(dSS, _H(dSS)))
    if cplx:   # the phase of each (u_i, v_i) pair: i Im(dS_ii) / s_i on the diagonal
        s_inv = _safe_reciprocal(s)
        inner_u = add(inner_u, mul(mul(sub(dS, _H(dS)), 0.5), mul(_row(s_inv), eye)))
    du = _matmul(u1, inner_u)
    dv = _matmul(v1, mul(F, add(SdS, _H(SdS))))
    if m > n:
        dav = _matmul(ta, v1)
        du = add(du, div(sub(dav, _matmul(u1, _matmul(_H(u1), dav))), s_row))
    if n > m:
        dahu = _matmul(_H(ta), u1)
        dv = add(dv, div(sub(dahu, _matmul(v1, _matmul(vh1, dahu))), s_row))
    if full_matrices and m > n:       # the complement's basis: minimal rotation
        u2 = _cols(u, k, m)
        du = concatenate([du, neg(_matmul(u1, _matmul(_H(du), u2)))], nd - 1)
    if full_matrices and n > m:
        v2 = _H(_rows(vh, k, n))
        dv = concatenate([dv, neg(_matmul(v1, _matmul(_H(dv), v2)))], nd - 1)
    return outs, [ds, fit_to(du, aval(u)), fit_to(_H(dv), aval(vh))]


svd_p.impl = _svd_impl
svd_p.abstract_eval = _svd_abstract
svd_p.jvp = _svd_jvp
svd_p.cost = _mnk_cost(4, 12)

# --- eig (general square matrices) ---------------------------------------------------------------

eig_p = Primitive("eig", multiple_results=True)


def eig(a, compute_v=True):
    """Eigen-decomposition of general square matrices ``a (..., n, n)``.

    Returns ``[w, v]`` (``[w]`` with ``compute_v=False``), *always complex*
    (complex64 for float32/complex64 input, complex128 otherwise; NumPy returns real
    arrays when all eigenvalues happen to be real, a value-dependent dtype that a
    traced program cannot have).  ``a @ v == v * w``; the eigenvalues come in LAPACK's
    order, and each eigenvector (column of ``v``) is normalized as LAPACK does: unit
    2-norm, and its largest component (in modulus) real.

    Derivatives: ``dw = diag(V^{-1} dA V)`` (JAX's ``eig_jvp_rule``), and
    ``dV = V (F o V^{-1} dA V)`` with ``F_ij = 1 / (w_j - w_i)``, then corrected to keep
    LAPACK's normalization (``Re(v^H dv) = 0`` and the largest component real), so they
    agree with finite differences of ``numpy.linalg.eig`` itself.  Degenerate cases:
    eigenvector derivatives are inf/NaN when two eigenvalues are equal (the
    eigenvectors of a repeated eigenvalue are not unique); both derivatives are NaN for
    defective (non-diagonalizable) matrices, where ``V`` is singular; and if two
    components of an eigenvector tie for the largest modulus the phase convention
    itself jumps there.  Eigenvalue derivatives at repeated eigenvalues are not
    defined (the eigenvalues are not differentiable functions there)."""
    return list(eig_p.bind(a, compute_v=bool(compute_v)))


def _eig_impl(a, *, compute_v):
    a = np.asarray(a)
    cdt = _complex_dtype(a.dtype)
    if compute_v:
        w, v = np.linalg.eig(a)
        return [w.astype(cdt, copy=False), v.astype(cdt, copy=False)]
    return [np.linalg.eigvals(a).astype(cdt, copy=False)]


def _eig_abstract(a, *, compute_v):
    _check_square("eig", a)
    _check_dtype("eig", a)
    cdt = _complex_dtype(a.dtype)
    w = ShapedArray(a.shape[:-1], cdt)
    return [w, ShapedArray(a.shape, cdt)] if compute_v else [w]


def _eig_jvp(primals, tangents, *, compute_v):
    (a,), (ta,) = primals, tangents
    w, v = eig_p.bind(a, compute_v=True)
    outs = [w, v] if compute_v else _same_primals(eig_p, a, compute_v=False)
    aa = aval(a)
    n = aa.shape[-1]
    if type(ta) is Zero or n == 0:
        return outs, _zeros_out(outs)
    nd = aa.ndim
    batch = aa.shape[:-2]
    cdt = aval(w).dtype
    da = _to_complex(instantiate(ta), cdt)
    vinv_da_v = solve(v, _matmul(da, v), check=False)         # V^{-1} dA V
    dw = fit_to(_diag(vinv_da_v), aval(w))
    if not compute_v:
        return outs, [dw]
    eye = np.eye(n, dtype=bool)
    one = np.ones((), cdt)[()]
    diff = sub(_row(w), _col(w))                               # w_j - w_i
    F = select(eye, _zero_scalar(cdt), div(one, select(eye, one, diff)))
    dv = _matmul(v, mul(F, vinv_da_v))
    # LAPACK's normalization: unit norm (Re v^H dv = 0) ...
    re = real(reduce_sum(mul(conj(v), dv), (nd - 2,)))
    # ... and the component of largest modulus real (Im(dv_p / v_p) = 0)
    p = argmax_p.bind(abs_(v), axis=nd - 2, index_dtype=np.dtype(np.intp))   # (..., n)
    onehot = eq(reshape(iota(0, n, 1, np.intp), (n, 1)), reshape(p, batch + (1, n)))
    zero = _zero_scalar(cdt)
    vp = reduce_sum(select(onehot, v, zero), (nd - 2,))
    dvp = reduce_sum(select(onehot, dv, zero), (nd - 2,))
    im = imag(div(dvp, vp))
    dv = sub(dv, mul(v, _row(make_complex(re, im))))
    return outs, [dw, fit_to(dv, aval(v))]


eig_p.impl = _eig_impl
eig_p.abstract_eval = _eig_abstract
eig_p.jvp = _eig_jvp
eig_p.cost = _mnk_cost(10, 25)

# --- qr ------------------------------------------------------------------------------------------

qr_p = Primitive("qr", multiple_results=True)


def qr(a, full_matrices=False):
    """QR decomposition of ``a (..., m, n)``, ``k = min(m, n)``: ``[q, r]`` with
    ``q (..., m, k)`` orthonormal columns and ``r (..., k, n)`` upper triangular
    (``q (..., m, m)``, ``r (..., m, n)`` with ``full_matrices``: NumPy's
    ``mode='complete'``), exactly as ``numpy.linalg.qr`` (Householder, LAPACK's signs:
    the diagonal of ``r`` may be negative; real for complex input).

    Derivatives: JAX's ``qr_jvp_rule`` for ``m >= n`` (needs ``r`` nonsingular: full
    column rank); for ``m < n`` the square left block ``a[..., :m]`` is differentiated by
    that rule and ``r[..., m:] = q^H a[..., m:]`` by the product rule (needs the left
    block nonsingular).  With ``full_matrices`` and ``m > n`` the extra columns of ``q``
    are any orthonormal basis of the complement; their derivative is the one of minimal
    rotation (``dQ2 = -Q1 dQ1^H Q2``), which need not match LAPACK's choice: only
    functions invariant to it (e.g. ``Q2 Q2^H``) differentiate consistently."""
    return list(qr_p.bind(a, full_matrices=bool(full_matrices)))


def _qr_impl(a, *, full_matrices):
    q, r = np.linalg.qr(np.asarray(a), mode="complete" if full_matrices else "reduced")
    return [q, r]


def _qr_abstract(a, *, full_matrices):
    if a.ndim < 2:
        raise ShapeError(f"`qr`: expected a matrix or a stack of them, shape (..., m, n); "
                         f"got shape {a.shape}")
    _check_dtype("qr", a)
    batch, (m, n) = a.shape[:-2], a.shape[-2:]
    c = m if full_matrices else min(m, n)
    return [ShapedArray(batch + (m, c), a.dtype), ShapedArray(batch + (c, n), a.dtype)]


def _qr_jvp_tall(q, r, dx):
    """JAX's rule for ``x = q r`` with ``q (m, n)``, ``r (n, n)``, ``m >= n``."""
    dx_rinv = _mT(triangular_solve(r, _mT(dx), lower=False, transpose_a=True))  # dx R^-1
    qt_dx_rinv = _matmul(_H(q), dx_rinv)
    low = _tri(qt_dx_rinv, lower=True, k=-1)
    do = sub(low, _H(low))                                      # skew-Hermitian
    if _is_complex(q):   # the diagonal of r stays real: i Im(diag) goes into do
        n = aval(r).shape[-1]
        im = sub(qt_dx_rinv, _to_complex(real(qt_dx_rinv), aval(q).dtype))
        do = add(do, select(np.eye(n, dtype=bool), im, _zero_scalar(aval(q).dtype)))
    dq = add(_matmul(q, sub(do, qt_dx_rinv)), dx_rinv)
    dr = _matmul(sub(qt_dx_rinv, do), r)
    return dq, dr


def _qr_jvp(primals, tangents, *, full_matrices):
    (a,), (ta,) = primals, tangents
    q, r = qr_p.bind(a, full_matrices=full_matrices)
    aa = aval(a)
    m, n = aa.shape[-2:]
    k = min(m, n)
    if type(ta) is Zero or k == 0:
        return [q, r], _zeros_out([q, r])
    nd = aa.ndim
    dx = instantiate(ta)
    q1 = _cols(q, 0, k) if aval(q).shape[-1] != k else q
    r1 = _rows(r, 0, k) if aval(r).shape[-2] != k else r
    if m >= n:
        dq, dr = _qr_jvp_tall(q1, r1, dx)
    else:   # wide: the square left block, then r2 = q^H x2
        dq, dr11 = _qr_jvp_tall(q1, _cols(r1, 0, m), _cols(dx, 0, m))
        dr12 = add(_matmul(_H(dq), _cols(a, m, n)), _matmul(_H(q1), _cols(dx, m, n)))
        dr = concatenate([dr11, dr12], nd - 1)
    if full_matrices and m > n:
        q2 = _cols(q, n, m)
        dq = concatenate([dq, neg(_matmul(q1, _matmul(_H(dq), q2)))], nd - 1)
        dr = pad(dr, _zero_scalar(aa.dtype), [(0, 0, 0)] * (nd - 2) + [(0, m - n, 0),
                                                                       (0, 0, 0)])
    return [q, r], [fit_to(dq, aval(q)), fit_to(dr, aval(r))]


qr_p.impl = _qr_impl
qr_p.abstract_eval = _qr_abstract
qr_p.jvp = _qr_jvp
qr_p.cost = _mnk_cost(4)

# --- det and adjugate -----------------------------------------------------------------------------

det_p = Primitive("det")
adjugate_p = Primitive("adjugate")


def det(a):
    """Determinant of each matrix in ``a (..., n, n)`` (NumPy's LU-based value).

    Derivative: ``d det = tr(adj(A) dA)`` with the adjugate ``adj(A)`` (the transposed
    cofactor matrix, ``det(A) A^{-1}`` when ``A`` is invertible) computed from the
    SVD, so it is finite and exact at singular matrices too (rank n-1: a rank-1
    adjugate; lower rank: zero)."""
    return det_p.bind(a)


def adjugate(a):
    """The adjugate ``adj(A)`` of each matrix in ``a (..., n, n)``: ``A adj(A) =
    det(A) I``, a polynomial in ``A`` (defined and smooth everywhere).  Computed as
    ``c V diag(p) U^H`` from the SVD ``A = U diag(s) V^H``, where ``p_i = prod_{j != i}
    s_j`` (no division: exact at zero singular values) and ``c = det(U) det(V^H)``.

    Derivative, exact everywhere (also at singular and repeated singular values):
    ``d adj = c V D U^H`` with ``E = U^H dA V``, ``D_ij = -E_ij P_ij`` (i != j),
    ``D_ii = sum_{k != i} E_kk P_ik`` and ``P_ik = prod_{l not in {i, k}} s_l``: the
    derivative of ``adj`` at the diagonal matrix ``diag(s)``, carried over by
    ``adj(X A Y) = adj(Y) adj(A) adj(X)``.  It uses the SVD's values only, so the
    second derivative of ``det`` is exact at any matrix; third and higher derivatives
    go through the SVD's derivative and need distinct singular values."""
    return adjugate_p.bind(a)


def _np_exclusive_prod(s):
    """prod_{j != i} s_j along the last axis, without division."""
    ones = np.ones(s.shape[:-1] + (1,), s.dtype)
    left = np.cumprod(np.concatenate([ones, s[..., :-1]], -1), -1)
    right = np.flip(np.cumprod(np.concatenate([ones, np.flip(s[..., 1:], -1)], -1), -1), -1)
    return left * right


def _det_impl(a):
    a = np.asarray(a)
    return np.asarray(np.linalg.det(a))


def _adjugate_impl(a):
    a = np.asarray(a)
    n = a.shape[-1]
    if n == 0:
        return np.zeros(a.shape, a.dtype)
    if n == 1:
        return np.ones(a.shape, a.dtype)
    u, s, vh = np.linalg.svd(a)
    p = _np_exclusive_prod(s)
    c = np.linalg.slogdet(u)[0] * np.linalg.slogdet(vh)[0]
    v = np.conj(np.swapaxes(vh, -1, -2))
    adj = np.matmul(v * p[..., None, :], np.conj(np.swapaxes(u, -1, -2)))
    return (adj * np.asarray(c)[..., None, None]).astype(a.dtype, copy=False)


def _det_abstract(a):
    _check_square("det", a)
    _check_dtype("det", a)
    return ShapedArray(a.shape[:-2], a.dtype)


def _adjugate_abstract(a):
    _check_square("adjugate", a)
    _check_dtype("adjugate", a)
    return ShapedArray(a.shape, a.dtype)


def _det_jvp(primals, tangents):
    (a,), (ta,) = primals, tangents
    out = det_p.bind(a)
    if type(ta) is Zero:
        return out, Zero(aval(out).strengthen())
    nd = aval(a).ndim
    # d det = tr(adj(A) dA) = sum_ij adj(A)_ji dA_ij
    t = reduce_sum(mul(_mT(adjugate_p.bind(a)), ta), (nd - 2, nd - 1))
    return out, fit_to(t, aval(out))


def _leave_two_out(s):
    """``P_ik = prod_{l not in {i, k}} s_l`` (``P_ii = prod_{l != i} s_l``), without
    division: exclusive products along the rows of ``s`` with the diagonal set to 1."""
    sa = aval(s)
    n = sa.shape[-1]
    x = select(np.eye(n, dtype=bool), np.ones((), sa.dtype)[()],
               broadcast_to(_row(s), sa.shape[:-1] + (n, n)))
    return _exclusive_products(x, sa.ndim)


def _adjugate_jvp(primals, tangents):
    (a,), (ta,) = primals, tangents
    adj = adjugate_p.bind(a)
    aa = aval(a)
    n = aa.shape[-1]
    if type(ta) is Zero or n <= 1:
        return adj, Zero(aval(adj).strengthen())
    nd = aa.ndim
    s, u, vh = svd_p.bind(a, full_matrices=False, compute_uv=True)
    v = _H(vh)
    E = _matmul(_H(u), _matmul(instantiate(ta), v))
    eye = np.eye(n, dtype=bool)
    P = select(eye, _zero_scalar(aval(s).dtype), _leave_two_out(s))   # off-diagonal
    d_diag = reduce_sum(mul(P, _row(_diag(E))), (nd - 1,))            # sum_k P_ik E_kk
    D = select(eye, _col(d_diag), neg(mul(E, P)))
    c = mul(slogdet(u)[0], slogdet(vh)[0])
    dadj = mul(reshape(c, aval(c).shape + (1, 1)), _matmul(v, _matmul(D, _H(u))))
    return adj, fit_to(dadj, aval(adj))


det_p.impl = _det_impl
det_p.abstract_eval = _det_abstract
det_p.jvp = _det_jvp
det_p.cost = _cube_cost(2 / 3)
det_p.emit = "np.linalg.det({0})"
adjugate_p.impl = _adjugate_impl
adjugate_p.abstract_eval = _adjugate_abstract
adjugate_p.jvp = _adjugate_jvp
adjugate_p.cost = _cube_cost(14)

# --- batching (vmap) -------------------------------------------------------------------------------


def _front_batcher(prim):
    """Leading axes are batch axes: move the mapped axis to the front (broadcast
    unmapped operands of two-operand primitives to the batch size)."""

    def batch(args, dims, **params):
        size = axis_size(args, dims)
        if len(args) == 1:
            args = [bdim_at_front(args[0], dims[0], size)]
        else:
            args = [bdim_at_front(x, d, size) for x, d in zip(args, dims)]
        out = prim.bind(*args, **params)
        if prim.multiple_results:
            return list(out), [0] * len(out)
        return out, 0
    return batch


def _solve_batcher(prim):
    """``solve``/``triangular_solve``: with the matrix unmapped, the examples' right-hand
    sides become extra columns (one factorization for all); else batch at the front."""
    front = _front_batcher(prim)

    def batch(args, dims, **params):
        (a, b), (da, db) = args, dims
        if da is not None:
            return front(args, dims, **params)
        nd = aval(b).ndim
        b = moveaxis(b, db, nd - 1)                   # (..., n, k, B)
        bs = aval(b).shape
        x = prim.bind(a, reshape(b, bs[:-2] + (bs[-2] * bs[-1],)), **params)
        return reshape(x, bs), nd - 1
    return batch


for _p in (cholesky_p, inv_p, eigh_p, slogdet_p, svd_p, eig_p, qr_p, det_p, adjugate_p):
    _p.batch = _front_batcher(_p)
solve_p.batch = _solve_batcher(solve_p)
triangular_solve_p.batch = _solve_batcher(triangular_solve_p)

__all__ = ["cholesky", "triangular_solve", "solve", "inv", "eigh", "slogdet", "svd", "eig",
           "qr", "det", "adjugate",
           "cholesky_p", "triangular_solve_p", "solve_p", "inv_p", "eigh_p", "slogdet_p",
           "svd_p", "eig_p", "qr_p", "det_p", "adjugate_p"]

"""Linear-algebra primitives: cholesky, triangular_solve, solve, inv, eigh, slogdet.

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
"""
from __future__ import annotations

import numpy as np

from ..core.avals import ShapedArray
from ..core.errors import FuncdiffTypeError, ShapeError
from ..core.primitive import Primitive
from ._rules import Zero, aval, fit_to, instantiate, is_undefined
from .dot import dot_general
from .elementwise import add, conj, div, mul, neg, real, select, sub
from .reduce import reduce_sum
from .shape import reshape, transpose

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
        from .elementwise import convert_element_type
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


_SCIPY_BATCHED = _scipy_batched()


_SCIPY_MIN_N = 64   # below this NumPy's batched LU solve is faster than SciPy's call overhead


def _triangular_solve_impl(a, b, *, lower, transpose_a, unit_diagonal):
    a, b = np.asarray(a), np.asarray(b)
    n = a.shape[-1]
    if n == 0 or b.shape[-1] == 0:
        return np.zeros(b.shape, b.dtype)
    if _sla is not None and n >= _SCIPY_MIN_N:
        kw = dict(lower=lower, trans=1 if transpose_a else 0, unit_diagonal=unit_diagonal,
                  check_finite=False)
        if a.ndim == 2 or _SCIPY_BATCHED:
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

# --- eigh ---------------------------------------------------------------------------------------

eigh_p = Primitive("eigh", multiple_results=True)


def eigh(a, lower=True, compute_v=True):
    """Eigen-decomposition of Hermitian (real symmetric) matrices ``a (..., n, n)``.

    Returns ``[w, v]`` (``[w]`` with ``compute_v=False``): eigenvalues ``w (..., n)``
    in ascending order, real, and orthonormal eigenvectors as the columns of
    ``v (..., n, n)``.  Only the lower (``lower=True``) or upper triangle of ``a`` is
    read, and only the real part of its diagonal.

    Derivatives: ``dw = diag(V^H dA V)`` is exact everywhere, repeated eigenvalues
    included.  ``dV = V (F o (V^H dA V))`` with ``F_ij = 1 / (w_j - w_i)`` is undefined
    when two eigenvalues are equal (the eigenvectors of a repeated eigenvalue are not
    unique), and comes out inf/NaN there.  If you need derivatives near repeated
    eigenvalues, differentiate only functions of ``w`` (``eigvalsh``) or of invariant
    subspaces, or perturb the matrix slightly (e.g. add ``diag(eps * arange(n))``) so
    the eigenvalues are distinct.  Also make sure your matrix really is symmetric
    (e.g. ``(a + a.T) / 2``): the derivative is that of the function NumPy computes,
    which reads one triangle.
    """
    outs = eigh_p.bind(a, lower=bool(lower), compute_v=bool(compute_v))
    return list(outs)


def _eigh_impl(a, *, lower, compute_v):
    uplo = "L" if lower else "U"
    a = np.asarray(a)
    if compute_v:
        w, v = np.linalg.eigh(a, UPLO=uplo)
        return [w, v]
    return [np.linalg.eigvalsh(a, UPLO=uplo)]


def _eigh_abstract(a, *, lower, compute_v):
    _check_square("eigh", a)
    _check_dtype("eigh", a)
    w = ShapedArray(a.shape[:-1], _real_dtype(a.dtype))
    return [w, ShapedArray(a.shape, a.dtype)] if compute_v else [w]


def _eigh_jvp(primals, tangents, *, lower, compute_v):
    (a,), (ta,) = primals, tangents
    w, v = eigh_p.bind(a, lower=lower, compute_v=True)
    outs = [w, v] if compute_v else [w]
    if type(ta) is Zero:
        return outs, [Zero(aval(o).strengthen()) for o in outs]
    da = _sym_from_triangle(ta, lower)
    vh_da_v = _matmul(_H(v), _matmul(da, v))                 # V^H dA V (Hermitian)
    n = aval(a).shape[-1]
    eye = np.eye(n, dtype=bool)
    # dw_i = (V^H dA V)_ii, real
    dw = reduce_sum(select(eye, vh_da_v, _zero_scalar(aval(vh_da_v).dtype)),
                    (aval(vh_da_v).ndim - 1,))
    if _is_complex(dw):
        dw = real(dw)
    dw = fit_to(dw, aval(w))
    if not compute_v:
        return outs, [dw]
    # F_ij = 1 / (w_j - w_i) off the diagonal, 0 on it
    wj = reshape(w, aval(w).shape[:-1] + (1, n))
    wi = reshape(w, aval(w).shape[:-1] + (n, 1))
    diff = sub(wj, wi)
    one = np.ones((), aval(w).dtype)[()]
    safe = select(eye, one, diff)
    f = select(eye, _zero_scalar(aval(w).dtype), div(one, safe))
    dv = _matmul(v, mul(vh_da_v, f))
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

__all__ = ["cholesky", "triangular_solve", "solve", "inv", "eigh", "slogdet",
           "cholesky_p", "triangular_solve_p", "solve_p", "inv_p", "eigh_p", "slogdet_p"]

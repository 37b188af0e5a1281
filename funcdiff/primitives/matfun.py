"""Matrix-function primitives behind ``funcdiff.scipy.linalg``: ``expm``,
``expm_frechet``, ``sqrtm`` and ``sylvester``.

Conventions (as in ``funcdiff.primitives.linalg``): matrices are the last two axes,
leading axes are batch axes; operands of one primitive have equal batch shapes and one
dtype (float32/float64/complex64/complex128): ``funcdiff.scipy.linalg`` converts and
broadcasts first, as SciPy does.

Values: with SciPy importable the implementations are SciPy's (``expm``, ``sqrtm``,
``solve_sylvester``), so funcdiff's values are SciPy's bit for bit; without it, NumPy
fallbacks (Pade scaling and squaring for ``expm``, a scaled Denman-Beavers iteration for
``sqrtm``, the Kronecker-product linear system for ``sylvester``).

Derivatives are exact (no differentiation through an iteration), and every rule is
written with primitives, so all orders work:

* ``expm``: the jvp is the Frechet derivative ``L(A, dA)``, bound as ``expm_frechet``,
  which is linear in its second operand.  Its value is the upper-right block of
  ``expm([[A, E], [0, A]])``; its transpose is ``L(A^T, ct)`` (the adjoint of the
  Frechet derivative under the pairing ``sum(x * y)``, no conjugation, as everywhere in
  funcdiff); its jvp in ``A`` is the same block identity one level up:
  ``dL = upper-right block of L([[A, E], [0, A]], [[dA, dE], [0, dA]])``.
* ``sqrtm``: ``X = sqrtm(A)`` satisfies ``X X = A``, so ``X dX + dX X = dA``: the jvp is
  ``sylvester(X, X, dA)``, exact wherever the principal square root is differentiable
  (``A`` nonsingular: then ``X`` and ``-X`` share no eigenvalue).
* ``sylvester(A, B, C)`` solves ``A Y + Y B = C``; linear in ``C`` (transpose:
  ``sylvester(A^T, B^T, ct)``); ``dY = sylvester(A, B, dC - dA Y - Y dB)``.
* ``funm(A, func)`` (SciPy's Schur-Parlett ``funm`` of a Python ``func``) has no rule of
  its own: a primitive cannot differentiate ``func``.  ``funcdiff.scipy.linalg.funm``
  gives it a ``custom_jvp`` that traces ``func`` (see there).
"""
from __future__ import annotations

import warnings

import numpy as np

from ..core.avals import ShapedArray
from ..core.errors import FuncdiffTypeError, FuncdiffValueError, ShapeError
from ..core.trace import Primitive
from .base import Zero, aval, fit_to, full, instantiate, is_undefined, neg
from .elementwise import sub
from .linalg import (SCIPY_BATCHED, _batch_loop, _check_dtype, _check_square, _front_batcher,
                     _matmul, _mT)
from .shape import concatenate, slice_

try:  # optional accelerator; NumPy fallbacks below
    import scipy.linalg as _sla
except ImportError:  # pragma: no cover - exercised only without SciPy
    _sla = None

__all__ = ["expm", "expm_frechet", "sqrtm", "sylvester", "funm",
           "expm_p", "expm_frechet_p", "sqrtm_p", "sylvester_p", "funm_p"]


# --- helpers ----------------------------------------------------------------------------------

def _block(a, e):
    """``[[a, e], [0, a]]`` on the last two axes (funcdiff primitives)."""
    nd = aval(a).ndim
    zeros = full(aval(a).shape, 0, aval(a).dtype)
    top = concatenate([a, e], nd - 1)
    bottom = concatenate([zeros, a], nd - 1)
    return concatenate([top, bottom], nd - 2)


def _upper_right(m, n):
    """The ``[:n, n:]`` block of ``m (..., 2n, 2n)``."""
    ma = aval(m)
    lead = (0,) * (ma.ndim - 2)
    return slice_(m, lead + (0, n), ma.shape[:-2] + (n, 2 * n))


def _batch(a):
    return int(np.prod(a.shape[:-2], dtype=np.int64))


def _matrix_cost(factor, operand=0):
    def cost(avals_in, avals_out, **params):
        a = avals_in[operand]
        n = a.shape[-1]
        return {"flops": int(factor * _batch(a) * n ** 3), "transcendentals": 0}
    return cost


def _unary_abstract(name):
    def abstract(a):
        _check_square(name, a)
        _check_dtype(name, a)
        return ShapedArray(a.shape, a.dtype)
    return abstract


# --- NumPy fallbacks (used only without SciPy) --------------------------------------------------

# Pade coefficients b_0..b_m and the 1-norm bounds theta_m of Higham (2005), "The scaling
# and squaring method for the matrix exponential revisited", Tables 2.3 / 10.4.
_PADE = {
    3: (120., 60., 12., 1.),
    5: (30240., 15120., 3360., 420., 30., 1.),
    7: (17297280., 8648640., 1995840., 277200., 25200., 1512., 56., 1.),
    9: (17643225600., 8821612800., 2075673600., 302702400., 30270240., 2162160., 110880.,
        3960., 90., 1.),
    13: (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800.,
         129060195264000., 10559470521600., 670442572800., 33522128640., 1323241920.,
         40840800., 960960., 16380., 182., 1.),
}
_THETA = {3: 1.495585217958292e-2, 5: 2.539398330063230e-1, 7: 9.504178996162932e-1,
          9: 2.097847961257068e0, 13: 5.371920351148152e0}


def _pade_r(a, m):
    """The [m/m] Pade approximant of exp at ``a``: ``(V - U)^{-1} (V + U)``."""
    b = _PADE[m]
    eye = np.eye(a.shape[-1], dtype=a.dtype)
    a2 = a @ a
    power, u_sum, v = eye, np.zeros_like(a), np.zeros_like(a)
    for k in range(m // 2 + 1):
        u_sum = u_sum + b[2 * k + 1] * power
        v = v + b[2 * k] * power
        power = power @ a2
    u = a @ u_sum
    return np.linalg.solve(v - u, v + u)


def _np_expm_2d(a):
    norm = np.linalg.norm(a, 1)
    for m in (3, 5, 7, 9):
        if norm <= _THETA[m]:
            return _pade_r(a, m)
    s = max(0, int(np.ceil(np.log2(norm / _THETA[13])))) if np.isfinite(norm) else 0
    r = _pade_r(a / 2.0 ** s, 13)
    for _ in range(s):
        r = r @ r
    return r


def _np_expm(a):
    work = np.asarray(a, np.result_type(a.dtype, np.float64))
    out = np.empty(work.shape, work.dtype)
    for idx in np.ndindex(*work.shape[:-2]):
        out[idx] = _np_expm_2d(work[idx])
    return out


def _np_sqrtm_2d(a):
    """Principal square root by the Denman-Beavers iteration with determinant scaling
    (Higham, Functions of Matrices, 6.3): Y -> A^(1/2), Z -> A^(-1/2)."""
    n = a.shape[-1]
    y, z = a.astype(np.complex128), np.eye(n, dtype=np.complex128)
    for _ in range(100):
        det = np.abs(np.linalg.det(y) * np.linalg.det(z))
        mu = det ** (-1.0 / (2 * n)) if det > 0 and np.isfinite(det) else 1.0
        y_new = 0.5 * (mu * y + np.linalg.inv(z) / mu)
        z = 0.5 * (mu * z + np.linalg.inv(y) / mu)
        done = np.linalg.norm(y_new - y, 1) <= 1e-15 * n * np.linalg.norm(y_new, 1)
        y = y_new
        if done:
            break
    return y


def _np_sqrtm(a):
    work = np.asarray(a)
    out = np.empty(work.shape, np.complex128)
    for idx in np.ndindex(*work.shape[:-2]):
        out[idx] = _np_sqrtm_2d(work[idx])
    return out


def _np_sylvester_2d(a, b, c):
    n, m = c.shape
    k = np.kron(a, np.eye(m, dtype=a.dtype)) + np.kron(np.eye(n, dtype=b.dtype), b.T)
    return np.linalg.solve(k, c.reshape(n * m)).reshape(n, m)


# --- expm ---------------------------------------------------------------------------------------

expm_p = Primitive("expm")
expm_p.doc = "`scipy.linalg.expm`: matrix exponential of each matrix (..., n, n)"


def expm(a):
    """``exp(a)`` of each matrix in ``a (..., n, n)``."""
    return expm_p.bind(a)


def _expm_impl(a):
    a = np.asarray(a)
    if a.shape[-1] == 0:
        return np.zeros(a.shape, a.dtype)
    out = _sla.expm(a) if _sla is not None else _np_expm(a)
    return np.asarray(out, dtype=a.dtype)


def _expm_jvp(primals, tangents):
    (a,), (ta,) = primals, tangents
    out = expm_p.bind(a)
    if type(ta) is Zero:
        return out, Zero(aval(out).strengthen())
    return out, expm_frechet_p.bind(a, ta)


expm_p.impl = _expm_impl
expm_p.abstract_eval = _unary_abstract("expm")
expm_p.jvp = _expm_jvp
expm_p.batch = _front_batcher(expm_p)
expm_p.cost = _matrix_cost(25)

# --- expm_frechet: L(A, E), linear in E ------------------------------------------------------------

expm_frechet_p = Primitive("expm_frechet")
expm_frechet_p.linear = True   # in e only
expm_frechet_p.doc = ("Frechet derivative `L(A, E)` of `expm` at `A` in direction `E` "
                      "(`scipy.linalg.expm_frechet`); linear in `E`")


def expm_frechet(a, e):
    """The Frechet derivative of ``expm`` at ``a`` applied to ``e`` (equal shapes
    ``(..., n, n)`` and dtypes)."""
    return expm_frechet_p.bind(a, e)


def _expm_frechet_impl(a, e):
    a, e = np.asarray(a), np.asarray(e)
    n = a.shape[-1]
    if n == 0:
        return np.zeros(e.shape, e.dtype)
    m = np.zeros(a.shape[:-2] + (2 * n, 2 * n), a.dtype)
    m[..., :n, :n] = a
    m[..., n:, n:] = a
    m[..., :n, n:] = e
    return _expm_impl(m)[..., :n, n:]


def _expm_frechet_abstract(a, e):
    _check_square("expm_frechet", a)
    _check_dtype("expm_frechet", a, e)
    if e.shape != a.shape:
        raise ShapeError(f"`expm_frechet`: direction of shape {e.shape} does not match the "
                         f"matrix shape {a.shape}")
    return ShapedArray(a.shape, a.dtype)


def _expm_frechet_jvp(primals, tangents):
    (a, e), (ta, te) = primals, tangents
    out = expm_frechet_p.bind(a, e)
    oa = aval(out)
    if type(ta) is Zero and type(te) is Zero:
        return out, Zero(oa.strengthen())
    if type(ta) is Zero:
        return out, fit_to(expm_frechet_p.bind(a, te), oa)
    # L(A, E) is the upper-right block of expm(M), M = [[A, E], [0, A]]: differentiate
    # that block, dM = [[dA, dE], [0, dA]] (linear in the tangents)
    te = instantiate(te) if type(te) is not Zero else full(oa.shape, 0, oa.dtype)
    big = expm_frechet_p.bind(_block(a, e), _block(ta, te))
    return out, fit_to(_upper_right(big, oa.shape[-1]), oa)


def _expm_frechet_transpose(ct, a, e):
    if is_undefined(a):
        raise FuncdiffTypeError("transpose of `expm_frechet` in its matrix operand: the "
                                "program is not linear in its tangents")
    if type(ct) is Zero:
        return [None, Zero(aval(e).strengthen())]
    return [None, expm_frechet_p.bind(_mT(a), instantiate(ct))]


expm_frechet_p.impl = _expm_frechet_impl
expm_frechet_p.abstract_eval = _expm_frechet_abstract
expm_frechet_p.jvp = _expm_frechet_jvp
expm_frechet_p.transpose = _expm_frechet_transpose
expm_frechet_p.batch = _front_batcher(expm_frechet_p)
expm_frechet_p.cost = _matrix_cost(200)   # expm of a (2n, 2n) matrix

# --- sylvester: A Y + Y B = C, linear in C ----------------------------------------------------

sylvester_p = Primitive("sylvester")
sylvester_p.linear = True   # in c only
sylvester_p.doc = ("`scipy.linalg.solve_sylvester`: `Y` with `A Y + Y B = C`; linear "
                   "in `C`")


def sylvester(a, b, c):
    """``Y`` solving ``a Y + Y b = c`` for ``a (..., n, n)``, ``b (..., m, m)``,
    ``c (..., n, m)`` (equal batch shapes and dtypes)."""
    return sylvester_p.bind(a, b, c)


def _sylvester_impl(a, b, c):
    a, b, c = np.asarray(a), np.asarray(b), np.asarray(c)
    if c.size == 0:
        return np.zeros(c.shape, c.dtype)
    solve = _sla.solve_sylvester if _sla is not None else _np_sylvester_2d
    return np.asarray(_batch_loop(solve, a, b, c), dtype=c.dtype)


def _sylvester_abstract(a, b, c):
    _check_square("sylvester", a)
    _check_square("sylvester", b)
    _check_dtype("sylvester", a, b, c)
    n, m = a.shape[-1], b.shape[-1]
    if c.ndim != a.ndim or b.ndim != a.ndim or c.shape != a.shape[:-2] + (n, m) \
            or b.shape[:-2] != a.shape[:-2]:
        raise ShapeError(f"`sylvester`: shapes {a.shape}, {b.shape}, {c.shape} do not fit "
                         f"A (..., n, n), B (..., m, m), C (..., n, m) with one batch shape")
    return ShapedArray(c.shape, c.dtype)


def _sylvester_jvp(primals, tangents):
    (a, b, c), (ta, tb, tc) = primals, tangents
    y = sylvester_p.bind(a, b, c)
    ya = aval(y)
    if all(type(t) is Zero for t in (ta, tb, tc)):
        return y, Zero(ya.strengthen())
    rhs = None if type(tc) is Zero else instantiate(tc)
    # A Y + Y B = C  =>  A dY + dY B = dC - dA Y - Y dB
    for term in ((None if type(ta) is Zero else _matmul(ta, y)),
                 (None if type(tb) is Zero else _matmul(y, tb))):
        if term is not None:
            rhs = neg(term) if rhs is None else sub(rhs, term)
    return y, fit_to(sylvester_p.bind(a, b, fit_to(rhs, ya)), ya)


def _sylvester_transpose(ct, a, b, c):
    if is_undefined(a) or is_undefined(b):
        raise FuncdiffTypeError("transpose of `sylvester` in a coefficient matrix: the "
                                "program is not linear in its tangents")
    if type(ct) is Zero:
        return [None, None, Zero(aval(c).strengthen())]
    return [None, None, sylvester_p.bind(_mT(a), _mT(b), instantiate(ct))]


sylvester_p.impl = _sylvester_impl
sylvester_p.abstract_eval = _sylvester_abstract
sylvester_p.jvp = _sylvester_jvp
sylvester_p.transpose = _sylvester_transpose
sylvester_p.batch = _front_batcher(sylvester_p)
sylvester_p.cost = _matrix_cost(30)   # two Schur decompositions and a triangular solve

# --- sqrtm -------------------------------------------------------------------------------------

sqrtm_p = Primitive("sqrtm")
sqrtm_p.doc = ("`scipy.linalg.sqrtm`: principal square root of each matrix (..., n, n); "
               "real input must have a real one")


def sqrtm(a):
    """The principal square root of each matrix in ``a (..., n, n)``.  A real matrix
    whose principal square root is not real (an eigenvalue on the negative real axis)
    raises ``FuncdiffValueError``: the output dtype follows the input's, so pass a
    complex matrix for a complex root."""
    return sqrtm_p.bind(a)


def _negative_real_eigenvalue(a):
    """Has a real matrix an eigenvalue on the negative real axis (no real root)?"""
    eig = np.linalg.eigvals(a)
    return bool(np.any((eig.real < 0) & (eig.imag == 0)))


def _sqrtm_impl(a):
    a = np.asarray(a)
    if a.shape[-1] == 0:
        return np.zeros(a.shape, a.dtype)
    if _sla is not None:
        if a.ndim == 2 or SCIPY_BATCHED:
            out = np.asarray(_sla.sqrtm(a))
        else:   # SciPy before 1.16 takes one matrix at a time
            out = np.array([_sla.sqrtm(m) for m in a.reshape((-1,) + a.shape[-2:])])
            out = out.reshape(a.shape)
        # SciPy before 1.16 may return a real matrix's real root as complex, with
        # round-off imaginary parts: the spectrum decides
        complex_root = a.dtype.kind != "c" and out.dtype.kind == "c" and \
            bool(np.any(out.imag != 0)) and _negative_real_eigenvalue(a)
    else:
        complex_root = a.dtype.kind != "c" and _negative_real_eigenvalue(a)
        out = None if complex_root else _np_sqrtm(a)
    if complex_root:
        raise FuncdiffValueError(
            "sqrtm: this real matrix has an eigenvalue on the negative real axis, so its "
            "principal square root is complex; under funcdiff transforms the output dtype "
            "follows the input's (real in, real out).  Pass a complex matrix, e.g. "
            "sqrtm(a.astype(complex)), for the complex root.")
    if a.dtype.kind != "c" and out.dtype.kind == "c":
        out = out.real
    return np.asarray(out, dtype=a.dtype)


def _sqrtm_jvp(primals, tangents):
    (a,), (ta,) = primals, tangents
    x = sqrtm_p.bind(a)
    if type(ta) is Zero:
        return x, Zero(aval(x).strengthen())
    return x, sylvester_p.bind(x, x, instantiate(ta))   # X dX + dX X = dA


sqrtm_p.impl = _sqrtm_impl
sqrtm_p.abstract_eval = _unary_abstract("sqrtm")
sqrtm_p.jvp = _sqrtm_jvp
sqrtm_p.batch = _front_batcher(sqrtm_p)
sqrtm_p.cost = _matrix_cost(28)   # Schur decomposition and the triangular recurrence

# --- funm: f(A) for a scalar function f (Schur-Parlett) ---------------------------------------

funm_p = Primitive("funm", multiple_results=True)
funm_p.doc = ("`scipy.linalg.funm`: [f(A), error estimate] for a Python scalar function "
              "`func` of each matrix (..., n, n); no rule of its own (custom_jvp in "
              "funcdiff.scipy.linalg)")


def funm(a, func):
    """``[F, err]``: ``func`` applied to each matrix in ``a (..., n, n)`` (SciPy's
    Schur-Parlett ``funm``; without SciPy, by an eigendecomposition) and SciPy's error
    estimate (float64).  A real ``a`` gives a real ``F``; one whose ``f(A)`` is not real
    raises ``FuncdiffValueError`` (pass a complex ``a``)."""
    return list(funm_p.bind(a, func=func))


def _funm_2d(a, func):
    if _sla is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _sla.funm(a, func, disp=False)
    w, v = np.linalg.eig(a)
    f = np.asarray(func(w), dtype=np.result_type(w.dtype, np.complex64))
    return (v * f) @ np.linalg.inv(v), np.nan


def _funm_impl(a, *, func):
    a = np.asarray(a)
    out = np.zeros(a.shape, a.dtype)
    err = np.zeros(a.shape[:-2], np.float64)
    if a.shape[-1] == 0:
        return [out, err]
    for idx in np.ndindex(*a.shape[:-2]):
        f, e = _funm_2d(a[idx], func)
        f = np.asarray(f)
        if a.dtype.kind != "c" and f.dtype.kind == "c":
            tol = 1e3 * np.finfo(np.float32).eps if a.dtype == np.float32 else \
                1e6 * np.finfo(np.float64).eps
            if not np.allclose(f.imag, 0.0, atol=tol):
                raise FuncdiffValueError(
                    "funm: func(A) of this real matrix is not real; under funcdiff "
                    "transforms the output dtype follows the input's (real in, real "
                    "out).  Pass a complex matrix, e.g. funm(a.astype(complex), func).")
            f = f.real
        out[idx], err[idx] = f, e
    return [out, err]


def _funm_abstract(a, *, func):
    _check_square("funm", a)
    _check_dtype("funm", a)
    return [ShapedArray(a.shape, a.dtype), ShapedArray(a.shape[:-2], np.dtype(np.float64))]


funm_p.impl = _funm_impl
funm_p.abstract_eval = _funm_abstract
funm_p.batch = _front_batcher(funm_p)
funm_p.cost = _matrix_cost(30)   # Schur decomposition and the Parlett recurrence

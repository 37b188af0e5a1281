"""``funcdiff.scipy.linalg``: matrix functions (``expm`` ``expm_frechet`` ``sqrtm``
``funm`` ``sinm`` ``cosm`` ``tanm`` ``sinhm`` ``coshm`` ``tanhm``) and
``solve_sylvester``.  See ``funcdiff.scipy.linalg`` for the conventions."""
from __future__ import annotations

import warnings

import numpy as np

from .. import numpy as fnp
from ..api.autodiff import jvp as _jvp
from ..core.errors import (ConcretizationError, GradientError, TracerArrayConversionError)
from ..api.custom_derivatives import custom_jvp
from ..numpy._core import aval
from ..primitives import base as pb
from ..primitives import elementwise as ew
from ..primitives import linalg as la
from ..primitives import matfun as mf
from ..primitives.reduce import reduce_sum
from ..primitives.base import broadcast_to, full, reshape
from ._linalg_decomp import _schur_dtype
from ._linalg_util import (LinAlgError, NoValue, arr, batch_shape, blas_dtype, cast, conj,
                           pack, scipy_linalg)


# SciPy 1.16 takes the square root of a (..., 1, 1) matrix elementwise (np.emath.sqrt),
# in NumPy's dtype; before, through its Schur algorithm (float16 computed in float32)
try:
    import scipy.linalg as _sla
    _SQRTM_1X1_EMATH = _sla.sqrtm(np.ones((1, 1), np.float16)).dtype == np.float16
except ImportError:          # pragma: no cover - without SciPy: the newest behaviour
    _SQRTM_1X1_EMATH = True


def _matfun_operand(A):
    """SciPy's input handling of ``expm``/``sqrtm``: returns (operand, one_element)."""
    a = arr(A)
    aa = aval(a)
    if aa.size == 1 and aa.ndim < 2:
        return reshape(a, (1, 1)), True
    if aa.ndim < 2:
        raise LinAlgError("The input array must be at least two-dimensional")
    if aa.shape[-1] != aa.shape[-2]:
        raise LinAlgError("Last 2 dimensions of the array must be square")
    return a, False


def _matfun_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype.kind not in "fc":
        return np.dtype(np.float64)
    if dtype == np.float16:
        return np.dtype(np.float32)
    if dtype.kind == "f" and dtype.itemsize > 8:
        return np.dtype(np.float64)
    if dtype.kind == "c" and dtype.itemsize > 16:
        return np.dtype(np.complex128)
    return dtype


def _square_2d(A):
    """SciPy's ``_asarray_square`` core check (batch axes allowed in front)."""
    a = arr(A)
    aa = aval(a)
    if aa.ndim < 2 or aa.shape[-1] != aa.shape[-2]:
        raise ValueError("expected square array_like input")
    batch_shape("matrix function", aa.shape[:-2])
    return a


# --- expm, expm_frechet, sqrtm -----------------------------------------------------------------

@scipy_linalg("expm")
def expm(A):
    """The matrix exponential of ``A (..., n, n)`` (Pade approximation with scaling and
    squaring, SciPy's); differentiable to any order (Frechet derivatives)."""
    a, one = _matfun_operand(A)
    if one:    # SciPy: np.array([[np.exp(a.item())]]): a Python scalar's exp (a bool's
        # is float16, as NumPy's exp of a bool)
        kind = aval(a).dtype.kind
        dt = np.dtype(np.complex128 if kind == "c" else np.float16 if kind == "b" else
                      np.float64)
        return ew.exp(cast(a, dt))
    dt = _matfun_dtype(aval(a).dtype)
    if min(aval(a).shape) == 0:
        return full(aval(a).shape, 0, dt)
    if aval(a).shape[-2:] == (1, 1):    # SciPy: np.exp(a), in NumPy's dtype (float16 stays)
        return fnp.exp(a)
    return mf.expm(cast(a, dt))


@scipy_linalg("expm_frechet")
def expm_frechet(A, E, method=None, compute_expm=True, check_finite=True):
    """The Frechet derivative ``L(A, E)`` of ``expm`` at ``A (..., n, n)`` in the
    direction ``E`` (with ``compute_expm``: ``(expm(A), L(A, E))``), in double precision
    as SciPy's.  Computed by the block identity ``expm([[A, E], [0, A]])``'s upper-right
    block (``method`` 'SPS', SciPy's default, agrees to rounding); linear in ``E`` and
    differentiable in both to any order."""
    A, E = arr(A), arr(E)
    for name, x in (("A", A), ("E", E)):
        xa = aval(x)
        if xa.ndim < 2 or xa.shape[-1] != xa.shape[-2]:
            raise ValueError(f"expected {name} to be a square matrix")
    if aval(A).shape[-1] != aval(E).shape[-1]:
        raise ValueError("expected A and E to be the same shape")
    if method is None:
        method = "SPS"
    if method not in ("SPS", "blockEnlarge"):
        raise ValueError(f"Unknown implementation {method}")
    batch = batch_shape("expm_frechet", aval(A).shape[:-2], aval(E).shape[:-2])
    n = aval(A).shape[-1]
    dt = np.result_type(aval(A).dtype, aval(E).dtype, np.float64)
    A = broadcast_to(cast(A, dt), batch + (n, n))
    E = broadcast_to(cast(E, dt), batch + (n, n))
    if n == 0:
        ea, l = A, E
    else:
        ea, l = mf.expm(A), mf.expm_frechet(A, E)
    return pack((ea, l), batch) if compute_expm else l


def _sqrtm_eager(sp_fn, traced, A, disp=NoValue, blocksize=NoValue):
    kw = {}
    if disp is not NoValue:
        kw["disp"] = disp
    if blocksize is not NoValue:
        kw["blocksize"] = blocksize
    if np.size(A) == 1 and np.ndim(A) < 2:    # SciPy 1.17 returns exp here (a bug)
        A = np.reshape(A, (1, 1))
    out = sp_fn(A, **kw)
    if not la.SCIPY_BATCHED and isinstance(out, np.ndarray) and out.dtype.kind == "c" \
            and np.asarray(A).dtype.kind != "c" and not mf._negative_real_eigenvalue(A):
        # SciPy before 1.16 may give a real root as complex (round-off imaginary
        # parts); SciPy 1.16 returns it real, and so does funcdiff
        out = out.real.copy()
    return out


@scipy_linalg("sqrtm", eager=_sqrtm_eager)
def sqrtm(A, disp=NoValue, blocksize=NoValue):
    """The principal square root of ``A (..., n, n)``: ``X`` with ``X @ X = A`` whose
    eigenvalues have nonnegative real parts.  Derivative: the solution of the Sylvester
    equation ``X dX + dX X = dA`` (exact; any order).  Traced, a real ``A`` must have a
    real principal root (see the module docstring).  ``disp=False`` (deprecated in SciPy)
    also returns SciPy's error estimate ``||X X - A||_F^2 / ||A||_F``.  A scalar (0-d, or
    1-d of one element) is a 1x1 matrix: its square root (SciPy 1.15 raises; SciPy 1.16
    and 1.17 return its exponential, a copy of ``expm``'s scalar case)."""
    if disp is not NoValue:
        warnings.warn("The `disp` argument is deprecated and will be removed in SciPy "
                      "1.18.0.", DeprecationWarning, stacklevel=2)
    if blocksize is not NoValue:
        warnings.warn("The `blocksize` argument is deprecated and will be removed in "
                      "SciPy 1.18.0.", DeprecationWarning, stacklevel=2)
    a0 = arr(A)
    a, _ = _matfun_operand(A)
    dt = _matfun_dtype(aval(a).dtype)
    if min(aval(a).shape) == 0:
        x = full(aval(a).shape, 0, dt)
    else:
        x = mf.sqrtm(cast(a, dt))
        if _SQRTM_1X1_EMATH and aval(a).shape[-2:] == (1, 1):
            # SciPy >= 1.16: np.emath.sqrt(a), in NumPy's dtype (float16 stays float16)
            x = cast(x, np.sqrt(np.ones(1, aval(a).dtype)).dtype)
    if disp is False:
        err = la._matmul(x, x) if aval(x).ndim == 2 else None
        if err is None:
            raise ValueError("sqrtm: disp=False needs a single 2-D matrix")
        r = ew.sub(err, a0)
        num = reduce_sum(ew.real(ew.mul(r, conj(r))) if aval(r).dtype.kind == "c"
                         else ew.mul(r, r), (0, 1))
        a_abs2 = ew.real(ew.mul(a0, conj(a0))) if aval(a0).dtype.kind == "c" \
            else ew.mul(a0, a0)
        den = ew.sqrt(reduce_sum(cast(a_abs2, aval(num).dtype), (0, 1)))
        return x, ew.div(num, den)
    return x


# --- funm ----------------------------------------------------------------------------------

def _funm_derivative(func, a, da):
    """``L_f(A, dA) = V (D o V^{-1} dA V) V^{-1}`` from the eigendecomposition
    ``A = V diag(w) V^{-1}`` (Daleckii-Krein), with the divided differences
    ``D_ij = (f(w_i) - f(w_j)) / (w_i - w_j)``, and ``(f'(w_i) + f'(w_j)) / 2`` where
    ``w_i`` and ``w_j`` (nearly) coincide; ``f'`` is ``func``'s derivative, traced."""
    w, v = la.eig(a)
    cdt = aval(w).dtype
    try:
        fw = cast(fnp.asarray(func(w)), cdt)
        dfw = cast(fnp.asarray(_jvp(func, (w,), (fnp.ones_like(w),))[1]), cdt)
    except (TracerArrayConversionError, ConcretizationError, TypeError) as e:
        raise GradientError(
            "funm's derivative traces `func` (its derivative at the eigenvalues), which "
            f"failed: {e}.  Write func with NumPy ufuncs/funcdiff.numpy so it works on "
            "traced complex arrays, or wrap funm in funcdiff.stop_gradient.") from None
    wi, wj = la._col(w), la._row(w)
    diff = ew.sub(wi, wj)
    rdt = np.finfo(cdt).dtype
    scale = ew.maximum(ew.maximum(ew.abs_(wi), ew.abs_(wj)), np.ones((), rdt)[()])
    close = ew.le(ew.abs_(diff), ew.mul(scale, np.asarray(np.sqrt(np.finfo(rdt).eps),
                                                          rdt)[()]))
    one = np.ones((), cdt)[()]
    dd = ew.select(close, ew.mul(ew.add(la._col(dfw), la._row(dfw)), 0.5),
                   ew.div(ew.sub(la._col(fw), la._row(fw)), ew.select(close, one, diff)))
    x = la.solve(v, la._matmul(cast(da, cdt), v), check=False)          # V^{-1} dA V
    y = la._matmul(v, ew.mul(dd, x))
    out = la._mT(la.solve(la._mT(v), la._mT(y), check=False))          # y V^{-1}
    return ew.real(out) if aval(a).dtype.kind != "c" else out


def _funm_fn(func):
    f = custom_jvp(lambda a: tuple(mf.funm(a, func)))

    def rule(primals, tangents):
        (a,), (da,) = primals, tangents
        out, err = f(a)
        return (out, err), (cast(_funm_derivative(func, a, da), aval(out).dtype),
                            fnp.zeros_like(err))
    f.defjvp(rule)
    return f


@scipy_linalg("funm")
def funm(A, func, disp=True):
    """``f(A)`` for the scalar function ``func`` (vectorized, analytic on ``A``'s
    spectrum) by SciPy's Schur-Parlett algorithm; ``disp=False`` also returns SciPy's
    error estimate (``disp=True``'s printed warning is not printed on traced values).
    A real ``A`` gives a real result (``FuncdiffValueError`` if ``f(A)`` is not real;
    SciPy then returns a complex array).  Derivative (custom jvp): the Daleckii-Krein
    formula from the eigendecomposition, with ``func``'s derivative at the eigenvalues
    traced by funcdiff (so ``func`` must work on traced complex arrays, e.g. NumPy
    ufuncs); exact for diagonalizable ``A`` with a well-conditioned eigenvector basis,
    also at repeated eigenvalues of normal matrices."""
    a = _square_2d(A)
    dt, _ = _schur_dtype(aval(a).dtype, "real")
    a = cast(a, dt)
    if aval(a).shape[-1] == 0:
        out, err = a, full(aval(a).shape[:-2], 0, np.float64)
    else:
        out, err = _funm_fn(func)(a)
    return out if disp else (out, err)


# --- sinm, cosm, tanm, sinhm, coshm, tanhm ------------------------------------------------------

def _trig_operand(A):
    a = _square_2d(A)
    dt = np.multiply(1j, np.ones(1, aval(a).dtype)).dtype     # the dtype of 1j * A
    return a, cast(a, dt), aval(a).dtype.kind == "c"


def _expm_i(ac, sign):
    return mf.expm(ew.mul(ac, np.asarray(sign * 1j, aval(ac).dtype)[()]))


@scipy_linalg("cosm")
def cosm(A):
    """``cos(A) = Re expm(iA)`` (real ``A``), ``(expm(iA) + expm(-iA)) / 2`` else."""
    a, ac, cplx = _trig_operand(A)
    if not cplx:
        return ew.real(_expm_i(ac, 1))
    return ew.mul(ew.add(_expm_i(ac, 1), _expm_i(ac, -1)), 0.5)


@scipy_linalg("sinm")
def sinm(A):
    """``sin(A) = Im expm(iA)`` (real ``A``), ``(expm(iA) - expm(-iA)) / 2i`` else."""
    a, ac, cplx = _trig_operand(A)
    if not cplx:
        return pb.imag(_expm_i(ac, 1))
    return ew.mul(ew.sub(_expm_i(ac, 1), _expm_i(ac, -1)),
                  np.asarray(-0.5j, aval(ac).dtype)[()])


@scipy_linalg("tanm")
def tanm(A):
    """``tan(A) = cos(A)^{-1} sin(A)``."""
    return la.solve(cosm.traced(A), sinm.traced(A))


def _exp_pm(A):
    a = _square_2d(A)
    a = cast(a, _matfun_dtype(aval(a).dtype))
    return mf.expm(a), mf.expm(ew.neg(a))


@scipy_linalg("coshm")
def coshm(A):
    """``cosh(A) = (expm(A) + expm(-A)) / 2``."""
    p, m = _exp_pm(A)
    return ew.mul(ew.add(p, m), 0.5)


@scipy_linalg("sinhm")
def sinhm(A):
    """``sinh(A) = (expm(A) - expm(-A)) / 2``."""
    p, m = _exp_pm(A)
    return ew.mul(ew.sub(p, m), 0.5)


@scipy_linalg("tanhm")
def tanhm(A):
    """``tanh(A) = cosh(A)^{-1} sinh(A)``."""
    return la.solve(coshm.traced(A), sinhm.traced(A))


# --- solve_sylvester -----------------------------------------------------------------------

@scipy_linalg("solve_sylvester")
def solve_sylvester(a, b, q):
    """``X`` with ``a X + X b = q`` for ``a (..., M, M)``, ``b (..., N, N)``,
    ``q (..., M, N)`` (Bartels-Stewart, SciPy's values).  Differentiable in all three:
    the jvp solves another Sylvester equation, ``a dX + dX b = dq - da X - X db``
    (exact, any order; ``sylvester`` primitive)."""
    a, b, q = arr(a), arr(b), arr(q)
    A, B, Q = aval(a), aval(b), aval(q)
    for x in (A, B):
        if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
            raise ValueError("expected square matrices a (M, M) and b (N, N)")
    if Q.ndim < 2 or Q.shape[-2:] != (A.shape[-1], B.shape[-1]):
        raise ValueError(f"q must have shape (..., {A.shape[-1]}, {B.shape[-1]}), got "
                         f"{Q.shape}")
    batch = batch_shape("solve_sylvester", A.shape[:-2], B.shape[:-2], Q.shape[:-2])
    m, n = A.shape[-1], B.shape[-1]
    if m == 0 or n == 0:
        return full(batch + (m, n), 0, blas_dtype(A.dtype, B.dtype, Q.dtype))
    sa, _ = _schur_dtype(A.dtype, "real")
    sb, _ = _schur_dtype(B.dtype, "real")
    dt = blas_dtype(sa, sb, np.result_type(sa, Q.dtype, sb))
    return mf.sylvester(broadcast_to(cast(a, dt), batch + (m, m)),
                        broadcast_to(cast(b, dt), batch + (n, n)),
                        broadcast_to(cast(q, dt), batch + (m, n)))


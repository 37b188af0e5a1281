"""Helpers shared by the ``funcdiff.scipy.linalg`` implementation modules: operands as
SciPy sees them, SciPy's dtype rules, batch shapes and right-hand sides."""
from __future__ import annotations

import inspect
import math

import numpy as np

from ..core.trace import Tracer
from ..numpy import asarray
from ..numpy._core import aval
from ..primitives import elementwise as ew
from ..primitives import linalg as _la
from ..primitives.base import broadcast_to, reshape
from ._fastpath import scipy_fast_path

try:  # SciPy is optional at run time
    import scipy.linalg as _sla  # type: ignore
except ImportError:  # pragma: no cover - exercised without SciPy
    _sla = None

LinAlgError = np.linalg.LinAlgError
NoValue = object()


def scipy_linalg(sp_name, eager=None):
    """Eager fast path = SciPy's ``scipy.linalg.<sp_name>`` (or ``eager(sp_fn, traced,
    ...)`` when given); under a trace, or without SciPy, the traced implementation.  On a
    SciPy older than the one funcdiff follows, what it cannot do runs the traced
    implementation eagerly too (``_older_scipy``)."""
    sp_fn = getattr(_sla, sp_name, None) if _sla is not None else None

    def deco(traced):
        if sp_fn is None:
            return scipy_fast_path(None)(traced)
        core = None if _la.SCIPY_BATCHED else _CORE_NDIM.get(sp_name)
        params = inspect.signature(sp_fn).parameters
        lacking = set(inspect.signature(traced).parameters) - set(params)
        run = eager if core is None and not lacking else _older_scipy(
            eager, core, lacking, factor=sp_name in ("cho_solve", "lu_solve"))
        return scipy_fast_path(sp_fn, run)(traced)
    return deco


# Batch support came with SciPy 1.16 (``inv``/``solve`` natively, the rest by its
# ``_apply_over_batch``; ``toeplitz`` in 1.17, which SciPy 1.15 ravels): the core ndim
# of each function's array operands (of a right-hand side ``b``: a vector or a matrix),
# for the functions an older SciPy takes one matrix (or vector) at a time
_CORE_NDIM = {name: 2 for name in (
    "solve", "solve_triangular", "inv", "cholesky", "cho_factor", "cho_solve", "lu_factor",
    "lu_solve", "eigh", "eigvalsh", "eig", "eigvals", "svd", "qr", "qr_multiply", "polar",
    "schur", "rsf2csf", "hessenberg", "pinv", "lstsq", "expm_frechet", "sqrtm", "funm",
    "cosm", "sinm", "tanm", "coshm", "sinhm", "tanhm", "solve_sylvester", "block_diag")}
_CORE_NDIM.update(eigh_tridiagonal=1, toeplitz=1)


def _older_scipy(eager, core, lacking, factor):
    """The eager path on a SciPy older than funcdiff's semantics (SciPy 1.17's): a stack
    (an operand with more than ``core`` dims; with ``factor``, the first argument is a
    factorization's sequence, ``cho_solve``'s ``(c, lower)`` or ``lu_solve``'s ``(lu,
    piv)``) where it takes one matrix at a time, or a keyword it lacks (``inv``'s
    ``assume_a`` and ``lower`` before 1.17), runs the traced implementation on the NumPy
    values, as under transforms; anything else is SciPy's call."""
    def run(sp_fn, traced, *args, **kwargs):
        ops = (*args[0], *args[1:]) if factor and args else args
        if any(k in lacking for k in kwargs) or core is not None and any(
                _ndim(x) > core for x in (*ops, *kwargs.values())):
            return traced(*args, **kwargs)
        return sp_fn(*args, **kwargs) if eager is None else eager(sp_fn, traced, *args,
                                                                    **kwargs)
    return run


def _ndim(x):
    """The ndim of an array operand (an array or nested lists); 0 for anything else."""
    if isinstance(x, (np.ndarray, np.generic)):
        return x.ndim
    try:
        return np.ndim(x) if isinstance(x, list) else 0
    except ValueError:   # ragged: no array operand (SciPy's call gives SciPy's error)
        return 0


# --- operands and dtypes ------------------------------------------------------------------

def arr(x):
    """An operand as SciPy sees it: ``np.asarray`` of anything that is not traced (Python
    scalars included: SciPy converts them to strongly typed arrays)."""
    if type(x) is Tracer:
        return x
    if isinstance(x, (list, tuple)) and any(type(e) is Tracer for e in _flat(x)):
        return asarray(x)
    return np.asarray(x)


def _flat(x):
    for e in x:
        if isinstance(e, (list, tuple)):
            yield from _flat(e)
        else:
            yield e


def lapack_dtype(*dtypes):
    """The dtype SciPy computes in when it promotes its operands first (``solve``'s
    ``_ensure_dtype_cdsz``): NumPy's promotion, then single or double precision;
    integers and bools become float64."""
    dt = np.result_type(*dtypes)
    if dt.kind == "c":
        return np.dtype(np.complex64 if dt.itemsize <= 8 else np.complex128)
    if dt.kind == "f":
        return np.dtype(np.float32 if dt.itemsize <= 4 else np.float64)
    return np.dtype(np.float64)


# scipy.linalg.blas._type_score / _type_conv: the routine get_lapack_funcs picks
_SCORE = {**{c: 1 for c in "?bBhHef"}, **{c: 2 for c in "iIlLqQdg"}, "F": 3, "D": 4,
          "G": 4}
_CONV = {1: np.float32, 2: np.float64, 3: np.complex64, 4: np.complex128}


def blas_dtype(*dtypes):
    """The dtype of the LAPACK routine SciPy's ``get_lapack_funcs`` picks for arrays of
    these dtypes (``find_best_blas_type``): bools, 8/16-bit integers, float16 and float32
    give single precision, wider integers double; float64 with complex64 give
    complex128."""
    scores = [_SCORE.get(np.dtype(d).char, 5) for d in dtypes]
    best = max(scores)
    if best == 3 and 2 in scores:
        best = 4
    return np.dtype(_CONV.get(best, np.float64))


def det_dtype(dtype):
    """``det``'s result dtype: always double precision (float64 or complex128)."""
    return np.dtype(np.complex128 if np.dtype(dtype).kind == "c" else np.float64)


def pack(outs, batch):
    """SciPy's batch wrapper returns a list of outputs for a batch, a tuple otherwise."""
    return list(outs) if batch else tuple(outs)


def cast(x, dtype):
    a = aval(x)
    if a.dtype == dtype and not a.weak_type:
        return x
    return ew.convert_element_type(x, dtype=np.dtype(dtype))


def batch_shape(name, *shapes):
    batch = np.broadcast_shapes(*shapes)
    if batch and math.prod(batch) == 0:
        raise ValueError(f"`{name}` does not support zero-size batches.")
    return batch


def conj(x):
    return ew.conj(x) if aval(x).dtype.kind == "c" else x


def b_core(b_aval):
    """SciPy's core dims of a right-hand side: 2 when it has >= 2 axes, else 1."""
    return 2 if b_aval.ndim >= 2 else 1


def rhs(name, a, b, a_core_shape, b_shape, dtype):
    """Broadcast ``a (..., n, n)`` and ``b`` (a vector or ``(..., n, k)``) to one batch
    shape and cast them; b becomes a matrix.  Returns (a, b, batch, vector?)."""
    core = b_core(aval(b))
    batch = batch_shape(name, aval(a).shape[:-2], aval(b).shape[:-core])
    n = a_core_shape[-1]
    k = 1 if core == 1 else b_shape[-1]
    a = broadcast_to(cast(a, dtype), batch + (n, n))
    b = cast(b, dtype)
    b = broadcast_to(reshape(b, aval(b).shape + (1,)) if core == 1 else b, batch + (n, k))
    return a, b, batch, core == 1


def unvec(x, vec):
    """Drop the trailing unit axis of a solution when the right-hand side was a vector."""
    return reshape(x, aval(x).shape[:-1]) if vec else x


def square(name, a, msg="expected square matrix"):
    """``a`` as an operand, checked to be ``(..., n, n)``."""
    a = arr(a)
    A = aval(a)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise ValueError(msg if "{" not in msg else msg.format(shape=A.shape))
    return a


def concrete(x, what):
    """The value of ``x`` (an array, or a tracer whose value is known: outside ``jit``),
    for an argument whose value decides an output shape; ``ConcretizationError`` under
    ``jit``."""
    if type(x) is Tracer:
        return np.asarray(x.concrete_value(what))
    return np.asarray(x)


def tri(x, lower, k=0):
    """``tril(x, k)`` / ``triu(x, k)`` of (possibly rectangular) matrices."""
    m, n = aval(x).shape[-2:]
    mask = np.tri(m, n, k, dtype=bool) if lower else ~np.tri(m, n, k - 1, dtype=bool)
    return ew.select(mask, x, np.zeros((), aval(x).dtype)[()])


def real_dtype(dtype):
    return np.finfo(dtype).dtype if np.dtype(dtype).kind == "c" else np.dtype(dtype)


def complex_dtype(dtype):
    return np.result_type(dtype, np.complex64)

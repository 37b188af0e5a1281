"""``funcdiff.scipy.linalg``: the special matrices.  Those built from arrays
(``block_diag`` ``circulant`` ``companion`` ``convolution_matrix`` ``fiedler``
``fiedler_companion`` ``hankel`` ``leslie`` ``toeplitz``) are gathers and selects of
their inputs, so they trace and differentiate; those of an integer size (``dft``
``hadamard`` ``helmert`` ``hilbert`` ``invhilbert`` ``pascal`` ``invpascal``) are
constants, computed with NumPy (SciPy's values) on the traced path."""
from __future__ import annotations

import math
import warnings

import numpy as np

from .. import numpy as fnp
from ..core.trace import Tracer
from ..numpy._core import aval
from ..primitives import elementwise as ew
from ..primitives.base import broadcast_to, full, reshape
from ..primitives.shape import concatenate, pad
from ._linalg_util import arr, batch_shape, cast, concrete, scipy_linalg


def _atleast_1d(x):
    x = arr(x)
    return reshape(x, (1,)) if aval(x).ndim == 0 else x


def _take_last(vals, idx):
    """``vals[..., idx]`` for a constant integer array ``idx`` (a gather: differentiable
    in ``vals``)."""
    return fnp.take(vals, idx, axis=-1)


def _zero(dtype):
    return np.zeros((), dtype)[()]


# --- toeplitz, hankel, circulant ------------------------------------------------------------

@scipy_linalg("toeplitz")
def toeplitz(c, r=None):
    """The Toeplitz matrix with first column ``c (..., M)`` and first row ``r (..., N)``
    (``r[0]`` ignored; default ``conj(c)``); batch axes broadcast."""
    c = _atleast_1d(c)
    r = ew.conj(c) if r is None and aval(c).dtype.kind == "c" else \
        (c if r is None else _atleast_1d(r))
    C, R = aval(c), aval(r)
    batch = batch_shape("toeplitz", C.shape[:-1], R.shape[:-1])
    dt = np.result_type(C.dtype, R.dtype)
    m, n = C.shape[-1], R.shape[-1]
    c = broadcast_to(cast(c, dt), batch + (m,))
    r = broadcast_to(cast(r, dt), batch + (n,))
    vals = concatenate([fnp.flip(c, -1), fnp.take(r, np.arange(1, n), axis=-1)], len(batch))
    idx = m - 1 - np.arange(m)[:, None] + np.arange(n)[None, :]
    return _take_last(vals, idx)


@scipy_linalg("hankel")
def hankel(c, r=None):
    """The Hankel matrix with first column ``c (M,)`` and last row ``r (N,)`` (``r[0]``
    ignored; default zeros).  Multi-dimensional input is raveled, with SciPy's
    ``FutureWarning``."""
    c = arr(c)
    r = fnp.zeros_like(c) if r is None else arr(r)
    if aval(c).ndim > 1 or aval(r).ndim > 1:
        warnings.warn("Beginning in SciPy 1.19, multidimensional input will be treated as "
                      "a batch, not `ravel`ed. To preserve the existing behavior and "
                      "silence this warning, `ravel` arguments before passing them to "
                      "`hankel`.", FutureWarning, stacklevel=3)
    c, r = fnp.ravel(c), fnp.ravel(r)
    m, n = aval(c).shape[0], aval(r).shape[0]
    vals = fnp.concatenate([c, r[1:]])
    return _take_last(vals, np.arange(m)[:, None] + np.arange(n)[None, :])


@scipy_linalg("circulant")
def circulant(c):
    """The circulant matrix with first column ``c (..., N)``: ``A[i, j] = c[(i - j) %
    N]``."""
    c = _atleast_1d(c)
    n = aval(c).shape[-1]
    return _take_last(c, (np.arange(n)[:, None] - np.arange(n)[None, :]) % max(n, 1))


# --- companion, fiedler, fiedler_companion, leslie ---------------------------------------------

def _check_nonzero(x, message):
    """SciPy's checks on values (a zero leading coefficient): made where the values are
    known (not under ``jit``)."""
    val = x._val if type(x) is Tracer else np.asarray(x)
    if val is not None and np.any(np.asarray(val) == 0):
        raise ValueError(message)


@scipy_linalg("companion")
def companion(a):
    """The companion matrix of the polynomial with coefficients ``a (..., N)``: first
    row ``-a[1:] / a[0]``, ones on the subdiagonal."""
    a = _atleast_1d(a)
    n = aval(a).shape[-1]
    if n < 2:
        raise ValueError("The length of `a` along the last axis must be at least 2.")
    _check_nonzero(a[..., 0], "The first coefficient(s) of `a` (i.e. elements of "
                              "`a[..., 0]`) must not be zero.")
    first = ew.neg(ew.div(a[..., 1:], ew.mul(a[..., 0:1], 1.0)))
    dt = aval(first).dtype
    batch = aval(a).shape[:-1]
    row0 = np.zeros((n - 1, n - 1), bool)
    row0[0] = True
    sub = np.eye(n - 1, k=-1, dtype=bool)
    return ew.select(row0, reshape(first, batch + (1, n - 1)),
                     ew.select(sub, np.ones((), dt)[()], _zero(dt)))


@scipy_linalg("fiedler")
def fiedler(a):
    """The symmetric Fiedler matrix ``|a_i - a_j|`` of ``a (..., N)``."""
    a = _atleast_1d(a)
    size = aval(a).size
    if size == 0:
        return full((0,), 0, np.float64)
    if size == 1:
        return full((1, 1), 0, np.float64)
    return ew.abs_(ew.sub(a[..., :, None], a[..., None, :]))


def _fiedler_companion_index(n):
    """Where each entry of the (n, n) Fiedler companion matrix comes from, in the vector
    ``[0, 1, -a[0], -a[1], ..., -a[n]]`` (SciPy's assignments, in its order)."""
    idx = np.zeros((n, n), np.intp)
    neg = np.arange(n + 1) + 2
    idx[range(3, n, 2), range(1, n - 2, 2)] = 1
    idx[range(2, n, 2), range(1, n - 1, 2)] = neg[3::2]
    idx[range(0, n - 2, 2), range(2, n, 2)] = 1
    idx[range(0, n - 1, 2), range(1, n, 2)] = neg[2::2]
    idx[[0, 1], 0] = [neg[1], 1]
    return idx


@scipy_linalg("fiedler_companion")
def fiedler_companion(a):
    """The Fiedler companion matrix of the polynomial with coefficients ``a (..., N)``
    (same eigenvalues as ``companion(a)``, pentadiagonal)."""
    a = _atleast_1d(a)
    A = aval(a)
    k = A.shape[-1]
    if k <= 2:
        if k == 2:
            an = ew.div(a, a[..., 0:1])
            return reshape(ew.neg(an[..., 1]), A.shape[:-1] + (1, 1))
        return full(A.shape[:-1] + (0,), 0, A.dtype)
    _check_nonzero(a[..., 0], "Leading coefficient is zero.")
    an = ew.div(a, a[..., 0:1])
    dt = aval(an).dtype
    batch = A.shape[:-1]
    vals = concatenate([full(batch + (1,), 0, dt), full(batch + (1,), 1, dt), ew.neg(an)],
                       len(batch))
    return _take_last(vals, _fiedler_companion_index(k - 1))


@scipy_linalg("leslie")
def leslie(f, s):
    """The Leslie matrix: fecundity coefficients ``f (..., N)`` in the first row,
    survival coefficients ``s (..., N-1)`` on the subdiagonal."""
    f, s = _atleast_1d(f), _atleast_1d(s)
    F, S = aval(f), aval(s)
    if F.shape[-1] != S.shape[-1] + 1:
        raise ValueError("Incorrect lengths for f and s. The length of s along the last "
                         "axis must be one less than the length of f.")
    if S.shape[-1] == 0:
        raise ValueError("The length of s must be at least 1.")
    batch = batch_shape("leslie", F.shape[:-1], S.shape[:-1])
    n = F.shape[-1]
    dt = np.result_type(F.dtype, S.dtype)
    f = broadcast_to(cast(f, dt), batch + (n,))
    s = broadcast_to(cast(s, dt), batch + (n - 1,))
    vals = concatenate([full(batch + (1,), 0, dt), f, s], len(batch))
    idx = np.zeros((n, n), np.intp)
    idx[0] = 1 + np.arange(n)
    idx[np.arange(1, n), np.arange(n - 1)] = 1 + n + np.arange(n - 1)
    return _take_last(vals, idx)


# --- convolution_matrix, block_diag ---------------------------------------------------------

@scipy_linalg("convolution_matrix")
def convolution_matrix(a, n, mode="full"):
    """The matrix ``A`` with ``A @ v == np.convolve(a, v, mode)`` for ``v`` of length
    ``n`` (along the last axis of ``a``; leading axes are a batch)."""
    if n <= 0:
        raise ValueError("n must be a positive integer.")
    a = arr(a)
    if aval(a).size == 0:
        raise ValueError("len(a) must be at least 1.")
    if mode not in ("full", "valid", "same"):
        raise ValueError("'mode' argument must be one of ('full', 'valid', 'same')")
    a = _atleast_1d(a)
    L = aval(a).shape[-1]
    if mode == "full":
        tb, rows = 0, L + n - 1
    else:
        trim = min(n, L) - 1
        tb = trim // 2 if mode == "same" else trim
        rows = L + n - 1 - (trim if mode == "same" else 2 * trim)
    k = np.arange(rows)[:, None] + tb - np.arange(n)[None, :]
    inside = (k >= 0) & (k < L)
    return ew.select(inside, _take_last(a, np.clip(k, 0, L - 1)), _zero(aval(a).dtype))


@scipy_linalg("block_diag")
def block_diag(*arrs):
    """The block diagonal matrix of the given arrays (each at least 2-D; leading axes
    broadcast as a batch)."""
    if arrs == ():
        arrs = ([],)
    arrs = [arr(a) for a in arrs]
    arrs = [reshape(a, (1,) * (2 - aval(a).ndim) + aval(a).shape)
            if aval(a).ndim < 2 else a for a in arrs]
    batch = tuple(np.broadcast_shapes(*[aval(a).shape[:-2] for a in arrs]))
    dt = np.result_type(*[aval(a).dtype for a in arrs])
    total = sum(aval(a).shape[-1] for a in arrs)
    rows, c = [], 0
    for a in arrs:
        rr, cc = aval(a).shape[-2:]
        a = broadcast_to(cast(a, dt), batch + (rr, cc))
        rows.append(pad(a, _zero(dt), [(0, 0, 0)] * (len(batch) + 1)
                        + [(c, total - c - cc, 0)]))
        c += cc
    return concatenate(rows, len(batch))


# --- constants: dft, hadamard, helmert, hilbert, invhilbert, pascal, invpascal ---------------

def _size(n, name):
    if type(n) is Tracer:
        n = int(concrete(n, f"the size of `{name}`"))
    return n


@scipy_linalg("dft")
def dft(n, scale=None):
    """The ``n x n`` discrete Fourier transform matrix (``scale``: None, 'sqrtn', 'n')."""
    if scale not in (None, "sqrtn", "n"):
        raise ValueError(f"scale must be None, 'sqrtn', or 'n'; {scale!r} is not valid.")
    n = _size(n, "dft")
    omegas = np.exp(-2j * np.pi * np.arange(n) / n).reshape(-1, 1)
    m = omegas ** np.arange(n)
    if scale == "sqrtn":
        m /= math.sqrt(n)
    elif scale == "n":
        m /= n
    return m


@scipy_linalg("hadamard")
def hadamard(n, dtype=int):
    """The ``n x n`` Hadamard matrix (``n`` a power of 2), Sylvester's construction."""
    n = _size(n, "hadamard")
    lg2 = int(math.log(n, 2)) if n >= 1 else 0
    if 2 ** lg2 != n:
        raise ValueError("n must be an positive integer, and n must be a power of 2")
    h = np.array([[1]], dtype=dtype)
    for _ in range(lg2):
        h = np.vstack((np.hstack((h, h)), np.hstack((h, -h))))
    return h


@scipy_linalg("helmert")
def helmert(n, full=False):
    """The (``n-1 x n``, or ``n x n`` with ``full``) Helmert matrix."""
    n = _size(n, "helmert")
    h = np.tril(np.ones((n, n)), -1) - np.diag(np.arange(n))
    d = np.arange(n) * np.arange(1, n + 1)
    h[0] = 1
    d[0] = n
    h_full = h / np.sqrt(d)[:, np.newaxis]
    return h_full if full else h_full[1:]


@scipy_linalg("hilbert")
def hilbert(n):
    """The ``n x n`` Hilbert matrix ``1 / (i + j + 1)``."""
    n = _size(n, "hilbert")
    values = 1.0 / (1.0 + np.arange(2 * n - 1))
    idx = np.arange(n)[:, None] + np.arange(n)[None, :]
    return values[idx] if n else np.zeros((0, 0))


def _comb(n, k, exact):
    """``scipy.special.comb`` for integers: exact (Python int), else a float."""
    if not 0 <= k <= n:
        return 0 if exact else 0.0
    c = math.comb(n, k)
    return c if exact else float(c)


@scipy_linalg("invhilbert")
def invhilbert(n, exact=False):
    """The inverse of the ``n x n`` Hilbert matrix (integers with ``exact``: int64, or
    Python ints in an object array for ``n > 14``)."""
    n = _size(n, "invhilbert")
    dtype = (object if n > 14 else np.int64) if exact else np.float64
    invh = np.empty((n, n), dtype=dtype)
    for i in range(n):
        for j in range(i + 1):
            s = i + j
            invh[i, j] = ((-1) ** s * (s + 1) * _comb(n + i, n - j - 1, exact)
                          * _comb(n + j, n - i - 1, exact) * _comb(s, i, exact) ** 2)
            if i != j:
                invh[j, i] = invh[i, j]
    return invh


_KINDS = ("symmetric", "lower", "upper")


def _pascal_lower(n, exact):
    if exact:
        low = np.zeros((n, n), dtype=object if n >= 35 else np.uint64)
    else:
        low = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1):
            low[i, j] = _comb(i, j, exact)
    return low


@scipy_linalg("pascal")
def pascal(n, kind="symmetric", exact=True):
    """The ``n x n`` Pascal matrix ('symmetric', 'lower' or 'upper'); uint64 with
    ``exact`` (Python ints in an object array for ``n >= 35``), else float64."""
    if kind not in _KINDS:
        raise ValueError("kind must be 'symmetric', 'lower', or 'upper'")
    n = _size(n, "pascal")
    low = _pascal_lower(n, exact)
    if kind == "lower":
        return low
    if kind == "upper":
        return low.T
    return np.dot(low, low.T)


@scipy_linalg("invpascal")
def invpascal(n, kind="symmetric", exact=True):
    """The inverse of ``pascal(n, kind, exact)``."""
    if kind not in _KINDS:
        raise ValueError("'kind' must be 'symmetric', 'lower' or 'upper'.")
    n = _size(n, "invpascal")
    if kind == "symmetric":
        dt = (object if n > 34 else np.int64) if exact else np.float64
        invp = np.empty((n, n), dtype=dt)
        for i in range(n):
            for j in range(i + 1):
                v = 0
                for k in range(n - i):
                    v += _comb(i + k, k, exact) * _comb(i + k, i + k - j, exact)
                invp[i, j] = (-1) ** (i - j) * v
                if i != j:
                    invp[j, i] = invp[i, j]
        return invp
    invp = pascal.traced(n, kind=kind, exact=exact)
    if invp.dtype == np.uint64:
        invp = invp.view(np.int64)
    sign = (-1) ** np.arange(n)
    invp *= sign[np.abs(np.arange(n)[:, None] - np.arange(n)[None, :])].astype(invp.dtype)
    return invp

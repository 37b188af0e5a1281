"""``funcdiff.scipy.signal``: ``convolve`` and ``correlate`` (n-d, modes ``full`` /
``same`` / ``valid``, methods ``auto`` / ``direct`` / ``fft``) on values that trace.

Outside transforms each function *is* SciPy's (when SciPy is importable; without it the
traced code below runs on NumPy).  Inside, both are compositions of primitives, so they
differentiate in both inputs (forward and reverse, any order), vectorize and compile:

* ``direct``: the output is ``out[k] = sum_j a[k - j] b[j]`` over the smaller operand's
  indices ``j``: one ``gather`` builds the windows of the (zero-padded) larger operand,
  ``(out..., kernel...)``, and one ``dot_general`` contracts them with the kernel.  When
  that window array would be large (over 2**22 elements) the sum is formed as shifted
  slices instead, one term per kernel element, in O(output) memory.
* ``fft``: ``funcdiff.numpy.fft`` (``rfftn``/``irfftn`` for real input, ``fftn``/``ifftn``
  for complex) over the full output shape, then the slice the mode asks for.

Semantics follow SciPy: both inputs need the same number of dimensions (0-d inputs are
multiplied); ``full`` has shape ``s1 + s2 - 1``, ``same`` is centered relative to
``in1`` (``start = (full - s1) // 2``), ``valid`` has shape ``|s1 - s2| + 1`` and needs
one input at least as large as the other in every dimension (either order: the inputs
are swapped as SciPy does).  ``correlate(in1, in2)`` is ``convolve(in1,
conj(in2[::-1, ...]))``.  The output dtype is NumPy's promotion of the inputs; integer and
bool inputs give exact integer results (``fft`` rounds, as SciPy's does).
``method='auto'`` chooses as SciPy's ``choose_conv_method`` does from the shapes
(SciPy's own operation-count model), except that integer and bool inputs always use
``direct`` (SciPy also looks at the *values* to decide; both give the same integers).
``direct`` refuses bool and float16 results in the cases SciPy's ``_correlateND``
refuses them ("Unsupported type").

Empty inputs: SciPy's behaviour is erratic (mostly errors); here ``same`` mode with an
empty ``in1`` gives an empty result of ``in1``'s shape, and every other empty case raises
``ValueError``.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from ..core.trace import state, Tracer
from ..numpy._core import aval
from ._fastpath import scipy_fast_path
from .. import numpy as fnp

try:  # SciPy is optional at run time
    import scipy.signal as _ss  # type: ignore
except ImportError:  # pragma: no cover - exercised without SciPy
    _ss = None

__all__ = ["convolve", "correlate", "choose_conv_method"]

_WINDOW_LIMIT = 2 ** 22   # elements of the gathered window array before shifted slices


def _scipy(sp_name):
    """Eager fast path = SciPy's ``sp_name``; under a trace, or without SciPy, the
    traced implementation."""
    return scipy_fast_path(getattr(_ss, sp_name, None) if _ss is not None else None)


def _fnp():
    return fnp


def _arr(x):
    """``np.asarray`` of anything not traced (SciPy makes Python scalars strong)."""
    if type(x) is Tracer:
        return x
    if isinstance(x, (list, tuple)):
        return _fnp().asarray(x)
    return np.asarray(x)


def _check_mode(mode):
    if mode not in ("full", "same", "valid"):
        raise ValueError("Acceptable mode flags are 'valid', 'same', or 'full'.")


def _check_method(method):
    if method not in ("auto", "direct", "fft"):
        raise ValueError("Acceptable method flags are 'auto', 'direct', or 'fft'.")


# --- SciPy's method choice (scipy/signal/_signaltools.py: _conv_ops, _fftconv_faster) ---

def _conv_ops(x_shape, h_shape, mode):
    if mode == "full":
        out_shape = [n + k - 1 for n, k in zip(x_shape, h_shape)]
    elif mode == "valid":
        out_shape = [abs(n - k) + 1 for n, k in zip(x_shape, h_shape)]
    else:
        out_shape = list(x_shape)
    s1, s2 = x_shape, h_shape
    if len(x_shape) == 1:
        s1, s2 = s1[0], s2[0]
        if mode == "full":
            direct_ops = s1 * s2
        elif mode == "valid":
            direct_ops = (s2 - s1 + 1) * s1 if s2 >= s1 else (s1 - s2 + 1) * s2
        else:
            direct_ops = (s1 * s2 if s1 < s2 else
                          s1 * s2 - (s2 // 2) * ((s2 + 1) // 2))
    else:
        if mode in ("full", "valid"):
            direct_ops = min(math.prod(s1), math.prod(s2)) * math.prod(out_shape)
        else:
            direct_ops = math.prod(s1) * math.prod(s2)
    full_out_shape = [n + k - 1 for n, k in zip(x_shape, h_shape)]
    N = math.prod(full_out_shape)
    fft_ops = 3 * N * np.log(N)
    return fft_ops, direct_ops


def _fftconv_faster(x_shape, h_shape, mode):
    fft_ops, direct_ops = _conv_ops(x_shape, h_shape, mode)
    offset = -1e-3 if len(x_shape) == 1 else -1e-4
    if len(x_shape) == 1:
        constants = {
            "valid": (1.89095737e-9, 2.1364985e-10, offset),
            "full": (1.7649070e-9, 2.1414831e-10, offset),
            "same": (3.2646654e-9, 2.8478277e-10, offset)
            if math.prod(h_shape) <= math.prod(x_shape)
            else (3.21635404e-9, 1.1773253e-8, -1e-5),
        }
    else:
        constants = {
            "valid": (1.85927e-9, 2.11242e-8, offset),
            "full": (1.99817e-9, 1.66174e-8, offset),
            "same": (2.04735e-9, 1.55367e-8, offset),
        }
    O_fft, O_direct, O_offset = constants[mode]
    return O_fft * fft_ops < O_direct * direct_ops + O_offset


def choose_conv_method(in1, in2, mode="full", measure=False):
    """SciPy's choice between ``'direct'`` and ``'fft'`` for ``convolve(in1, in2,
    mode)``, from shapes and dtypes only (see the module docstring for integers).
    ``measure=True`` is SciPy's timing mode and needs concrete inputs outside
    transforms."""
    if measure:
        if _ss is None or state.stack:
            raise ValueError("choose_conv_method(measure=True) times SciPy on concrete "
                             "arrays: call it outside transforms, with SciPy installed")
        return _ss.choose_conv_method(in1, in2, mode=mode, measure=True)
    a, b = _arr(in1), _arr(in2)
    return _method(aval(a).shape, aval(b).shape, aval(a).dtype, aval(b).dtype, mode)


def _method(s1, s2, dt1, dt2, mode):
    if _swap_needed(mode, s1, s2):
        s1, s2 = s2, s1
    if np.result_type(dt1, dt2).kind in "biu":
        return "direct"
    return "fft" if _fftconv_faster(s1, s2, mode) else "direct"


def _swap_needed(mode, s1, s2):
    if mode != "valid" or not s1:
        return False
    ok1 = all(a >= b for a, b in zip(s1, s2))
    ok2 = all(b >= a for a, b in zip(s1, s2))
    if not (ok1 or ok2):
        raise ValueError("For 'valid' mode, one must be at least as large as the other "
                         "in every dimension")
    return not ok1


# --- the two algorithms -----------------------------------------------------------------------

def _out_window(s1, s2, mode):
    """(start, shape) of the output inside the full convolution."""
    full = [a + b - 1 for a, b in zip(s1, s2)]
    if mode == "full":
        shape = full
    elif mode == "same":
        shape = list(s1)
    else:
        shape = [abs(a - b) + 1 for a, b in zip(s1, s2)]
    start = [(f - s) // 2 for f, s in zip(full, shape)]
    return start, shape


def _direct(a, b, start, shape):
    """``out[k] = sum_j a[k - j] b[j]`` for ``k`` in ``start + [0, shape)``, summing over
    the smaller operand's indices (convolution commutes)."""
    fnp = _fnp()
    if aval(a).size < aval(b).size:
        a, b = b, a
    N, K = aval(a).shape, aval(b).shape
    nd = len(N)
    # a's indices k - j range over [start - (K - 1), start + shape - 1]: pad to cover them
    lo = [max(0, k - 1 - s) for k, s in zip(K, start)]
    hi = [max(0, s + L - 1 - (n - 1)) for n, s, L in zip(N, start, shape)]
    if any(lo) or any(hi):
        a = fnp.pad(a, list(zip(lo, hi)))
    if math.prod(shape) * math.prod(K) <= _WINDOW_LIMIT:
        idx = []
        for d in range(nd):
            k = np.arange(start[d], start[d] + shape[d])
            j = np.arange(K[d])
            w = (k[:, None] - j[None, :] + lo[d]).astype(np.intp)    # (L_d, K_d)
            sh = [1] * (2 * nd)
            sh[d], sh[nd + d] = shape[d], K[d]
            idx.append(w.reshape(sh))
        windows = a[tuple(idx)]                                      # (L..., K...)
        return fnp.tensordot(windows, b, axes=(list(range(nd, 2 * nd)), list(range(nd))))
    out = None
    for j in itertools.product(*[range(k) for k in K]):
        sl = tuple(slice(s - jj + l, s - jj + l + L)
                   for s, jj, l, L in zip(start, j, lo, shape))
        term = a[sl] * b[j]
        out = term if out is None else out + term
    return out


def _fft(a, b, start, shape, complex_result):
    fnp = _fnp()
    nd = aval(a).ndim
    full = [x + y - 1 for x, y in zip(aval(a).shape, aval(b).shape)]
    axes = list(range(nd))
    if complex_result:
        ret = fnp.fft.ifftn(fnp.fft.fftn(a, full, axes) * fnp.fft.fftn(b, full, axes),
                            full, axes)
    else:
        ret = fnp.fft.irfftn(fnp.fft.rfftn(a, full, axes) * fnp.fft.rfftn(b, full, axes),
                             full, axes)
    return ret[tuple(slice(s, s + L) for s, L in zip(start, shape))]


def _convolve_nd(a, b, mode, method, conj_b_rev=False):
    fnp = _fnp()
    A, B = aval(a), aval(b)
    s1, s2 = A.shape, B.shape
    out_dtype = np.result_type(A.dtype, B.dtype)
    if A.size == 0 or B.size == 0:
        if mode == "same" and A.size == 0 and B.size > 0:
            return fnp.zeros(s1, out_dtype)
        raise ValueError(f"convolution of empty arrays (shapes {s1} and {s2}): only "
                         "mode='same' with an empty in1 is defined")
    _swap_needed(mode, s1, s2)    # the 'valid' shape check
    if conj_b_rev:                # correlate = convolve with conj(b[::-1, ...])
        b = fnp.flip(b)
        if B.dtype.kind == "c":
            b = fnp.conj(b)
    start, shape = _out_window(s1, s2, mode)
    if method == "auto":
        method = _method(s1, s2, A.dtype, B.dtype, mode)
    if method == "direct":
        numpy_fast_path = A.ndim == 1 and (mode != "same" or A.size >= B.size)
        if not numpy_fast_path and out_dtype in (np.dtype(np.bool_), np.dtype(np.float16)):
            raise ValueError("Unsupported type")
        work = np.dtype(np.int64) if out_dtype == np.bool_ else out_dtype
        out = _direct(a.astype(work), b.astype(work), start, shape)
        return out != 0 if out_dtype == np.bool_ else out.astype(out_dtype)
    # fft: both inputs in the result's precision (integers and bools as float64, rounded
    # back at the end)
    work = np.dtype(np.float64) if out_dtype.kind in "biu" else out_dtype
    a, b = a.astype(work), b.astype(work)
    out = _fft(a, b, start, shape, out_dtype.kind == "c")
    if out_dtype.kind in "biu":
        out = fnp.round(out)
    return out.astype(out_dtype)


@_scipy("convolve")
def convolve(in1, in2, mode="full", method="auto"):
    """Convolve two N-dimensional arrays (SciPy's ``scipy.signal.convolve``).

    Args:
      in1, in2: arrays with the same number of dimensions.
      mode: ``'full'`` (the whole convolution), ``'same'`` (centered, ``in1``'s shape) or
        ``'valid'`` (only where the inputs overlap completely).
      method: ``'direct'`` (sums of products), ``'fft'`` or ``'auto'`` (SciPy's choice).
    Returns:
      The convolution, in NumPy's promotion of the input dtypes.
    """
    a, b = _arr(in1), _arr(in2)
    if aval(a).ndim == aval(b).ndim == 0:
        return a * b
    if aval(a).ndim != aval(b).ndim:
        raise ValueError("volume and kernel should have the same dimensionality")
    _check_mode(mode)
    _check_method(method)
    return _convolve_nd(a, b, mode, method)


@_scipy("correlate")
def correlate(in1, in2, mode="full", method="auto"):
    """Cross-correlate two N-dimensional arrays (SciPy's ``scipy.signal.correlate``):
    ``z[k] = sum_l in1[l] conj(in2[l - k])``, i.e. ``convolve(in1, conj(in2[::-1]))``.
    Arguments as ``convolve``'s."""
    a, b = _arr(in1), _arr(in2)
    if aval(a).ndim == aval(b).ndim == 0:
        return a * (_fnp().conj(b) if aval(b).dtype.kind == "c" else b)
    if aval(a).ndim != aval(b).ndim:
        raise ValueError("in1 and in2 should have the same dimensionality")
    _check_mode(mode)
    _check_method(method)
    return _convolve_nd(a, b, mode, method, conj_b_rev=True)

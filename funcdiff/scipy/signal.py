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
bool inputs give exact integer results (``fft`` rounds, as SciPy's does for integers; for
bools SciPy casts its floating result, so FFT rounding noise such as 5e-17 becomes True
there, where funcdiff gives the exact result, ``direct``'s).
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

from .. import numpy as fnp
from ..core.errors import FuncdiffTypeError, FuncdiffValueError
from ..core.trace import state
from ..numpy._core import aval, canonical_axis
from . import fft as _sfft
from ._fastpath import array_arg as _arr
from ._fastpath import scipy_function

try:  # SciPy is optional at run time
    import scipy.signal as _ss  # type: ignore
except ImportError:  # pragma: no cover - exercised without SciPy
    _ss = None

from ._spectral import csd, detrend, istft, stft, welch

__all__ = ["convolve", "correlate", "choose_conv_method", "fftconvolve", "convolve2d",
           "correlate2d", "detrend", "csd", "welch", "stft", "istft"]

_WINDOW_LIMIT = 2 ** 22   # elements of the gathered window array before shifted slices


def _scipy(sp_name):
    """Eager fast path = SciPy's ``sp_name``; under a trace, or without SciPy, the
    traced implementation."""
    return scipy_function(_ss, sp_name)


def _fnp():
    return fnp


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


def _swap_needed(mode, s1, s2, axes=None):
    """SciPy's ``_inputs_swap_needed``: 'valid' mode takes the inputs in either order
    (over ``axes``, all by default)."""
    if mode != "valid" or not s1:
        return False
    axes = range(len(s1)) if axes is None else axes
    ok1 = all(s1[i] >= s2[i] for i in axes)
    ok2 = all(s2[i] >= s1[i] for i in axes)
    if not (ok1 or ok2):
        raise ValueError("For 'valid' mode, one must be at least as large as the other "
                         "in every dimension")
    return not ok1


# --- the two algorithms -------------------------------------------------------------------

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


# --- fftconvolve --------------------------------------------------------------------------

def _fft_work(x):
    """The dtype ``scipy.fft`` transforms ``x`` in: integers and bools as float64,
    float16 as float32 (SciPy's ``_asfarray``)."""
    dt = aval(x).dtype
    if dt.kind in "biu":
        return x.astype(np.float64)
    if dt == np.float16:
        return x.astype(np.float32)
    return x


def _centered(x, shape):
    """SciPy's ``_centered``: the centre ``shape`` part of ``x``."""
    cur = aval(x).shape
    start = [(c - s) // 2 for c, s in zip(cur, shape)]
    return x[tuple(slice(st, st + s) for st, s in zip(start, shape))]


@_scipy("fftconvolve")
def fftconvolve(in1, in2, mode="full", axes=None):
    """Convolve two N-dimensional arrays by FFT (SciPy's ``scipy.signal.fftconvolve``).

    ``axes`` (all by default) are convolved; along the other axes the inputs broadcast
    (each length equal or 1) and are multiplied.  Integer and bool inputs are
    transformed in float64 and float16 in float32, as ``scipy.fft`` does, and the result
    is not rounded (unlike ``convolve(method='fft')``)."""
    fnp = _fnp()
    a, b = _arr(in1), _arr(in2)
    A, B = aval(a), aval(b)
    if A.ndim == B.ndim == 0:
        return a * b
    if A.ndim != B.ndim:
        raise FuncdiffValueError("fftconvolve: in1 and in2 should have the same "
                                 f"dimensionality (got shapes {A.shape} and {B.shape})")
    _check_mode(mode)
    if A.size == 0 or B.size == 0:
        return fnp.zeros((0,))
    nd = A.ndim
    if axes is None:
        ax = list(range(nd))
    else:
        ax = [canonical_axis(x, nd, "axes") for x in np.atleast_1d(axes).tolist()]
        if not ax:
            raise FuncdiffValueError("fftconvolve: when provided, axes cannot be empty")
        if len(set(ax)) != len(ax):
            raise FuncdiffValueError("fftconvolve: all axes must be unique")
    s1, s2 = A.shape, B.shape
    ax = [x for x in ax if s1[x] != 1 and s2[x] != 1]    # length 1: broadcasting does it
    if not all(s1[i] == s2[i] or s1[i] == 1 or s2[i] == 1
               for i in range(nd) if i not in ax):
        raise FuncdiffValueError(f"fftconvolve: incompatible shapes for in1 and in2: {s1} "
                                 f"and {s2}")
    if _swap_needed(mode, s1, s2, ax):
        a, b, s1, s2 = b, a, s2, s1
    if not ax:
        ret = a * b
    else:
        shape = [s1[i] + s2[i] - 1 for i in ax]
        a, b = _fft_work(a), _fft_work(b)        # (scipy.fft's dtypes, NumPy 1.x too)
        if aval(a).dtype.kind == "c" or aval(b).dtype.kind == "c":
            ret = _sfft.ifftn(_sfft.fftn(a, shape, ax) * _sfft.fftn(b, shape, ax), shape, ax)
        else:
            ret = _sfft.irfftn(_sfft.rfftn(a, shape, ax) * _sfft.rfftn(b, shape, ax),
                               shape, ax)
    if mode == "full":
        return ret
    if mode == "same":
        return _centered(ret, s1)
    rs = aval(ret).shape
    return _centered(ret, [s1[i] - s2[i] + 1 if i in ax else rs[i] for i in range(nd)])


# --- convolve2d, correlate2d --------------------------------------------------------------

_BOUNDARIES = {"fill": "fill", "pad": "fill", "wrap": "wrap", "circular": "wrap",
               "symm": "symm", "symmetric": "symm"}


def _conv2d(in1, in2, mode, boundary, fillvalue, flip):
    """``convolve2d`` (``flip``) or ``correlate2d``: SciPy's direct 2-D sums, ``in1``
    extended past its edges as ``boundary`` says."""
    fnp = _fnp()
    a, b = _arr(in1), _arr(in2)
    if not aval(a).ndim == aval(b).ndim == 2:
        raise FuncdiffValueError(
            f"{'convolve2d' if flip else 'correlate2d'} inputs must both be 2-D arrays "
            f"(got shapes {aval(a).shape} and {aval(b).shape})")
    _check_mode(mode)
    if boundary not in _BOUNDARIES:
        raise FuncdiffValueError("Acceptable boundary flags are 'fill', 'circular' (or "
                                 "'wrap'), and 'symmetric' (or 'symm').")
    boundary = _BOUNDARIES[boundary]
    swapped = _swap_needed(mode, aval(a).shape, aval(b).shape)
    if swapped:
        a, b = b, a
    out_dtype = np.result_type(aval(a).dtype, aval(b).dtype)
    if out_dtype in (np.dtype(np.bool_), np.dtype(np.float16)) or out_dtype.kind not in "iufc":
        raise FuncdiffTypeError(f"convolve2d not available for this type ({out_dtype})")
    if aval(a).size == 0 or aval(b).size == 0:
        raise FuncdiffValueError(f"{'convolve2d' if flip else 'correlate2d'} of empty "
                                 f"arrays (shapes {aval(a).shape} and {aval(b).shape})")
    a, b = a.astype(out_dtype), b.astype(out_dtype)
    if not flip:                 # correlation: convolution with the conjugated flip
        b = fnp.flip(b)
        if out_dtype.kind == "c":
            b = fnp.conj(b)
    M, K = aval(a).shape, aval(b).shape
    if mode == "valid":
        out = _direct(a, b, [k - 1 for k in K], [m - k + 1 for m, k in zip(M, K)])
    else:
        pads = [(k - 1, k - 1) for k in K]
        if boundary == "fill":
            a = fnp.pad(a, pads, constant_values=_fill(fillvalue, out_dtype))
        else:
            a = fnp.pad(a, pads, mode="wrap" if boundary == "wrap" else "symmetric")
        full = [m + k - 1 for m, k in zip(M, K)]
        if mode == "full":
            start, shape = [k - 1 for k in K], full
        else:       # centred as SciPy's: (k - 1) // 2 past the start, or k // 2 flipped
            start = [k - 1 + ((k - 1) // 2 if flip else k // 2) for k in K]
            shape = list(M)
        out = _direct(a, b, start, shape)
    if swapped and not flip:
        out = fnp.flip(out)
    return out


def _fill(fillvalue, dtype):
    """SciPy's ``fillvalue``: one element, cast to the output dtype (never from complex
    to real)."""
    fnp = _fnp()
    v = _arr(fillvalue)
    if aval(v).size != 1:
        raise FuncdiffValueError("`fillvalue` must be scalar or an array with one element.")
    v = fnp.reshape(v, ())
    if aval(v).dtype.kind == "c" and dtype.kind != "c":
        raise FuncdiffValueError("could not cast `fillvalue` directly to the output type "
                                 f"({dtype}): it is complex")
    return v.astype(dtype)


@_scipy("convolve2d")
def convolve2d(in1, in2, mode="full", boundary="fill", fillvalue=0):
    """Convolve two 2-D arrays (SciPy's ``scipy.signal.convolve2d``), with ``in1``
    extended past its edges by ``boundary``: ``'fill'`` (``fillvalue``; differentiable
    when traced), ``'wrap'`` (periodic) or ``'symm'`` (mirrored, edge repeated).  The
    dtype is the inputs' promotion (integers stay integers); ``'valid'`` takes the
    inputs in either order."""
    return _conv2d(in1, in2, mode, boundary, fillvalue, flip=True)


@_scipy("correlate2d")
def correlate2d(in1, in2, mode="full", boundary="fill", fillvalue=0):
    """Cross-correlate two 2-D arrays (SciPy's ``scipy.signal.correlate2d``):
    ``convolve2d`` with ``conj(in2)`` flipped, centred as SciPy's for 'same'; 'valid'
    with swapped inputs is flipped back, as SciPy's."""
    return _conv2d(in1, in2, mode, boundary, fillvalue, flip=False)


def __dir__():
    return sorted(__all__)

"""``scipy.signal``'s spectral analysis on values that trace: ``detrend``, ``csd``,
``welch``, ``stft``, ``istft`` (and the windows they name, SciPy's ``get_window``).

Each is written as SciPy 1.17 computes it -- segments (one ``gather`` of the sliding
windows), per-segment detrending, the window, ``funcdiff.numpy.fft``, SciPy's scalings
and one-sided doubling, the mean or bias-corrected median over segments; ``istft`` an
inverse FFT and overlap-add (a ``scatter_add``) divided by the summed squared window --
so everything differentiates in the signal (and in an array window), batches and
compiles.  Argument checks, warnings (a shortened ``nperseg``, complex input switching
to two-sided, the NOLA condition) and dtypes are SciPy's.

Windows are constants of the trace: a name (or ``(name, parameter...)`` tuple, or a
float meaning a Kaiser ``beta``) is made by ``_get_window`` with SciPy's formulas for
the common windows (periodic unless the name ends in ``_symmetric``); any other name is
passed to SciPy's own ``get_window`` when SciPy is installed.  An array window may be
traced.
"""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import numpy as fnp
from ..core.errors import FuncdiffTypeError, FuncdiffValueError
from ..core.trace import Tracer
from ..numpy._core import aval, canonical_axis
from ..numpy._sizes import known
from . import fft as _sfft
from ._fastpath import array_arg as _arr
from ._fastpath import scipy_function

try:  # SciPy is optional at run time
    import scipy.signal as _ss  # type: ignore
except ImportError:  # pragma: no cover - exercised without SciPy
    _ss = None


# --- windows (scipy/signal/windows/_windows.py) -------------------------------------------

def _general_cosine(m, a):
    fac = np.linspace(-np.pi, np.pi, m)
    return sum(ak * np.cos(k * fac) for k, ak in enumerate(a))


def _triang(m):
    n = np.arange(1, (m + 1) // 2 + 1)
    if m % 2 == 0:
        w = (2 * n - 1.0) / m
        return np.concatenate([w, w[::-1]])
    w = 2 * n / (m + 1.0)
    return np.concatenate([w, w[-2::-1]])


def _bartlett(m):
    n = np.arange(m, dtype=float)
    return np.where(n <= (m - 1) / 2.0, 2.0 * n / (m - 1), 2.0 - 2.0 * n / (m - 1))


def _parzen(m):
    n = np.arange(-(m - 1) / 2.0, (m - 1) / 2.0 + 0.5, 1.0)
    return np.where(np.abs(n) <= (m - 1) / 4.0,
                    1 - 6 * (np.abs(n) / (m / 2.0)) ** 2.0
                    + 6 * (np.abs(n) / (m / 2.0)) ** 3.0,
                    2 * (1 - np.abs(n) / (m / 2.0)) ** 3.0)


def _bohman(m):
    fac = np.abs(np.linspace(-1, 1, m)[1:-1])
    w = (1 - fac) * np.cos(np.pi * fac) + 1.0 / np.pi * np.sin(np.pi * fac)
    return np.concatenate([[0.0], w, [0.0]])


def _barthann(m):
    fac = np.abs(np.arange(m) / (m - 1.0) - 0.5)
    return 0.62 - 0.48 * fac + 0.38 * np.cos(2 * np.pi * fac)


def _tukey(m, alpha=0.5):
    if alpha <= 0:
        return np.ones(m)
    if alpha >= 1.0:
        return _general_cosine(m, [0.5, 0.5])
    n = np.arange(m, dtype=float)
    width = int(math.floor(alpha * (m - 1) / 2.0))
    n1, n2, n3 = n[:width + 1], n[width + 1:m - width - 1], n[m - width - 1:]
    w1 = 0.5 * (1 + np.cos(np.pi * (-1 + 2.0 * n1 / alpha / (m - 1))))
    w3 = 0.5 * (1 + np.cos(np.pi * (-2.0 / alpha + 1 + 2.0 * n3 / alpha / (m - 1))))
    return np.concatenate([w1, np.ones(n2.shape), w3])


def _kaiser(m, beta):
    n = np.arange(m, dtype=float)
    alpha = (m - 1) / 2.0
    return np.i0(beta * np.sqrt(1 - ((n - alpha) / alpha) ** 2.0)) / np.i0(float(beta))


def _gaussian(m, std):
    n = np.arange(m, dtype=float) - (m - 1.0) / 2.0
    return np.exp(-n ** 2 / (2 * std * std))


def _general_gaussian(m, p, sig):
    n = np.arange(m, dtype=float) - (m - 1.0) / 2.0
    return np.exp(-0.5 * np.abs(n / sig) ** (2 * p))


def _cosine(m):
    return np.sin(np.pi / m * (np.arange(m) + 0.5))


def _lanczos(m):
    def right(n, mm):
        return np.sinc(2.0 * np.arange(n, mm) / (mm - 1) - 1.0)
    if m % 2 == 0:
        wh = right(m / 2, m)
        return np.concatenate([wh[::-1], wh])
    wh = right((m + 1) / 2, m)
    return np.concatenate([wh[::-1], np.ones(1), wh])


def _exponential(m, center=None, tau=1.0):
    center = (m - 1) / 2 if center is None else center
    return np.exp(-np.abs(np.arange(m) - center) / tau)


_COS = {"hann": [0.5, 0.5], "hamming": [0.54, 0.46], "blackman": [0.42, 0.50, 0.08],
        "nuttall": [0.3635819, 0.4891775, 0.1365995, 0.0106411],
        "blackmanharris": [0.35875, 0.48829, 0.14128, 0.01168],
        "flattop": [0.21557895, 0.41663158, 0.277263158, 0.083578947, 0.006947368]}

# name -> (function of (m, *args), parameters: False none, True required, None optional)
_WINDOWS = {
    "boxcar": (np.ones, False), "triang": (_triang, False), "bartlett": (_bartlett, False),
    "parzen": (_parzen, False), "bohman": (_bohman, False), "barthann": (_barthann, False),
    "cosine": (_cosine, False), "lanczos": (_lanczos, False),
    **{k: ((lambda a: lambda m: _general_cosine(m, a))(a), False) for k, a in _COS.items()},
    "general_cosine": (lambda m, a: _general_cosine(m, a), True),
    "general_hamming": (lambda m, alpha: _general_cosine(m, [alpha, 1.0 - alpha]), True),
    "tukey": (_tukey, None), "kaiser": (_kaiser, True), "gaussian": (_gaussian, True),
    "general_gaussian": (_general_gaussian, True), "exponential": (_exponential, None),
}
_ALIASES = {
    "box": "boxcar", "ones": "boxcar", "rect": "boxcar", "rectangular": "boxcar",
    "triangle": "triang", "tri": "triang", "bart": "bartlett", "brt": "bartlett",
    "parz": "parzen", "par": "parzen", "bman": "bohman", "bmn": "bohman",
    "brthan": "barthann", "bth": "barthann", "halfcosine": "cosine", "sinc": "lanczos",
    "han": "hann", "hamm": "hamming", "ham": "hamming", "black": "blackman",
    "blk": "blackman", "nutl": "nuttall", "nut": "nuttall", "blackharr": "blackmanharris",
    "bkh": "blackmanharris", "flat": "flattop", "flt": "flattop",
    "general cosine": "general_cosine", "general hamming": "general_hamming",
    "tuk": "tukey", "ksr": "kaiser", "gauss": "gaussian", "gss": "gaussian",
    "general gaussian": "general_gaussian", "general gauss": "general_gaussian",
    "general_gauss": "general_gaussian", "ggs": "general_gaussian", "poisson": "exponential",
}


def _get_window(window, nx):
    """SciPy's ``get_window(window, nx)`` (periodic, i.e. ``fftbins=True``): a float64
    NumPy array."""
    if not (isinstance(nx, numbers.Integral) and nx > 0):
        raise FuncdiffValueError(f"window length {nx!r} is not a positive integer")
    if not isinstance(window, (str, tuple)):
        try:
            beta = float(window)
        except Exception as e:
            raise FuncdiffValueError(f"window {window!r} must be a tuple, a string or a "
                                     "float") from e
        window = ("kaiser", beta)
    name = window if isinstance(window, str) else window[0]
    if not isinstance(name, str):
        raise FuncdiffValueError(f"the first entry of the window tuple {window!r} is not "
                                 "a string")
    args = () if isinstance(window, str) else tuple(window[1:])
    sym = False
    if name.endswith("_symmetric"):
        sym, name = True, name[:-10]
    elif name.endswith("_periodic"):
        name = name[:-9]
    key = _ALIASES.get(name, name)
    if key not in _WINDOWS:
        if _ss is not None:     # SciPy's other windows (chebwin, dpss, taylor, ...)
            return np.asarray(_ss.get_window(window, nx), dtype=np.float64)
        raise FuncdiffValueError(f"unknown window {name!r}; without SciPy the supported "
                                 f"windows are {', '.join(sorted(_WINDOWS))}")
    fn, has_args = _WINDOWS[key]
    if args and has_args is False:
        raise FuncdiffValueError(f"'{name}' does not allow parameters, but "
                                 f"window={window!r}")
    if not args and has_args is True:
        raise FuncdiffValueError(f"'{name}' must have parameters, but window={window!r}")
    if nx == 1:
        return np.ones(1)
    m = nx if sym else nx + 1
    w = np.asarray(fn(m, *args), dtype=np.float64)
    return w if sym else w[:-1]


# --- detrend ------------------------------------------------------------------------------

@scipy_function(_ss, "detrend")
def detrend(data, axis=-1, type="linear", bp=0, overwrite_data=False):
    """SciPy's ``scipy.signal.detrend``: subtract the mean (``'constant'``) or the
    least-squares line (``'linear'``, fitted separately between the breakpoints ``bp``)
    along ``axis``.  Both are linear projections (exact derivatives); the line is the
    closed-form fit, equal to SciPy's ``lstsq`` to rounding."""
    if type not in ("linear", "l", "constant", "c"):
        raise FuncdiffValueError("Trend type must be 'linear' or 'constant'.")
    x = _arr(data)
    if type in ("constant", "c"):
        return x - fnp.mean(x, axis, keepdims=True)
    dt = aval(x).dtype
    if dt.char not in "dfDF":
        x = x.astype(np.float64)
    rdt = np.empty(0, aval(x).dtype).real.dtype
    nd = aval(x).ndim
    ax = canonical_axis(axis, nd)
    n = aval(x).shape[ax]
    if isinstance(bp, Tracer) or (isinstance(bp, (list, tuple))
                                  and any(isinstance(b, Tracer) for b in bp)):
        raise FuncdiffTypeError("detrend: the breakpoints bp must be static integers, not "
                                "traced values")
    bps = np.asarray(bp)
    if bps.dtype.kind not in "iu" and bps.size:
        raise FuncdiffTypeError("detrend: breakpoints bp must be integers")
    bps = np.sort(np.unique(np.concatenate([[0], np.atleast_1d(bps).astype(int), [n]])))
    if np.any(bps > n):
        raise FuncdiffValueError("Breakpoints must be less than length of data along "
                                 "given axis.")
    if np.any(bps < 0):
        raise FuncdiffValueError("detrend: breakpoints bp must be non-negative")
    x = fnp.moveaxis(x, ax, -1)
    pieces = []
    for lo, hi in zip(bps[:-1], bps[1:]):
        seg = x[..., lo:hi]
        m = hi - lo
        if m == 1:        # a line through one point: nothing left
            pieces.append(seg * 0)
            continue
        t = np.arange(1, m + 1, dtype=rdt) / rdt.type(m)
        tc = (t - t.mean()).astype(rdt)
        centred = seg - fnp.mean(seg, -1, keepdims=True)
        slope = fnp.sum(centred * tc, -1, keepdims=True) / rdt.type(np.sum(tc * tc))
        pieces.append(centred - slope * tc)
    out = pieces[0] if len(pieces) == 1 else fnp.concatenate(pieces, -1)
    return fnp.moveaxis(out, -1, ax)


# --- shared pieces ------------------------------------------------------------------------

def _window_array(window, nperseg, n, what):
    """(window, nperseg) as SciPy's csd/_triage_segments settle them; ``n``: the signal
    length (a longer string window is shortened to it, with SciPy's warning)."""
    if isinstance(window, (str, tuple)):
        nperseg = 256 if nperseg is None else int(nperseg)
        if nperseg < 1:
            raise FuncdiffValueError(f"nperseg={nperseg} is not a positive integer")
        if n < nperseg:
            warnings.warn(f"nperseg={nperseg} is greater than {what} = {n}, using "
                          f"nperseg = {n}", UserWarning, stacklevel=4)
            nperseg = n
        return _get_window(window, nperseg), nperseg
    win = _arr(window)
    if aval(win).ndim != 1:
        raise FuncdiffValueError("window must be 1-D")
    if nperseg is None:
        nperseg = aval(win).shape[0]
    if int(nperseg) != aval(win).shape[0]:
        raise FuncdiffValueError(f"nperseg={nperseg} does not equal the window's length "
                                 f"{aval(win).shape[0]}")
    return win, int(nperseg)


def _overlap_nfft(nperseg, noverlap, nfft):
    nfft = nperseg if nfft is None else int(nfft)
    if nfft < nperseg:
        raise FuncdiffValueError(f"nfft={nfft} must be greater than or equal to "
                                 f"nperseg={nperseg}")
    noverlap = nperseg // 2 if noverlap is None else int(noverlap)
    if noverlap >= nperseg:
        raise FuncdiffValueError(f"noverlap={noverlap} must be less than nperseg={nperseg}")
    return noverlap, nfft


def _detrend_func(detrend_, axis):
    if detrend_ is False or detrend_ is None:
        return lambda d: d
    if callable(detrend_):
        if axis == -1:
            return detrend_
        return lambda d: fnp.moveaxis(detrend_(fnp.moveaxis(d, -1, axis)), axis, -1)
    return lambda d: detrend(d, type=detrend_, axis=-1)


def _segments(x, nperseg, step, nseg):
    """``x[..., p * step + k]`` for ``p < nseg``, ``k < nperseg``: one gather."""
    idx = np.arange(nseg)[:, None] * step + np.arange(nperseg)[None, :]
    return x[..., idx]


def _spectra(x, win, detr, nperseg, step, nseg, nfft, onesided):
    """The windowed FFT of every segment: ``(..., nseg, nfreq)``."""
    seg = detr(_segments(x, nperseg, step, nseg)) * win
    if onesided:
        return _sfft.rfft(fnp.real(seg) if aval(seg).dtype.kind == "c" else seg, nfft)
    return _sfft.fft(seg, nfft)


def _freqs(nfft, fs, onesided):
    d = 1.0 / fs
    return fnp.fft.rfftfreq(nfft, d) if onesided else fnp.fft.fftfreq(nfft, d)


def _median_last(x):
    """The median along the last axis, without sorting: each element's rank (ties by
    position) from pairwise comparisons selects the middle one(s); the derivative goes
    to them, as a sort-based median's does.  (O(k^2) comparisons for k segments.)"""
    k = aval(x).shape[-1]
    a, b = x[..., :, None], x[..., None, :]
    pos = np.arange(k)
    before = (b < a) | ((b == a) & (pos[None, :] < pos[:, None]))
    rank = fnp.sum(before, -1)
    hi = (rank == k // 2).astype(aval(x).dtype)
    if k % 2:
        return fnp.sum(x * hi, -1)
    lo = (rank == k // 2 - 1).astype(aval(x).dtype)
    return fnp.sum(x * (hi + lo), -1) / 2


def _median_bias(n):
    ii_2 = 2 * np.arange(1.0, (n - 1) // 2 + 1)
    return 1 + np.sum(1.0 / (ii_2 + 1) - 1.0 / ii_2)


def _scale(win, fs, scaling):
    if scaling == "density":
        return 1.0 / (fs * fnp.sum(win * win))
    if scaling == "spectrum":
        return 1.0 / fnp.sum(win) ** 2
    raise FuncdiffValueError(f"Parameter scaling={scaling!r} not in "
                             "{'spectrum', 'density'}")


def _pad_to(x, length, axis):
    extra = length - aval(x).shape[axis]
    if extra <= 0:
        return x
    widths = [(0, 0)] * aval(x).ndim
    widths[axis] = (0, extra)
    return fnp.pad(x, widths)


# --- csd, welch ---------------------------------------------------------------------------

def _csd(x, y, fs, window, nperseg, noverlap, nfft, detrend_, return_onesided, scaling,
         axis, average, same):
    x = _arr(x)
    y = x if same else _arr(y)
    axis = int(axis)
    xs, ys = aval(x).shape, aval(y).shape
    ax_x = canonical_axis(axis, len(xs))
    ax_y = canonical_axis(axis, len(ys))
    if same:
        out_dtype = np.result_type(aval(x).dtype, np.complex64)
        n = xs[ax_x]
    else:
        xo, yo = list(xs), list(ys)
        xo.pop(ax_x)
        yo.pop(ax_y)
        try:
            np.broadcast_shapes(tuple(xo), tuple(yo))
        except ValueError:
            raise FuncdiffValueError(f"x and y cannot be broadcast together (shapes {xs} "
                                     f"and {ys} without axis {axis})") from None
        out_dtype = np.result_type(aval(x).dtype, aval(y).dtype, np.complex64)
        n = max(xs[ax_x], ys[ax_y])
    if aval(x).size == 0 or aval(y).size == 0:
        raise FuncdiffValueError("csd/welch of an empty array is not supported on traced "
                                 "values")
    what = "signal length max(len(x), len(y))"
    win, nperseg = _window_array(window, nperseg, n, what)
    noverlap, nfft = _overlap_nfft(nperseg, noverlap, nfft)
    if average not in ("mean", "median"):
        raise FuncdiffValueError(f"Parameter average={average!r} must be 'median' or "
                                 "'mean'!")
    if scaling not in ("density", "spectrum"):
        raise FuncdiffValueError(f"Parameter scaling={scaling!r} not in "
                                 "{'spectrum': 'magnitude', 'density': 'psd'}!")
    if aval(x).dtype.kind == "c" and return_onesided:
        return_onesided = False
    if not same and aval(y).dtype.kind == "c" and return_onesided:
        raise FuncdiffValueError("csd: complex y needs return_onesided=False (SciPy: "
                                 "'Complex-valued `x` not allowed for fft_mode='onesided'')")
    step = nperseg - noverlap
    nseg = (n - noverlap) // step
    if nseg < 1:
        raise FuncdiffValueError(f"csd/welch: the signal ({n} samples) is shorter than "
                                 f"one segment ({nperseg})")
    # SciPy's ShortTimeFFT works in double precision and casts the result at the end
    wdt = np.float64 if not (aval(x).dtype.kind == "c" or aval(y).dtype.kind == "c") \
        else np.complex128
    xw = fnp.moveaxis(_pad_to(x, n, ax_x), ax_x, -1).astype(
        np.result_type(aval(x).dtype, wdt))
    detr = _detrend_func(detrend_, axis)
    winw = win if type(win) is Tracer or np.asarray(win).dtype.kind == "c" else \
        np.asarray(win, np.float64)
    sx = _spectra(xw, winw, detr, nperseg, step, nseg, nfft, return_onesided)
    if same:
        pxy = fnp.real(sx) ** 2 + fnp.imag(sx) ** 2
    else:
        yw = fnp.moveaxis(_pad_to(y, n, ax_y), ax_y, -1).astype(
            np.result_type(aval(y).dtype, wdt))
        sy = _spectra(yw, winw, detr, nperseg, step, nseg, nfft, return_onesided)
        pxy = fnp.conj(sx) * sy
    pxy = pxy * _scale(winw, fs, scaling)
    if return_onesided:
        double = np.full(aval(pxy).shape[-1], 2.0)
        double[0] = 1.0
        if nfft % 2 == 0:
            double[-1] = 1.0
        pxy = pxy * double
    if nseg > 1:
        if average == "median":
            bias = _median_bias(nseg)
            moved = fnp.moveaxis(pxy, -2, -1)
            if aval(pxy).dtype.kind == "c":
                pxy = (_median_last(fnp.real(moved))
                       + 1j * _median_last(fnp.imag(moved))) / bias
            else:
                pxy = _median_last(moved) / bias
        else:
            pxy = fnp.mean(pxy, -2)
    else:
        pxy = pxy[..., 0, :]
    pxy = fnp.moveaxis(pxy, -1, axis)
    if same:            # |X|^2, real already
        pxy = pxy.astype(np.empty(0, out_dtype).real.dtype)
    else:
        pxy = pxy.astype(out_dtype)
    return _freqs(nfft, fs, return_onesided), pxy


@scipy_function(_ss, "csd")
def csd(x, y, fs=1.0, window="hann_periodic", nperseg=None, noverlap=None, nfft=None,
        detrend="constant", return_onesided=True, scaling="density", axis=-1,
        average="mean"):
    """SciPy's ``scipy.signal.csd``: the cross power spectral density ``conj(X) Y``
    averaged over segments (Welch's method).  Returns ``(f, Pxy)``."""
    return _csd(x, y, fs, window, nperseg, noverlap, nfft, detrend, return_onesided,
                scaling, axis, average, same=y is x)


@scipy_function(_ss, "welch")
def welch(x, fs=1.0, window="hann_periodic", nperseg=None, noverlap=None, nfft=None,
          detrend="constant", return_onesided=True, scaling="density", axis=-1,
          average="mean"):
    """SciPy's ``scipy.signal.welch``: the power spectral density by Welch's method,
    ``csd(x, x)``'s real part.  Returns ``(f, Pxx)``."""
    return _csd(x, x, fs, window, nperseg, noverlap, nfft, detrend, return_onesided,
                scaling, axis, average, same=True)


# --- stft, istft --------------------------------------------------------------------------

_BOUNDARY = {"even": dict(mode="reflect"), "odd": dict(mode="reflect", reflect_type="odd"),
             "constant": dict(mode="edge"), "zeros": dict(mode="constant"), None: None}


@scipy_function(_ss, "stft")
def stft(x, fs=1.0, window="hann_periodic", nperseg=256, noverlap=None, nfft=None,
         detrend=False, return_onesided=True, boundary="zeros", padded=True, axis=-1,
         scaling="spectrum"):
    """SciPy's ``scipy.signal.stft``: the short-time Fourier transform.  Returns
    ``(f, t, Zxx)`` with ``Zxx`` of shape ``(..., len(f), len(t))`` along ``axis``."""
    if scaling == "psd":
        scaling = "density"
    elif scaling != "spectrum":
        raise FuncdiffValueError(f"Parameter scaling={scaling!r} not in ['spectrum', "
                                 "'psd']!")
    if boundary not in _BOUNDARY:
        raise FuncdiffValueError(f"Unknown boundary option '{boundary}', must be one of: "
                                 f"{list(_BOUNDARY)}")
    x = _arr(x)
    axis = int(axis)
    nd = aval(x).ndim
    out_dtype = np.result_type(aval(x).dtype, np.complex64)
    if aval(x).size == 0:
        raise FuncdiffValueError("stft of an empty array is not supported on traced values")
    x = fnp.moveaxis(x, canonical_axis(axis, nd), -1)
    n_in = aval(x).shape[-1]
    if nperseg is not None:
        nperseg = int(nperseg)
        if nperseg < 1:
            raise FuncdiffValueError("nperseg must be a positive integer")
    if isinstance(window, (str, tuple)):
        win, nperseg = _window_array(window, nperseg, n_in, "input length")
    else:
        win = _arr(window)
        if aval(win).ndim != 1:
            raise FuncdiffValueError("window must be 1-D")
        if n_in < aval(win).shape[0]:
            raise FuncdiffValueError("window is longer than input signal")
        if nperseg is not None and nperseg != aval(win).shape[0]:
            raise FuncdiffValueError("value specified for nperseg is different from "
                                     "length of window")
        nperseg = aval(win).shape[0]
    noverlap, nfft = _overlap_nfft(nperseg, noverlap, nfft)
    step = nperseg - noverlap
    ext = nperseg // 2
    if boundary is not None and ext >= 1:      # (nperseg <= n_in: the extension fits)
        widths = [(0, 0)] * (aval(x).ndim - 1) + [(ext, ext)]
        x = fnp.pad(x, widths, **_BOUNDARY[boundary])
    if padded:
        nadd = (-(aval(x).shape[-1] - nperseg) % step) % nperseg
        x = _pad_to(x, aval(x).shape[-1] + nadd, -1)
    length = aval(x).shape[-1]
    if np.result_type(aval(win).dtype, np.complex64) != out_dtype:
        win = win.astype(out_dtype)
    scale = fnp.sqrt(_scale(win, fs, scaling))
    onesided = return_onesided
    if onesided and aval(x).dtype.kind == "c":
        warnings.warn("Input data is complex, switching to return_onesided=False",
                      UserWarning, stacklevel=3)
        onesided = False
    nseg = (length - nperseg) // step + 1
    zxx = _spectra(x, win, _detrend_func(detrend, axis), nperseg, step, nseg, nfft,
                   onesided) * scale
    # (..., time, freq) -> the frequency axis where the signal's was, time last
    zxx = fnp.moveaxis(zxx.astype(out_dtype), -1, axis - 1 if axis < 0 else axis)
    time = np.arange(nperseg / 2, length - nperseg / 2 + 1, nperseg - noverlap)
    if boundary is not None:
        time = time - nperseg / 2
    return _freqs(nfft, fs, onesided), time / fs, zxx


def _nola_norm(win, nperseg, step, nseg):
    """The summed squared window at each output sample (NumPy when ``win`` is not
    traced)."""
    length = nperseg + (nseg - 1) * step
    idx = (np.arange(nseg)[:, None] * step + np.arange(nperseg)[None, :]).ravel()
    if type(win) is not Tracer:
        norm = np.zeros(length, np.asarray(win).dtype)
        np.add.at(norm, idx, np.tile(np.asarray(win) ** 2, nseg))
        return norm
    return fnp.zeros(length, aval(win).dtype).at[idx].add(fnp.tile(win * win, nseg))


@scipy_function(_ss, "istft")
def istft(Zxx, fs=1.0, window="hann_periodic", nperseg=None, noverlap=None, nfft=None,
          input_onesided=True, boundary=True, time_axis=-1, freq_axis=-2,
          scaling="spectrum"):
    """SciPy's ``scipy.signal.istft``: the inverse STFT by weighted overlap-add,
    divided by the summed squared window where it exceeds 1e-10 (a ``UserWarning``
    when it does not everywhere: the NOLA condition fails, as SciPy's).  Returns
    ``(t, x)``."""
    z = _arr(Zxx)
    z = z + 0j if aval(z).dtype.kind != "c" else z
    freq_axis, time_axis = int(freq_axis), int(time_axis)
    zn = aval(z).ndim
    if zn < 2:
        raise FuncdiffValueError("Input stft must be at least 2d!")
    if freq_axis == time_axis:
        raise FuncdiffValueError("Must specify differing time and frequency axes!")
    nseg = aval(z).shape[time_axis]
    n_default = 2 * (aval(z).shape[freq_axis] - 1) if input_onesided \
        else aval(z).shape[freq_axis]
    if nperseg is None:
        nperseg = n_default
    else:
        nperseg = int(nperseg)
        if nperseg < 1:
            raise FuncdiffValueError("nperseg must be a positive integer")
    if nfft is None:
        nfft = nperseg if input_onesided and nperseg == n_default + 1 else n_default
    elif nfft < nperseg:
        raise FuncdiffValueError("nfft must be greater than or equal to nperseg.")
    else:
        nfft = int(nfft)
    noverlap = nperseg // 2 if noverlap is None else int(noverlap)
    if noverlap >= nperseg:
        raise FuncdiffValueError("noverlap must be less than nperseg.")
    step = nperseg - noverlap
    if time_axis != zn - 1 or freq_axis != zn - 2:
        freq_axis = freq_axis % zn if freq_axis < 0 else freq_axis
        time_axis = time_axis % zn if time_axis < 0 else time_axis
        outer = [a for a in range(zn) if a not in (time_axis, freq_axis)]
        z = fnp.transpose(z, outer + [freq_axis, time_axis])
    if isinstance(window, (str, tuple)):
        win = _get_window(window, nperseg)
    else:
        win = _arr(window)
        if aval(win).ndim != 1:
            raise FuncdiffValueError("window must be 1-D")
        if aval(win).shape[0] != nperseg:
            raise FuncdiffValueError(f"window must have length of {nperseg}")
    xsubs = (_sfft.irfft(z, nfft, axis=-2) if input_onesided
             else _sfft.ifft(z, nfft, axis=-2))[..., :nperseg, :]
    xdt = aval(xsubs).dtype
    if np.result_type(aval(win).dtype, xdt) != xdt:
        win = win.astype(xdt)
    if scaling == "spectrum":
        xsubs = xsubs * fnp.sum(win)
    elif scaling == "psd":
        xsubs = xsubs * fnp.sqrt(fs * fnp.sum(win ** 2))
    else:
        raise FuncdiffValueError(f"Parameter scaling={scaling!r} not in ['spectrum', "
                                 "'psd']!")
    length = nperseg + (nseg - 1) * step
    idx = (np.arange(nseg)[:, None] * step + np.arange(nperseg)[None, :]).ravel()
    frames = fnp.moveaxis(xsubs, -1, -2) * win                   # (..., nseg, nperseg)
    lead = aval(frames).shape[:-2]
    frames = fnp.reshape(frames, lead + (nseg * nperseg,))
    x = fnp.zeros(lead + (length,), xdt).at[..., idx].add(frames)
    norm = _nola_norm(win, nperseg, step, nseg)
    if boundary:
        cut = slice(nperseg // 2, -(nperseg // 2))
        x, norm = x[..., cut], norm[cut]
    norm_v = known(norm)
    if norm_v is not None and np.sum(norm_v > 1e-10) != len(norm_v):
        warnings.warn("NOLA condition failed, STFT may not be invertible."
                      + (" Possibly due to missing boundary" if not boundary else ""),
                      UserWarning, stacklevel=2)
    x = x / fnp.where(norm > 1e-10, norm, 1.0)
    if input_onesided and aval(x).dtype.kind == "c":
        x = fnp.real(x)
    if aval(x).ndim > 1 and time_axis != zn - 1:
        if freq_axis < time_axis:
            time_axis -= 1
        x = fnp.moveaxis(x, -1, time_axis)
    return np.arange(aval(x).shape[0]) / fs, x

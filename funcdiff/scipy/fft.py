"""``funcdiff.scipy.fft``: SciPy's ``scipy.fft`` on values that trace -- the discrete
cosine transforms ``dct``/``idct``/``dctn``/``idctn`` (types 1-4), and the Fourier
transforms of ``funcdiff.numpy.fft`` with SciPy's signatures.

Outside transforms each function *is* SciPy's (when SciPy is importable; without it the
traced code runs on NumPy).  Inside, a DCT is a composition of ``funcdiff.numpy.fft``
transforms of twice the length (so it differentiates to any order, batches and
compiles): with ``N`` points along the axis, unnormalized as SciPy's ``norm=None``,

* type 1, ``x0 + (-1)^k x[N-1] + 2 sum_{j=1}^{N-2} x[j] cos(pi j k / (N-1))``: the real
  part of the ``rfft`` of the even extension ``[x, x[N-2:0:-1]]``;
* type 2, ``2 sum_j x[j] cos(pi k (2j+1) / 2N)``: ``2 Re(exp(-i pi k / 2N) rfft(x,
  2N)[k])``;
* type 3, ``x0 + 2 sum_{j>=1} x[j] cos(pi j (2k+1) / 2N)``: the real part of an
  unnormalized inverse FFT of length ``2N`` of ``c_j x[j] exp(i pi j / 2N)``;
* type 4, ``2 sum_j x[j] cos(pi (2j+1)(2k+1) / 4N)``: ``2 Re(exp(-i pi (2k+1) / 4N)
  fft(x exp(-i pi j / 2N), 2N)[k])``.

``norm`` scales by ``1/sqrt(L)`` (``'ortho'``) or ``1/L`` (``'forward'``), ``L = 2(N-1)``
for type 1 and ``2N`` otherwise; the inverses swap types 2 and 3 and the direction of
the norm, as SciPy's.  ``orthogonalize`` (default: ``norm == 'ortho'``) rescales the
first (and for type 1 the last) input or output element by ``sqrt(2)``, making the
matrix orthogonal.  Complex input is transformed as its real and imaginary parts
(where SciPy ignores ``orthogonalize``, so does funcdiff).  Dtypes are SciPy's: float16
computes in float32, integers and bools in float64, float32/complex64 stay single.
``overwrite_x``, ``workers`` (and ``plan``) are accepted and ignored under transforms.

The Fourier transforms delegate to ``funcdiff.numpy.fft`` (SciPy's ``s`` without
``axes`` means the last ``len(s)`` axes, without NumPy 2's deprecation warning; single
precision stays single on NumPy 1.x too, as in SciPy).
"""
from __future__ import annotations

import operator

import numpy as np

from .. import numpy as fnp
from ..core.errors import FuncdiffTypeError, FuncdiffValueError
from ..numpy import fft as _nfft
from ..numpy._core import aval, canonical_axis, cast, operand
from ..primitives import base as pb
from ..primitives import elementwise as ew
from ._fastpath import scipy_function

try:  # SciPy is optional at run time
    import scipy.fft as _sf  # type: ignore
except ImportError:  # pragma: no cover - exercised without SciPy
    _sf = None

__all__ = ["dct", "idct", "dctn", "idctn",
           "fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2",
           "irfft2", "rfftn", "irfftn", "hfft", "ihfft", "fftfreq", "rfftfreq",
           "fftshift", "ifftshift"]

_NORMS = {None: 0, "backward": 0, "ortho": 1, "forward": 2}
_SQRT2 = np.sqrt(2.0)


def _scipy(name):
    return scipy_function(_sf, name)


def _asfarray(x):
    """SciPy's ``_asfarray``: float16 computes in float32, non-floats in float64."""
    x = operand(x)
    dt = aval(x).dtype
    if dt == np.float16:
        return cast(x, np.float32)
    if dt.kind not in "fc":
        return cast(x, np.float64)
    return x


def _inorm(norm, forward):
    try:
        inorm = _NORMS[norm]
    except (KeyError, TypeError):
        raise FuncdiffValueError(f'Invalid norm value {norm!r}, should be "backward", '
                                 '"ortho" or "forward"') from None
    return inorm if forward else 2 - inorm


def _length(n):
    n = operator.index(n)
    if n < 1:
        raise FuncdiffValueError(f"invalid number of data points ({n}) specified")
    return n


def _check_type(type):
    if type not in (1, 2, 3, 4):
        raise FuncdiffValueError(f"invalid DCT type {type!r}: SciPy's DCTs are types 1, "
                                 "2, 3 and 4")


# --- the transforms along the last axis ---------------------------------------------------

def _dct_last(x, type, inorm, ortho):
    """Unnormalized DCT of a real ``x`` along its last axis, then SciPy's scaling."""
    n = aval(x).shape[-1]
    rdt = aval(x).dtype
    k = np.arange(n)
    if type == 1:
        if n < 2:
            raise FuncdiffValueError("a type-1 DCT needs at least 2 points along the axis "
                                     "(got 1); SciPy raises 'zero-length FFT requested'")
        ends = np.ones(n, rdt)
        ends[[0, -1]] = _SQRT2
        if ortho:
            x = x * ends
        ext = fnp.concatenate([x, fnp.flip(x[..., 1:n - 1], -1)], axis=-1)
        y = fnp.real(fnp.fft.rfft(ext))
        if ortho:
            y = y / ends
        big_l = 2 * (n - 1)
    elif type == 2:
        spec = fnp.fft.rfft(x, 2 * n)[..., :n]
        theta = np.pi * k / (2 * n)
        y = 2 * (fnp.real(spec) * np.cos(theta).astype(rdt)
                 + fnp.imag(spec) * np.sin(theta).astype(rdt))
        if ortho:
            first = np.ones(n, rdt)
            first[0] = 1 / _SQRT2
            y = y * first
        big_l = 2 * n
    elif type == 3:
        c = np.full(n, 2.0)
        c[0] = _SQRT2 if ortho else 1.0
        tw = (c * np.exp(1j * np.pi * k / (2 * n))).astype(np.result_type(rdt, np.complex64))
        y = fnp.real(fnp.fft.ifft(x * tw, 2 * n, norm="forward")[..., :n])
        big_l = 2 * n
    else:
        tw_in = np.exp(-1j * np.pi * k / (2 * n)).astype(np.result_type(rdt, np.complex64))
        tw_out = 2 * np.exp(-1j * np.pi * (2 * k + 1) / (4 * n)).astype(tw_in.dtype)
        y = fnp.real(fnp.fft.fft(x * tw_in, 2 * n)[..., :n] * tw_out)
        big_l = 2 * n
    if inorm == 1:
        y = y * rdt.type(1 / np.sqrt(big_l))
    elif inorm == 2:
        y = y * rdt.type(1 / big_l)
    return cast(y, rdt)          # (NumPy 1.x transforms single precision in double)


def _dct_axes(x, type, axes, inorm, orthogonalize):
    """The separable DCT of ``x`` (already cropped/padded) over ``axes``."""
    def real_part(r, ortho):
        for ax in axes:
            r = fnp.moveaxis(_dct_last(fnp.moveaxis(r, ax, -1), type, inorm, ortho), -1, ax)
        return r
    if aval(x).dtype.kind == "c":      # SciPy: real and imaginary parts, default ortho
        ortho = inorm == 1
        return pb.make_complex(real_part(ew.real(x), ortho), real_part(pb.imag(x), ortho))
    ortho = (inorm == 1) if orthogonalize is None else bool(orthogonalize)
    return real_part(x, ortho)


def _swap_type(type, forward):
    if forward:
        return type
    return {2: 3, 3: 2}.get(type, type)


def _r2r(forward, x, type, n, axis, norm, orthogonalize):
    _check_type(type)
    tmp = _asfarray(x)
    inorm = _inorm(norm, forward)
    ax = canonical_axis(axis, aval(tmp).ndim) if aval(tmp).ndim else None
    if ax is None:
        raise FuncdiffValueError("a DCT needs an array with at least one dimension "
                                 "(got a 0-d value)")
    if n is not None:
        tmp = _nfft._fit(tmp, ax, _length(n))
    elif aval(tmp).shape[ax] < 1:
        raise FuncdiffValueError(f"invalid number of data points ({aval(tmp).shape[ax]}) "
                                 "specified")
    return _dct_axes(tmp, _swap_type(type, forward), [ax], inorm, orthogonalize)


def _init_nd_shape_and_axes(shp, s, axes):
    """SciPy's ``_init_nd_shape_and_axes`` on a static shape."""
    nd = len(shp)
    if axes is not None:
        axes = [operator.index(a) for a in np.atleast_1d(axes)]
        axes = [a + nd if a < 0 else a for a in axes]
        if any(a >= nd or a < 0 for a in axes):
            raise FuncdiffValueError("axes exceeds dimensionality of input")
        if len(set(axes)) != len(axes):
            raise FuncdiffValueError("all axes must be unique")
    if s is not None:
        s = [operator.index(v) for v in np.atleast_1d(s)]
        if axes and len(axes) != len(s):
            raise FuncdiffValueError("when given, axes and shape arguments have to be of "
                                     "the same length")
        if axes is None:
            if len(s) > nd:
                raise FuncdiffValueError("shape requires more axes than are present")
            axes = list(range(nd - len(s), nd))
        s = [shp[a] if v == -1 else v for v, a in zip(s, axes)]
    elif axes is None:
        s, axes = list(shp), list(range(nd))
    else:
        s = [shp[a] for a in axes]
    if any(v < 1 for v in s):
        raise FuncdiffValueError(f"invalid number of data points ({s}) specified")
    return s, axes


def _r2rn(forward, x, type, s, axes, norm, orthogonalize):
    _check_type(type)
    tmp = _asfarray(x)
    s, axes = _init_nd_shape_and_axes(aval(tmp).shape, s, axes)
    if not axes:
        return x
    for ax, n in zip(axes, s):
        tmp = _nfft._fit(tmp, ax, n)
    return _dct_axes(tmp, _swap_type(type, forward), axes, _inorm(norm, forward),
                     orthogonalize)


@_scipy("dct")
def dct(x, type=2, n=None, axis=-1, norm=None, overwrite_x=False, workers=None,
        orthogonalize=None):
    """SciPy's ``scipy.fft.dct``: the discrete cosine transform of type 1-4 along
    ``axis``, cropped or zero-padded to ``n`` points (see the module docstring)."""
    return _r2r(True, x, type, n, axis, norm, orthogonalize)


@_scipy("idct")
def idct(x, type=2, n=None, axis=-1, norm=None, overwrite_x=False, workers=None,
         orthogonalize=None):
    """SciPy's ``scipy.fft.idct``: the inverse of ``dct`` (the DCT of the swapped type:
    2 and 3 exchange, with the norm's direction swapped)."""
    return _r2r(False, x, type, n, axis, norm, orthogonalize)


@_scipy("dctn")
def dctn(x, type=2, s=None, axes=None, norm=None, overwrite_x=False, workers=None, *,
         orthogonalize=None):
    """SciPy's ``scipy.fft.dctn``: ``dct`` over each of ``axes`` (all by default; ``s``
    without ``axes`` means the last ``len(s)``), cropped/padded to ``s``."""
    return _r2rn(True, x, type, s, axes, norm, orthogonalize)


@_scipy("idctn")
def idctn(x, type=2, s=None, axes=None, norm=None, overwrite_x=False, workers=None,
          orthogonalize=None):
    """SciPy's ``scipy.fft.idctn``: the inverse of ``dctn``."""
    return _r2rn(False, x, type, s, axes, norm, orthogonalize)


# --- the Fourier transforms, delegating to funcdiff.numpy.fft -----------------------------

def _no_plan(plan):
    if plan is not None:
        raise FuncdiffTypeError("scipy.fft: plan= is not supported on traced values "
                                "(pass plan=None)")


def _sp_dtype(x, kind):
    """The dtype SciPy returns for ``x`` (after ``_asfarray``): its precision, complex
    except for the real-output transforms."""
    dt = aval(x).dtype
    real = np.empty(0, dt).real.dtype
    return real if kind in ("irfft", "hfft") else np.result_type(real, np.complex64)


def _make_1d(kind):
    np_f = getattr(_nfft, kind)

    def f(x, n=None, axis=-1, norm=None, overwrite_x=False, workers=None, *, plan=None):
        _no_plan(plan)
        x = _asfarray(x)
        return cast(np_f(x, n, axis, norm), _sp_dtype(x, kind))
    f.__name__ = f.__qualname__ = kind
    f.__doc__ = (f"SciPy's ``scipy.fft.{kind}(x, n=None, axis=-1, norm=None, ...)``: "
                 f"``funcdiff.numpy.fft.{kind}`` with SciPy's keywords and dtypes.")
    return _scipy(kind)(f)


def _make_nd(kind, name, default_axes):
    np_f = getattr(_nfft, {"fft": "fftn", "ifft": "ifftn", "rfft": "rfftn",
                           "irfft": "irfftn"}[kind])

    def f(x, s=None, axes=default_axes, norm=None, overwrite_x=False, workers=None, *,
          plan=None):
        _no_plan(plan)
        x = _asfarray(x)
        if s is not None and axes is None:       # SciPy: the last len(s) axes
            s = list(np.atleast_1d(s))
            axes = list(range(-len(s), 0))
        return cast(np_f(x, s, axes, norm), _sp_dtype(x, kind))
    f.__name__ = f.__qualname__ = name
    f.__doc__ = (f"SciPy's ``scipy.fft.{name}(x, s=None, axes={default_axes}, norm=None, "
                 f"...)``: ``funcdiff.numpy.fft`` with SciPy's keywords and dtypes.")
    return _scipy(name)(f)


fft = _make_1d("fft")
ifft = _make_1d("ifft")
rfft = _make_1d("rfft")
irfft = _make_1d("irfft")
hfft = _make_1d("hfft")
ihfft = _make_1d("ihfft")
fftn = _make_nd("fft", "fftn", None)
ifftn = _make_nd("ifft", "ifftn", None)
rfftn = _make_nd("rfft", "rfftn", None)
irfftn = _make_nd("irfft", "irfftn", None)
fft2 = _make_nd("fft", "fft2", (-2, -1))
ifft2 = _make_nd("ifft", "ifft2", (-2, -1))
rfft2 = _make_nd("rfft", "rfft2", (-2, -1))
irfft2 = _make_nd("irfft", "irfft2", (-2, -1))


@_scipy("fftfreq")
def fftfreq(n, d=1.0, *, xp=None, device=None):
    """SciPy's ``scipy.fft.fftfreq`` (``funcdiff.numpy.fft.fftfreq``: a traced spacing
    ``d`` is differentiable)."""
    return _nfft.fftfreq(n, d)


@_scipy("rfftfreq")
def rfftfreq(n, d=1.0, *, xp=None, device=None):
    """SciPy's ``scipy.fft.rfftfreq`` (``funcdiff.numpy.fft.rfftfreq``)."""
    return _nfft.rfftfreq(n, d)


@_scipy("fftshift")
def fftshift(x, axes=None):
    """SciPy's ``scipy.fft.fftshift`` (a ``roll``)."""
    return _nfft.fftshift(x, axes)


@_scipy("ifftshift")
def ifftshift(x, axes=None):
    """SciPy's ``scipy.fft.ifftshift`` (a ``roll``)."""
    return _nfft.ifftshift(x, axes)


def __dir__():
    return sorted(__all__)

"""``funcdiff.numpy.fft``: NumPy's ``numpy.fft`` on values that trace.

Outside transforms each function *is* NumPy's.  Inside, every transform is one
``fft`` primitive (``funcdiff.primitives.fft``) over all its axes, preceded by the
cropping (``slice``) and zero-padding (``pad``) that NumPy's ``n``/``s`` ask for, so
all of them differentiate (forward and reverse, any order), vectorize and compile.
``fftshift``/``ifftshift`` are ``roll``; ``fftfreq``/``rfftfreq`` are plain helpers
(traced only through ``d``).

Semantics follow the installed NumPy exactly: the ``n``/``s``/``axis``/``axes``/``norm``
arguments (including NumPy 2's deprecation warnings for ``s`` without ``axes`` and for
``None`` in ``s``, ``-1`` in ``s`` meaning "the input's length", and repeated axes,
which transform an axis more than once), the error types and messages for bad
lengths, axes and norms, and the dtypes: what ``numpy.fft`` returns for each input
dtype is read off NumPy itself (NumPy 2 keeps single precision -- float32 and complex64
give complex64 -- while NumPy 1.x computes in double precision), and the input is cast
to that precision before the transform.  ``out=`` is not supported on traced values.

Derivatives use the transpose convention for complex values (``Re sum(ct * y)``
pairing, no conjugation), as the rest of funcdiff: see ``funcdiff.primitives.fft``
for the transposes of the real transforms (the transpose of ``rfft`` is not
``irfft``).
"""
from __future__ import annotations

import functools
import operator
import warnings

import numpy as np

from ..core.errors import FuncdiffTypeError
from ..primitives import base as pb, elementwise as ew
from ..primitives.fft import fft as _fft_bind, NORMS
from ..primitives.shape import pad, slice_
from ._core import aval, canonical_axis, implements, operand
from ._shape import roll

__all__ = ["fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2",
           "irfft2", "rfftn", "irfftn", "fftshift", "ifftshift", "fftfreq", "rfftfreq"]


# --- dtypes: as the installed NumPy computes them ---------------------------------------------

@functools.lru_cache(maxsize=None)
def _np_out_dtype(kind, dtype):
    """The dtype ``numpy.fft.<kind>`` returns for an input of ``dtype`` (raises NumPy's
    own TypeError for inputs it refuses, e.g. complex input to ``rfft``)."""
    if kind == "rfft" and dtype.kind == "c":   # NumPy 1.x dropped the imaginary part
        raise TypeError(f"`fft.rfft` and its n-d forms take real input, got {dtype} (as "
                        "NumPy 2 raises); pass x.real, or use fft for complex input")
    fn = {"fft": np.fft.fft, "ifft": np.fft.ifft, "rfft": np.fft.rfft,
          "irfft": np.fft.irfft}[kind]
    return fn(np.ones(2, dtype), n=2).dtype


def _real_of(dtype):
    return np.empty(0, dtype).real.dtype


def _compute_dtype(kind, dtype):
    """(dtype the primitive's operand is cast to, dtype NumPy returns)."""
    out = _np_out_dtype(kind, np.dtype(dtype))
    if kind in ("fft", "ifft"):
        return out, out
    if kind == "rfft":
        return _real_of(out), out
    # irfft: NumPy 2 returns float16 for float16 input; the transform runs in complex64
    return np.result_type(out, np.complex64), out


# --- argument handling (numpy/fft/_pocketfft.py) ----------------------------------------------

def _check_norm(norm):
    if norm is None:
        return "backward"
    if norm not in NORMS:
        raise ValueError(f'Invalid norm value {norm}; should be "backward",'
                         '"ortho" or "forward".')
    return norm


def _no_out(out):
    if out is not None:
        raise FuncdiffTypeError("`numpy.fft`: out= is not supported on traced values; "
                                "use the returned array")


def _length(n):
    n = operator.index(n)
    if n < 1:
        raise ValueError(f"Invalid number of FFT data points ({n}) specified.")
    return n


def _fit(x, axis, n):
    """Crop or zero-pad ``x`` along ``axis`` to length ``n`` (NumPy's ``n``)."""
    xa = aval(x)
    d = xa.shape[axis]
    if n < d:
        limit = list(xa.shape)
        limit[axis] = n
        x = slice_(x, (0,) * xa.ndim, limit)
    elif n > d:
        config = [(0, 0, 0)] * xa.ndim
        config[axis] = (0, n - d, 0)
        x = pad(x, np.zeros((), xa.dtype)[()], config)
    return x


def _cast(x, dtype):
    return x if aval(x).dtype == dtype else pb.convert_element_type(x, dtype=dtype)


def _transform(a, kind, axes, lengths, norm, irfft_n=None):
    """One ``fft`` eqn over the distinct ``axes`` (normalized), after cropping/padding
    the input to ``lengths`` (the input lengths the transform reads) and casting;
    ``irfft_n``: the output length of the halved axis of an irfft."""
    cdt, out_dt = _compute_dtype(kind, aval(a).dtype)
    for ax, n in zip(axes, lengths):     # crop before casting (less to convert)
        if n < aval(a).shape[ax]:
            a = _fit(a, ax, n)
    a = _cast(a, cdt)
    for ax, n in zip(axes, lengths):
        a = _fit(a, ax, n)
    logical = list(lengths)
    if kind == "irfft":
        logical[-1] = irfft_n
    out = _fft_bind(a, kind, axes, logical, norm)
    return _cast(out, out_dt)


def _one(a, n, axis, kind, norm):
    """NumPy's ``_raw_fft``: one 1-D transform."""
    nd = aval(a).ndim
    ax = canonical_axis(axis, nd)
    if kind == "irfft":
        return _irfft_group(a, [ax], [n], norm)
    return _transform(a, kind, [ax], [n], norm)


def _irfft_group(a, axes, s, norm):
    """irfft over the last of ``axes`` (output length ``s[-1]``), ifft over the others."""
    reads = list(s[:-1]) + [s[-1] // 2 + 1]
    return _transform(a, "irfft", axes, reads, norm, irfft_n=s[-1])


# --- 1-D transforms ---------------------------------------------------------------------------

def _default_n(a, n, axis, kind):
    shape = aval(a).shape
    if n is None:
        d = shape[axis]
        n = (d - 1) * 2 if kind == "irfft" else d
    return _length(n)


def _make_1d(kind, np_fn):
    @implements(np_fn)
    def f(a, n=None, axis=-1, norm=None, out=None):
        _no_out(out)
        a = operand(a)
        n = _default_n(a, n, axis, kind)
        return _one(a, n, axis, kind, _check_norm(norm))
    f.__name__ = f.__qualname__ = kind
    f.__doc__ = (f"NumPy's ``fft.{kind}(a, n=None, axis=-1, norm=None)``: cropping or "
                 "zero-padding to ``n``, then one transform.")
    f.traced.__name__ = kind
    return f


fft = _make_1d("fft", np.fft.fft)
ifft = _make_1d("ifft", np.fft.ifft)
rfft = _make_1d("rfft", np.fft.rfft)
irfft = _make_1d("irfft", np.fft.irfft)

# --- n-D transforms ---------------------------------------------------------------------------


def _cook_nd_args(shape, s, axes, invreal=False):
    """NumPy's ``_cook_nd_args`` on a static shape (same warnings and errors)."""
    if s is None:
        shapeless = True
        s = list(shape) if axes is None else list(np.take(shape, axes))
    else:
        shapeless = False
    s = list(s)
    if axes is None:
        if not shapeless:
            warnings.warn(
                "`axes` should not be `None` if `s` is not `None` (Deprecated in NumPy "
                "2.0). In a future version of NumPy, this will raise an error and `s[i]` "
                "will correspond to the size along the transformed axis specified by "
                "`axes[i]`. To retain current behaviour, pass a sequence [0, ..., k-1] "
                "to `axes` for an array of dimension k.", DeprecationWarning, stacklevel=4)
        axes = list(range(-len(s), 0))
    axes = list(axes)
    if len(s) != len(axes):
        raise ValueError("Shape and axes have different lengths.")
    if invreal and shapeless:
        s[-1] = (shape[axes[-1]] - 1) * 2
    if None in s:
        warnings.warn(
            "Passing an array containing `None` values to `s` is deprecated in NumPy 2.0 "
            "and will raise an error in a future version of NumPy. To use the default "
            "behaviour of the corresponding 1-D transform, pass the value matching the "
            "default for its `n` parameter. To use the default behaviour for every axis, "
            "the `s` argument can be omitted.", DeprecationWarning, stacklevel=4)
    s = [shape[a] if n == -1 else n for n, a in zip(s, axes)]
    return s, axes


def _nd(a, s, axes, kind, norm):
    """fftn / ifftn / rfftn / irfftn, following NumPy's loops; distinct axes become one
    ``fft`` eqn, repeated axes are transformed as often as NumPy does."""
    a = operand(a)
    norm = _check_norm(norm)
    shape = aval(a).shape
    s, axes = _cook_nd_args(shape, s, axes, invreal=kind == "irfft")
    if not axes:
        if kind in ("rfft", "irfft"):
            s[-1]   # NumPy's IndexError for an empty axes list  # noqa: B018
        return a
    nd = len(shape)
    norm_axes = [canonical_axis(ax, nd) for ax in axes]
    distinct = len(set(norm_axes)) == len(norm_axes)
    if kind in ("fft", "ifft"):
        if distinct:
            lengths = [_length(shape[ax] if n is None else n) for ax, n in zip(norm_axes, s)]
            return _transform(a, kind, norm_axes, lengths, norm)
        for ii in reversed(range(len(axes))):
            a = _one(a, _default_n(a, s[ii], axes[ii], kind), axes[ii], kind, norm)
        return a
    if kind == "rfft":
        if distinct:
            lengths = [_length(shape[ax] if n is None else n) for ax, n in zip(norm_axes, s)]
            return _transform(a, "rfft", norm_axes, lengths, norm)
        a = _one(a, _default_n(a, s[-1], axes[-1], "rfft"), axes[-1], "rfft", norm)
        for ii in range(len(axes) - 2, -1, -1):
            a = _one(a, _default_n(a, s[ii], axes[ii], "fft"), axes[ii], "fft", norm)
        return a
    # irfft
    if distinct:
        lengths = [_length(shape[ax] if n is None else n) for ax, n in
                   zip(norm_axes[:-1], s[:-1])]
        lengths.append(_length((shape[norm_axes[-1]] - 1) * 2 if s[-1] is None else s[-1]))
        return _irfft_group(a, norm_axes, lengths, norm)
    for ii in range(len(axes) - 1):
        a = _one(a, _default_n(a, s[ii], axes[ii], "ifft"), axes[ii], "ifft", norm)
    return _one(a, _default_n(a, s[-1], axes[-1], "irfft"), axes[-1], "irfft", norm)


def _make_nd(kind, np_fn, default_axes):
    @implements(np_fn)
    def f(a, s=None, axes=default_axes, norm=None, out=None):
        _no_out(out)
        return _nd(a, s, axes, kind, norm)
    name = np_fn.__name__
    f.__name__ = f.__qualname__ = f.traced.__name__ = name
    f.__doc__ = (f"NumPy's ``fft.{name}(a, s=None, axes={default_axes}, norm=None)``: "
                 "one transform over all the axes (cropping/zero-padding to ``s``).")
    return f


fftn = _make_nd("fft", np.fft.fftn, None)
ifftn = _make_nd("ifft", np.fft.ifftn, None)
rfftn = _make_nd("rfft", np.fft.rfftn, None)
irfftn = _make_nd("irfft", np.fft.irfftn, None)
fft2 = _make_nd("fft", np.fft.fft2, (-2, -1))
ifft2 = _make_nd("ifft", np.fft.ifft2, (-2, -1))
rfft2 = _make_nd("rfft", np.fft.rfft2, (-2, -1))
irfft2 = _make_nd("irfft", np.fft.irfft2, (-2, -1))

# --- shifts and frequencies --------------------------------------------------------------------


def _shift(x, axes, sign):
    x = operand(x)
    shape = aval(x).shape
    if axes is None:
        axes = tuple(range(len(shape)))
        shift = [sign * (dim // 2) for dim in shape]
    elif isinstance(axes, (int, np.integer)):
        shift = sign * (shape[axes] // 2)
    else:
        shift = [sign * (shape[ax] // 2) for ax in axes]
    return roll(x, shift, axes)


@implements(np.fft.fftshift)
def fftshift(x, axes=None):
    """NumPy's ``fft.fftshift``: the zero frequency moved to the centre (a ``roll``)."""
    return _shift(x, axes, 1)


@implements(np.fft.ifftshift)
def ifftshift(x, axes=None):
    """NumPy's ``fft.ifftshift``: the inverse of ``fftshift`` (a ``roll``)."""
    return _shift(x, axes, -1)


@implements(np.fft.fftfreq, numpy2_kwargs=("device",))
def fftfreq(n, d=1.0, device=None):
    """NumPy's ``fft.fftfreq``; a traced spacing ``d`` is differentiable."""
    n = operator.index(n)
    half = (n - 1) // 2 + 1                  # NumPy's integers 0 .. n/2, -n/2 .. -1
    results = np.concatenate([np.arange(half), np.arange(-(n // 2), 0)])
    return ew.mul(results.astype(np.int64), ew.div(1.0, ew.mul(n, operand(d))))


@implements(np.fft.rfftfreq, numpy2_kwargs=("device",))
def rfftfreq(n, d=1.0, device=None):
    """NumPy's ``fft.rfftfreq``; a traced spacing ``d`` is differentiable."""
    n = operator.index(n)
    results = np.arange(0, n // 2 + 1, dtype=int)
    return ew.mul(results, ew.div(1.0, ew.mul(n, operand(d))))


# --- Hermitian transforms -----------------------------------------------------------------------

_SWAP = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


@implements(np.fft.hfft)
def hfft(a, n=None, axis=-1, norm=None, out=None):
    """NumPy's ``fft.hfft``: the real spectrum of a Hermitian-symmetric signal given by
    its first half, ``irfft(conj(a), n, axis)`` with the norm's direction swapped."""
    _no_out(out)
    a = operand(a)
    if n is None:
        n = (aval(a).shape[canonical_axis(axis, aval(a).ndim)] - 1) * 2
    return irfft.traced(ew.conj(a), n, axis, norm=_SWAP[_check_norm(norm)])


@implements(np.fft.ihfft)
def ihfft(a, n=None, axis=-1, norm=None, out=None):
    """NumPy's ``fft.ihfft``: the inverse of ``hfft``, ``conj(rfft(a, n, axis))`` with
    the norm's direction swapped."""
    _no_out(out)
    a = operand(a)
    return ew.conj(rfft.traced(a, n, axis, norm=_SWAP[_check_norm(norm)]))


__all__ += ["hfft", "ihfft"]


def __dir__():
    return sorted(__all__)   # dir() shows the public names only

"""The one FFT primitive: ``fft`` with ``fft_type`` in {fft, ifft, rfft, irfft}.

``fft_p.bind(x, fft_type=, axes=, lengths=, norm=)`` transforms ``x`` over the distinct
axes ``axes`` (any positions, as ``numpy.fft.fftn``'s ``axes``; for the real transforms
the *last* entry is the halved axis), with NumPy's normalization ``norm`` in
{"backward", "ortho", "forward"}.  ``lengths`` are the logical transform lengths: the
input's lengths along ``axes`` for fft/ifft/rfft, the *output*'s for irfft (the input's
halved axis has ``lengths[-1] // 2 + 1`` entries; ``n`` is not recoverable from it).
Cropping and zero-padding (NumPy's ``n``/``s``) are ``slice``/``pad`` eqns made by
``funcdiff.numpy.fft``, so the primitive never changes a length other than the halving.

dtypes: fft/ifft take and give complex64/complex128 (and clongdouble); rfft takes the
real counterpart and gives complex; irfft takes complex and gives the real counterpart.
``funcdiff.numpy.fft`` casts operands first, exactly as the installed NumPy does.

All four are linear (over the reals; fft/ifft over the complex numbers too).  Transposes
follow the autodiff convention for complex values -- the *transpose*, not the adjoint
(no conjugation; the pairing is ``Re sum(ct * y)``, as in ``dot_general``):

* the DFT matrix is symmetric, so ``fft``'s transpose is ``fft`` (same norm), ``ifft``'s
  is ``ifft``;
* ``rfft(x) = fft(complex(x))[..., :m]`` with ``m = n // 2 + 1``: its transpose pads the
  cotangent with zeros back to ``n``, applies ``fft`` and takes the real part (the
  transpose of real -> complex is ``real``).  It is *not* ``irfft``;
* ``irfft(z)_j = Re(sum_k c_k z_k e^{2 pi i jk/n}) * scale`` where ``c_0 = 1``,
  ``c_k = 2`` for ``0 < k < n/2`` and ``c_{n/2} = 1`` for even ``n`` (the Hermitian
  completion counts every inner frequency twice; ``irfft`` ignores the imaginary parts
  of ``z_0`` and, for even ``n``, of ``z_{n/2}``).  Its transpose is therefore
  ``c * conj(rfft(ct))`` with the scale of ``rfft`` under the swapped norm
  (backward <-> forward): JAX's ``_irfft_transpose``.  With odd ``n`` there is no
  Nyquist entry and every ``k > 0`` gets ``c_k = 2``.

The jvp of each is the primitive applied to the tangent (``deflinear``).  Batching
shifts ``axes`` past the batch axis.  Cost: ``5 N log2 N`` flops per complex transform of
``N`` points (half that for the real ones), times the number of transforms.
"""
from __future__ import annotations

import math

import numpy as np

from .._np_compat import NUMPY2
from ..core.avals import ShapedArray
from ..core.errors import FuncdiffTypeError, ShapeError
from ..core.trace import Primitive
from .base import Zero, aval, conj, deflinear, instantiate, real, shift_axes
from .elementwise import mul
from .shape import pad

FFT_TYPES = ("fft", "ifft", "rfft", "irfft")
NORMS = ("backward", "ortho", "forward")
_SWAP_NORM = {"backward": "forward", "ortho": "ortho", "forward": "backward"}

fft_p = Primitive("fft")


def fft(x, fft_type, axes, lengths, norm="backward"):
    """Bind ``fft_p``; ``axes`` distinct and non-negative, ``lengths`` as described in
    the module docstring."""
    return fft_p.bind(x, fft_type=str(fft_type), axes=tuple(int(a) for a in axes),
                      lengths=tuple(int(n) for n in lengths), norm=str(norm))


def _complex_of(dtype):
    return np.result_type(dtype, np.complex64)


def _real_of(dtype):
    return np.empty(0, dtype).real.dtype


def _fft_impl(x, *, fft_type, axes, lengths, norm):
    x = np.asarray(x)
    if fft_type == "fft":
        out = np.fft.fftn(x, axes=axes, norm=norm)
        dtype = x.dtype
    elif fft_type == "ifft":
        out = np.fft.ifftn(x, axes=axes, norm=norm)
        dtype = x.dtype
    elif fft_type == "rfft":
        out = np.fft.rfftn(x, axes=axes, norm=norm)
        dtype = _complex_of(x.dtype)
    else:
        out = np.fft.irfftn(x, s=lengths, axes=axes, norm=norm)
        dtype = _real_of(x.dtype)
    # NumPy 1.x computes in double precision only: keep the operand's precision
    return out.astype(dtype, copy=False)


def _fft_abstract(x, *, fft_type, axes, lengths, norm):
    if fft_type not in FFT_TYPES:
        raise FuncdiffTypeError(f"`fft`: unknown fft_type {fft_type!r}; one of {FFT_TYPES}")
    if norm not in NORMS:
        raise FuncdiffTypeError(f"`fft`: unknown norm {norm!r}; one of {NORMS}")
    if not axes or len(set(axes)) != len(axes) or any(not 0 <= a < x.ndim for a in axes):
        raise ShapeError(f"`fft`: axes {axes} must be distinct axes of shape {x.shape}")
    if len(lengths) != len(axes) or any(n < 1 for n in lengths):
        raise ShapeError(f"`fft`: lengths {lengths} must be positive, one per axis {axes}")
    want_kind = "f" if fft_type == "rfft" else "c"
    if x.dtype.kind != want_kind or x.dtype == np.float16:
        raise FuncdiffTypeError(
            f"`fft` ({fft_type}): operand {x.str_short()} must be "
            f"{'real (float32/float64)' if want_kind == 'f' else 'complex'}; "
            "funcdiff.numpy.fft casts its inputs as NumPy does")
    expected = list(lengths)
    if fft_type == "irfft":
        expected[-1] = lengths[-1] // 2 + 1
    got = [x.shape[a] for a in axes]
    if got != expected:
        raise ShapeError(f"`fft` ({fft_type}): operand of shape {x.shape} has lengths "
                         f"{tuple(got)} along axes {axes}, expected {tuple(expected)}")
    shape = list(x.shape)
    if fft_type == "rfft":
        shape[axes[-1]] = lengths[-1] // 2 + 1
        return ShapedArray(tuple(shape), _complex_of(x.dtype))
    if fft_type == "irfft":
        shape[axes[-1]] = lengths[-1]
        return ShapedArray(tuple(shape), _real_of(x.dtype))
    return ShapedArray(x.shape, x.dtype)


def _irfft_mask(n, m, ndim, axis, dtype):
    """``c_k``: 1 for k = 0 (and k = n/2 when n is even), 2 for the other kept entries;
    shaped to broadcast along ``axis`` of an ``ndim``-d array."""
    c = np.full(m, 2, dtype)
    c[0] = 1
    if n % 2 == 0:
        c[-1] = 1
    shape = [1] * ndim
    shape[axis] = m
    return c.reshape(shape)


def _fft_transpose(ct, x, *, fft_type, axes, lengths, norm):
    if type(ct) is Zero:
        return [Zero(aval(x).strengthen())]
    ct = instantiate(ct)
    if fft_type in ("fft", "ifft"):
        return [fft(ct, fft_type, axes, lengths, norm)]
    cta = aval(ct)
    last = axes[-1]
    n = lengths[-1]
    if fft_type == "rfft":
        # rfft = slice . fft . (real -> complex): transposed in reverse order
        config = [(0, 0, 0)] * cta.ndim
        config[last] = (0, n - cta.shape[last], 0)
        full = pad(ct, np.zeros((), cta.dtype)[()], config)
        return [real(fft(full, "fft", axes, lengths, norm))]
    # irfft: c * conj(rfft(ct)) with the swapped normalization
    z = fft(ct, "rfft", axes, lengths, _SWAP_NORM[norm])
    m = n // 2 + 1
    return [mul(conj(z), _irfft_mask(n, m, cta.ndim, last, cta.dtype))]


def _fft_batch(args, dims, *, fft_type, axes, lengths, norm):
    (x,), (d,) = args, dims
    return fft(x, fft_type, shift_axes(axes, d), lengths, norm), d


def _fft_cost(avals_in, avals_out, *, fft_type, axes, lengths, norm):
    n = int(np.prod(lengths, dtype=np.int64))
    full = avals_out[0] if fft_type == "irfft" else avals_in[0]
    per = int(np.prod([full.shape[a] for a in axes], dtype=np.int64))
    count = full.size // per if per else 0
    flops = 5 * n * math.log2(n) * count if n > 1 else 0
    if fft_type in ("rfft", "irfft"):
        flops /= 2
    return {"flops": int(flops), "transcendentals": 0}


def _fft_emit(args, params, gen):
    fn = {"fft": "fftn", "ifft": "ifftn", "rfft": "rfftn", "irfft": "irfftn"}[
        params["fft_type"]]
    s = f"s={params['lengths']}, " if params["fft_type"] == "irfft" else ""
    expr = f"np.fft.{fn}({args[0]}, {s}axes={params['axes']}, norm={params['norm']!r})"
    if not NUMPY2:   # NumPy 1.x computes (and returns) double precision only
        expr += f".astype({gen.param(gen.eqn.outvars[0].aval.dtype)}, copy=False)"
    return expr


fft_p.impl = _fft_impl
fft_p.abstract_eval = _fft_abstract
deflinear(fft_p, _fft_transpose)
fft_p.batch = _fft_batch
fft_p.cost = _fft_cost
fft_p.emit = _fft_emit

__all__ = ["fft", "fft_p", "FFT_TYPES", "NORMS"]

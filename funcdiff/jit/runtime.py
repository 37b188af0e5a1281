"""Helpers the generated code calls (``_rt.*``): small functions for primitives whose
NumPy spelling is more than one expression."""
from __future__ import annotations

import numpy as np

from ..primitives.dot import _dot_impl
from ..primitives.shape import _pad_impl


def dot_general(x, y, dimension_numbers):
    return _dot_impl(x, y, dimension_numbers=dimension_numbers)


def pad(x, v, config):
    return _pad_impl(x, v, config=config)


def cumsum(x, axis, reverse):
    if reverse:
        return np.flip(np.cumsum(np.flip(x, axis), axis=axis, dtype=x.dtype), axis)
    return np.cumsum(x, axis=axis, dtype=x.dtype)


def cumprod(x, axis, reverse):
    if reverse:
        return np.flip(np.cumprod(np.flip(x, axis), axis=axis, dtype=x.dtype), axis)
    return np.cumprod(x, axis=axis, dtype=x.dtype)


def blocks(n, block, dtypes):
    """The block loop of blocked fusion (``passes/block.py``): for each block of
    ``range(n)`` yields ``(k, slice, buffers)``, k counting blocks from 0 and
    ``buffers`` one scratch array of ``block`` elements per dtype in ``dtypes``, cut to
    the length of the last, shorter block.  The buffers are allocated at each call of
    the generated function, so threads calling it at once never share them."""
    bufs = tuple(np.empty(block, d) for d in dtypes)
    full = n - n % block
    for k, i in enumerate(range(0, full, block)):
        yield k, slice(i, i + block), bufs
    if full < n:
        yield full // block, slice(full, n), tuple(b[:n - full] for b in bufs)


def copy_out(x):
    """Outputs that are inputs or constants are copied, so callers never share buffers
    with the compiled program."""
    return np.array(x, copy=True) if isinstance(x, np.ndarray) else x

"""Global switches (``funcdiff.config``).

* ``log_compiles``: log every (re)trace of a ``jit`` function with the reason -- which
  argument's shape, dtype or static value changed -- through the ``funcdiff`` logger.
* ``debug_nans``: raise at the first primitive that makes a NaN from NaN-free inputs.
  Also usable as a context manager: ``with funcdiff.config.debug_nans_enabled(): ...``.
* ``jit_cache_size``: entries kept per jitted function (least recently used dropped), and
  batched variants (one per batch size) ``vmap`` keeps of each of its programs.
* ``numexpr_fusion``: let ``jit`` fuse large float64 elementwise chains into numexpr
  expressions when numexpr is installed (the ``fast`` extra).
"""
from __future__ import annotations

import contextlib
import logging

from .core.debug import flags as _debug_flags

logger = logging.getLogger("funcdiff")


class _Config:
    """The global switches, ``funcdiff.config``.

    Attributes: ``log_compiles`` (log every jit (re)trace with the reason, through
    the ``funcdiff`` logger), ``debug_nans`` (raise at the first primitive that makes
    a NaN from NaN-free inputs), ``jit_cache_size`` (entries kept per jitted
    function), ``numexpr_fusion`` (let ``jit`` fuse large float64 elementwise chains
    into numexpr expressions when numexpr is installed).  ``debug_nans_enabled()``
    and ``logging_compiles()`` are context managers setting a switch for a block.

    Examples
    --------
    >>> with fd.config.debug_nans_enabled(), np.errstate(invalid="ignore"):
    ...     try:
    ...         fd.grad(lambda x: fnp.sum(fnp.log(x)))(np.array([-1.0]))
    ...     except FloatingPointError:
    ...         print("NaN caught")
    NaN caught
    >>> print(fd.config.debug_nans, fd.config.jit_cache_size)
    False 64

    See Also
    --------
    funcdiff.jit : the cache and compiles these switches concern.
    """
    def __init__(self):
        self.log_compiles = False
        self.jit_cache_size = 64
        self.numexpr_fusion = True   # fuse large float64 elementwise chains (if installed)

    @property
    def debug_nans(self):
        return _debug_flags.nans

    @debug_nans.setter
    def debug_nans(self, value):
        _debug_flags.nans = bool(value)

    @contextlib.contextmanager
    def debug_nans_enabled(self, value=True):
        prev = self.debug_nans
        self.debug_nans = value
        try:
            yield
        finally:
            self.debug_nans = prev

    @contextlib.contextmanager
    def logging_compiles(self, value=True):
        prev = self.log_compiles
        self.log_compiles = value
        try:
            yield
        finally:
            self.log_compiles = prev


config = _Config()

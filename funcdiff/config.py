"""Global switches (``funcdiff.config``).

* ``log_compiles``: log every (re)trace of a ``jit`` function with the reason -- which
  argument's shape, dtype or static value changed -- through the ``funcdiff`` logger.
* ``debug_nans``: raise at the first primitive that makes a NaN from NaN-free inputs.
  Also usable as a context manager: ``with funcdiff.config.debug_nans_enabled(): ...``.
* ``retrace_warning_threshold``: a ``jit`` function that traces more often than this
  warns once (``RetraceWarning``), naming the argument that keeps changing.
* ``compile_log_seconds``: a ``jit`` trace and compile slower than this is logged
  (warning level) through the ``funcdiff`` logger.
* ``jit_cache_size``: entries kept per jitted function (least recently used dropped), and
  batched variants (one per batch size) ``vmap`` keeps of each of its programs.
* ``numexpr_fusion``: let ``jit`` fuse large float64 elementwise chains into numexpr
  expressions when numexpr is installed (the ``fast`` extra).
* ``blocked_fusion``: let ``jit`` run groups of elementwise operations (ending in an
  optional full reduction) over arrays of at least ``blocked_fusion_min_size`` elements
  as a loop over blocks of ``blocked_fusion_block_size`` elements, so intermediates
  stay in cache (docs/jit.md).
* ``traceback_filtering``: ``"on"`` (the default) removes funcdiff's internal frames from
  the tracebacks of errors raised through its transforms; ``"off"`` shows every frame.
  The environment variable ``FUNCDIFF_TRACEBACK_FILTERING`` sets the starting value.

Set a switch as an attribute or, as in JAX, with ``config.update(name, value)``.
"""
from __future__ import annotations

import contextlib
import logging

from .core.debug import flags as _debug_flags
from .core.errors import FuncdiffValueError
from .core.tracebacks import MODES as _TB_MODES, flags as _tb_flags

logger = logging.getLogger("funcdiff")


class _Config:
    """The global switches, ``funcdiff.config``.

    Attributes: ``log_compiles`` (log every jit (re)trace with the reason, through
    the ``funcdiff`` logger), ``debug_nans`` (raise at the first primitive that makes
    a NaN from NaN-free inputs), ``jit_cache_size`` (entries kept per jitted
    function), ``numexpr_fusion`` (let ``jit`` fuse large float64 elementwise chains
    into numexpr expressions when numexpr is installed), ``blocked_fusion``,
    ``blocked_fusion_min_size`` and ``blocked_fusion_block_size`` (``jit``'s
    cache-blocked loops over large elementwise groups: on/off, from how many
    elements, in blocks of how many).  ``debug_nans_enabled()``
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
        self.retrace_warning_threshold = 8
        self.compile_log_seconds = 1.0
        self.numexpr_fusion = True   # fuse large float64 elementwise chains (if installed)
        self.blocked_fusion = True   # cache-blocked loops for large elementwise groups
        # measured (benchmarks/bench_blocked.py): below ~64k elements the operands and
        # temporaries fit in L2 anyway and the loop's per-block calls cost more than
        # they save; 8,192 float64 elements (64 kB) a block kept several scratch
        # buffers in L2 and the per-call overhead under 2%
        self._blocked_fusion_min_size = 1 << 16
        self._blocked_fusion_block_size = 8192

    @property
    def blocked_fusion_min_size(self):
        return self._blocked_fusion_min_size

    @blocked_fusion_min_size.setter
    def blocked_fusion_min_size(self, value):
        self._blocked_fusion_min_size = _positive_int("blocked_fusion_min_size", value, 0)

    @property
    def blocked_fusion_block_size(self):
        return self._blocked_fusion_block_size

    @blocked_fusion_block_size.setter
    def blocked_fusion_block_size(self, value):
        self._blocked_fusion_block_size = _positive_int("blocked_fusion_block_size", value, 1)

    @property
    def debug_nans(self):
        return _debug_flags.nans

    @debug_nans.setter
    def debug_nans(self, value):
        _debug_flags.nans = bool(value)

    @property
    def traceback_filtering(self):
        return _tb_flags.mode

    @traceback_filtering.setter
    def traceback_filtering(self, value):
        if value not in _TB_MODES:
            raise FuncdiffValueError(
                f"config.traceback_filtering must be one of {_TB_MODES}, got {value!r}")
        _tb_flags.mode = value

    def update(self, name, value):
        """Set switch ``name`` to ``value`` (JAX's spelling of ``config.name = value``)."""
        if name not in _SWITCHES:
            raise FuncdiffValueError(
                f"config.update: unknown switch {name!r}; the switches are "
                f"{', '.join(_SWITCHES)}")
        setattr(self, name, value)

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


def _positive_int(name, value, least):
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise FuncdiffValueError(
            f"config.{name} must be an int >= {least} (a number of array elements), got "
            f"{value!r}")
    return value


config = _Config()
_SWITCHES = ("log_compiles", "debug_nans", "jit_cache_size", "numexpr_fusion",
             "traceback_filtering", "retrace_warning_threshold", "compile_log_seconds",
             "blocked_fusion", "blocked_fusion_min_size", "blocked_fusion_block_size")

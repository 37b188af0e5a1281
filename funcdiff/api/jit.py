"""``jit(f)``: trace once per input signature, optimize, generate NumPy code, cache it.

Key = (pytree structure, avals including weak types, static argument values keyed by
type and exact value, ``core.ir.value_key``).  On a
miss the function is traced abstractly, the jaxpr runs through the pass pipeline
(``funcdiff.jit.passes``) and ``codegen`` turns it into a Python function.  Under another
transform a jitted function binds ``jit_call``, a call primitive holding its jaxpr, so
``grad(jit(f))``, ``jit(grad(f))`` and ``jit(jit(f))`` all compose.
"""
from __future__ import annotations

import functools
import itertools
import threading
import time
import warnings
from collections import OrderedDict, namedtuple
from typing import Any, Callable, Sequence

import numpy as np

from ..analysis.cost import jaxpr_cost
from ..config import config, logger
from ..core import arraylib
from ..core.debug import check_compiled, flags as debug_flags
from ..core.errors import FuncdiffTypeError, FuncdiffValueError, RetraceWarning
from ..core.ir import ExactKey, closure_convert
from ..core.trace import Tracer, relaxed_gc, state, trace_active, trace_flat
from ..core.tracebacks import api_boundary, reraise_filtered
from ..higher_order.call import jit_call_p
from ..jit.codegen import compile_jaxpr
from ..jit.passes import lower as _lower_passes, optimize
from ..tree_util import tree_flatten, tree_structure, tree_unflatten
from ._flat import (arg_names, call_leaf_paths, flatten_fun, leaf_aval, leaf_operands,
                    to_output)
from .autodiff import make_jaxpr

CacheInfo = namedtuple("CacheInfo", "hits misses entries maxsize")
_PY_SCALARS = (bool, int, float, complex)
_LEAF_TREE = tree_structure(0)

class _Entry:
    __slots__ = ("closed", "out_tree", "fn", "source", "optimized", "has_tracer_consts",
                 "call", "trace_seconds", "foreign")


class Lowered:
    """A program staged for given arguments: what ``jit(f).lower(*args)`` returns.

    Holds the optimized IR (``.jaxpr``), the generated NumPy source (``.as_text()``,
    also ``.source``), its cost analysis (``.cost_analysis()``) and the compiled
    function (``.compile()``), without running anything.

    Parameters
    ----------
    entry : object
        The jit cache entry (internal); create one with ``jit(f).lower(*args)``.

    Examples
    --------
    >>> lowered = fd.jit(lambda x: fnp.sin(x) * 2.0).lower(np.ones(3))
    >>> print(lowered.source)
    def jit__lambda_(a0):
        t0 = np.sin(a0)  # ...
        del a0
        t1 = t0 * 2.0  # ...
        del t0
        return [t1]
    >>> print(lowered.cost_analysis()["flops"])
    6

    See Also
    --------
    jit : the transform.
    cost_analysis : the same analysis for any function.
    """

    def __init__(self, entry, key=None, name="fun", array_kind=None):
        self._entry = entry
        self._key = key
        self._name = name
        self._kind = array_kind   # another library's array type (Dask ...): its program

    @property
    def jaxpr(self):
        return self._entry.optimized

    @property
    def source(self):
        if self._kind is not None:
            return self._entry.foreign[self._kind][1]
        return self._entry.source

    def as_text(self):
        """The NumPy source ``jit`` generated for these argument types.

        Examples
        --------
        >>> import numpy as np, funcdiff as fd
        >>> print(fd.jit(lambda x: x * 2.0).lower(np.ones(3)).as_text())  # doctest: +ELLIPSIS
        def ...
        """
        return self.source

    def compile(self):
        """The compiled program: ``Compiled``, called with the (non-static) arguments
        it was lowered for; other shapes or dtypes are an error, not a retrace.

        Examples
        --------
        >>> import numpy as np, funcdiff as fd
        >>> run = fd.jit(lambda x: x * 2.0).lower(np.ones(3)).compile()
        >>> run(np.arange(3.0))
        array([0., 2., 4.])
        """
        return Compiled(self._entry, self._key, self._name)

    def cost_analysis(self):
        return jaxpr_cost(self._entry.optimized, saved_from=self._entry.closed)

    def __repr__(self):
        return f"Lowered({self._name}, n_eqns={len(self.jaxpr.eqns)})"


class Compiled:
    """What ``Lowered.compile()`` returns: the generated function for one input
    signature.  Call it with the arguments ``lower`` saw, static ones left out."""

    def __init__(self, entry, key, name):
        self._entry, self._key, self._name = entry, key, name

    def as_text(self):
        """The generated NumPy source."""
        return self._entry.source

    def cost_analysis(self):
        return jaxpr_cost(self._entry.optimized, saved_from=self._entry.closed)

    @api_boundary
    def __call__(self, *args, **kwargs):
        in_tree, avals = self._key[0], self._key[1]
        leaves, tree = tree_flatten((args, kwargs))
        if trace_active() or any(type(x) is Tracer for x in leaves):
            raise FuncdiffTypeError(
                f"Compiled({self._name}) was called on traced values (inside grad, vmap or "
                "jit); a compiled program runs on arrays only.  Call the jitted function "
                "instead: it composes with every transform.")
        leaves = leaf_operands(leaves, lambda: call_leaf_paths(
            tree.children[0], [f"args[{i}]" for i in range(len(args))], tree.children[1]))
        got = tuple(leaf_aval(x) for x in leaves)
        if tree != in_tree or got != avals:
            raise FuncdiffTypeError(
                f"Compiled({self._name}) was compiled for arguments {in_tree} with types "
                f"{', '.join(a.str_short() for a in avals) or 'none'} but was called with "
                f"{tree} of types {', '.join(a.str_short() for a in got) or 'none'}.  "
                "Pass arguments of the lowered types (static arguments left out), or call "
                "the jitted function, which compiles once per signature.")
        fn = self._entry.fn if not arraylib.state.active else \
            _program_for(self._entry, leaves, self._name)
        outs = [to_output(o) for o in fn(*leaves)]
        return tree_unflatten(self._entry.out_tree, outs)

    def __repr__(self):
        return f"Compiled({self._name})"


_relaxed_gc = relaxed_gc   # (one shared switch: core.trace's)


def _program_for(entry, leaves, name):
    """The compiled function of ``entry`` (compiled already) for the array library of
    ``leaves`` (or of the function's constants): the NumPy program, or code computing
    lazily on Dask arrays, through the namespace on array-API arrays, compiled once per
    array type."""
    kind = arraylib.array_kind(leaves) or arraylib.array_kind(entry.closed.consts)
    if kind is None:
        return entry.fn
    if kind not in entry.foreign:
        # (no numexpr fusion: numexpr computes on NumPy arrays only)
        entry.foreign.setdefault(kind, compile_jaxpr(optimize(entry.closed), name,
                                                     array_kind=kind))
    return entry.foreign[kind][0]


def _static_key(v, what):
    """A static argument as part of the cache key: keyed by type and exact value
    (``ExactKey``), so ``1``, ``1.0`` and ``True``, or ``0.0`` and ``-0.0``, which compare
    equal but make NumPy compute different results, each get their own trace."""
    try:
        hash(v)
    except TypeError:
        t = type(v)
        fix = ("Pass a tuple instead of a list" if isinstance(v, list) else
               "Pass a frozenset instead of a set" if isinstance(v, set) else
               "Pass it as a regular (traced) argument instead: a dict is a pytree, its "
               "array leaves are traced; or pass a tuple of (key, value) pairs" if
               isinstance(v, dict) else
               "Pass it as a regular (traced) argument instead (arrays are traced), or a "
               "tuple of Python numbers" if isinstance(v, np.ndarray) else
               f"Make {t.__name__} hashable (a frozen dataclass), or pass it as a regular "
               "(traced) argument")
        raise FuncdiffTypeError(
            f"jit: static argument {what} has unhashable type {t.__name__}; static "
            f"arguments are cache keys, so they must be hashable.  {fix}.") from None
    return ExactKey(v)


class JittedFunction:
    """A function compiled by ``jit``: call it like the original.

    It traces ``fun`` once per input signature (pytree structure, shapes, dtypes,
    static argument values), compiles the program to NumPy code and caches it.

    Parameters
    ----------
    fun : callable
        The function to compile.
    static_argnums : int or sequence of int, default ()
        Positional arguments that are Python values (hashable), part of the cache key.
    static_argnames : str or sequence of str, default ()
        The same for keyword arguments.

    Examples
    --------
    >>> f = fd.jit(lambda x: x * 2.0)
    >>> print(f(np.arange(3.0)), f.cache_info().misses)
    [0. 2. 4.] 1

    See Also
    --------
    jit : creates it.
    Lowered : what ``.lower(*args)`` returns.
    """

    def __init__(self, fun, static_argnums=(), static_argnames=(), donate_argnums=(),
                 donate_argnames=()):
        functools.update_wrapper(self, fun)
        if not hasattr(self, "__name__"):   # functools.partial, callable objects
            self.__name__ = getattr(type(fun), "__name__", "fun")
        self._fun = fun
        self._static_argnums = (static_argnums,) if isinstance(static_argnums, int) \
            else tuple(static_argnums)
        self._static_argnames = (static_argnames,) if isinstance(static_argnames, str) \
            else tuple(static_argnames)
        self._donate_argnums, self._donate_argnames = _check_donation(
            self.__name__, donate_argnums, donate_argnames, self._static_argnums,
            self._static_argnames)
        self._cache: OrderedDict = OrderedDict()
        self._hits = self._misses = 0
        self._lock = threading.RLock()
        self._last_key = None
        self._retrace_warned = False
        # Fast path for repeated calls: (signature, compiled fn, out tree) of the last
        # eager call whose arguments were plain arrays/scalars (no pytrees, statics or
        # keywords); a call matching the signature skips flattening, the key and the
        # lock.  Its hits are counted lock-free; its LRU touch is applied at the next
        # slow-path call.
        self._fast = None
        self._fast_key = None
        self._fast_used = False
        self._fast_hits = itertools.count()

    # -- signature --------------------------------------------------------------------
    def _split(self, args, kwargs):
        n = len(args)
        nums = tuple(i % n if -n <= i < n else i for i in self._static_argnums)
        for i in nums:
            if not 0 <= i < n:
                raise FuncdiffValueError(
                    f"jit({self.__name__}): static_argnums={self._static_argnums} but the "
                    f"function was called with {n} positional argument(s).  static_argnums "
                    "counts positional arguments from 0; pass static arguments "
                    "positionally (or name keyword ones in static_argnames).")
        static = tuple((i, _static_key(args[i], f"#{i}")) for i in sorted(nums))
        static_kw = tuple(sorted((k, _static_key(v, repr(k))) for k, v in kwargs.items()
                                 if k in self._static_argnames))
        dyn = tuple(a for i, a in enumerate(args) if i not in nums)
        dyn_kw = {k: v for k, v in kwargs.items() if k not in self._static_argnames}
        leaves, in_tree = tree_flatten((dyn, dyn_kw))
        leaves = leaf_operands(leaves, lambda: call_leaf_paths(
            in_tree.children[0], arg_names(self._fun, [i for i in range(n) if i not in nums]),
            in_tree.children[1]))
        avals = tuple(leaf_aval(x) for x in leaves)
        return (in_tree, avals, static, static_kw), leaves, n

    # -- tracing and compiling ----------------------------------------------------------
    def _trace(self, key, nargs):
        in_tree, avals, static, static_kw = key
        static_d = {i: k.value for i, k in static}
        static_kw_d = {name: k.value for name, k in static_kw}
        fun = self._fun

        def g(dyn, dyn_kw):
            it = iter(dyn)
            full = [static_d[i] if i in static_d else next(it) for i in range(nargs)]
            return fun(*full, **dyn_kw, **static_kw_d)

        flat_f, store = flatten_fun(lambda pair_dyn, pair_kw: g(pair_dyn, pair_kw),
                                    in_tree)
        t0 = time.perf_counter()
        with _relaxed_gc:
            closed, _, _ = trace_flat(flat_f, list(avals), kind="jit")
        entry = _Entry()
        entry.trace_seconds = time.perf_counter() - t0
        entry.closed = closed
        entry.out_tree = store["out_tree"]
        entry.has_tracer_consts = any(type(c) is Tracer for c in closed.consts)
        entry.fn = entry.source = entry.optimized = entry.call = None
        entry.foreign = {}   # array type (Dask, torch ...) -> (fn, source) for it
        return entry

    def _compile(self, entry):
        if entry.fn is None:
            t0 = time.perf_counter()
            with _relaxed_gc:
                entry.optimized = _lower_passes(entry.closed)
                entry.fn, entry.source = compile_jaxpr(entry.optimized, self.__name__)
            seconds = time.perf_counter() - t0
            if entry.trace_seconds + seconds > config.compile_log_seconds:
                logger.warning(
                    "jit(%s): tracing and compiling took %.1f s (tracing %.1f s, optimizing "
                    "and generating code %.1f s) for %d eqns (%d after optimization)",
                    self.__name__, entry.trace_seconds + seconds, entry.trace_seconds,
                    seconds, len(entry.closed.jaxpr.eqns), len(entry.optimized.jaxpr.eqns))
        return entry

    def _lookup(self, key, nargs):
        with self._lock:
            entry = self._cache.get(key)
            if entry is not None:
                self._hits += 1
                self._cache.move_to_end(key)
                return entry
            self._misses += 1
            if config.log_compiles or (self._misses > config.retrace_warning_threshold
                                       and not self._retrace_warned):
                self._report_retrace(key, nargs)
            self._last_key = key
        # Trace without holding the lock: tracing runs user code, which may call other
        # jitted functions; holding locks across it deadlocks two threads whose jitted
        # functions call each other.  Two threads missing at once both trace; the first
        # entry stored wins.
        entry = self._trace(key, nargs)
        with self._lock:
            first = self._cache.get(key)
            if first is not None:
                return first
            if not entry.has_tracer_consts:
                self._cache[key] = entry
                while len(self._cache) > config.jit_cache_size:
                    self._cache.popitem(last=False)
            return entry

    # -- calling -------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        try:
            fast = self._fast
            if fast is not None and not kwargs:
                n, sig, fn, out_leaf, out_tree = fast
                if len(args) == n:
                    if n == 1:   # the common case, spelled out
                        a = args[0]
                        t, shape, dtype = sig[0]
                        ok = type(a) is t and (shape is None or (
                            a.shape == shape and a.dtype == dtype))
                    else:
                        ok = _signature_matches(args, sig)
                    if ok and not state.stack and not debug_flags.nans:
                        next(self._fast_hits)
                        self._fast_used = True
                        outs = fn(*args)
                        if out_leaf:
                            o = outs[0]
                            return o if type(o) is np.ndarray else to_output(o)
                        return tree_unflatten(out_tree, [to_output(o) for o in outs])
            if self._fast_used:
                self._touch_fast()
            key, leaves, nargs = self._split(args, kwargs)
            entry = self._lookup(key, nargs)
            if trace_active() or any(type(x) is Tracer for x in leaves):
                # one call jaxpr per entry: caches keyed by it (the compiled code of the
                # jit_call impl, vmap's batched sub-jaxprs) then hit on every call
                if entry.call is None:
                    entry.call = closure_convert(entry.closed)
                jaxpr, consts = entry.call
                outs = jit_call_p.bind(*consts, *leaves, jaxpr=jaxpr, name=self.__name__)
            else:
                with self._lock:
                    self._compile(entry)
                    self._update_fast(key, entry, args, kwargs)
                    fn = entry.fn if not arraylib.state.active else \
                        _program_for(entry, leaves, self.__name__)
                outs = [to_output(o) for o in fn(*leaves)]
                if debug_flags.nans:   # re-run op by op to name the op that made a NaN
                    check_compiled(outs, entry.closed.jaxpr, entry.closed.consts, leaves,
                                   f"jit({self.__name__})")
            return tree_unflatten(entry.out_tree, outs)
        except Exception as e:   # (inline, not api_boundary: no extra frame per call)
            raise reraise_filtered(e)

    def _report_retrace(self, key, nargs):
        """(Under the lock, at a cache miss.)  Log the reason with ``log_compiles``; past
        the threshold, warn once (``RetraceWarning``) naming what changes and the fix."""
        nums = {i % nargs if -nargs <= i < nargs else i for i in self._static_argnums}
        dyn_names = arg_names(self._fun, [i for i in range(nargs) if i not in nums])

        def name_leaves(k):
            return call_leaf_paths(k[0].children[0], dyn_names, k[0].children[1])

        why, kinds = _explain(self._last_key, key, name_leaves,
                              lambda i: arg_names(self._fun, [i])[0])
        if config.log_compiles:
            logger.warning("jit(%s): tracing %s", self.__name__, why)
        if self._misses > config.retrace_warning_threshold and not self._retrace_warned \
                and self._last_key is not None:
            self._retrace_warned = True
            fixes = "; ".join(_RETRACE_FIXES[k] for k in sorted(kinds))
            warnings.warn(RetraceWarning(
                f"jit({self.__name__}) has traced and compiled {self._misses} times (more "
                f"than funcdiff.config.retrace_warning_threshold="
                f"{config.retrace_warning_threshold}); the last time {why}.  Each new "
                f"signature costs a trace and a compile.  To fix: {fixes}."), stacklevel=4)

    def __repr__(self):
        info = self.cache_info()
        return (f"<jit({self.__name__}) {getattr(self._fun, '__module__', None)}."
                f"{getattr(self._fun, '__qualname__', self.__name__)}: "
                f"{info.entries} compiled signature(s), {info.hits} hit(s), "
                f"{info.misses} miss(es)>")

    def _touch_fast(self):
        """Apply the fast path's pending LRU touch (before any slow-path lookup)."""
        with self._lock:
            self._fast_used = False
            if self._fast_key is not None and self._fast_key in self._cache:
                self._cache.move_to_end(self._fast_key)

    def _update_fast(self, key, entry, args, kwargs):
        """(Under the lock, after an eager slow-path call.)  Point the fast path at this
        entry when the call qualifies; drop it when its entry has left the cache."""
        if self._fast is not None and self._fast_key not in self._cache:
            self._fast = self._fast_key = None
        if kwargs or self._static_argnums or self._static_argnames or \
                self._cache.get(key) is not entry:
            return
        sig = []
        for a in args:
            t = type(a)
            if t is np.ndarray or isinstance(a, np.generic):
                sig.append((t, a.shape, a.dtype))
            elif t in _PY_SCALARS:
                sig.append((t, None, None))   # a Python scalar's aval is its type's
            else:
                return                        # pytrees, array-likes: slow path
        out_tree = entry.out_tree
        self._fast = (len(sig), tuple(sig), entry.fn, out_tree == _LEAF_TREE, out_tree)
        self._fast_key = key

    @api_boundary
    def lower(self, *args: Any, **kwargs: Any) -> Lowered:
        """Stage the program for these arguments, without running it.

        Parameters
        ----------
        *args, **kwargs : Any
            Arguments like the ones the function will be called with.

        Returns
        -------
        Lowered
            The optimized IR (``.jaxpr``), generated source (``.source``) and
            ``.cost_analysis()``.

        Examples
        --------
        >>> print(fd.jit(lambda x: x + 1.0).lower(np.ones(2)).jaxpr)
        { lambda ; a:f64[2]. let
            b:f64[2] = add a 1.0
          in (b,) }
        """
        key, leaves, nargs = self._split(args, kwargs)
        entry = self._lookup(key, nargs)
        kind = None
        if arraylib.state.active:   # another library's arrays: the program for them
            kind = arraylib.array_kind(leaves) or arraylib.array_kind(entry.closed.consts)
        with self._lock:
            self._compile(entry)
            if kind is not None:
                _program_for(entry, leaves, self.__name__)
        return Lowered(entry, key, self.__name__, kind)

    def cache_info(self) -> CacheInfo:
        """The cache statistics: ``CacheInfo(hits, misses, entries, maxsize)``.

        Returns
        -------
        CacheInfo
            A named tuple; ``misses`` counts traces (one per new signature).

        Examples
        --------
        >>> f = fd.jit(lambda x: x * 2.0)
        >>> _ = f(np.ones(2)), f(np.ones(2)), f(np.ones(3))
        >>> print(f.cache_info())
        CacheInfo(hits=1, misses=2, entries=2, maxsize=64)
        """
        fast_hits = int(repr(self._fast_hits)[len("count("):-1])   # count(n) -> n
        return CacheInfo(self._hits + fast_hits, self._misses, len(self._cache),
                         config.jit_cache_size)

    def clear_cache(self) -> None:
        """Drop every compiled program and reset the statistics.

        Returns
        -------
        None

        Examples
        --------
        >>> f = fd.jit(lambda x: x * 2.0)
        >>> _ = f(np.ones(2))
        >>> f.clear_cache()
        >>> print(f.cache_info().entries)
        0
        """
        with self._lock:
            self._cache.clear()
            self._hits = self._misses = 0
            self._fast = self._fast_key = None
            self._fast_used = False
            self._fast_hits = itertools.count()

    def __get__(self, obj, objtype=None):
        return self if obj is None else functools.partial(self, obj)


def _signature_matches(args, sig):
    """Whether ``args`` have the fast path's signature: per argument its exact type and,
    for arrays and NumPy scalars, shape and dtype (a Python scalar's aval is its type's)."""
    for a, (t, shape, dtype) in zip(args, sig):
        if type(a) is not t or (shape is not None and (
                a.shape != shape or a.dtype != dtype)):
            return False
    return True


def _explain(old, new, name_leaves, name_static):
    """Why a retrace happened, in words, and what changed (a set of "structure",
    "shape", "dtype", "weak", "static").  ``name_leaves(key)`` names the key's argument
    leaves by pytree path (``x``, ``params['w']``), ``name_static(i)`` a static one."""
    if old is None:
        return "for the first time", set()
    o_tree, o_avals, o_static, o_kw = old
    n_tree, n_avals, n_static, n_kw = new
    reasons, kinds = [], set()
    if o_tree != n_tree:
        reasons.append(f"argument structure changed from {o_tree} to {n_tree}")
        kinds.add("structure")
    elif o_avals != n_avals:
        names = name_leaves(new)
        for i, (a, b) in enumerate(zip(o_avals, n_avals)):
            if a != b:
                reasons.append(f"argument `{names[i]}` changed from {a.str_short()}"
                               f"{' (weak)' if a.weak_type else ''} to {b.str_short()}"
                               f"{' (weak)' if b.weak_type else ''}")
                kinds.add("shape" if a.shape != b.shape else
                          "dtype" if a.dtype != b.dtype else "weak")
    if o_static != n_static or o_kw != n_kw:
        od, nd = dict(o_static + o_kw), dict(n_static + n_kw)
        for k in sorted(set(od) | set(nd), key=str):
            if od.get(k) != nd.get(k):
                label = f"{k} (`{name_static(k)}`)" if isinstance(k, int) else repr(k)
                reasons.append(f"static argument {label} changed from "
                               f"{_static_value(od.get(k))!r} to {_static_value(nd.get(k))!r}")
                kinds.add("static")
    if not reasons:
        return "(cache entry evicted)", {"evicted"}
    return "because " + "; ".join(reasons), kinds


def _static_value(k):
    return k.value if isinstance(k, ExactKey) else k


_RETRACE_FIXES = {
    "shape": "pad (or bucket) inputs to a few fixed shapes, or move the changing "
             "size into a static argument (static_argnums) if it takes few values",
    "dtype": "cast the inputs to one dtype before the call",
    "weak": "pass NumPy arrays or scalars (np.float64(x)) rather than mixing them with "
            "Python numbers",
    "static": "a static argument retraces on every new value: if it takes many values "
              "make it a regular (traced) argument, dropping it from static_argnums / "
              "static_argnames",
    "structure": "keep the pytree structure of the arguments (list lengths, dict keys) "
                 "fixed",
    "evicted": "raise funcdiff.config.jit_cache_size",
}


def _check_donation(name, donate_argnums, donate_argnames, static_argnums,
                    static_argnames):
    """``donate_argnums`` / ``donate_argnames`` validated as JAX does: ints / strings,
    none of them static (a static argument is a Python value, not a buffer)."""
    nums = (donate_argnums,) if isinstance(donate_argnums, int) else tuple(donate_argnums)
    names = (donate_argnames,) if isinstance(donate_argnames, str) else \
        tuple(donate_argnames)
    bad = [i for i in nums if not isinstance(i, int) or isinstance(i, bool)]
    bad += [n for n in names if not isinstance(n, str)]
    if bad:
        raise FuncdiffTypeError(
            f"jit({name}): donate_argnums takes ints and donate_argnames strings, got "
            f"{bad[0]!r} of type {type(bad[0]).__name__}")
    both = sorted(set(nums) & set(static_argnums)) + sorted(set(names) & set(static_argnames))
    if both:
        raise FuncdiffValueError(
            f"jit({name}): argument {both[0]!r} is both static and donated; static "
            "arguments are Python values, not buffers: drop it from donate_argnums / "
            "donate_argnames")
    return nums, names


def jit(fun: Callable[..., Any] | None = None, *,
        static_argnums: int | Sequence[int] = (),
        static_argnames: str | Sequence[str] = (),
        donate_argnums: int | Sequence[int] = (),
        donate_argnames: str | Sequence[str] = ()) -> Any:
    """Compile ``fun`` to NumPy code, once per input signature.

    ``fun`` is traced abstractly (shapes and dtypes only) into a jaxpr, optimized
    (inlining, constant folding, CSE, dead-code elimination, fusion) and turned into a
    Python function of NumPy calls, cached per signature.  Usable as ``jit(f)``,
    ``@jit`` or ``@jit(static_argnums=...)``; it composes with every transform
    (``grad(jit(f))``, ``jit(grad(f))``, ``vmap(jit(f))``).

    Globals and attributes ``fun`` reads are captured when it is traced: a later
    change to them is not seen until the cache is cleared.

    Parameters
    ----------
    fun : callable, optional
        The function, taking and returning pytrees of arrays.  Omitted: return a
        decorator.
    static_argnums : int or sequence of int, default ()
        Positional arguments that are Python values (hashable, e.g. sizes, flags),
        not traced: each distinct value compiles its own program.
    static_argnames : str or sequence of str, default ()
        The same for keyword arguments.
    donate_argnums : int or sequence of int, default ()
        Arguments the caller will not use after the call, so their buffers may be
        reused for results (JAX's names and checks).  funcdiff accepts and validates
        them but never writes into an argument today: a donated array keeps its value
        (do not rely on that; JAX deletes donated buffers).
    donate_argnames : str or sequence of str, default ()
        The same for keyword arguments.

    Returns
    -------
    JittedFunction
        The compiled function (or, without ``fun``, a decorator making one), with
        ``.lower(*args)``, ``.cache_info()`` and ``.clear_cache()``.

    Raises
    ------
    ConcretizationError
        When called, if ``fun`` needs a traced value's concrete value (Python ``if``
        on it): use ``funcdiff.lax.cond`` or mark the argument static.
    FuncdiffTypeError
        If a donated argument is not an int (a name not a str), or, when called, a
        static argument is unhashable.
    FuncdiffValueError
        If an argument is both static and donated.

    Examples
    --------
    >>> @fd.jit
    ... def f(x):
    ...     return fnp.sum(fnp.tanh(x) ** 2)
    >>> x = np.array([0.5, 1.0])
    >>> bool(np.isclose(f(x), np.sum(np.tanh(x) ** 2)))
    True
    >>> g = fd.jit(lambda x, n: x ** n, static_argnums=1)
    >>> print(g(np.array([2.0]), 3))
    [8.]

    See Also
    --------
    make_jaxpr : the traced program.
    cost_analysis : what the compiled program costs.
    """
    if fun is None:
        return lambda f: JittedFunction(f, static_argnums, static_argnames, donate_argnums,
                                        donate_argnames)
    return JittedFunction(fun, static_argnums, static_argnames, donate_argnums,
                          donate_argnames)


def cost_analysis(f: Callable[..., Any],
                  static_argnums: int | Sequence[int] = ()) -> Callable[..., dict[str, Any]]:
    """Create a function that predicts the cost of running ``f``, computing nothing.

    ``f`` (any function, transformed or not) is traced and optimized as ``jit`` would;
    the costs are read off the program: ``flops``, ``transcendentals``,
    ``bytes_accessed``, ``peak_bytes`` (the peak memory of the compiled program, as
    ``tracemalloc`` measures it), ``n_eqns``, ``input_bytes``, ``output_bytes``,
    ``saved_bytes`` (what a reverse pass keeps), ...  Equal to
    ``jit(f).lower(*args).cost_analysis()``.

    Parameters
    ----------
    f : callable
        The function, taking and returning pytrees of arrays.
    static_argnums : int or sequence of int, default ()
        Positional arguments that are Python values, not traced.

    Returns
    -------
    callable
        A function with ``f``'s arguments returning a dict of the predicted costs.

    Raises
    ------
    ConcretizationError
        If ``f`` needs the value of a traced argument.

    Examples
    --------
    >>> cost = fd.cost_analysis(lambda x: fnp.sin(x) * 2.0)(np.ones(3))
    >>> print(cost["flops"], cost["transcendentals"], cost["output_bytes"])
    6 3 24

    See Also
    --------
    jit : runs the program analysed here.
    saved_residuals : what a reverse pass keeps, value by value.
    """

    @functools.wraps(f)
    def wrapped(*args):
        closed = make_jaxpr(f, static_argnums=static_argnums)(*args)
        # jit's whole pipeline: the program it runs
        return jaxpr_cost(_lower_passes(closed), saved_from=closed)

    return api_boundary(wrapped)

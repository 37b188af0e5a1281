"""Tracing: ``Primitive`` and ``bind``, tracers and the trace stack.

A ``Primitive`` is one object holding an operation, all of its rules and the facts
consumers ask about it (see the class).  ``prim.bind(*args, **params)`` applies it.

There is one kind of trace, ``JaxprTrace``, which records every primitive applied to
its tracers as an eqn.  A tracer also carries its concrete value when that is known
(inputs to ``grad``/``jvp``/``vjp`` outside ``jit``), so Python ``if x > 0:`` works; under
``jit`` tracers are abstract and ``bool()`` raises ``ConcretizationError``.

``bind`` records into the innermost trace on the (thread-local) stack whatever its
arguments are ("omnistaging"): NumPy constants become literals or constvars, tracers of
an enclosing trace become captured constvars, and a tracer of a trace that has ended is
a leak.  With no trace active, ``bind`` just runs the primitive's NumPy ``impl``.
"""
from __future__ import annotations

import gc
import sys
import threading

import numpy as np

from . import arraylib as _alib
from .avals import _PY_SCALAR_AVALS, OPERAND_KINDS, ShapedArray, aval_of_value, check_operand
from .debug import check_nans, flags as _flags
from .errors import (ConcretizationError, FuncdiffError, FuncdiffTypeError,
                     TracerArrayConversionError, TracerLeakError)
from .ir import ClosedJaxpr, Eqn, Jaxpr, Literal, Var, literal_or_none
from .source import (INTERNAL as _INTERNAL, SKIP as _SKIP, SourceInfo,  # noqa: F401
                     current_source_info, source_context, state)

_PY = (bool, int, float, complex)
_new_eqn = Eqn.unsafe_new
_new_object = object.__new__
_new_tuple = tuple.__new__


# --- primitives -------------------------------------------------------------------------

registry: dict[str, "Primitive"] = {}


class Primitive:
    """One operation and everything about it.

    Rules (``None`` when the primitive has none):

    =================  =============================================================
    ``impl``           ``(*values, **params) -> value`` (NumPy)
    ``abstract_eval``  ``(*avals, **params) -> aval`` (shape/dtype rule)
    ``jvp``            ``(primals, tangents, **params) -> (primals_out, tangents_out)``;
                       tangents may be ``Zero``; written with funcdiff ops
    ``transpose``      ``(ct, *args, **params) -> [ct_arg ...]`` for linear primitives;
                       linear args arrive as ``UndefPrimal``; ``None`` for non-linear args
    ``batch``          ``(args, dims, **params) -> (out, out_dim)`` for ``vmap``
    ``partial_eval``   ``(eqn, unknowns) -> (known eqns, unknown eqns, unknown outs)``
                       for primitives holding jaxprs (calls, control flow)
    ``cost``           ``(avals_in, avals_out, **params) -> {"flops": .., ...}``
    ``emit``           code generation for ``jit``: a template string or
                       ``(args, params, gen) -> source``
    ``inline``         ``(eqn) -> (jaxpr, operands)``: jit may splice the call in
    =================  =============================================================

    Primitives with ``multiple_results`` take and return lists.

    Facts consumers ask about (class-level defaults, set on the primitive where it is
    defined; no consumer keeps its own list of primitive names):

    ====================  ==========================================================
    ``np_fn``             the NumPy (or SciPy) function it applies, if any; ``ufunc``
                          is it when that is a ``numpy.ufunc`` (results can be written
                          ``out=``, and are always new arrays)
    ``returns_view``      the result is a view of an operand (no new buffer, no data
                          moved): shape ops, identities
    ``read_only_result``  the result may be a read-only view (a broadcast): generated
                          code copies it before returning it
    ``returns_new_array`` (non-ufuncs) NumPy's spelling always returns a new array
    ``owns_output``       (non-ufuncs) that new array may later be written ``out=``
    ``foldable``          jit may evaluate it at compile time on constant operands
    ``float_literal_ok``  generated code may write a weak integer literal operand as a
                          float (``x * 2.0``: NumPy converts it to the array's dtype
                          either way, a float faster)
    ``numexpr``           its numexpr template (``"sin({0})"``), for jit's fusion pass
    ``py_kinds``          for an operator ``emit`` (``{0} / {1}``), the result dtype
                          kinds for which the operator on Python scalars gives NumPy's
                          result (None: all); jit calls ``np_fn`` instead when every
                          operand may be a Python scalar (``~True`` is -2, ``1 / 0``
                          raises)
    ``cacheable``         the eager executor may cache programs holding it by their
                          structure (not when it runs user rules on concrete values)
    ``called_jaxpr``      ``(params, operands) -> (jaxpr, consts, args)``: the one
                          sub-program it runs on its operands (calls, a ``cond``
                          branch), for naming the op that made a NaN
    ``sparsity``          the family of its Jacobian sparsity rule (``"elementwise"``,
                          ``"zero"``, ``"copy"``, ``"reduce"``, ``"contract"``, ...;
                          the table is ``analysis.sparsity.RULES``); None: every output
                          element may depend on every operand element
    ``effectful``         it has an effect besides its outputs (``debug_callback``):
                          no pass may drop, merge, fold or replay it, and a trace runs
                          it only if it is the eager run (``run_effects``: eager
                          ``grad``'s forward trace), never at ``jit`` trace time; see
                          ``core.ir.has_effects`` for eqns holding such a primitive in a
                          sub-program
    ``xp_name``           the array-API standard's elementwise function computing it
                          (``"tanh"``), for arrays without NumPy's protocols
    ``xp_impl``           ``(xp, *values, **params)``: it on namespace ``xp``'s arrays
                          (``primitives/arrayapi.py``; ``core/arraylib.py`` uses both)
    ====================  ==========================================================
    """

    multiple_results = False
    np_fn = None
    returns_view = False
    read_only_result = False
    returns_new_array = False
    owns_output = False
    foldable = True
    float_literal_ok = False
    numexpr = None
    py_kinds = None
    cacheable = True
    called_jaxpr = None
    inline = None
    effectful = False
    sparsity = None
    xp_name = None
    xp_impl = None

    def __init__(self, name: str, *, multiple_results: bool = False, linear: bool = False):
        if name in registry:
            raise ValueError(f"primitive {name!r} defined twice")
        self.name = name
        self.multiple_results = multiple_results
        self.linear = linear          # has a transpose rule in all linear args
        self.impl = None
        self.abstract_eval = None
        self.jvp = None
        self.transpose = None
        self.batch = None
        self.cost = None
        self.emit = None
        self.partial_eval = None      # for primitives holding jaxprs (calls, control flow)
        self.doc = ""
        registry[name] = self

    def bind(self, *args, **params):
        """Apply the primitive: recorded in the innermost trace, or run by ``impl``."""
        stack = state.stack
        if stack:   # the common traced case goes straight to the innermost trace
            return stack[-1].process(self, args, params)
        return bind(self, args, params)

    @property
    def ufunc(self):
        fn = self.np_fn
        return fn if isinstance(fn, np.ufunc) else None

    def __repr__(self):
        return self.name


class _RelaxedGC:
    """``with relaxed_gc:`` makes Python's cyclic garbage collector collect less often
    while IR is built (tracing, and jit's passes and code generation): it raises the
    youngest generation's threshold to ``GC_THRESHOLD`` allocations.  Building a large IR
    allocates many long-lived objects and almost no garbage cycles, so at the default
    threshold (700) collections spend their time rescanning the new IR: 15% of the time
    of tracing a 1,500-eqn program.  Collection is not turned off: eager ``grad``/``jvp``
    trace the user's whole forward computation with real values, and the reference
    cycles it makes (holding arrays, perhaps big ones) must still be freed, in this
    thread and in every other.  Re-entrant and thread-safe: the first to enter records
    the thresholds, the last to leave restores them; a user's higher threshold (or 0,
    collection off) is kept."""

    __slots__ = ("_depth", "_restore", "_lock")

    def __init__(self):
        self._depth = 0
        self._restore = None
        self._lock = threading.Lock()

    def __enter__(self):
        with self._lock:
            if self._depth == 0:
                t = gc.get_threshold()
                self._restore = None
                if 0 < t[0] < GC_THRESHOLD:
                    self._restore = t
                    gc.set_threshold(GC_THRESHOLD, *t[1:])
            self._depth += 1

    def __exit__(self, *exc):
        with self._lock:
            self._depth -= 1
            t = self._restore
            # (thresholds someone else set meanwhile are theirs: kept)
            if self._depth == 0 and t is not None and \
                    gc.get_threshold() == (GC_THRESHOLD,) + t[1:]:
                gc.set_threshold(*t)
        return False


# Allocations of tracked objects between collections of the youngest generation while IR
# is built.  Tracing allocates 7 of them per eqn (eager grad 15), so user garbage cycles
# are still collected every 700-1,500 operations: a loop making cycles that hold big
# arrays peaks at about twice the memory it takes plainly, not at all of them.
GC_THRESHOLD = 10_000
relaxed_gc = _RelaxedGC()


def trace_active() -> bool:
    return bool(state.stack)


class Tracer:
    """A traced value: an IR variable of a trace, plus its concrete value if known.

    The NumPy-like operators and methods are attached by ``funcdiff.numpy``.
    """

    __slots__ = ("_trace", "ir_var", "_val", "__weakref__")
    __array_priority__ = 1000

    def __init__(self, trace, var, val=None):
        self._trace = trace
        self.ir_var = var
        self._val = val

    aval = property(lambda self: self.ir_var.aval)
    shape = property(lambda self: self.ir_var.aval.shape)
    dtype = property(lambda self: self.ir_var.aval.dtype)
    ndim = property(lambda self: len(self.ir_var.aval.shape))
    size = property(lambda self: self.ir_var.aval.size)
    weak_type = property(lambda self: self.ir_var.aval.weak_type)

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of unsized object (a 0-d traced value)")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d traced value")
        return (self[i] for i in range(self.shape[0]))

    def concrete_value(self, what: str):
        """The concrete value, or a ConcretizationError saying why it is unknown."""
        self._check_alive(what)
        if self._val is None:
            raise ConcretizationError(
                f"{what} needs the concrete value of a traced {self.aval.str_short()} "
                f"value, which is unknown inside jit (at {current_source_info()}).\n"
                "Use funcdiff.lax.cond / switch / while_loop / fori_loop for control flow "
                "on traced values, or mark the argument static with jit(f, "
                "static_argnums=...) if it is a configuration value.")
        return self._val

    def _check_alive(self, what):
        if not self._trace.active:
            raise leak_error(self, what)

    def __bool__(self):
        return bool(self.concrete_value("bool() (an `if`, `while`, `and`/`or` or assert)"))

    def __float__(self):
        return float(self.concrete_value("float()"))

    def __int__(self):
        return int(self.concrete_value("int()"))

    def __complex__(self):
        return complex(self.concrete_value("complex()"))

    def __index__(self):
        if not np.issubdtype(self.dtype, np.integer):
            raise TypeError(f"only integer traced values can be used as an index, "
                            f"got {self.aval.str_short()}")
        return int(self.concrete_value("using a traced value as a Python index"))

    def __array__(self, dtype=None, copy=None):
        self._check_alive("numpy.asarray()")
        raise TracerArrayConversionError(
            f"numpy.asarray() / numpy.array() was applied to a traced "
            f"{self.aval.str_short()} value at {current_source_info()}.  Converting it "
            "to a NumPy array would silently cut the derivative.  Use funcdiff.numpy "
            "(or numpy functions, which dispatch to funcdiff) on traced values, and "
            "funcdiff.stop_gradient(x) where you really want no derivative.")

    def __repr__(self):
        state_ = "" if self._trace.active else " (leaked)"
        if self._val is not None:
            return f"Traced<{self.aval.str_short()}>{state_} with value {self._val!r}"
        return f"Traced<{self.aval.str_short()}>{state_}"

    def __setitem__(self, idx, value):
        raise FuncdiffTypeError(
            f"traced values are immutable: `x[{_idx_str(idx)}] = v` is not supported "
            f"(at {current_source_info()}).  Use the functional update "
            f"`x = x.at[{_idx_str(idx)}].set(v)` (or .add / .multiply) instead.")

    __hash__ = None


def _idx_str(idx):
    if not isinstance(idx, tuple):
        idx = (idx,)
    parts = []
    for i in idx:
        if isinstance(i, slice):
            parts.append(":" if i == slice(None) else "a:b")
        elif i is Ellipsis:
            parts.append("...")
        elif i is None:
            parts.append("None")
        elif type(i) is int:
            parts.append(str(i))
        else:
            parts.append("i")
    return ", ".join(parts)


def _creation_site(tracer):
    """Where the leaked tracer was made: the user line of the eqn that defined it."""
    t, v = tracer._trace, tracer.ir_var
    if v in t.invars:
        return "as an input of"
    for eqn in reversed(t.eqns):
        if any(o is v for o in eqn.outvars):
            return f"by `{eqn.primitive.name}` at {eqn.source_info}, inside"
    return "inside"


def leak_error(tracer, what):
    t = tracer._trace
    return TracerLeakError(
        f"a traced {tracer.aval.str_short()} value escaped the transform that created it "
        f"and was used later ({what}, at {current_source_info()}).  It was created "
        f"{_creation_site(tracer)} the {t.kind} trace started at {t.origin}.  Return "
        "values from the transformed function instead of storing them in globals, "
        "attributes or closures.")


_CONST = "a constant used by the traced function"


class JaxprTrace:
    """Records eqns; one per active transform, held on the thread-local stack."""

    def __init__(self, kind: str = "transform", run_effects: bool = False):
        self.kind = kind
        # this trace is the eager run of the function (concrete inputs, outside other
        # transforms): effectful primitives (debug prints) run as they are recorded
        self.run_effects = run_effects
        self.origin = current_source_info()
        self.active = True
        self.eqns: list[Eqn] = []
        self.invars: list[Var] = []
        self.constvars: list[Var] = []
        self.consts: list = []
        self._const_ids: dict[int, Var] = {}
        self.values: dict[Var, object] = {}   # concrete values of vars, when known
        # ``keep(eqn, in_values, out)``, when set, decides which of a recorded eqn's
        # values ``values`` holds (eager linearization keeps only what its backward
        # pass reads, so other intermediates die when user code drops them)
        self.keep = None

    # -- inputs ------------------------------------------------------------------
    def new_arg(self, aval: ShapedArray, val=None) -> Tracer:
        v = Var(aval)
        self.invars.append(v)
        if val is not None:
            self.values[v] = val
        return Tracer(self, v, val)

    def lift(self, x):
        """(atom, concrete value or None) for any operand."""
        if type(x) is Tracer:
            if x._trace is self:
                return x.ir_var, x._val
            if not x._trace.active:
                raise leak_error(x, "passed to an operation")
            return self._capture(x, x._val), x._val
        lit = literal_or_none(x)
        if lit is not None:
            if lit.aval.dtype.kind not in OPERAND_KINDS:   # (arrays: checked on capture)
                check_operand(x, _CONST)
            return lit, lit.val
        if isinstance(x, np.ndarray) or _alib.is_foreign(x):
            return self._capture(x, x), x
        raise FuncdiffTypeError(f"{type(x).__name__} is not a valid funcdiff operand")

    def const_tracer(self, x) -> Tracer:
        """A tracer of this trace standing for the constant array ``x``."""
        return Tracer(self, self._capture(x, x), x)

    def _capture(self, x, val):
        v = self._const_ids.get(id(x))
        if v is None:
            if type(x) is Tracer:
                aval = x.aval
            elif isinstance(x, np.ndarray):
                check_operand(x, _CONST)   # masked arrays, non-numeric dtypes
                aval = ShapedArray(x.shape, x.dtype)
            else:                          # another library's array (Dask, torch, ...)
                _alib.state.active = True
                aval = _alib.aval_of(x, _CONST)
            v = self._const_ids[id(x)] = Var(aval)
            self.constvars.append(v)
            self.consts.append(x)       # keeps id(x) valid while the trace lives
            if val is not None:
                self.values[v] = val
        return v

    # -- recording ---------------------------------------------------------------
    def process(self, prim, args, params):
        # The hot path of tracing, kept flat (no helper calls for the common cases:
        # current_source_info, lift, the Var / Eqn / Tracer constructors): with those
        # calls, abstract tracing (benchmarks/bench_core.py) took 11.1 us per eqn instead
        # of 6.4 us, and eager grad 10.4 us per op instead of 7.9 us.
        if state.memo is not None:
            hit = _memo_hit(prim, args, params)
            if hit is not None:
                return hit
        atoms = []
        vals = []
        avals = []
        known = True
        for a in args:
            t = type(a)
            if t is Tracer and a._trace is self:
                atom = a.ir_var
                val = a._val
            elif t in _PY_SCALAR_AVALS:     # what lift does for Python scalars, inlined
                atom = _new_object(Literal)
                atom.val = val = a
                atom.aval = _PY_SCALAR_AVALS[t]
            else:
                atom, val = self.lift(a)
            atoms.append(atom)
            avals.append(atom.aval)
            vals.append(val)
            if val is None:
                known = False
        # current_source_info(), inlined
        src = state.source_override
        if src is None:
            f = sys._getframe(1)
            internal = _INTERNAL
            while f is not None:
                fn = f.f_code.co_filename
                skip = internal.get(fn)
                if skip is None:
                    skip = internal[fn] = fn.startswith(_SKIP)
                if not skip:
                    src = _new_tuple(SourceInfo, (fn, f.f_lineno, f.f_code.co_name))
                    break
                f = f.f_back
        try:
            out_aval = prim.abstract_eval(*avals, **params)
        except FuncdiffError as e:
            raise type(e)(f"{e}\n  (in `{prim.name}`, at {src})") from None
        if known and prim.effectful:
            # an effect happens when the program runs: at trace time only in the trace
            # that is the eager run (eager grad's forward), never while jit (or a
            # custom_jvp, or a loop body) is traced on known values
            known = self.run_effects
        if known:
            out = _alib.apply(prim, vals, params) if _alib.state.active else \
                prim.impl(*vals, **params)
            if _flags.nans:
                check_nans(prim, vals, out, src, params)
        else:
            out = None
        values = self.values
        if not prim.multiple_results:
            # Var(out_aval), Eqn(...) and Tracer(self, v, out), inlined
            v = _new_object(Var)
            v.aval = out_aval
            e = _new_object(Eqn)
            e.primitive = prim
            e.invars = atoms
            e.outvars = [v]
            e.params = dict(params) if params else {}
            e.source_info = src
            self.eqns.append(e)
            if out is not None:
                if out_aval.weak_type and not isinstance(out, _PY):
                    out = out.item()
                if self.keep is None:
                    values[v] = out
                else:
                    self.keep(e, vals, out)
            t = _new_object(Tracer)
            t._trace = self
            t.ir_var = v
            t._val = out
            return t
        outvars = [Var(a) for a in out_aval]
        e = _new_eqn(prim, atoms, outvars, dict(params) if params else {}, src)
        self.eqns.append(e)
        if out is None:
            return [Tracer(self, v, None) for v in outvars]
        outs = [o.item() if v.aval.weak_type and not isinstance(o, _PY) else o
                for v, o in zip(outvars, out)]
        self.record_values(e, vals, outs)
        return [Tracer(self, v, o) for v, o in zip(outvars, outs)]

    def record_values(self, eqn, in_values, outs):
        """Note the concrete results ``outs`` (a list) of a recorded multiple-results
        eqn: ``values`` holds them, or what ``keep`` keeps of them."""
        if self.keep is None:
            for v, o in zip(eqn.outvars, outs):
                if o is not None:
                    self.values[v] = o
        else:
            self.keep(eqn, in_values, outs)

    def finalize(self, outs) -> ClosedJaxpr:
        outvars = [self.lift(o)[0] for o in outs]
        jaxpr = Jaxpr(self.constvars, self.invars, outvars, self.eqns)
        return ClosedJaxpr(jaxpr, self.consts)


def _memo_hit(prim, args, params):
    memo = state.memo
    if memo[0] is prim and len(memo[1]) == len(args) and all(
            a is b for a, b in zip(memo[1], args)) and memo[3] == params:
        state.memo = None
        return memo[2]
    return None


class memo_outputs:
    """``with memo_outputs(prim, args, params, outs):`` while a jvp rule runs,
    ``prim.bind(*args)`` on exactly these argument objects returns the already-known
    ``outs`` instead of recomputing them: how eager ``grad``/``jvp`` avoid running the
    forward pass a second time."""

    __slots__ = ("_memo", "_prev")

    def __init__(self, prim, args, params, outs):
        self._memo = (prim, tuple(args), outs, params)

    def __enter__(self):
        self._prev = state.memo
        state.memo = self._memo

    def __exit__(self, *exc):
        state.memo = self._prev
        return False


def bind(prim, args, params):
    stack = state.stack
    if stack:
        return stack[-1].process(prim, args, params)
    if state.memo is not None:
        hit = _memo_hit(prim, args, params)
        if hit is not None:
            return hit
    for a in args:
        if type(a) is Tracer:
            raise leak_error(a, f"passed to `{prim.name}`")
    out = _alib.apply(prim, args, params) if _alib.state.active else \
        prim.impl(*args, **params)
    if _flags.nans:
        check_nans(prim, args, out, current_source_info(), params)
    return out


class new_trace:
    """``with new_trace(kind) as trace``: push a fresh trace; always popped and
    deactivated, whatever happens inside.  (A plain class, not a generator-based context
    manager: ``trace_flat`` enters one per traced function.)"""
    __slots__ = ("trace", "stack")

    def __init__(self, kind: str = "transform", run_effects: bool = False):
        self.trace = JaxprTrace(kind, run_effects)

    def __enter__(self):
        self.stack = state.stack
        relaxed_gc.__enter__()
        self.stack.append(self.trace)
        return self.trace

    def __exit__(self, exc_type, exc, tb):
        relaxed_gc.__exit__()
        trace, stack = self.trace, self.stack
        trace.active = False
        # pop exactly this trace (and anything a misbehaving callee left above it)
        while stack:
            t = stack.pop()
            t.active = False
            if t is trace:
                break
        pending, state.store_error = state.store_error, None
        if pending is not None and exc is not None and not isinstance(exc, FuncdiffError):
            err, frame, offset = pending
            last = tb
            while last.tb_next is not None:
                last = last.tb_next
            if last.tb_frame is frame and last.tb_lasti == offset:
                # NumPy replaced the error at the very instruction that raised it
                raise err.with_traceback(tb) from None
        return False


def numpy_may_replace(err: FuncdiffError, frame):
    """``err``, raised by a conversion (``__float__``, ``__int__``, ``__bool__``) that
    NumPy's C code called while ``frame`` runs its current instruction.  NumPy replaces
    such an error by its own: "ValueError: setting an array element with a sequence"
    (a tracer has ``__getitem__``) with ``err`` as the cause, or "Error setting single
    item of array" without it (``buf.flat[i] = x``).  The trace's exit then raises
    ``err`` instead, with the traceback that ends at the user's instruction."""
    state.store_error = (err, frame, frame.f_lasti)
    return err


def is_tracer(x) -> bool:
    return type(x) is Tracer


def trace_flat(fun, in_avals, in_vals=None, kind="transform", run_effects=False,
               keep=None):
    """Trace ``fun(*tracers) -> list`` into a ClosedJaxpr.

    ``in_vals`` (optional) gives concrete input values; ``run_effects`` (with them, at
    top level) makes the trace the eager run, which performs effects (debug prints) as
    it records them.  ``keep`` (optional): ``keep(trace)`` gives the trace's ``keep``
    once its inputs exist.  Returns
    ``(closed_jaxpr, out_values, trace)``; ``out_values`` holds None where unknown and
    ``trace.values`` has every var's concrete value (or those ``keep`` kept).
    """
    with new_trace(kind, run_effects=run_effects and in_vals is not None) as trace:
        if in_vals is None:
            tracers = [trace.new_arg(a) for a in in_avals]
        else:
            tracers = [trace.new_arg(a, v) for a, v in zip(in_avals, in_vals)]
        if keep is not None:
            trace.keep = keep(trace)
        outs = fun(*tracers)
        lifted = [trace.lift(o) for o in outs]
        closed = ClosedJaxpr(Jaxpr(trace.constvars, trace.invars, [a for a, _ in lifted],
                                   trace.eqns), trace.consts)
        out_vals = [v for _, v in lifted]
    return closed, out_vals, trace


def get_aval(x) -> ShapedArray:
    if type(x) is Tracer:
        return x.ir_var.aval
    try:
        return aval_of_value(x)
    except TypeError:
        if _alib.is_foreign(x):   # Dask, torch ...: their shape and dtype
            return _alib.aval_of(x)
        raise


"""The eager executor: linearization for ``grad``/``vjp``/``jvp``/``linearize`` outside
``jit``, with its cache of transformed and compiled programs.

``linearize_flat`` traces the function once with concrete values (so Python control
flow works), linearizes that jaxpr (``funcdiff.transforms.linearize``: jvp + partial
evaluation) and gets the known values -- at top level straight from the trace, so the
forward pass runs once; under an enclosing transform by evaluating the known jaxpr
there, so outer transforms see it.

Repeated eager calls that trace to the same IR reuse one ``_Recipe``: the linear jaxpr,
its transpose and their compiled forms, found by the IR's structure (``_CACHE``).
"""
from __future__ import annotations

import threading
import weakref
from collections import OrderedDict

import numpy as np

from ..core import arraylib
from ..core.avals import is_differentiable_dtype
from ..core.debug import check_compiled, check_nans, flags as debug_flags
from ..core.interpret import eval_jaxpr
from ..core.ir import ClosedJaxpr, Jaxpr, Literal, Var, literal_key, param_key
from ..core.trace import Tracer, state, trace_active, trace_flat
from ..jit.codegen import compile_jaxpr
from ..jit.passes import optimize
from ..transforms.dce import dce_jaxpr, drop_effects
from ..transforms.linearize import ALL, data_vars, linearize_jaxpr, residual_sources
from ..transforms.transpose import transpose_jaxpr


def _concrete(x):
    return x._val if type(x) is Tracer else x


class Linearized:
    """Result of ``linearize_flat``: primal outputs, the linear jaxpr
    ``(residuals..., tangents...) -> tangent outs`` and the residual values.  The jaxprs
    (and their compiled forms) live in a ``_Recipe`` shared by every call that traced
    to the same IR."""

    def __init__(self, primal_outs, recipe, residuals, user_arrays=()):
        self.primal_outs = primal_outs
        self.recipe = recipe
        self.residuals = residuals
        self.user_arrays = user_arrays   # the caller's arrays (inputs, captured consts)

    def detach(self):
        """Copy the residuals that are (views of) the caller's own arrays, for a
        linearization kept beyond the call (``vjp_fn``, ``linearize``'s ``f_jvp``): the
        backward pass rebuilds ``cos(x)`` from ``x``, and the caller may update ``x``
        in place before calling it (NumPy arrays are mutable; JAX's are not)."""
        ids = {id(a) for a in self.user_arrays}
        if ids and self.residuals:
            self.residuals = [r.copy() if type(r) is np.ndarray and (
                id(r) in ids or id(r.base) in ids) else r for r in self.residuals]
        self.user_arrays = ()

    lin_jaxpr = property(lambda self: self.recipe.lin_jaxpr)
    diff_mask = property(lambda self: self.recipe.diff_mask)
    out_avals = property(lambda self: self.recipe.out_avals)

    def jvp(self, tangents):
        """Apply the linear map to tangents of the differentiable inputs."""
        if trace_active():
            return eval_jaxpr(self.recipe.lin_jaxpr, [], *self.residuals, *tangents)
        outs = self.recipe.lin_fn()(*self.residuals, *tangents)
        if debug_flags.nans:
            check_compiled(outs, self.recipe.lin_jaxpr, [], [*self.residuals, *tangents],
                           "the linearized (jvp) program", "forward mode (jvp)")
        return outs

    def backward(self):
        return self.recipe.backward()

    def vjp_once(self, cts):
        """``vjp(cts)`` for the one backward pass of ``grad``/``value_and_grad``: the
        residuals are handed to the backward program, which frees each after its last
        use (as a hand-written backward pass does); this object cannot run another."""
        if trace_active() or debug_flags.nans:
            return self.vjp(cts)
        args, self.residuals = self.residuals, None
        args = list(args)
        args.extend(cts)
        return self.recipe.backward_fn(consume=True)(args)

    def vjp(self, cts):
        """Cotangents of the differentiable inputs for output cotangents ``cts``."""
        if trace_active():
            b = self.recipe.backward()
            return eval_jaxpr(b.jaxpr, b.consts, *self.residuals, *cts)
        outs = self.recipe.backward_fn()(*self.residuals, *cts)
        if debug_flags.nans:
            b = self.recipe.backward()
            check_compiled(outs, b.jaxpr, b.consts, [*self.residuals, *cts],
                           "the backward program", "the backward pass (vjp/grad)")
        return outs


class _Recipe:
    """Everything about a linearization that depends only on the traced IR's structure:
    the linear jaxpr, its transpose, compiled forms, and (for the eager cache) how to
    get the residuals from a new trace's values."""

    def __init__(self, lin_jaxpr, n_res, diff_mask, out_avals, kind=None):
        self.kind = kind          # the array type compiled for (None: NumPy)
        self.lin_jaxpr = lin_jaxpr
        self.n_res = n_res
        self.diff_mask = diff_mask
        self.out_avals = out_avals
        self.sources = None       # which data values the known jaxpr reads
        self.prims = self.pins = None   # per eqn of the trace: primitive, results read
        self.in_avals = None
        self.known_closed = None  # (data values...) -> (primal outs..., residuals...)
        self._known_fn = None
        self._backward = self._backward_fn = self._lin_fn = self._consuming_fn = None

    def known(self, data):
        """Primal outputs and residuals for a new call's trace-0 values."""
        if self._known_fn is None:
            self._known_fn = _compile(self.known_closed, "known", self.kind)
        args = [data[i] for i in self.sources]
        outs = self._known_fn(*args)
        if debug_flags.nans:
            k = self.known_closed
            check_compiled(outs, k.jaxpr, k.consts, args, "the forward program",
                           "the forward pass")
        return outs

    def backward(self):
        if self._backward is None:
            self._backward = transpose_jaxpr(self.lin_jaxpr, self.n_res)
        return self._backward

    def backward_fn(self, consume=False):
        if consume:
            if self._consuming_fn is None:
                self._consuming_fn = _compile(self.backward(), "backward", self.kind,
                                              consume=True)
            return self._consuming_fn
        if self._backward_fn is None:
            self._backward_fn = _compile(self.backward(), "backward", self.kind)
        return self._backward_fn

    def lin_fn(self):
        if self._lin_fn is None:
            self._lin_fn = _compile(ClosedJaxpr(self.lin_jaxpr, []), "linear", self.kind)
        return self._lin_fn


def _compile(closed, name, kind=None, consume=False):
    return compile_jaxpr(optimize(closed), name, copy_inputs=False,
                         consume_inputs=consume, array_kind=kind)[0]


# -- the eager cache: calls that trace to the same IR reuse the linearization ----------

_CACHE: "OrderedDict" = OrderedDict()
_CACHE_SIZE = 256
_lock = threading.Lock()


def _structure_key(jaxpr, extra, _memo=None):
    """A hashable key equal for jaxprs of identical structure (primitives, params,
    wiring, avals, literal values; sub-jaxprs in params by their own structure); None if
    the jaxpr must not be cached (it holds user-written rules or closed sub-jaxprs).

    Vars are numbered in definition order (constvars, invars, then eqn outputs), so
    equal keys mean equal jaxprs up to renaming.  Kept to one pass with no helper calls
    in the common case: it runs on every eager grad/vjp call."""
    memo = {} if _memo is None else _memo
    ids = {}
    n = 0
    for v in jaxpr.constvars:
        ids[v] = n
        n += 1
    for v in jaxpr.invars:
        ids[v] = n
        n += 1
    parts = [extra, tuple([v.aval for v in jaxpr.constvars]),
             tuple([v.aval for v in jaxpr.invars])]
    append = parts.append
    for e in jaxpr.eqns:
        prim = e.primitive
        if not prim.cacheable:
            return None
        ins = []
        for a in e.invars:
            ins.append(ids[a] if type(a) is Var else literal_key(a))
        params = e.params
        if params:
            pk = []
            for name in sorted(params):
                key = _param_structure(params[name], memo)
                if key is None:
                    return None
                pk.append((name, key))
            append((prim, tuple(ins), tuple(pk), len(e.outvars)))
        else:
            append((prim, tuple(ins), len(e.outvars)))
        for v in e.outvars:
            ids[v] = n
            n += 1
    append(tuple([ids[a] if type(a) is Var else literal_key(a) for a in jaxpr.outvars]))
    return tuple(parts)


def _param_structure(val, memo):
    t = type(val)
    if t is int or t is str or val is None or isinstance(val, np.dtype):
        return val                        # (bools and floats: value_key, below)
    if t is tuple:
        for x in val:
            if type(x) is not int:
                break
        else:
            return val                    # axes, shapes
    if isinstance(val, Jaxpr):            # const-free sub-jaxprs (calls, control flow)
        key = memo.get(id(val))
        if key is None:
            key = memo[id(val)] = _structure_key(val, (), memo)
        return key
    if isinstance(val, (tuple, list)) and any(isinstance(x, (Jaxpr, ClosedJaxpr))
                                              for x in val):
        keys = tuple(_param_structure(x, memo) for x in val)
        return None if any(k is None for k in keys) else keys
    if isinstance(val, ClosedJaxpr) or callable(val):
        return None
    return param_key(val)


class _Predicted:
    """The eager trace's ``keep`` when the last call of the same function made a
    ``_Recipe``: it keeps the eqn results that recipe's forward program reads, found by
    position (no analysis per eqn: the steady state of a training loop pays a counter
    and a lookup).  The first eqn whose primitive differs from the recipe's hands over
    to ``_Keeper`` for the rest of the trace; a value neither kept is recomputed
    (``_fill``), so a wrong prediction costs time, never a wrong result."""

    # (no reference to the trace itself: the trace holds its keeper, and a cycle would
    # keep every kept value alive until the garbage collector runs)
    __slots__ = ("values", "prims", "pins", "k", "eqns", "invars", "diff_mask", "other")

    def __init__(self, trace, recipe, diff_mask):
        self.values = trace.values
        self.prims, self.pins = recipe.prims, recipe.pins
        self.k = 0
        self.eqns, self.invars = trace.eqns, trace.invars
        self.diff_mask, self.other = diff_mask, None

    def __call__(self, eqn, invals, out):
        if self.other is None:
            k = self.k
            prims = self.prims
            if k < len(prims) and prims[k] is eqn.primitive:
                pins = self.pins[k]
                if not pins:
                    self.k = k + 1
                    return
                if not eqn.primitive.multiple_results:
                    self.k = k + 1
                    self.values[eqn.outvars[0]] = out
                    return
                # (the same primitive may give fewer results this time: ``svd`` with
                # ``compute_uv=False``, a ``cond`` with fewer operands)
                if pins[-1] < len(out):
                    self.k = k + 1
                    for i in pins:
                        self.values[eqn.outvars[i]] = out[i]
                    return
            self.other = _Keeper(self.values, self.invars, self.diff_mask)
            self.other.catch_up(self.eqns[:-1])
        self.other(eqn, invals, out)


class _Keeper:
    """The eager trace's ``keep``: of each recorded eqn, ``values`` holds only the
    operands and results the linearized program will read (``residual_sources``), so
    every other intermediate is freed as soon as user code drops it -- eager ``grad``
    holds what a hand-written backward pass holds, not the whole forward pass.  Values
    no tangent flows through are read by no rule (unless a later eqn that has a tangent
    reads them: it keeps them then, while they are its operands)."""

    __slots__ = ("values", "active")

    def __init__(self, values, invars, diff_mask):
        self.values = values
        self.active = {v for v, d in zip(invars, diff_mask) if d}

    def catch_up(self, eqns):
        """Note which results of ``eqns`` (recorded before this keeper took over) carry
        tangents."""
        active = self.active
        for e in eqns:
            for a in e.invars:
                if type(a) is Var and a in active:
                    active.update(v for v in e.outvars
                                  if is_differentiable_dtype(v.aval.dtype))
                    break

    def __call__(self, eqn, invals, out):
        active = self.active
        act = None
        for i, a in enumerate(eqn.invars):
            if type(a) is Var and a in active:
                if act is None:
                    act = {i}
                else:
                    act.add(i)
        if act is None:
            return                      # no tangent flows through this eqn
        for v in eqn.outvars:
            if is_differentiable_dtype(v.aval.dtype):
                active.add(v)
        values = self.values
        outs = out if eqn.primitive.multiple_results else (out,)
        src = residual_sources(eqn, act)
        if src is ALL:
            ins, res = range(len(eqn.invars)), range(len(outs))
        else:
            ins, res = src
        for i in ins:
            a = eqn.invars[i]
            if type(a) is Var and invals[i] is not None:
                values[a] = invals[i]
        for i in res:
            if outs[i] is not None:
                values[eqn.outvars[i]] = outs[i]


# counts calls that had to recompute a forward value the trace did not keep (a rule
# reading differently from ``residual_sources``' prediction): tests assert it stays 0
stats = {"recomputed": 0}


def _data(closed0, trace0, vals, out_vals):
    """Every value trace 0 knows, in a fixed order: consts, inputs, eqn outputs (None
    for an intermediate it did not keep)."""
    values = trace0.values
    for v, x in zip(closed0.jaxpr.outvars, out_vals):
        if type(v) is Var and x is not None:
            values[v] = x
    data = [_concrete(c) for c in closed0.consts] if closed0.consts else []
    data += vals
    get = values.get
    for e in closed0.jaxpr.eqns:
        for v in e.outvars:
            data.append(get(v))
    return data


def _fill(closed0, vals, data, needed):
    """Recompute the forward values at ``needed`` (indices into ``data``) that the trace
    did not keep, from the inputs (a fallback: never taken when ``residual_sources``
    predicts the rules' reads)."""
    missing = [i for i in needed if data[i] is None]
    if not missing:
        return
    stats["recomputed"] += 1
    j0 = drop_effects(closed0.jaxpr)
    dvars = data_vars(j0)
    sub = dce_jaxpr(Jaxpr(j0.constvars, j0.invars, [dvars[i] for i in missing], j0.eqns))
    for i, x in zip(missing, eval_jaxpr(sub, closed0.consts, *vals)):
        data[i] = x


def _pins(j0, sources):
    """Per eqn of ``j0``: the indices of its results among ``sources`` (data indices:
    consts, inputs, eqn results)."""
    need = set(sources)
    pos = len(j0.constvars) + len(j0.invars)
    pins = []
    for e in j0.eqns:
        n = len(e.outvars)
        pins.append(tuple([i for i in range(n) if pos + i in need]))
        pos += n
    return pins


# the last recipe of each user function (weakly keyed): the next call's trace keeps
# what that recipe reads (``_Predicted``)
_LAST: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _last_recipe(fun, avals, diff_mask):
    if fun is None:
        return None
    try:
        r = _LAST.get(fun)
    except TypeError:
        return None
    if r is not None and r.diff_mask == diff_mask and r.in_avals == avals:
        return r
    return None


def _remember(fun, recipe):
    if fun is not None:
        try:
            _LAST[fun] = recipe
        except TypeError:           # not weakly referenceable: no prediction
            pass


def linearize_flat(flat_fun, primals, avals, n_tangent_outs=None, user_fun=None):
    """Linearize ``flat_fun(*primals) -> list`` (tangents for float/complex inputs only).

    ``n_tangent_outs``: only the first n outputs get tangents (the rest are auxiliary);
    an int, or a callable giving it once the function has been traced.

    At top level with concrete inputs, every value of the first trace enters the
    linearization trace as a *data input* (an invar carrying its value), never as a
    constant: the linear jaxpr then depends only on the IR's structure, so it is cached
    by that structure and reused by later calls (which only gather their residuals).
    """
    top = not state.stack
    vals = [p._val if type(p) is Tracer else p for p in primals]
    concrete = True
    for v in vals:
        if v is None:
            concrete = False
            break
    # at top level with concrete inputs this trace is the eager run: it prints
    diff_mask = [is_differentiable_dtype(a.dtype) for a in avals]
    keep = last = None
    if top and concrete:
        last = _last_recipe(user_fun, avals, diff_mask)
        if last is not None:
            def keep(trace):
                return _Predicted(trace, last, diff_mask)
        else:
            def keep(trace):
                return _Keeper(trace.values, trace.invars, diff_mask)
    closed0, out_vals, trace0 = trace_flat(flat_fun, avals, vals if concrete else None,
                                           kind="linearize", run_effects=top, keep=keep)
    j0 = closed0.jaxpr
    n_out = len(j0.outvars)
    n_t = n_out if n_tangent_outs is None else (
        n_tangent_outs() if callable(n_tangent_outs) else n_tangent_outs.__index__())

    if not (top and concrete):
        return _linearize_nested(closed0, primals, avals, diff_mask, n_out, n_t)

    data = _data(closed0, trace0, vals, out_vals)
    del trace0, out_vals
    # programs are compiled per array library (Dask arrays get lazy code)
    kind = arraylib.array_kind(data) if arraylib.state.active else None
    key = _structure_key(j0, (n_t, tuple(diff_mask), kind))
    if key is not None:
        recipe = _CACHE.get(key)
        if recipe is not None:
            with _lock:
                try:
                    _CACHE.move_to_end(key)
                except KeyError:    # evicted by another thread meanwhile
                    pass
            _fill(closed0, vals, data, recipe.sources)
            if keep is None or recipe is not last:
                _remember(user_fun, recipe)
            known = recipe.known(data)
            return Linearized(known[:n_out], recipe, known[n_out:],
                              _user_arrays(vals, closed0.consts))

    out_avals = [v.aval for v in j0.outvars]
    known_j, lin_j, residuals, closed1, trace1 = linearize_jaxpr(closed0, avals, diff_mask,
                                                                 n_t, data=data)
    kj, kept = dce_jaxpr(known_j, prune_invars=True)
    sources = [i for i, k in enumerate(kept) if k]
    if any(data[i] is None for i in sources):
        _fill(closed0, vals, data, sources)
        trace1.values.update((v, data[i]) for i, v in enumerate(known_j.invars)
                             if v not in trace1.values)
    known_vals = _read_known(known_j, closed1.consts, trace1.values)
    recipe = _Recipe(lin_j, len(residuals), diff_mask, out_avals, kind)
    if key is not None:
        recipe.sources = sources
        # (``prune_invars`` also drops constvars only dead work read -- a rule's own
        # primal computation, replaced by the known values -- so the consts follow)
        const_of = dict(zip(known_j.constvars, closed1.consts))
        recipe.known_closed = ClosedJaxpr(kj, [const_of[v] for v in kj.constvars])
        recipe.prims = tuple([e.primitive for e in j0.eqns])
        recipe.pins = _pins(j0, sources)
        recipe.in_avals = list(avals)
        _remember(user_fun, recipe)
        with _lock:
            _CACHE[key] = recipe
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    return Linearized(known_vals[:n_out], recipe, known_vals[n_out:],
                      _user_arrays(vals, closed0.consts))


def _user_arrays(vals, consts):
    return [x for x in list(vals) + [_concrete(c) for c in consts] if type(x) is np.ndarray]


def _linearize_nested(closed0, primals, avals, diff_mask, n_out, n_t):
    """Under an enclosing transform: the known part is evaluated there (so outer
    transforms see it); nothing is cached (the values are the outer trace's)."""
    known_j, lin_j, residuals, closed1, _ = linearize_jaxpr(closed0, avals, diff_mask, n_t,
                                                            primals=primals)
    known_vals = eval_jaxpr(dce_jaxpr(known_j), closed1.consts)
    recipe = _Recipe(lin_j, len(residuals), diff_mask,
                     [v.aval for v in closed0.jaxpr.outvars])
    return Linearized(known_vals[:n_out], recipe, known_vals[n_out:])


def _read_known(jaxpr, consts, values):
    """The known jaxpr's outputs at top level: values recorded while tracing, running
    only the eqns whose results were not computed then (e.g. the residual outputs a
    call primitive's partial-eval rule adds)."""
    env = {v: _concrete(c) for v, c in zip(jaxpr.constvars, consts)}
    needed = set()
    for v in jaxpr.outvars:
        if type(v) is not Literal and v not in env and v not in values:
            needed.add(v)
    if needed:
        for eqn in jaxpr.eqns:
            if all(v in values or v in env for v in eqn.outvars):
                continue
            ins = [v.val if type(v) is Literal else env[v] if v in env else values[v]
                   for v in eqn.invars]
            out = arraylib.apply(eqn.primitive, ins, eqn.params)
            if debug_flags.nans:
                check_nans(eqn.primitive, ins, out, eqn.source_info, eqn.params,
                           "the forward pass")
            env.update(zip(eqn.outvars, out if eqn.primitive.multiple_results else [out]))

    def read(v):
        if type(v) is Literal:
            return v.val
        return env[v] if v in env else values[v]
    return [read(v) for v in jaxpr.outvars]

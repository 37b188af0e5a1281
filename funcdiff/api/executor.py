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
from ..transforms.dce import dce_jaxpr
from ..transforms.linearize import linearize_jaxpr
from ..transforms.transpose import transpose_jaxpr


def _concrete(x):
    return x._val if type(x) is Tracer else x


class Linearized:
    """Result of ``linearize_flat``: primal outputs, the linear jaxpr
    ``(residuals..., tangents...) -> tangent outs`` and the residual values.  The jaxprs
    (and their compiled forms) live in a ``_Recipe`` shared by every call that traced
    to the same IR."""

    def __init__(self, primal_outs, recipe, residuals):
        self.primal_outs = primal_outs
        self.recipe = recipe
        self.residuals = residuals

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
        self.known_closed = None  # (data values...) -> (primal outs..., residuals...)
        self._known_fn = None
        self._backward = self._backward_fn = self._lin_fn = None

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

    def backward_fn(self):
        if self._backward_fn is None:
            self._backward_fn = _compile(self.backward(), "backward", self.kind)
        return self._backward_fn

    def lin_fn(self):
        if self._lin_fn is None:
            self._lin_fn = _compile(ClosedJaxpr(self.lin_jaxpr, []), "linear", self.kind)
        return self._lin_fn


def _compile(closed, name, kind=None):
    return compile_jaxpr(optimize(closed), name, copy_inputs=False, array_kind=kind)[0]


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


def _data(closed0, trace0, vals):
    """Every value trace 0 knows, in a fixed order: consts, inputs, eqn outputs."""
    values = trace0.values
    data = [_concrete(c) for c in closed0.consts] if closed0.consts else []
    data += vals
    for e in closed0.jaxpr.eqns:
        for v in e.outvars:
            data.append(values[v])
    return data


def linearize_flat(flat_fun, primals, avals, n_tangent_outs=None):
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
    closed0, _, trace0 = trace_flat(flat_fun, avals, vals if concrete else None,
                                    kind="linearize", run_effects=top)
    j0 = closed0.jaxpr
    n_out = len(j0.outvars)
    n_t = n_out if n_tangent_outs is None else (
        n_tangent_outs() if callable(n_tangent_outs) else n_tangent_outs.__index__())
    diff_mask = [is_differentiable_dtype(a.dtype) for a in avals]

    if not (top and concrete):
        return _linearize_nested(closed0, primals, avals, diff_mask, n_out, n_t)

    data = _data(closed0, trace0, vals)
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
            known = recipe.known(data)
            return Linearized(known[:n_out], recipe, known[n_out:])

    out_avals = [v.aval for v in j0.outvars]
    known_j, lin_j, residuals, closed1, trace1 = linearize_jaxpr(closed0, avals, diff_mask,
                                                                 n_t, data=data)
    known_vals = _read_known(known_j, closed1.consts, trace1.values)
    recipe = _Recipe(lin_j, len(residuals), diff_mask, out_avals, kind)
    if key is not None:
        kj, kept = dce_jaxpr(known_j, prune_invars=True)
        recipe.sources = [i for i, k in enumerate(kept) if k]
        recipe.known_closed = ClosedJaxpr(kj, closed1.consts)
        with _lock:
            _CACHE[key] = recipe
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    return Linearized(known_vals[:n_out], recipe, known_vals[n_out:])


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

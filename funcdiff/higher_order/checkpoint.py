"""``checkpoint`` (alias ``remat``): the primitives and the saving policies.

``checkpoint(f)`` (``funcdiff.checkpoint``) records one ``checkpoint`` call eqn holding
``f``'s jaxpr.  Its rules are those of any call primitive (``call.py``) except two:

* **partial evaluation** (``_checkpoint_partial_eval``).  Linearizing splits the jvp of
  ``f`` into a known (primal) part and an unknown (tangent) part.  An ordinary call
  saves every known value the tangent part reads (a *residual*).  ``checkpoint`` saves
  only the residuals its ``policy`` allows (``partial_eval_remat``); the unknown eqn
  instead receives the checkpoint's *inputs* and replays the known eqns it needs (the
  "staged" jaxpr = recomputation + tangent eqns).
* **transpose** (``_checkpoint_transpose``).  The staged jaxpr is no longer linear: it
  begins with the replayed forward.  Transposing it splits it again, runs the replay
  where the backward pass reaches the checkpoint, then transposes the linear rest.
  The replay reads its inputs through ``optimization_barrier``, an identity primitive
  that also takes the incoming cotangents as operands: the replay is then a separate
  computation that no pass can merge (CSE) with the original forward, nor hoist before
  the backward pass reaches it.  ``checkpoint`` eqns are never inlined by ``jit``'s
  inline pass (the primitive has no ``inline`` hook), so the forward stays opaque too.

Policies decide, eqn by eqn, what may be saved: ``policy(prim, *avals_in, **params)
-> bool`` as in JAX.  ``checkpoint_name(x, "name")`` tags a value (the ``name``
primitive) for ``save_only_these_names``.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..core.ad_types import UndefPrimal, Zero
from ..core.avals import ShapedArray, short_dtype
from ..core.errors import FuncdiffTypeError, FuncdiffValueError, FuncdiffWarning
from ..core.interpret import eval_jaxpr_impl
from ..core.ir import ClosedJaxpr, Eqn, Jaxpr, Literal, Var, closure_convert
from ..core.trace import Primitive, Tracer, _memo_hit, source_context, state
from ..primitives.base import cast_ct, convert_element_type_p, defvectorized
from ..primitives.dot import dot_general_p
from ..transforms.dce import dce_jaxpr
from ..transforms.jvp import jvp_jaxpr
from ..transforms.partial_eval import partial_eval_jaxpr, partial_eval_remat
from ..transforms.transpose import backward_pass
from .call import call_jvp, make_call_primitive


# --- policies ------------------------------------------------------------------------

class Policy:
    """A saving policy: ``policy(prim, *avals_in, **params) -> bool`` says whether the
    output of one eqn of that primitive may be saved for the backward pass.  Policies
    are params of ``checkpoint`` eqns, so they compare by name (and wrapped function)."""

    __slots__ = ("name", "fn")

    def __init__(self, name, fn):
        self.name = name
        self.fn = fn

    def __call__(self, prim, *avals, **params):
        return bool(self.fn(prim, *avals, **params))

    def __repr__(self):
        return self.name

    def __eq__(self, other):
        if type(other) is not Policy:
            return False
        if isinstance(self.fn, _Named) and isinstance(other.fn, _Named):
            return self.name == other.name
        return self.fn == other.fn

    def __hash__(self):
        return hash(self.name)


class _Named:
    """Marks a policy function as defined by its name (built-in policies)."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, *a, **k):
        return self.fn(*a, **k)


def _policy(name, fn):
    return Policy(name, _Named(fn))


everything_saveable = _policy("everything_saveable", lambda prim, *a, **p: True)
nothing_saveable = _policy("nothing_saveable", lambda prim, *a, **p: False)


def _is_dot(prim):
    return prim is dot_general_p


dots_saveable = _policy("dots_saveable", lambda prim, *a, **p: _is_dot(prim))


def _dot_no_batch(prim, *avals, **params):
    return _is_dot(prim) and params["dimension_numbers"][1] == ((), ())


dots_with_no_batch_dims_saveable = _policy("dots_with_no_batch_dims_saveable",
                                           _dot_no_batch)


def _cheap(prim, *avals, **params):
    """A non-transcendental elementwise op, or a view of its operand (a shape op):
    cheaper to replay than to keep."""
    if prim.returns_view:
        return True
    if prim.ufunc is None or prim.cost is None:
        return False
    try:
        c = prim.cost(list(avals), list(avals[:1]), **params)
    except Exception:  # noqa: BLE001 - unknown rule shape: treat as expensive
        return False
    return not c.get("transcendentals", 0)


all_but_cheap_elementwise_saveable = _policy(
    "all_but_cheap_elementwise_saveable", lambda prim, *a, **p: not _cheap(prim, *a, **p))


def save_only_these_names(*names: str) -> Policy:
    """A policy saving only values tagged ``checkpoint_name(x, n)`` with ``n`` in ``names``.

    Parameters
    ----------
    *names : str
        The tags whose values may be saved.

    Returns
    -------
    Policy
        The policy, for ``checkpoint(f, policy=...)``.

    Examples
    --------
    >>> def f(W, x):
    ...     h = fd.checkpoint_name(fnp.tanh(W @ x), "hidden")
    ...     return fnp.sum(fnp.sin(h))
    >>> policy = fd.checkpoint_policies.save_only_these_names("hidden")
    >>> res = fd.saved_residuals(fd.checkpoint(f, policy=policy), np.eye(2), np.ones(2))
    >>> print([r.description for r in res if r.kind == "intermediate"])
    ["named 'hidden' (inside checkpoint)"]

    See Also
    --------
    save_any_names_but_these : the complement among tagged values.
    funcdiff.checkpoint_name : the tag.
    """
    names = tuple(names)
    return _policy(f"save_only_these_names{names!r}",
                   lambda prim, *a, **p: prim is name_p and p["name"] in names)


def save_any_names_but_these(*names: str) -> Policy:
    """A policy saving every value tagged with ``checkpoint_name`` except ``names``.

    Parameters
    ----------
    *names : str
        The tags whose values are recomputed, not saved.

    Returns
    -------
    Policy
        The policy, for ``checkpoint(f, policy=...)``.

    Examples
    --------
    >>> def f(x):
    ...     a = fd.checkpoint_name(fnp.sin(x), "a")
    ...     b = fd.checkpoint_name(fnp.sin(a), "b")
    ...     return fnp.sum(fnp.sin(b))
    >>> policy = fd.checkpoint_policies.save_any_names_but_these("b")
    >>> res = fd.saved_residuals(fd.checkpoint(f, policy=policy), np.ones(2))
    >>> print([r.description for r in res if r.kind == "intermediate"])
    ["named 'a' (inside checkpoint)"]

    See Also
    --------
    save_only_these_names : only the given tags.
    """
    names = tuple(names)
    return _policy(f"save_any_names_but_these{names!r}",
                   lambda prim, *a, **p: prim is name_p and p["name"] not in names)


def save_from_both_policies(policy_1: Any, policy_2: Any) -> Policy:
    """A policy saving what either of two policies saves.

    Parameters
    ----------
    policy_1, policy_2 : Policy or callable
        The policies (None is ``nothing_saveable``).

    Returns
    -------
    Policy
        Their union.

    Examples
    --------
    >>> cp = fd.checkpoint_policies
    >>> def f(W, x):
    ...     h = fd.checkpoint_name(fnp.tanh(W @ x), "hidden")
    ...     return fnp.sum(fnp.sin(h))
    >>> both = cp.save_from_both_policies(cp.dots_saveable, cp.save_only_these_names("hidden"))
    >>> res = fd.saved_residuals(fd.checkpoint(f, policy=both), np.eye(2), np.ones(2))
    >>> print(len([r for r in res if r.kind == "intermediate"]))
    2

    See Also
    --------
    checkpoint_policies : the built-in policies.
    """
    p1, p2 = _as_policy(policy_1), _as_policy(policy_2)
    if isinstance(p1, CastPolicy) or isinstance(p2, CastPolicy):
        # the union cannot say which dtype to store in: refuse rather than drop the cast
        raise FuncdiffTypeError(
            "save_from_both_policies: a save_in policy cannot be combined this way (which "
            "values would be stored in which precision?).  Put the union in save_in's "
            "base: save_in(dtype, base=save_from_both_policies(p1, p2)).")
    return _policy(f"save_from_both_policies({p1!r}, {p2!r})",
                   lambda prim, *a, **p: p1(prim, *a, **p) or p2(prim, *a, **p))


class CastPolicy(Policy):
    """A saving policy that also stores what it saves in a lower precision
    (``save_in``): ``dtype`` is the storage dtype, ``base`` the policy deciding what is
    saved at all."""

    __slots__ = ("dtype", "base")

    def __init__(self, dtype, base):
        super().__init__(f"save_in({short_dtype(dtype)}, base={base!r})", base.fn)
        self.dtype = dtype
        self.base = base

    def __eq__(self, other):
        return (type(other) is CastPolicy and self.dtype == other.dtype and
                self.base == other.base)

    def __hash__(self):
        return hash(self.name)


def _lowp_dtype(dtype):
    """The storage dtype ``save_in`` accepts: float16, float32, or bfloat16 (from
    ``ml_dtypes``, NumPy has none; the string ``"bfloat16"`` imports it)."""
    if isinstance(dtype, str) and dtype == "bfloat16":
        try:
            import ml_dtypes  # optional dependency (the `lowp` extra), imported on demand
        except ImportError:
            raise FuncdiffTypeError(
                "checkpoint_policies.save_in('bfloat16') needs the ml_dtypes package "
                "(NumPy has no bfloat16): pip install 'funcdiff[lowp]' (or ml_dtypes), "
                "or use save_in(numpy.float16)") from None
        return np.dtype(ml_dtypes.bfloat16)
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is not None and (dt in (np.dtype(np.float16), np.dtype(np.float32)) or
                           dt.name == "bfloat16"):
        return dt
    raise FuncdiffTypeError(
        f"checkpoint_policies.save_in: dtype must be float16, float32 or bfloat16 (the "
        f"precision residuals are stored in), got {dtype!r}")


def save_in(dtype: Any, base: Any = None) -> Policy:
    """A policy storing the residuals it saves in a lower precision ``dtype``.

    What ``base`` saves (default: everything) is cast to ``dtype`` in the forward pass
    and cast back to its own dtype when the backward pass reads it: the saved bytes of
    float32 residuals halve with float16 or bfloat16, at the price of rounding the
    values the derivative is computed from (about 3 significant digits; see
    docs/checkpoint.md for measured gradient errors).  Only real floating residuals
    wider than ``dtype`` are cast: integer and boolean ones (indices, masks) and
    complex ones are saved at full precision, and so are the checkpoint's own inputs.

    A float16 residual whose finite values exceed float16's range (65504) would become
    ``inf`` and spoil the gradient: the forward pass then raises
    ``FuncdiffValueError`` instead (bfloat16 has about float32's range, up to
    3.3895e38: the same check refuses the rare float32 values above it and larger
    float64 ones).

    Parameters
    ----------
    dtype : numpy dtype or "bfloat16"
        ``numpy.float16``, ``"bfloat16"`` (needs ``ml_dtypes``: the ``lowp`` extra) or
        ``numpy.float32`` (for float64 programs).
    base : Policy or callable, optional
        Which intermediates are saved at all (default ``everything_saveable``); the
        rest is recomputed as usual.

    Returns
    -------
    Policy
        The policy, for ``checkpoint(f, policy=...)``.

    Raises
    ------
    FuncdiffTypeError
        If ``dtype`` is not one of those, or is "bfloat16" without ``ml_dtypes``.

    Examples
    --------
    >>> f = lambda x: fnp.sum(fnp.sin(fnp.sin(x)))
    >>> x = np.ones(4, np.float32)
    >>> g = fd.checkpoint(f, policy=fd.checkpoint_policies.save_in(np.float16))
    >>> print([(str(r.dtype), r.nbytes) for r in fd.saved_residuals(g, x)
    ...        if r.kind == "intermediate"])
    [('float16', 8), ('float16', 8)]
    >>> print(np.allclose(fd.grad(g)(x), fd.grad(f)(x), rtol=1e-2), fd.grad(g)(x).dtype)
    True float32

    See Also
    --------
    funcdiff.checkpoint : where policies apply.
    funcdiff.print_saved_residuals : the reduced bytes.
    """
    base = everything_saveable if base is None else _as_policy(base)
    if isinstance(base, CastPolicy):
        base = base.base
    return CastPolicy(_lowp_dtype(dtype), base)


class checkpoint_policies:  # noqa: N801 - a namespace, spelled as JAX's
    """The built-in saving policies for ``checkpoint``, as ``jax.checkpoint_policies``.

    A policy says which intermediates of a checkpointed function reverse mode may
    still save (the rest is recomputed):

    * ``nothing_saveable`` (the default): save nothing, recompute everything;
    * ``everything_saveable``: save everything (no recomputation);
    * ``dots_saveable`` (alias ``checkpoint_dots``): save the results of matrix
      products, recompute the cheap elementwise work;
    * ``dots_with_no_batch_dims_saveable`` (alias
      ``checkpoint_dots_with_no_batch_dims``): only products without batch dimensions;
    * ``all_but_cheap_elementwise_saveable``: everything but cheap elementwise ops;
    * ``save_only_these_names(*names)``, ``save_any_names_but_these(*names)``: by
      ``checkpoint_name`` tag;
    * ``save_from_both_policies(p1, p2)``: the union;
    * ``save_in(dtype, base=None)``: what ``base`` saves (default everything), stored
      in a lower precision (float16, bfloat16).

    Examples
    --------
    >>> cp = fd.checkpoint_policies
    >>> def f(W, x):
    ...     return fnp.sum(fnp.sin(fnp.tanh(W @ x)))
    >>> for policy in [cp.nothing_saveable, cp.dots_saveable]:
    ...     res = fd.saved_residuals(fd.checkpoint(f, policy=policy), np.eye(2), np.ones(2))
    ...     print(policy, [r.description for r in res if r.kind == "intermediate"])
    nothing_saveable []
    dots_saveable ['output of dot_general (inside checkpoint)']

    See Also
    --------
    funcdiff.checkpoint : where policies apply.
    funcdiff.saved_residuals : what a policy keeps.
    """
    everything_saveable = everything_saveable
    nothing_saveable = nothing_saveable
    dots_saveable = dots_saveable
    checkpoint_dots = dots_saveable
    dots_with_no_batch_dims_saveable = dots_with_no_batch_dims_saveable
    checkpoint_dots_with_no_batch_dims = dots_with_no_batch_dims_saveable
    all_but_cheap_elementwise_saveable = all_but_cheap_elementwise_saveable
    save_only_these_names = staticmethod(save_only_these_names)
    save_any_names_but_these = staticmethod(save_any_names_but_these)
    save_from_both_policies = staticmethod(save_from_both_policies)
    save_in = staticmethod(save_in)


def _as_policy(policy):
    if policy is None:
        return nothing_saveable
    if isinstance(policy, Policy):
        return policy
    if callable(policy):
        return Policy(getattr(policy, "__name__", repr(policy)), policy)
    raise TypeError(f"checkpoint: policy must be a callable (prim, *avals, **params) -> "
                    f"bool such as funcdiff.checkpoint_policies.dots_saveable, got "
                    f"{policy!r}")


def _saveable(policy, eqn):
    return policy(eqn.primitive, *[v.aval for v in eqn.invars], **eqn.params)


# --- the name primitive ---------------------------------------------------------------

name_p = Primitive("name")
name_p.impl = lambda x, *, name: x
name_p.abstract_eval = lambda x, *, name: x
name_p.jvp = lambda primals, tangents, *, name: (name_p.bind(primals[0], name=name),
                                                  tangents[0])
name_p.transpose = lambda ct, x, *, name: [ct]
name_p.linear = True
name_p.cost = lambda avals_in, avals_out, **p: {"flops": 0, "transcendentals": 0}
name_p.emit = "{0}"
name_p.returns_view = True
name_p.sparsity = "copy"
name_p.batch = lambda args, dims, *, name: (name_p.bind(args[0], name=name), dims[0])


# --- the barrier ------------------------------------------------------------------------

optimization_barrier_p = Primitive("optimization_barrier", multiple_results=True)
optimization_barrier_p.impl = lambda *args: list(args)
optimization_barrier_p.abstract_eval = lambda *avals: list(avals)
optimization_barrier_p.cost = lambda avals_in, avals_out, **p: {"flops": 0,
                                                                "transcendentals": 0}
optimization_barrier_p.linear = True
optimization_barrier_p.returns_view = True
optimization_barrier_p.sparsity = "copy"


def optimization_barrier(*xs):
    """Identity on its operands that no optimization looks through: results computed
    from its outputs are never merged with results computed from its inputs."""
    return optimization_barrier_p.bind(*xs)


def _barrier_jvp(primals, tangents):
    outs = optimization_barrier_p.bind(*primals)
    nz = [t for t in tangents if type(t) is not Zero]
    t_it = iter(optimization_barrier_p.bind(*nz) if nz else [])
    return list(outs), [t if type(t) is Zero else next(t_it) for t in tangents]


def _barrier_transpose(cts, *args):
    lin = [type(a) is UndefPrimal for a in args]
    nz = [c for c, u in zip(cts, lin) if u and type(c) is not Zero]
    it = iter(optimization_barrier_p.bind(*nz) if nz else [])
    return [None if not u else (c if type(c) is Zero else next(it))
            for c, u in zip(cts, lin)]


optimization_barrier_p.jvp = _barrier_jvp
optimization_barrier_p.transpose = _barrier_transpose
optimization_barrier_p.batch = lambda args, dims: (optimization_barrier_p.bind(*args),
                                                   list(dims))


# --- save_cast: storing a residual in a lower precision ----------------------------------

save_cast_p = Primitive("save_cast")


def save_cast_impl(x, *, dtype, what):
    """``x`` cast to ``dtype``, refusing a finite value that overflows to ``inf`` (it
    would turn the gradient into inf/nan without a word)."""
    x, dtype = np.asarray(x), np.dtype(dtype)
    with np.errstate(over="ignore"):       # overflow is checked (and refused) below
        y = x.astype(dtype)
    if y.dtype.itemsize < x.dtype.itemsize:
        inf = np.isinf(y)
        if inf.any() and (inf & ~np.isinf(x)).any():
            big = float(np.max(np.abs(np.where(np.isinf(x), 0, x))))
            raise FuncdiffValueError(
                f"checkpoint_policies.save_in({short_dtype(dtype)}): the residual {what} "
                f"has values up to {big:.4g}, beyond the largest {dtype.name} "
                f"({float(_finfo(dtype).max):.6g}): stored in {dtype.name}, they "
                "would become inf and the gradient inf/nan.  Save it in 'bfloat16' "
                "(float32's range; pip install ml_dtypes), scale the values down, or "
                "keep this value out of the saving policy's `base`.")
        if y.dtype.kind == "f":
            lost = (y == 0) & (x != 0)
            if lost.any():
                # (not refused: tiny values flush harmlessly wherever they are multiplied;
                # said, because a backward pass dividing by one returns inf)
                tiny = float(np.max(np.abs(np.where(lost, x, 0))))
                warnings.warn(
                    f"checkpoint_policies.save_in({short_dtype(dtype)}): the residual "
                    f"{what} has {int(lost.sum())} nonzero value(s) (up to {tiny:.3g}) "
                    f"below the smallest {dtype.name} ({float(_tiniest(dtype)):.3g}), "
                    "stored as 0: a derivative that divides by them (log, reciprocal, "
                    "sqrt) becomes inf.  Save this value in a wider dtype or keep it "
                    "out of the saving policy's `base`.", FuncdiffWarning, stacklevel=2)
    return y


def _tiniest(dtype):
    """The smallest positive value of a floating dtype (its smallest subnormal)."""
    return _finfo(dtype).smallest_subnormal


def _finfo(dtype):
    """``np.finfo``, or ml_dtypes' for its types (NumPy 1.x's finfo refuses bfloat16)."""
    try:
        return np.finfo(dtype)
    except (TypeError, ValueError):
        import ml_dtypes   # (optional, and present: the dtype is one of its types)
        return ml_dtypes.finfo(dtype)


save_cast_p.impl = save_cast_impl
save_cast_p.abstract_eval = lambda x, *, dtype, what: ShapedArray(x.shape, dtype)
# the cast is the identity up to rounding: its derivative passes tangents through the
# same cast (so higher orders see the stored precision too), cotangents back up
save_cast_p.jvp = lambda primals, tangents, *, dtype, what: (
    save_cast_p.bind(primals[0], dtype=dtype, what=what),
    tangents[0] if type(tangents[0]) is Zero else
    save_cast_p.bind(tangents[0], dtype=dtype, what=f"tangent of {what}"))
save_cast_p.transpose = lambda ct, x, *, dtype, what: [
    Zero(x.aval.strengthen()) if type(ct) is Zero else cast_ct(ct, x.aval)]
save_cast_p.linear = True
save_cast_p.cost = lambda avals_in, avals_out, **p: {"flops": 0, "transcendentals": 0}
save_cast_p.emit = lambda args, params, gen: (
    f"{gen.const(save_cast_impl, 'save_cast')}({args[0]}, "
    f"dtype={gen.param(params['dtype'])}, what={gen.const(params['what'], 'what')})")
defvectorized(save_cast_p)


def _casts_to(a, dtype):
    """Whether a residual of aval ``a`` is stored cast to ``dtype``: real floating and
    wider than it (integers, booleans and complex values are kept as they are)."""
    return a.dtype.kind == "f" and a.dtype.itemsize > dtype.itemsize


def _save_lowp(known, staged, n_used, saved, dtype, source_info):
    """Rewrite a remat split so that the saved residuals travel in ``dtype``: in
    ``known`` each castable saved var is cast by a ``save_cast`` right after the eqn
    that makes it (so the full-precision value dies at its last forward use, not at the
    end of the forward pass), ``staged`` casts it back to its own dtype (the backward
    pass replays that cast on demand, right before the first use).  Returns
    ``(known, staged)``."""
    casts, s_eqns, s_ins = {}, [], []
    n_kout = len(known.outvars) - len(saved)
    k_outs = list(known.outvars)
    for i, v in enumerate(saved):
        if not _casts_to(v.aval, dtype):
            s_ins.append(v)
            continue
        low, low_in = Var(ShapedArray(v.aval.shape, dtype)), Var(ShapedArray(v.aval.shape,
                                                                             dtype))
        casts[v] = low
        k_outs[n_kout + i] = low
        s_ins.append(low_in)
        s_eqns.append(Eqn(convert_element_type_p, [low_in], [v],
                          dict(dtype=v.aval.dtype, weak_type=False), source_info))
    k_eqns = []
    for e in known.eqns:
        k_eqns.append(e)
        for o in e.outvars:
            if o in casts:
                at = f" at {e.source_info}" if e.source_info is not None else ""
                what = (f"{short_dtype(o.aval.dtype)}{list(o.aval.shape)} (output of "
                        f"{e.primitive.name}{at})")
                k_eqns.append(Eqn(save_cast_p, [o], [casts.pop(o)],
                                  dict(dtype=dtype, what=what), e.source_info))
    for v, low in casts.items():    # (saved inputs, defined by no eqn: cast up front)
        k_eqns.insert(0, Eqn(save_cast_p, [v], [low], dict(dtype=dtype, what=(
            f"{short_dtype(v.aval.dtype)}{list(v.aval.shape)}")), source_info))
    known = Jaxpr(known.constvars, known.invars, k_outs, k_eqns)
    inv = staged.invars
    staged = Jaxpr(staged.constvars, inv[:n_used] + s_ins + inv[n_used + len(saved):],
                   staged.outvars, s_eqns + list(staged.eqns))
    return known, staged


# --- the checkpoint primitive -----------------------------------------------------------

def _checkpoint_impl(jaxpr, *args, policy, prevent_cse):
    return eval_jaxpr_impl(jaxpr, [], *args)


checkpoint_p = make_call_primitive("checkpoint", _checkpoint_impl)


def _emit_checkpoint(args, params, gen):
    """Generated code calls the sub-jaxpr's own compiled function (compiled once, when
    the enclosing program is generated)."""
    fn = gen.subprogram(params["jaxpr"], "checkpoint", "ckpt")
    return f"{fn}({', '.join(args)})"


checkpoint_p.emit = _emit_checkpoint


def _checkpoint_jvp(primals, tangents, *, jaxpr, policy, prevent_cse):
    params = dict(jaxpr=jaxpr, policy=policy, prevent_cse=prevent_cse)
    known = _memo_hit(checkpoint_p, primals, params) if state.memo is not None else None
    if known is None:
        return call_jvp(checkpoint_p, primals, tangents, **params)
    # Eager linearize already has the primal outputs (computed while tracing): bind a
    # checkpoint of the tangent half only, so the forward pass is not run again.
    nonzeros = [type(t) is not Zero for t in tangents]
    new, out_nz = jvp_jaxpr(ClosedJaxpr(jaxpr, []), nonzeros, instantiate=False)
    n_out = len(jaxpr.outvars)
    j, consts = closure_convert(new)
    j = dce_jaxpr(j, [False] * n_out + [True] * (len(j.outvars) - n_out))
    nz_t = [t for t in tangents if type(t) is not Zero]
    t_it = iter(checkpoint_p.bind(*consts, *primals, *nz_t, jaxpr=j, policy=policy,
                                  prevent_cse=prevent_cse) if any(out_nz) else [])
    t_outs = [next(t_it) if nz else Zero(v.aval.strengthen())
              for v, nz in zip(jaxpr.outvars, out_nz)]
    return list(known), t_outs


def _checkpoint_partial_eval(eqn, unknowns):
    params = {k: v for k, v in eqn.params.items() if k != "jaxpr"}
    policy = params["policy"]
    known, staged, out_unknowns, inputs_used, saved = partial_eval_remat(
        eqn.params["jaxpr"], unknowns, lambda e: _saveable(policy, e))
    if isinstance(policy, CastPolicy) and saved:
        known, staged = _save_lowp(known, staged, len(inputs_used), saved, policy.dtype,
                                   eqn.source_info)
        n = len(known.outvars) - len(saved)
        saved = known.outvars[n:]
    saved_outer = [Var(v.aval) for v in saved]
    known_outs = [v for v, u in zip(eqn.outvars, out_unknowns) if not u]
    unknown_outs = [v for v, u in zip(eqn.outvars, out_unknowns) if u]
    known_eqns = []
    if known_outs or saved_outer:
        known_eqns.append(Eqn(checkpoint_p, [a for a, u in zip(eqn.invars, unknowns)
                                             if not u],
                              known_outs + saved_outer, dict(params, jaxpr=known),
                              eqn.source_info))
    unknown_eqn = Eqn(checkpoint_p,
                      [eqn.invars[i] for i in inputs_used] + saved_outer +
                      [a for a, u in zip(eqn.invars, unknowns) if u],
                      unknown_outs, dict(params, jaxpr=staged), eqn.source_info)
    return known_eqns, [unknown_eqn], unknown_outs


def _checkpoint_transpose(cts, *args, jaxpr, policy, prevent_cse):
    lin = [type(a) is UndefPrimal for a in args]
    known, lin_j, out_unknowns, residuals = partial_eval_jaxpr(jaxpr, lin, None)
    cts = [c for c, u in zip(cts, out_unknowns) if u]  # known outputs carry no linear ct
    if all(type(c) is Zero for c in cts):
        return [Zero(a.aval.strengthen()) if u else None for a, u in zip(args, lin)]
    res_vals = [a for a, u in zip(args, lin) if not u]
    if prevent_cse:
        # the replay reads its inputs through a barrier that also takes the cotangents:
        # it cannot be merged with the forward pass, nor run before the backward pass
        # reaches this point
        arr = [i for i, x in enumerate(res_vals) if type(x) is Tracer or
               isinstance(x, np.ndarray)]
        nz = [i for i, c in enumerate(cts) if type(c) is not Zero]
        outs = optimization_barrier_p.bind(*[res_vals[i] for i in arr],
                                           *[cts[i] for i in nz])
        res_vals = list(res_vals)
        cts = list(cts)
        for i, o in zip(arr, outs[:len(arr)]):
            res_vals[i] = o
        for i, o in zip(nz, outs[len(arr):]):
            cts[i] = o
    in_cts = _backward_with_replay(known, lin_j, res_vals, len(residuals), cts)
    it = iter(in_cts)
    return [next(it) if u else None for u in lin]


def _backward_with_replay(known, lin_j, res_vals, n_res, cts):
    """``backward_pass`` over ``lin_j`` whose residuals (its first ``n_res`` invars) are
    computed by ``known`` from ``res_vals`` *on demand*: each replayed value is computed
    right before the first transposed eqn that reads it, so a checkpoint whose policy
    saved, say, the matmul outputs replays one layer at a time during the backward
    pass instead of re-materializing the whole forward at once."""
    env = dict(zip(known.invars, res_vals))
    defs = {o: e for e in known.eqns for o in e.outvars}

    def get(v):
        if type(v) is Literal:
            return v.val
        stack = [v]
        while stack:
            u = stack[-1]
            if u in env:
                stack.pop()
                continue
            e = defs[u]
            missing = [a for a in e.invars if type(a) is Var and a not in env]
            if missing:
                stack.extend(missing)
                continue
            with source_context(e.source_info):
                out = e.primitive.bind(*[a.val if type(a) is Literal else env[a]
                                         for a in e.invars], **e.params)
            env.update(zip(e.outvars, out if e.primitive.multiple_results else [out]))
            stack.pop()
        return env[v]

    args = [None] * n_res + [UndefPrimal(v.aval) for v in lin_j.invars[n_res:]]
    return backward_pass(lin_j, [], args, cts, read=get,
                         where=" inside a checkpoint")[n_res:]


checkpoint_p.jvp = _checkpoint_jvp
checkpoint_p.partial_eval = _checkpoint_partial_eval
checkpoint_p.transpose = _checkpoint_transpose

"""Saved residuals: what a reverse pass of a jaxpr keeps from its forward half to its
backward half (shape, dtype, bytes and the user line that made each), found by
linearizing it (jvp + partial evaluation) and reading the residuals of the split.
``funcdiff.saved_residuals`` / ``print_saved_residuals`` (``funcdiff.api.checkpoint``)
show them for a function; ``cost_analysis`` adds them up as ``saved_bytes``."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core.avals import is_differentiable_dtype, short_dtype
from ..core.ir import ClosedJaxpr, Jaxpr, Var
from ..higher_order.checkpoint import name_p, save_cast_p
from ..higher_order.scan import scan_p
from ..transforms.dce import dce_jaxpr
from ..transforms.linearize import data_vars, linearize_jaxpr


class Residual(NamedTuple):
    """One value a reverse pass keeps from its forward half to its backward half."""
    shape: tuple
    dtype: np.dtype
    nbytes: int
    kind: str            # "argument", "constant" or "intermediate"
    description: str     # e.g. "output of tanh" / "argument 0"
    source_info: object  # SourceInfo of the user line that made it, or None

    def __str__(self):
        shape = ",".join(map(str, self.shape))
        where = f" at {self.source_info}" if self.source_info is not None else ""
        return (f"{short_dtype(self.dtype)}[{shape}]  {_fmt_bytes(self.nbytes):>10}  "
                f"{self.description}{where}")


def _fmt_bytes(n):
    for unit, k in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= k:
            return f"{n / k:.1f} {unit}"
    return f"{n} B"


def _describe(v, eqns_by_out, invars, constvars, depth=0, names=None):
    """(kind, description, source_info) of a residual var of a known jaxpr; ``names``
    (optional) are the arguments' pytree paths (``Ws[11]``)."""
    if v in invars:
        i = invars.index(v)
        return "argument", f"argument {names[i] if names else i}", None
    if v in constvars:
        return "constant", "a constant the function closes over", None
    eqn = eqns_by_out.get(v)
    if eqn is None:
        return "intermediate", "an intermediate", None
    if eqn.primitive.returns_view and not eqn.primitive.multiple_results:
        src = next((a for a in eqn.invars if type(a) is Var), None)
        if src is not None:
            kind, desc, _ = _describe(src, eqns_by_out, invars, constvars, depth + 1,
                                      names)
            if kind != "intermediate":    # a view of an argument costs no memory
                return kind, f"{eqn.primitive.name} (a view) of {desc}", eqn.source_info
    sub = eqn.params.get("jaxpr")
    if isinstance(sub, ClosedJaxpr):
        sub = sub.jaxpr
    if isinstance(sub, Jaxpr) and depth < 50:
        inner = sub.outvars[eqn.outvars.index(v)]
        name = eqn.primitive.name
        stacked = eqn.primitive is scan_p and eqn.outvars.index(v) >= eqn.params["num_carry"]
        per_iter = ", one per iteration" if stacked else ""
        if type(inner) is Var:
            inner_defs = {o: e for e in sub.eqns for o in e.outvars}
            kind, desc, src = _describe(inner, inner_defs, sub.invars, sub.constvars,
                                        depth + 1)
            if kind == "intermediate":
                return kind, f"{desc} (inside {name}{per_iter})", src
            what = "a loop carry or x" if eqn.primitive is scan_p else "an input"
            return "intermediate", f"{what} of {name}{per_iter}", eqn.source_info
    if eqn.primitive is save_cast_p and type(eqn.invars[0]) is Var:
        kind, desc, src = _describe(eqn.invars[0], eqns_by_out, invars, constvars,
                                    depth + 1, names)
        return kind, f"{desc}, stored as {short_dtype(eqn.params['dtype'])}", src
    if eqn.primitive is name_p:
        return "intermediate", f"named {eqn.params['name']!r}", eqn.source_info
    return "intermediate", f"output of {eqn.primitive.name}", eqn.source_info


def saved_residuals_jaxpr(closed, diff_mask=None, arg_names=None):
    """The residuals of reverse-mode differentiation of ``closed`` w.r.t. the inputs in
    ``diff_mask`` (default: every floating-point input): a list of ``Residual``.
    ``arg_names``: a name per input (its pytree path) for the listing."""
    if not isinstance(closed, ClosedJaxpr):
        closed = ClosedJaxpr(closed, [])
    in_avals = closed.in_avals
    if diff_mask is None:
        diff_mask = [is_differentiable_dtype(a.dtype) for a in in_avals]
    diff_mask = list(diff_mask)
    if not any(diff_mask):
        return []
    # linearized as eager grad linearizes (``linearize_jaxpr`` with every value of the
    # forward pass as data, here abstract): the residuals are then exactly what eager
    # grad keeps -- forward values the rules read, plus what the known part computes
    j0 = closed.jaxpr
    dvars = data_vars(j0)
    known, lin, residuals, _, _ = linearize_jaxpr(closed, in_avals, diff_mask,
                                                  len(j0.outvars), data=[None] * len(dvars))
    # only residuals the backward pass really reads
    _, kept = dce_jaxpr(lin, prune_invars=True)
    residuals = [r for r, k in zip(residuals, kept) if k]
    # a residual that is a data input stands for that forward value of ``j0``
    as_data = dict(zip(known.invars, dvars))
    residuals = [as_data.get(r, r) for r in residuals]
    eqns_by_out = {o: e for e in list(j0.eqns) + list(known.eqns) for o in e.outvars}
    invars, constvars = list(j0.invars), list(j0.constvars)
    rule_consts = set(known.constvars)
    out = []
    for r in residuals:
        if r in rule_consts:    # (not the user's: an array a derivative rule made)
            kind, desc, src = "constant", "a constant of a derivative rule", None
        else:
            kind, desc, src = _describe(r, eqns_by_out, invars, constvars,
                                        names=arg_names)
        a = r.aval
        out.append(Residual(tuple(a.shape), a.dtype, int(a.nbytes), kind, desc, src))
    return out

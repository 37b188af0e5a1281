"""``jacobian(f)``: forward or reverse mode, chosen from the predicted cost of both.

For ``f: R^n -> R^m`` forward mode (``jacfwd``) pushes the n input directions through
the linearized function (cost ~ n jvps), reverse mode (``jacrev``) pulls the m output
directions back through the transposed one (cost ~ m vjps), after one forward pass in
both cases.  Rather than a rule of thumb on n and m, ``jacobian`` traces both programs
(nothing is computed), runs ``cost_analysis`` on each and takes the one with fewer
flops (on a tie within 5%: the smaller peak memory, then forward mode).  The choice
is cached per input signature, so repeated calls pay for the analysis once.

``jacobian(f, explain=True)(x)`` prints the report; ``jacobian(f, mode="report")(x)``
returns it (a ``JacobianReport``) without computing anything;
``jacobian(f).last_report`` holds the report of the last call that made one.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from ._flat import leaf_aval, leaf_operand
from .analysis import cost_analysis
from .api import jacfwd, jacrev
from .core.errors import FuncdiffValueError
from .tree_util import tree_flatten

__all__ = ["jacobian", "jacobian_report", "JacobianReport"]

_TIE = 0.05


def _fmt(n):
    for unit, k in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= k:
            return f"{n / k:.3g} {unit}"
    return f"{n:.3g} "


@dataclass
class JacobianReport:
    """Why ``jacobian`` chose the mode it chose."""
    n_in: int            # number of input elements differentiated (n)
    n_out: int           # number of output elements (m)
    fwd: dict            # cost_analysis of jacfwd(f)
    rev: dict            # cost_analysis of jacrev(f)
    choice: str          # "fwd" or "rev"
    reason: str

    def __str__(self):
        def line(name, c, k, what):
            return (f"  {name}: {k} {what} direction(s) in one batched pass: "
                    f"{_fmt(c['flops'])}flop, {c['n_eqns']} eqns, peak "
                    f"{_fmt(c['peak_bytes'])}B")
        return "\n".join([
            f"jacobian: f maps n={self.n_in} input elements to m={self.n_out} output "
            "elements",
            line("forward mode (jacfwd)", self.fwd, self.n_in, "input"),
            line("reverse mode (jacrev)", self.rev, self.n_out, "output"),
            f"  choice: {'forward' if self.choice == 'fwd' else 'reverse'} mode: "
            f"{self.reason}"])


def _sizes(leaves):
    return sum(int(leaf_aval(leaf_operand(x)).size) for x in leaves)


def _decide(fc, rc, n_in, n_out):
    ff, rf = fc["flops"], rc["flops"]
    if ff == rf or abs(ff - rf) <= _TIE * max(ff, rf):
        fp, rp = fc["peak_bytes"], rc["peak_bytes"]
        if fp != rp:
            c = "fwd" if fp < rp else "rev"
            return c, (f"predicted flops within {int(_TIE * 100)}% ({_fmt(ff)} vs "
                       f"{_fmt(rf)}); {'forward' if c == 'fwd' else 'reverse'} mode "
                       f"needs less memory ({_fmt(min(fp, rp))}B vs {_fmt(max(fp, rp))}B)")
        c = "fwd" if n_in <= n_out else "rev"
        return c, f"predicted costs equal; n={n_in} {'<=' if c == 'fwd' else '>'} m={n_out}"
    c = "fwd" if ff < rf else "rev"
    ratio = max(ff, rf) / max(min(ff, rf), 1)
    return c, (f"{ratio:.3g}x fewer predicted flops ({_fmt(min(ff, rf))}flop vs "
               f"{_fmt(max(ff, rf))}flop)")


def jacobian_report(f, argnums=0):
    """``jacobian_report(f)(*args)`` -> ``JacobianReport`` comparing forward and reverse
    mode for ``f`` at arguments like ``args`` (traced, not run)."""

    def report(*args, **kwargs):
        g = (lambda *a: f(*a, **kwargs)) if kwargs else f
        fc = cost_analysis(jacfwd(g, argnums))(*args)
        rc = cost_analysis(jacrev(g, argnums))(*args)
        nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
        n_in = _sizes(tree_flatten([args[i] for i in nums])[0])
        from .api import make_jaxpr
        closed = make_jaxpr(g)(*args)
        n_out = sum(int(a.size) for a in closed.out_avals)
        choice, reason = _decide(fc, rc, n_in, n_out)
        return JacobianReport(n_in, n_out, fc, rc, choice, reason)

    return report


def jacobian(f, argnums=0, mode="auto", explain=False):
    """The Jacobian of ``f`` (as ``jacfwd``/``jacrev``: output structure outside, input
    structure inside), by the mode with the lower predicted cost.

    Args:
      f: the function.
      argnums: which positional argument(s) to differentiate (int or tuple).
      mode: ``"auto"`` (choose from ``cost_analysis``), ``"fwd"``, ``"rev"``, or
        ``"report"`` (return the ``JacobianReport`` instead of the Jacobian).
      explain: print the report (and keep it in ``.last_report``).

    Returns:
      A function of ``f``'s arguments.
    """
    if mode not in ("auto", "fwd", "rev", "report"):
        raise FuncdiffValueError(f"jacobian: mode must be 'auto', 'fwd', 'rev' or "
                                 f"'report', got {mode!r}")
    rep_fn = jacobian_report(f, argnums)
    cache: dict = {}

    @functools.wraps(f)
    def jac(*args, **kwargs):
        report = None
        if mode in ("auto", "report") or explain:
            leaves, tree = tree_flatten((args, kwargs))
            try:
                key = (tree, tuple(leaf_aval(leaf_operand(x)) for x in leaves))
                hash(key)
            except TypeError:
                key = None
            report = cache.get(key) if key is not None else None
            if report is None:
                report = rep_fn(*args, **kwargs)
                if key is not None:
                    if len(cache) > 64:
                        cache.clear()
                    cache[key] = report
            jac.last_report = report
            if explain:
                print(report)
            if mode == "report":
                return report
        chosen = mode if mode in ("fwd", "rev") else report.choice
        fn = jacfwd if chosen == "fwd" else jacrev
        return fn(f, argnums)(*args, **kwargs)

    jac.last_report = None
    return jac

"""The IR checker: re-derive every eqn's output avals and report the first mismatch.

Checks single assignment, that every var is defined before use, that each eqn's
outvars carry exactly the avals its primitive's ``abstract_eval`` gives, and recurses
into jaxprs held in params.
"""
from __future__ import annotations

from .errors import FuncdiffError
from .ir import ClosedJaxpr, Jaxpr, Literal, Var, _Namer, pp_eqn


class JaxprTypeError(FuncdiffError, TypeError):
    """A jaxpr that is not well typed (a bug in a transform or a rule)."""


def _context(jaxpr, i, namer):
    lo, hi = max(0, i - 3), min(len(jaxpr.eqns), i + 3)
    lines = []
    for j in range(lo, hi):
        mark = ">>> " if j == i else "    "
        lines.append(mark + pp_eqn(jaxpr.eqns[j], namer))
    return "\n".join(lines)


def check_jaxpr(jaxpr: Jaxpr | ClosedJaxpr) -> None:
    """Type-check a jaxpr: every equation's outputs as its primitive's rules say.

    Parameters
    ----------
    jaxpr : Jaxpr or ClosedJaxpr
        The program.

    Returns
    -------
    None
        When the program is well typed.

    Raises
    ------
    JaxprTypeError
        At the first ill-typed equation, printing the equations around it.

    Examples
    --------
    >>> closed = fd.make_jaxpr(lambda x: fnp.sin(x) @ x)(np.ones(3))
    >>> print(fd.check_jaxpr(closed))
    None

    See Also
    --------
    make_jaxpr : makes jaxprs.
    eval_jaxpr : runs one.
    """
    if isinstance(jaxpr, ClosedJaxpr):
        if len(jaxpr.consts) != len(jaxpr.jaxpr.constvars):
            raise JaxprTypeError("closed jaxpr: number of consts != number of constvars")
        jaxpr = jaxpr.jaxpr
    namer = _Namer()
    for v in jaxpr.constvars + jaxpr.invars:   # name binders as the printer does
        namer(v)
    defined = set()

    def define(v, where):
        if not isinstance(v, Var):
            raise JaxprTypeError(f"{where}: binder {v!r} is not a Var")
        if v in defined:
            raise JaxprTypeError(f"{where}: variable {namer(v)} assigned twice")
        defined.add(v)

    def read(v, i):
        if isinstance(v, Literal):
            return v.aval
        if v not in defined:
            where = (f"eqn {i} ({jaxpr.eqns[i].primitive.name})" if i < len(jaxpr.eqns)
                     else "the outputs")
            raise JaxprTypeError(
                f"{where}: variable {namer(v)}:{v.aval} used before it is defined\n"
                + _context(jaxpr, i, namer))
        return v.aval

    for v in jaxpr.constvars:
        define(v, "constvars")
    for v in jaxpr.invars:
        define(v, "invars")
    for i, eqn in enumerate(jaxpr.eqns):
        avals_in = [read(v, i) for v in eqn.invars]
        try:
            expected = eqn.primitive.abstract_eval(*avals_in, **eqn.params)
        except Exception as e:  # noqa: BLE001 - any failure here is a type error
            raise JaxprTypeError(
                f"eqn {i} ({eqn.primitive.name}): abstract evaluation failed: {e}\n"
                + _context(jaxpr, i, namer)) from None
        if not eqn.primitive.multiple_results:
            expected = [expected]
        got = [v.aval for v in eqn.outvars]
        if len(expected) != len(got) or any(
                a.strengthen() != b.strengthen() for a, b in zip(expected, got)):
            raise JaxprTypeError(
                f"eqn {i} ({eqn.primitive.name}): outputs have avals "
                f"{[str(a) for a in got]} but the rule gives {[str(a) for a in expected]}\n"
                + _context(jaxpr, i, namer))
        for v in eqn.outvars:
            if v in defined:
                raise JaxprTypeError(
                    f"eqn {i} ({eqn.primitive.name}): variable {namer(v)} assigned twice\n"
                    + _context(jaxpr, i, namer))
            define(v, f"eqn {i} ({eqn.primitive.name})")
        for p in eqn.params.values():
            for sub in (p if isinstance(p, (tuple, list)) else (p,)):
                if isinstance(sub, (Jaxpr, ClosedJaxpr)):
                    check_jaxpr(sub)
    for v in jaxpr.outvars:
        read(v, len(jaxpr.eqns))

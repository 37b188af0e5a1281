"""NaN debugging: with ``funcdiff.config.debug_nans`` on (or inside
``funcdiff.config.debug_nans_enabled()``), the first primitive that makes a NaN out of
NaN-free inputs raises ``FloatingPointNaNError`` naming the primitive, the operand shapes,
the pass it ran in (forward, forward-mode, backward) and the user's line.

Where the check runs:

* every primitive bound with concrete values (eager ``funcdiff.numpy`` calls, the
  forward passes of ``grad``/``jvp``/``vjp``, ``vmap`` run eagerly): ``check_nans``,
  called by ``core.trace`` after each ``impl`` while ``flags.nans`` is set (the one
  switch ``funcdiff.config.debug_nans`` reads and writes);
* compiled code (``jit``, and the compiled linear / backward programs eager ``grad`` and
  ``jvp`` reuse): only its outputs are checked (``check_compiled``); when one has a NaN
  that the inputs did not, the program's jaxpr is re-run op by op with the primitives'
  NumPy ``impl`` (``find_nan``) to find the culprit;
* primitives that hold a jaxpr (``jit_call``, ``checkpoint``, ``custom_jvp_call``,
  ``custom_vjp_call``, the taken branch of ``cond``) are searched inside the same way,
  so the error names the op inside, not the call.  Loops (``scan``, ``while_loop``) are
  reported as a whole, with their line.

A NaN that compiled code makes and then drops (``where(x > 0, log(x), 0)`` at ``x < 0``
under ``jit``) is not reported, as in JAX: only the compiled outputs are looked at.
"""
from __future__ import annotations

import numpy as np

from .errors import FuncdiffError, where_str
from .ir import ClosedJaxpr, Jaxpr, eval_eqns


class _Flags:
    """The debugging switches: ``nans`` is ``funcdiff.config.debug_nans``."""
    __slots__ = ("nans",)

    def __init__(self):
        self.nans = False


flags = _Flags()


class FloatingPointNaNError(FuncdiffError, FloatingPointError):
    """A primitive produced a NaN from inputs without NaNs (``debug_nans`` is on)."""


def _has_nan(x) -> bool:
    if isinstance(x, (list, tuple)):
        return any(_has_nan(v) for v in x)
    if isinstance(x, (float, complex)):
        return x != x
    if isinstance(x, (np.ndarray, np.generic)) and x.dtype.kind in "fc":
        return bool(np.isnan(x).any())
    return False


def _shape(v):
    return str(tuple(np.shape(v))) if not hasattr(v, "_trace") else str(v.shape)


def _message(name, vals, src, phase):
    shapes = ", ".join(_shape(v) for v in vals) or "none"
    where = src if isinstance(src, str) else where_str(src)
    phase = f" in {phase}" if phase else ""
    return (f"`{name}` produced a NaN from inputs without NaNs{phase} (operand shapes "
            f"{shapes}), at {where}.\n"
            "Fix the computation there (e.g. keep a log/sqrt/division argument in its "
            "domain; for a NaN that appears only in the derivative of a `where`, apply "
            "the `where` to the argument too: the double-`where` trick in "
            "docs/sharp-edges.md), or turn funcdiff.config.debug_nans off to let NaNs "
            "through.")


def _inner_call(prim, params, vals):
    """``(jaxpr, consts, args)`` of the one sub-program a call-like eqn runs on ``vals``
    (the primitive's ``called_jaxpr``), or None (loops are reported as a whole)."""
    if prim.called_jaxpr is None:
        return None
    sub, consts, args = prim.called_jaxpr(params, vals)
    if isinstance(sub, ClosedJaxpr):
        sub, consts = sub.jaxpr, list(sub.consts)
    if not isinstance(sub, Jaxpr) or len(sub.invars) != len(args):
        return None
    return sub, consts, args


def check_nans(prim, vals, out, src, params=None, phase=""):
    """Raise if ``out`` has a NaN that the (concrete) ``vals`` do not."""
    if not _has_nan(out):
        return
    concrete = [v for v in vals if not hasattr(v, "_trace")]
    if any(_has_nan(v) for v in concrete):
        return
    if params and len(concrete) == len(vals):
        inner = _inner_call(prim, params, vals)
        if inner is not None:
            find_nan(*inner, phase=phase)
    raise FloatingPointNaNError(_message(prim.name, vals, src, phase))


def check_function(name, args, kwargs, out, src):
    """An eager ``funcdiff.numpy`` call (which runs NumPy itself): raise if it made a NaN
    from NaN-free arguments."""
    vals = list(args) + list(kwargs.values())
    if _has_nan(out) and not any(_has_nan(v) for v in vals):
        arrays = [v for v in vals if isinstance(v, (np.ndarray, np.generic, float))]
        raise FloatingPointNaNError(_message(f"funcdiff.numpy.{name}", arrays, src, ""))


def find_nan(jaxpr, consts, args, phase=""):
    """Run ``jaxpr`` op by op with each primitive's NumPy ``impl`` (recording nothing),
    raising at the first eqn that makes a NaN from NaN-free inputs.  Returns the outputs
    if none does."""
    def apply(eqn, ins):
        out = eqn.primitive.impl(*ins, **eqn.params)
        check_nans(eqn.primitive, ins, out, eqn.source_info, eqn.params, phase)
        return out

    with np.errstate(all="ignore"):
        return eval_eqns(jaxpr, consts, args, apply)


def check_compiled(outs, jaxpr, consts, args, what, phase=""):
    """After compiled code for ``jaxpr`` returned ``outs``: if they hold a NaN that
    ``args``/``consts`` do not, re-run op by op to name the culprit (and raise)."""
    if not _has_nan(list(outs)) or _has_nan(list(args)) or _has_nan(list(consts)):
        return
    find_nan(jaxpr, consts, args, phase)
    raise FloatingPointNaNError(
        f"{what} produced a NaN from inputs without NaNs{' in ' + phase if phase else ''}, "
        "but re-running it op by op did not reproduce it (a NaN from the compiled code "
        "only).  Run without jit to investigate, or turn funcdiff.config.debug_nans off.")

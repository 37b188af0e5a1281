"""Evaluating jaxprs: the reference executor and the hook through which primitives
holding jaxprs run their sub-programs.

Every evaluator runs ``core.ir.eval_eqns``, the one interpreter loop (these, the
op-by-op NaN search of ``core.debug``, the jvp and batching interpreters of
``funcdiff.transforms``): an iterative read/write loop over the eqns (no recursion, so
100,000-eqn jaxprs run) that deletes every intermediate right after its last use, so
peak memory follows the IR's liveness.

``eval_jaxpr`` runs a jaxpr: with no trace active each primitive's NumPy ``impl`` runs;
under an enclosing trace each eqn is ``bind``-ed, so evaluating a transformed jaxpr on
tracers records it.  ``eval_jaxpr_impl`` always runs the ``impl``s (the ``impl`` of
primitives holding jaxprs).

``subprogram(jaxpr, name)`` is how ``cond``, ``while_loop``, ``scan`` and ``jit_call``
get a function running a const-free sub-jaxpr on concrete values.  By default that is
this interpreter; ``funcdiff.jit`` installs its compiler (``set_subprogram_compiler``)
when it is imported, so the sub-programs run as generated NumPy code.  The hook keeps
the higher-order primitives independent of ``jit``, which sits above them.
"""
from __future__ import annotations

from typing import Any, Sequence

from . import arraylib
from .ir import Jaxpr, eval_eqns
from .source import source_context, state
from .trace import bind


def _bind_eqn(eqn, invals):
    """Bind an eqn's primitive; under a trace the recorded eqn keeps the original's
    user line."""
    if not state.stack:
        return bind(eqn.primitive, invals, eqn.params)
    with source_context(eqn.source_info):
        return bind(eqn.primitive, invals, eqn.params)


def _impl_eqn(eqn, invals):
    if arraylib.state.active:   # perhaps another library's arrays (Dask, torch, ...)
        return arraylib.apply(eqn.primitive, invals, eqn.params)
    return eqn.primitive.impl(*invals, **eqn.params)


def eval_jaxpr(jaxpr: Jaxpr, consts: Sequence[Any], *args: Any) -> list[Any]:
    """Run a jaxpr on arguments, primitive by primitive.

    Each value is freed after its last use.  Inside a transform the primitives are
    recorded, so ``eval_jaxpr`` differentiates, vectorizes and compiles.

    Parameters
    ----------
    jaxpr : Jaxpr
        The program (``closed.jaxpr`` of a ``ClosedJaxpr``).
    consts : sequence
        Values for its constants (``closed.consts``).
    *args : array_like
        Values for its inputs, one per input variable.

    Returns
    -------
    list
        The outputs.

    Examples
    --------
    >>> closed = fd.make_jaxpr(lambda x: x * 2.0 + 1.0)(np.ones(2))
    >>> (out,) = fd.eval_jaxpr(closed.jaxpr, closed.consts, np.array([1.0, 2.0]))
    >>> print(out)
    [3. 5.]

    See Also
    --------
    make_jaxpr : makes jaxprs.
    check_jaxpr : checks one.
    """
    return eval_eqns(jaxpr, consts, args, _bind_eqn)


def eval_closed(closed, *args):
    return eval_jaxpr(closed.jaxpr, closed.consts, *args)


def eval_jaxpr_impl(jaxpr, consts, *args):
    """Run ``jaxpr`` on concrete values with each primitive's NumPy ``impl``, recording
    nothing even if a trace is active: the ``impl`` of primitives that hold jaxprs."""
    return eval_eqns(jaxpr, consts, args, _impl_eqn)


# --- sub-programs ------------------------------------------------------------------------

def _interpreted(jaxpr, name="sub"):
    return lambda *args: eval_jaxpr_impl(jaxpr, [], *args)


_compiler = [_interpreted]


def subprogram(jaxpr, name="sub"):
    """A function ``(*args) -> list`` running the const-free ``jaxpr`` on concrete values:
    compiled NumPy code once ``funcdiff.jit`` is loaded (cached per jaxpr there), the
    interpreter before."""
    return _compiler[0](jaxpr, name)


def set_subprogram_compiler(compile_fn):
    """Install ``compile_fn(jaxpr, name) -> callable`` as the way sub-programs run
    (``funcdiff.jit`` installs its cached compiler)."""
    _compiler[0] = compile_fn

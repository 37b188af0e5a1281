"""``funcdiff.checkpoint``: everything about checkpointing in one namespace, and loops
within a memory budget.

``checkpoint`` / ``remat``, ``checkpoint_name``, ``checkpoint_sequential``,
``saved_residuals`` and ``print_saved_residuals`` are ``funcdiff.api.checkpoint``'s; the
primitives and the saving policies (``checkpoint_policies``) are
``funcdiff.higher_order.checkpoint``'s.  Defined here, as they build on ``lax.scan``:

``checkpoint_scan`` / ``checkpoint_fori_loop`` are ``lax.scan`` / ``lax.fori_loop`` whose
reverse-mode derivative keeps only the loop states a checkpointing ``schedule``
(``scan_schedule``) says, replaying the steps in between during the backward pass.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from . import lax
from .analysis.residuals import Residual  # noqa: F401
from .api._flat import leaf_aval, leaf_operand
from .api.checkpoint import (  # noqa: F401
    checkpoint, checkpoint_name, checkpoint_sequential, print_saved_residuals, remat,
    saved_residuals)
from .higher_order.checkpoint import (  # noqa: F401
    Policy, all_but_cheap_elementwise_saveable, checkpoint_p, checkpoint_policies,
    dots_saveable, dots_with_no_batch_dims_saveable, everything_saveable, name_p,
    nothing_saveable, optimization_barrier, optimization_barrier_p,
    save_any_names_but_these, save_from_both_policies, save_in, save_only_these_names)
from .numpy import concatenate, flip, reshape
from .tree_util import tree_flatten, tree_map

__all__ = ["checkpoint", "remat", "checkpoint_policies", "checkpoint_name",
           "checkpoint_sequential", "saved_residuals", "print_saved_residuals",
           "Residual", "everything_saveable", "nothing_saveable", "dots_saveable",
           "dots_with_no_batch_dims_saveable", "save_only_these_names",
           "save_any_names_but_these", "save_from_both_policies", "save_in", "checkpoint_scan",
           "all_but_cheap_elementwise_saveable",
           "checkpoint_fori_loop", "scan_schedule"]


# --- loops within a memory budget ------------------------------------------------------

def _scan_length(xs, length):
    leaves = tree_flatten(xs)[0]
    if length is not None:
        return int(length)
    if not leaves:
        raise ValueError("checkpoint_scan: pass length= when xs is None")
    return int(leaf_aval(leaf_operand(leaves[0])).shape[0])


def scan_schedule(schedule, length):
    """``(block_sizes, checkpoint_each_step)`` for a checkpointing ``schedule`` of a loop
    of ``length`` steps: the loop becomes nested scans, the outermost over blocks of
    ``block_sizes[0]`` steps, each block (checkpointed) a scan over blocks of
    ``block_sizes[1]``, ..., the innermost a plain scan of single steps.

    * ``"every"``: every step checkpointed (the loop keeps one carry per step);
    * ``("every", k)``: a snapshot every k steps, the k steps between two snapshots
      replayed at once (about length/k carries plus k steps' residuals);
    * ``("snapshots", s)`` (alias ``("binomial", s)``): multi-level nesting for a budget
      of about ``s`` stored states: the fewest levels d with d * length^(1/d) <= s,
      each level replaying its blocks once (d - 1 extra forward passes).
    * ``None`` / ``"none"``: no checkpointing.
    """
    if schedule is None or schedule == "none":
        return [], False
    if schedule == "every":
        return [], True
    if isinstance(schedule, int) and not isinstance(schedule, bool):
        schedule = ("every", schedule)
    if not (isinstance(schedule, tuple) and len(schedule) == 2 and
            isinstance(schedule[1], int) and schedule[1] >= 1):
        raise ValueError(f"checkpoint schedule must be 'every', ('every', k), "
                         f"('snapshots', s) or None; got {schedule!r}")
    kind, k = schedule
    if kind == "every":
        return ([k] if 1 < k < length else []), k == 1
    if kind in ("snapshots", "binomial", "revolve"):
        if length <= k:
            return [], False
        plans = []
        for d in range(2, max(3, int(math.log2(length)) + 2)):
            b = max(2, math.ceil(length ** (1.0 / d) - 1e-9))
            while b ** d < length:
                b += 1
            plans.append((d, b))
        fits = [(d, b) for d, b in plans if d * b <= k]
        # the fewest levels within the budget; if none fits, the least memory
        d, b = fits[0] if fits else min(plans, key=lambda p: (p[0] * p[1], p[0]))
        return [b ** i for i in range(d - 1, 0, -1)], False
    raise ValueError(f"unknown checkpoint schedule {schedule!r}")


def checkpoint_scan(f: Callable[[Any, Any], tuple[Any, Any]], init: Any, xs: Any = None,
                    length: int | None = None, reverse: bool = False, *,
                    schedule: Any = "every", policy: Any = None) -> tuple[Any, Any]:
    """``funcdiff.lax.scan`` whose reverse mode keeps only some loop states.

    The derivative keeps only the loop states a checkpointing ``schedule`` says (see
    ``scan_schedule``), replaying the steps in between during the backward pass: a
    10,000-step integrator differentiates in O(snapshots) memory.  Values and
    derivatives are those of ``lax.scan``.

    Parameters
    ----------
    f : callable
        ``(carry, x) -> (carry, y)``, as in ``lax.scan``.
    init : pytree
        The initial carry.
    xs : pytree, optional
        Arrays sharing a leading axis (or None, with ``length``).
    length : int, optional
        The number of steps (required when ``xs`` is None).
    reverse : bool, default False
        Run from the last element to the first.
    schedule : str or tuple, default "every"
        ``"every"`` (each step checkpointed), ``("every", k)`` (a snapshot every k
        steps), ``("snapshots", s)`` (about ``s`` stored states, nested) or None:
        see ``scan_schedule``.
    policy : Policy or callable, optional
        As in ``checkpoint``, for each checkpointed block.

    Returns
    -------
    tuple
        ``(final carry, stacked ys)``.

    Raises
    ------
    ValueError
        If ``xs`` is None and ``length`` is not given, or the schedule is unknown.

    Examples
    --------
    >>> f = lambda a: fd.checkpoint_scan(lambda c, x: (c * a, None), 1.0, length=5,
    ...                                  schedule=("every", 2))[0]
    >>> print(f(2.0), fd.grad(f)(2.0))
    32.0 80.0

    See Also
    --------
    funcdiff.lax.scan : the loop.
    checkpoint_fori_loop : the same for fori_loop.
    """
    n = _scan_length(xs, length)
    sizes, ck_step = scan_schedule(schedule, n)
    if reverse:
        xs_r = tree_map(lambda x: flip(x, 0), xs)
        carry, ys = checkpoint_scan(f, init, xs_r, n, False, schedule=schedule,
                                    policy=policy)
        return carry, tree_map(lambda y: flip(y, 0), ys)
    step = checkpoint(f, policy=policy) if ck_step else f

    def run(carry, xs, n, sizes):
        if not sizes or n <= sizes[0]:
            if sizes and n > 1:
                return run(carry, xs, n, sizes[1:])
            return lax.scan(step, carry, xs, length=n)
        c = sizes[0]
        nb, rem = divmod(n, c)
        block = checkpoint(lambda carry, xb: run(carry, xb, c, sizes[1:]), policy=policy)
        xs_b = tree_map(lambda x: reshape(x[:nb * c], (nb, c) + tuple(x.shape[1:])), xs)
        carry, ys_b = lax.scan(block, carry, xs_b, length=nb)
        ys = tree_map(lambda y: reshape(y, (nb * c,) + tuple(y.shape[2:])), ys_b)
        if rem:
            tail = checkpoint(lambda carry, xr: run(carry, xr, rem, sizes[1:]),
                              policy=policy)
            carry, ys_r = tail(carry, tree_map(lambda x: x[nb * c:], xs))
            ys = tree_map(lambda a, b: concatenate([a, b], 0), ys, ys_r)
        return carry, ys

    return run(init, xs, n, sizes)


def checkpoint_fori_loop(lower: int, upper: int, body_fun: Callable[[Any, Any], Any],
                         init_val: Any, *, schedule: Any = "every",
                         policy: Any = None) -> Any:
    """``funcdiff.lax.fori_loop`` with a checkpointing ``schedule`` for reverse mode.

    Parameters
    ----------
    lower, upper : int
        Concrete loop bounds.
    body_fun : callable
        ``(i, carry) -> carry``.
    init_val : pytree
        The initial carry.
    schedule : str or tuple, default "every"
        As in ``checkpoint_scan``.
    policy : Policy or callable, optional
        As in ``checkpoint``.

    Returns
    -------
    pytree
        The final carry.

    Examples
    --------
    >>> f = lambda a: fd.checkpoint_fori_loop(0, 5, lambda i, c: c * a, 1.0)
    >>> print(f(2.0), fd.grad(f)(2.0))
    32.0 80.0

    See Also
    --------
    checkpoint_scan : the scan it runs.
    """
    lo, hi = int(lower), int(upper)

    def step(val, i):
        return body_fun(i, val), None
    out, _ = checkpoint_scan(step, init_val, np.arange(lo, max(hi, lo)), schedule=schedule,
                             policy=policy)
    return out


def __dir__():
    return sorted(__all__)   # dir() shows the public names only

"""What ``scipy.optimize`` and ``scipy.sparse.linalg`` share about implicit derivatives:
whether a derivative is being taken, and the warning when the solution it is taken at
did not converge."""
from __future__ import annotations

import warnings

import numpy as np

from ..core.errors import ImplicitGradientWarning
from ..core.trace import Tracer, state

_DIFF_KINDS = ("linearize", "jvp")


def differentiating() -> bool:
    """A derivative is being traced (``grad``, ``vjp``, ``jvp``, ``jacfwd`` ... are on the
    trace stack, under ``jit`` too)."""
    return any(t.kind in _DIFF_KINDS for t in state.stack)


def warn_unconverged(what, detail, stacklevel=3):
    warnings.warn(
        f"{what} did not converge ({detail}), and a derivative is being taken through "
        "its solution: the implicit-function-theorem derivative assumes an exact "
        "solution, so it is unreliable.  Tighten the tolerance or raise maxiter, and "
        "check the solver's status.", ImplicitGradientWarning, stacklevel=stacklevel)


def concrete(x):
    """``x``'s value if known now (outside ``jit``/``vmap``), else None."""
    if type(x) is Tracer:
        return x._val
    return np.asarray(x)

"""NaN debugging: with ``funcdiff.config.debug_nans`` on, the first primitive that makes
a NaN out of NaN-free inputs raises, naming the primitive and the user line."""
from __future__ import annotations

import numpy as np

from .errors import FuncdiffError


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


def check_nans(prim, vals, out, src):
    if _has_nan(out) and not any(_has_nan(v) for v in vals
                                 if not hasattr(v, "_trace")):
        shapes = ", ".join(str(getattr(v, "shape", ())) for v in vals)
        raise FloatingPointNaNError(
            f"`{prim.name}` produced a NaN from inputs without NaNs (operand shapes "
            f"{shapes}) at {src}.  Turn off funcdiff.config.debug_nans to let NaNs "
            "through; see docs/sharp-edges.md for the double-`where` trick.")

"""The implementation of ``funcdiff.scipy.stats.multinomial`` (see that module's docstring)."""
from __future__ import annotations

import warnings

import numpy as np

from ... import numpy as fnp
from ...core.errors import FuncdiffValueError
from .. import special as fsp
from .._special import _concrete
from ._dist import F64, scipy_eager

__all__ = ["pmf", "logpmf"]


def _process_parameters(n, p):
    p = fnp.asarray(p)
    eps = float(np.finfo(np.result_type(p.dtype, np.float32)).eps) * 10
    p = p.astype(F64)
    adjusted = fnp.abs(1 - fnp.sum(p, axis=-1)) > eps
    last = np.arange(p.shape[-1]) == p.shape[-1] - 1
    p = fnp.where(adjusted[..., None] & last, (1.0 - fnp.sum(p[..., :-1], axis=-1))[..., None],
                  p)
    known = _concrete(adjusted)
    if known is not None and np.any(known):
        warnings.warn(f"Some rows of `p` do not sum to 1.0 within tolerance of eps={eps}. "
                      "Currently, the last element of these rows is adjusted to compensate, "
                      "but this condition will produce NaNs beginning in SciPy 1.18.0. "
                      "Please ensure that rows of `p` sum to 1.0 to avoid futher "
                      "disruption.", FutureWarning, stacklevel=4)
    bad_p = fnp.any(p < 0, axis=-1) | fnp.any(p > 1, axis=-1)
    n = fnp.asarray(n).astype(np.int64)
    return n, p, (n < 0) | bad_p


def _process_quantiles(x, n, p):
    x = fnp.asarray(x)
    xx = x.astype(np.int64)
    if xx.ndim == 0:
        raise FuncdiffValueError("x must be an array.")
    if xx.size != 0 and xx.shape[-1] != p.shape[-1]:
        raise FuncdiffValueError(f"Size of each quantile should be size of p: received "
                                 f"{xx.shape[-1]}, but expected {p.shape[-1]}.")
    cond = fnp.any(xx != x, axis=-1) | fnp.any(xx < 0, axis=-1)
    return xx, cond | (fnp.sum(xx, axis=-1) != n)


def _logpmf(x, n, p):
    n, p, npcond = _process_parameters(n, p)
    x, xcond = _process_quantiles(x, n, p)
    xf = x.astype(F64)
    out = fsp.gammaln(n.astype(F64) + 1) + fnp.sum(fsp.xlogy(xf, p) - fsp.gammaln(xf + 1),
                                                  axis=-1)
    return fnp.where(npcond, np.nan, fnp.where(xcond, -np.inf, out))


@scipy_eager("multinomial", "logpmf")
def logpmf(x, n, p):
    """``gammaln(n + 1) + sum(xlogy(x, p) - gammaln(x + 1))`` over the last axis."""
    return _logpmf(x, n, p)


@scipy_eager("multinomial", "pmf")
def pmf(x, n, p):
    """``exp(logpmf(x, n, p))``."""
    return fnp.exp(_logpmf(x, n, p))

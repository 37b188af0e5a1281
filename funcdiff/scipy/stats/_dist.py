"""The machinery shared by ``funcdiff.scipy.stats``'s distributions: SciPy's
``rv_continuous`` / ``rv_discrete`` method bodies (argument checks, support masks, the
values outside the support and for invalid parameters) written with ``funcdiff.numpy``
and ``funcdiff.scipy.special``, so they trace and differentiate.

Conventions, as SciPy's: every argument goes through ``asarray`` (Python scalars are
strong float64/int64 arrays); the standardized value ``(x - loc) / scale`` is computed in
the arguments' promoted dtype and then cast to float64, and the shape parameters keep
their own dtype inside the formulas (so float32 parameters round as they do in SciPy);
outputs are float64 and broadcast over all arguments.  Invalid parameters (e.g.
``scale <= 0``) and NaN give NaN; outside the support pdf is 0, logpdf -inf, cdf 0 or 1.

Derivatives: the formulas are evaluated on "safe" stand-in values wherever a mask will
discard them (the double-``where`` trick), so no NaN or infinity from a discarded branch
reaches a gradient.
"""
from __future__ import annotations

import functools

import numpy as np

from ... import numpy as fnp
from ...core.errors import FuncdiffTypeError
from ...core.trace import state

try:  # SciPy is optional at run time
    from scipy import stats as _stats  # type: ignore
except ImportError:  # pragma: no cover - exercised without SciPy
    _stats = None

_PY = (bool, int, float, complex)
F64 = np.dtype(np.float64)


def scipy_eager(dist, method):
    """Outside transforms, call ``scipy.stats.<dist>.<method>`` itself (same values and
    dtypes); under a trace, or without SciPy, the traced composition."""
    def deco(traced):
        @functools.wraps(traced)
        def f(*args, **kwargs):
            if not state.stack and _stats is not None:
                return getattr(getattr(_stats, dist), method)(*args, **kwargs)
            return traced(*args, **kwargs)
        f.traced = traced
        return f
    return deco


def arr(x):
    """SciPy's ``asarray``: array-likes (traced ones too) become arrays; Python scalars
    strong 0-d arrays."""
    if type(x) in _PY:
        return np.asarray(x)
    out = fnp.asarray(x)
    if out.dtype.kind == "c":
        raise FuncdiffTypeError("funcdiff.scipy.stats: complex arguments are not supported")
    return out


def safe(cond, x, value):
    """``x`` where ``cond``, else ``value`` (in ``x``'s dtype: an integer parameter stays
    an integer when ``value`` is one)."""
    return fnp.where(cond, x, np.asarray(value).astype(x.dtype))


def f64(x):
    return fnp.asarray(x, dtype=F64)


def logcdf_from(use_cdf, cdf, sf):
    """``log(cdf)`` where ``use_cdf`` (the left half), else ``log1p(-sf)``: SciPy's default
    ``_logcdf``/``_logsf`` (it splits at the median; this splits where cdf = 1/2)."""
    c = fnp.where(use_cdf, cdf, 0.5)
    s = fnp.where(use_cdf, 0.5, sf)
    return fnp.where(use_cdf, fnp.log(c), fnp.log1p(-s))


class Continuous:
    """One continuous distribution: its shape-parameter check, support, stand-in values,
    and standardized formulas ``pdf logpdf cdf sf logcdf logsf`` of ``(z, *shapes)``
    (``logcdf``/``logsf`` default to ``logcdf_from``)."""

    def __init__(self, name, *, support, safe_z, safe_shapes=(), argcheck=None, pdf=None,
                 logpdf=None, cdf=None, sf=None, logcdf=None, logsf=None, median_split=None):
        self.name = name
        self.lo, self.hi = support
        self.safe_z = safe_z
        self.safe_shapes = safe_shapes
        self.argcheck = argcheck or (lambda *s: functools.reduce(
            fnp.logical_and, [fnp.greater(v, 0) for v in s], np.True_))
        self.formulas = dict(pdf=pdf, logpdf=logpdf, cdf=cdf, sf=sf, logcdf=logcdf,
                             logsf=logsf)
        # where logcdf uses log(cdf) (and logsf log1p(-cdf)): z below the median
        self.median_split = median_split

    def _prepare(self, x, shapes, loc, scale):
        x, loc, scale = arr(x), arr(loc), arr(scale)
        shapes = [arr(s) for s in shapes]
        z = f64(fnp.true_divide(fnp.subtract(x, loc), scale))
        pos = fnp.greater(scale, 0)
        cond0 = fnp.logical_and(self.argcheck(*shapes), pos)
        return z, shapes, scale, pos, cond0

    def __call__(self, method, x, shapes, loc, scale):
        z, shapes, scale, pos, cond0 = self._prepare(x, shapes, loc, scale)
        if method in ("pdf", "logpdf"):
            inside = fnp.logical_and(fnp.less_equal(self.lo, z), fnp.less_equal(z, self.hi))
        else:
            inside = fnp.logical_and(fnp.less(self.lo, z), fnp.less(z, self.hi))
        cond = fnp.logical_and(cond0, fnp.logical_and(inside, pos))
        bad = fnp.logical_or(fnp.logical_not(cond0), fnp.isnan(z))
        zs = fnp.where(cond, z, self.safe_z)
        ss = [safe(cond0, s, v) for s, v in zip(shapes, self.safe_shapes)]
        val = self._formula(method, zs, ss)
        if method == "pdf":
            val = fnp.true_divide(val, safe(pos, scale, 1))
            rest = fnp.where(bad, np.nan, 0.0)
        elif method == "logpdf":
            val = fnp.subtract(val, fnp.log(safe(pos, scale, 1)))
            rest = fnp.where(bad, np.nan, -np.inf)
        else:
            edge = fnp.logical_and(fnp.greater_equal(z, self.hi) if method in (
                "cdf", "logcdf") else fnp.less_equal(z, self.lo), cond0)
            one = 0.0 if method.startswith("log") else 1.0
            zero = -np.inf if method.startswith("log") else 0.0
            rest = fnp.where(bad, np.nan, fnp.where(edge, one, zero))
        return f64(fnp.where(cond, val, rest))

    def _formula(self, method, z, s):
        f = self.formulas[method]
        if f is not None:
            return f(z, *s)
        cdf, sf = self.formulas["cdf"](z, *s), self.formulas["sf"](z, *s)
        left = self.median_split(z, *s) if self.median_split is not None else \
            fnp.less(cdf, 0.5)
        if method == "logcdf":
            return logcdf_from(left, cdf, sf)
        return logcdf_from(fnp.logical_not(left), sf, cdf)

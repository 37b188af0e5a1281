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
import inspect

import numpy as np

from ... import numpy as fnp
from ...core.errors import FuncdiffTypeError
from ...core.trace import state
from ...api.custom_derivatives import stop_gradient

try:  # SciPy is optional at run time
    from scipy import stats as _stats  # type: ignore
except ImportError:  # pragma: no cover - exercised without SciPy
    _stats = None

_PY = (bool, int, float, complex)
F64 = np.dtype(np.float64)
# SciPy 1.16's discrete ppf checks the parameters at q = 0 too (NaN, where it gave a - 1)
with np.errstate(all="ignore"):
    _PPF0_NEEDS_VALID = _stats is None or bool(np.isnan(_stats.bernoulli.ppf(0.0, 1.5)))


def scipy_eager(dist, method):
    """Outside transforms, call ``scipy.stats.<dist>.<method>`` itself (same values and
    dtypes); under a trace, or without SciPy, the traced composition.  The function
    reports the public module ``funcdiff.scipy.stats.<dist>`` as its home."""
    def deco(traced):
        @functools.wraps(traced)
        def f(*args, **kwargs):
            if not state.stack and _stats is not None:
                return getattr(getattr(_stats, dist), method)(*args, **kwargs)
            return traced(*args, **kwargs)
        f.traced = traced
        f.__module__ = f"funcdiff.scipy.stats.{dist}"
        f.__name__ = f.__qualname__ = method
        return f
    return deco


def scipy_function(name):
    """As ``scipy_eager``, for the functions of ``scipy.stats`` itself (``mode``, ...)."""
    def deco(traced):
        @functools.wraps(traced)
        def f(*args, **kwargs):
            if not state.stack and _stats is not None:
                return getattr(_stats, name)(*args, **kwargs)
            return traced(*args, **kwargs)
        f.traced = traced
        f.__module__ = "funcdiff.scipy.stats"
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


def _method(dist, method, doc, first, loc_scale):
    """The module function ``dist.name``.``method`` with SciPy's signature ``(first,
    *shapes, loc=0[, scale=1])`` (shapes by position or keyword), SciPy itself outside
    transforms (``scipy_eager``)."""
    P = inspect.Parameter
    params = [P(first, P.POSITIONAL_OR_KEYWORD)] + [
        P(n, P.POSITIONAL_OR_KEYWORD) for n in dist.shape_names] + [
        P(n, P.POSITIONAL_OR_KEYWORD, default=d) for n, d in loc_scale]
    sig = inspect.Signature(params)

    def traced(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        a = bound.arguments
        return dist(method, a[first], [a[n] for n in dist.shape_names],
                    *[a[n] for n, _ in loc_scale])

    traced.__signature__ = sig
    traced.__name__ = traced.__qualname__ = method
    traced.__doc__ = f"Like ``scipy.stats.{dist.name}.{method}``: {doc}"
    return scipy_eager(dist.name, method)(traced)


class Continuous:
    """One continuous distribution: its shape-parameter check, support (two numbers, or
    a function of the shapes), stand-in values, and standardized formulas ``pdf logpdf
    cdf sf logcdf logsf`` of ``(z, *shapes)`` (``logcdf``/``logsf`` default to
    ``logcdf_from``) and ``ppf isf`` of ``(q, *shapes)``."""

    def __init__(self, name, *, support, safe_z, safe_shapes=(), shape_names=(),
                 argcheck=None, pdf=None, logpdf=None, cdf=None, sf=None, logcdf=None,
                 logsf=None, ppf=None, isf=None, median_split=None):
        self.name = name
        self.shape_names = shape_names
        self.support = support if callable(support) else (lambda *s: support)
        self.safe_z = safe_z
        self.safe_shapes = safe_shapes
        self.argcheck = argcheck or (lambda *s: functools.reduce(
            fnp.logical_and, [fnp.greater(v, 0) for v in s], np.True_))
        self.formulas = dict(pdf=pdf, logpdf=logpdf, cdf=cdf, sf=sf, logcdf=logcdf,
                             logsf=logsf, ppf=ppf, isf=isf)
        # where logcdf uses log(cdf) (and logsf log1p(-cdf)): z below the median
        self.median_split = median_split

    def method(self, method, doc):
        """The module function for ``method``, e.g. ``pdf(x, *shapes, loc=0, scale=1)``
        (``ppf``/``isf`` take ``q``)."""
        first = "q" if method in ("ppf", "isf") else "x"
        return _method(self, method, doc, first, (("loc", 0), ("scale", 1)))

    def _prepare(self, x, shapes, loc, scale):
        x, loc, scale = arr(x), arr(loc), arr(scale)
        shapes = [arr(s) for s in shapes]
        z = f64(fnp.true_divide(fnp.subtract(x, loc), scale))
        pos = fnp.greater(scale, 0)
        cond0 = fnp.logical_and(self.argcheck(*shapes), pos)
        return z, shapes, scale, pos, cond0

    def __call__(self, method, x, shapes, loc, scale):
        if method in ("ppf", "isf"):
            return self._quantile(method, x, shapes, loc, scale)
        z, shapes, scale, pos, cond0 = self._prepare(x, shapes, loc, scale)
        lo, hi = self.support(*shapes)
        if method in ("pdf", "logpdf"):
            inside = fnp.logical_and(fnp.less_equal(lo, z), fnp.less_equal(z, hi))
        else:
            inside = fnp.logical_and(fnp.less(lo, z), fnp.less(z, hi))
        cond = fnp.logical_and(cond0, fnp.logical_and(inside, pos))
        bad = fnp.logical_or(fnp.logical_not(cond0), fnp.isnan(z))
        ss = [safe(cond0, s, v) for s, v in zip(shapes, self.safe_shapes)]
        zs = fnp.where(cond, z, self._safe_z(ss))
        val = self._formula(method, zs, ss)
        if method == "pdf":
            val = fnp.true_divide(val, safe(pos, scale, 1))
            rest = fnp.where(bad, np.nan, 0.0)
        elif method == "logpdf":
            val = fnp.subtract(val, fnp.log(safe(pos, scale, 1)))
            rest = fnp.where(bad, np.nan, -np.inf)
        else:
            edge = fnp.logical_and(fnp.greater_equal(z, hi) if method in (
                "cdf", "logcdf") else fnp.less_equal(z, lo), cond0)
            one = 0.0 if method.startswith("log") else 1.0
            zero = -np.inf if method.startswith("log") else 0.0
            rest = fnp.where(bad, np.nan, fnp.where(edge, one, zero))
        return f64(fnp.where(cond, val, rest))

    def _safe_z(self, safe_shapes):
        return self.safe_z(*safe_shapes) if callable(self.safe_z) else self.safe_z

    def _quantile(self, method, q, shapes, loc, scale):
        """SciPy's ``ppf``/``isf``: NaN for invalid parameters (or NaN ``loc``) and ``q``
        outside [0, 1]; the support's ends at ``q`` = 0 and 1; else ``formula(q) * scale
        + loc``."""
        q, loc, scale = arr(q), arr(loc), arr(scale)
        shapes = [arr(s) for s in shapes]
        cond0 = fnp.logical_and(fnp.logical_and(self.argcheck(*shapes), fnp.greater(scale, 0)),
                                fnp.equal(loc, loc))
        cond = fnp.logical_and(cond0, fnp.logical_and(fnp.less(0, q), fnp.less(q, 1)))
        ss = [safe(cond0, s, v) for s, v in zip(shapes, self.safe_shapes)]
        qs = fnp.where(cond, q, 0.5)
        scale_s = safe(cond0, scale, 1)
        val = fnp.add(fnp.multiply(self.formulas[method](qs, *ss), scale_s), loc)
        lo, hi = self.support(*ss)
        if method == "isf":
            lo, hi = hi, lo
        at_lo = fnp.logical_and(cond0, fnp.equal(q, 0))
        at_hi = fnp.logical_and(cond0, fnp.equal(q, 1))
        out = fnp.where(cond, val, fnp.where(at_lo, _end(lo, scale_s, loc),
                                             fnp.where(at_hi, _end(hi, scale_s, loc), np.nan)))
        return f64(out)

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


def _clamp01(p):
    """``p`` clamped to [0, 1] as SciPy clips its probabilities, keeping ``p``'s
    derivative where it is exactly 0 or 1 (``clip`` halves it there: its tie rule)."""
    return fnp.where(fnp.greater(p, 1.0), 1.0, fnp.where(fnp.less(p, 0.0), 0.0, p))


def _end(e, scale, loc):
    """``e * scale + loc`` for an end ``e`` of the support; an infinite end stays itself
    (and is kept out of the product, whose derivative would otherwise be NaN)."""
    if type(e) in _PY or isinstance(e, np.generic):          # a static end
        return float(e) if np.isinf(e) else fnp.add(fnp.multiply(e, scale), loc)
    finite = fnp.isfinite(e)
    return fnp.where(finite, fnp.add(fnp.multiply(fnp.where(finite, e, 0.0), scale), loc), e)


class Discrete:
    """One discrete distribution (SciPy's ``rv_discrete`` method bodies): support ``(a,
    b)`` (numbers, or a function of the shapes), the shape check, stand-in values
    (``safe_k`` inside the support of ``safe_shapes``) and the formulas ``logpmf`` (and
    optionally ``pmf cdf sf logcdf logsf ppf``) of ``(k, *shapes)``.  ``k`` and ``loc``
    carry no derivative (the pmf lives on the integers, the cdf is a step function):
    their tangents are 0."""

    def __init__(self, name, *, support, safe_k, safe_shapes, shape_names, argcheck, logpmf,
                 pmf=None, cdf=None, sf=None, logcdf=None, logsf=None, ppf=None):
        self.name = name
        self.shape_names = shape_names
        self.support = support if callable(support) else (lambda *s: support)
        self.safe_k = safe_k
        self.safe_shapes = safe_shapes
        self.argcheck = argcheck
        self.formulas = dict(logpmf=logpmf, pmf=pmf, cdf=cdf, sf=sf, logcdf=logcdf,
                             logsf=logsf, ppf=ppf)

    def method(self, method, doc):
        """The module function for ``method``: ``pmf(k, *shapes, loc=0)`` (``ppf`` takes
        ``q``)."""
        return _method(self, method, doc, "q" if method == "ppf" else "k", (("loc", 0),))

    def _prepare(self, k, shapes, loc):
        k, loc = arr(k), arr(loc)
        shapes = [arr(s) for s in shapes]
        k = stop_gradient(fnp.subtract(k, loc))
        cond0 = self.argcheck(*shapes)
        bad = fnp.logical_or(fnp.logical_not(cond0), fnp.isnan(k))
        ss = [safe(cond0, s, v) for s, v in zip(shapes, self.safe_shapes)]
        return k, shapes, ss, cond0, bad

    def __call__(self, method, k, shapes, loc):
        if method == "ppf":
            return self._ppf(k, shapes, loc)
        k, shapes, ss, cond0, bad = self._prepare(k, shapes, loc)
        a, b = self.support(*shapes)
        if method in ("pmf", "logpmf"):
            inside = fnp.logical_and(fnp.logical_and(fnp.greater_equal(k, a),
                                                     fnp.less_equal(k, b)),
                                     fnp.equal(fnp.floor(k), k))
            cond = fnp.logical_and(cond0, inside)
            val = self._formula(method, fnp.where(cond, k, self.safe_k), ss)
            if method == "pmf":
                return f64(fnp.where(cond, _clamp01(val),
                                     fnp.where(bad, np.nan, 0.0)))
            return f64(fnp.where(cond, val, fnp.where(bad, np.nan, -np.inf)))
        inside = fnp.logical_and(fnp.greater_equal(k, a), fnp.less(k, b))
        cond = fnp.logical_and(cond0, inside)
        if method in ("cdf", "sf"):
            cond = fnp.logical_and(cond, fnp.isfinite(k))
        # (the discarded points get stand-in shapes too: an edge parameter there, p = 1
        # say, would give the formula an infinite derivative, and 0 * inf leaks back)
        ss = [safe(cond, s, v) for s, v in zip(ss, self.safe_shapes)]
        val = self._formula(method, fnp.where(cond, k, self.safe_k), ss, cond)
        above = fnp.greater_equal(k, b)
        below = fnp.logical_and(fnp.logical_or(fnp.less(k, a), fnp.isneginf(k)), cond0)
        if method == "cdf":
            rest = fnp.where(bad, np.nan, fnp.where(above, 1.0, 0.0))
            val = _clamp01(val)
        elif method == "logcdf":
            rest = fnp.where(above, 0.0, fnp.where(bad, np.nan, -np.inf))
        elif method == "sf":
            rest = fnp.where(below, 1.0, fnp.where(bad, np.nan, 0.0))
            val = _clamp01(val)
        else:
            rest = fnp.where(below, 0.0, fnp.where(bad, np.nan, -np.inf))
        return f64(fnp.where(cond, val, rest))

    def _formula(self, method, k, s, cond=None):
        f = self.formulas[method]
        if f is not None:
            return f(k, *s)
        if method == "pmf":
            return fnp.exp(self.formulas["logpmf"](k, *s))
        # logcdf, logsf: SciPy's default, the log of cdf/sf; where ``cond`` is False the
        # value is discarded, and its log must not be log(0) (a NaN derivative leaks back)
        base = self._formula(method[3:], k, s)
        return fnp.log(base if cond is None else fnp.where(cond, base, 1.0))

    def _ppf(self, q, shapes, loc):
        """SciPy's discrete ``ppf``: ``a - 1 + loc`` at ``q = 0`` (before SciPy 1.16 also
        for invalid parameters), ``b + loc`` at ``q = 1``, ``formula(q) + loc`` inside, NaN
        elsewhere and for invalid parameters."""
        q, loc = arr(q), arr(loc)
        shapes = [arr(s) for s in shapes]
        cond0 = fnp.logical_and(self.argcheck(*shapes), fnp.equal(loc, loc))
        cond = fnp.logical_and(cond0, fnp.logical_and(fnp.greater(q, 0), fnp.less(q, 1)))
        ss = [safe(cond0, s, v) for s, v in zip(shapes, self.safe_shapes)]
        a, b = self.support(*ss)
        val = fnp.add(self.formulas["ppf"](fnp.where(cond, q, 0.5), *ss), loc)
        out = fnp.where(cond, val, np.nan)
        out = fnp.where(fnp.logical_and(fnp.equal(q, 1), cond0), fnp.add(b, loc), out)
        at_0 = fnp.equal(q, 0)
        if _PPF0_NEEDS_VALID:
            at_0 = fnp.logical_and(at_0, cond0)
        return f64(fnp.where(at_0, fnp.add(fnp.subtract(a, 1), loc), out))

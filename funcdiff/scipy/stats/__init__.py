"""``funcdiff.scipy.stats``: SciPy's distributions on values that trace, one module each
(as ``jax.scipy.stats``): ``norm t gamma beta chi2`` with ``pdf logpdf cdf logcdf sf
logsf``, ``poisson`` with ``pmf logpmf cdf logcdf sf logsf``, ``dirichlet`` and
``multivariate_normal`` with ``pdf logpdf``.

Signatures and parameter order are SciPy's (``norm.logpdf(x, loc=0, scale=1)``,
``t.cdf(x, df, loc=0, scale=1)``, ``beta.pdf(x, a, b, loc=0, scale=1)``,
``poisson.pmf(k, mu, loc=0)``, ...).  Outside transforms each function is SciPy's own
(same values and dtypes) when SciPy is importable; under a transform (and without SciPy)
it is a composition of ``funcdiff.numpy`` and ``funcdiff.scipy.special``, with SciPy's
handling of the support, invalid parameters and NaN (see ``_dist``), so it
differentiates in the value and the parameters -- except where no closed form exists:
the cdf/sf of ``t``, ``gamma``, ``beta`` and ``chi2`` with respect to a shape parameter
raise ``GradientError``.
"""
from . import beta, chi2, dirichlet, gamma, multivariate_normal, norm, poisson, t  # noqa: F401

__all__ = ["beta", "chi2", "dirichlet", "gamma", "multivariate_normal", "norm", "poisson", "t"]

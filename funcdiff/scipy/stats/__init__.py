"""``funcdiff.scipy.stats``: SciPy's distributions and statistics on values that trace.

Distributions, one module each with SciPy's method names as functions (as
``jax.scipy.stats``): continuous ``beta cauchy chi2 expon gamma gennorm gumbel_l gumbel_r
laplace logistic norm pareto t truncnorm uniform vonmises wrapcauchy`` (``pdf logpdf cdf
logcdf sf logsf``, and ``ppf isf`` where SciPy's inverse is a closed form); discrete
``bernoulli betabinom binom geom nbinom poisson`` (``pmf logpmf``, ``cdf logcdf sf logsf
ppf`` where cheap, ``poisson.entropy``); multivariate ``dirichlet multinomial
multivariate_normal`` (``allow_singular=True`` and ``entropy`` too).  Functions:
``gaussian_kde`` (a class), ``mode``, ``rankdata``, ``sem``.

Signatures and parameter order are SciPy's (``norm.logpdf(x, loc=0, scale=1)``,
``t.cdf(x, df, loc=0, scale=1)``, ``pareto.ppf(q, b, loc=0, scale=1)``,
``poisson.pmf(k, mu, loc=0)``, shapes by position or keyword).  Outside transforms each
function is SciPy's own (same values and dtypes) when SciPy is importable; under a
transform (and without SciPy) it is a composition of ``funcdiff.numpy`` and
``funcdiff.scipy.special``, with SciPy's handling of the support, invalid parameters and
NaN (see ``_dist``), so it differentiates in the value and the parameters -- except where
no closed form exists: a cdf/sf through ``gammainc``/``betainc``/``stdtr`` (``t gamma
beta chi2 gennorm nbinom``) with respect to a shape parameter raises ``GradientError``.
Discrete values ``k`` (and ``loc``) carry no derivative: the pmf lives on the integers.
"""
from . import (bernoulli, beta, betabinom, binom, cauchy, chi2, dirichlet, expon, gamma,
               gennorm, geom, gumbel_l, gumbel_r, laplace, logistic, multinomial,
               multivariate_normal, nbinom, norm, pareto, poisson, t, truncnorm, uniform,
               vonmises, wrapcauchy)
from ._functions import mode, rankdata, sem
from ._kde import gaussian_kde

__all__ = [
    # continuous distributions
    "beta", "cauchy", "chi2", "expon", "gamma", "gennorm", "gumbel_l", "gumbel_r",
    "laplace", "logistic", "norm", "pareto", "t", "truncnorm", "uniform", "vonmises",
    "wrapcauchy",
    # discrete distributions
    "bernoulli", "betabinom", "binom", "geom", "nbinom", "poisson",
    # multivariate distributions
    "dirichlet", "multinomial", "multivariate_normal",
    # statistics
    "gaussian_kde", "mode", "rankdata", "sem",
]


def __dir__():
    return sorted(__all__)

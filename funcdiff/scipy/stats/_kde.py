"""``funcdiff.scipy.stats.gaussian_kde``: SciPy's Gaussian kernel density estimator on
values that trace (the data, the weights and a scalar bandwidth may all be traced)."""
from __future__ import annotations

import math

import numpy as np

from ... import numpy as fnp
from ...core.errors import FuncdiffTypeError, FuncdiffValueError
from ...core.trace import Tracer
from ...primitives.linalg import triangular_solve
from .. import special as fsp
from .._special import _concrete

_F64 = np.dtype(np.float64)


def _is_scalar(v):
    """A number, or a 0-d (possibly traced) array: a constant bandwidth factor."""
    if isinstance(v, str):
        return False
    return np.isscalar(v) or (hasattr(v, "shape") and hasattr(v, "dtype") and v.shape == ()
                              and np.dtype(v.dtype).kind in "iuf")


class gaussian_kde:
    """Like ``scipy.stats.gaussian_kde(dataset, bw_method=None, weights=None)``: the
    points are the *columns* of ``dataset`` (shape ``(d, n)``, or ``(n,)`` for one
    dimension); ``bw_method`` is 'scott' (the default), 'silverman', a scalar factor or
    a callable of the estimator.

    Methods as SciPy's: ``evaluate`` (= ``__call__`` = ``pdf``), ``logpdf`` (a
    logsumexp, exact far in the tails), ``integrate_gaussian``, ``integrate_box_1d``,
    ``integrate_kde``, ``resample`` (SciPy's random stream: the same seed gives the same
    sample), ``marginal``, ``set_bandwidth``, ``scotts_factor``, ``silverman_factor``,
    ``covariance_factor`` and the attributes ``dataset d n weights neff factor covariance
    cho_cov log_det inv_cov``.  Not here: ``integrate_box`` (it needs the multivariate
    normal cdf).

    Everything is differentiable in the data, the weights and a scalar bandwidth (the
    density, its log, the integrals, and ``resample``'s output by reparametrization: the
    random draws are constants).  Build it inside the transformed function (it is not a
    pytree: it does not cross ``jit``/``vmap`` boundaries)."""

    def __init__(self, dataset, bw_method=None, weights=None):
        self.dataset = fnp.atleast_2d(fnp.asarray(dataset))
        if not self.dataset.size > 1:
            raise FuncdiffValueError("`dataset` input should have multiple elements.")
        self.d, self.n = self.dataset.shape
        if weights is not None:
            w = fnp.atleast_1d(fnp.asarray(weights)).astype(_F64)
            if w.ndim != 1:
                raise FuncdiffValueError("`weights` input should be one-dimensional.")
            if w.shape[0] != self.n:
                raise FuncdiffValueError("`weights` input should be of length n")
            self._weights = w / fnp.sum(w)
            self._neff = 1 / fnp.sum(self._weights * self._weights)
        if self.d > self.n:
            raise FuncdiffValueError(
                "Number of dimensions is greater than number of samples. This results in a "
                "singular data covariance matrix, which cannot be treated using the "
                "algorithms implemented in `gaussian_kde`. Note that `gaussian_kde` "
                "interprets each *column* of `dataset` to be a point; consider transposing "
                "the input to `dataset`.")
        self.set_bandwidth(bw_method=bw_method)

    # --- weights and bandwidth ------------------------------------------------------------

    @property
    def weights(self):
        if not hasattr(self, "_weights"):
            self._weights = np.ones(self.n) / self.n
        return self._weights

    @property
    def neff(self):
        if not hasattr(self, "_neff"):
            self._neff = 1 / fnp.sum(self.weights * self.weights)
        return self._neff

    def scotts_factor(self):
        """``neff^(-1/(d+4))``."""
        return fnp.power(self.neff, -1.0 / (self.d + 4))

    def silverman_factor(self):
        """``(neff (d+2)/4)^(-1/(d+4))``."""
        return fnp.power(self.neff * (self.d + 2.0) / 4.0, -1.0 / (self.d + 4))

    covariance_factor = scotts_factor

    def set_bandwidth(self, bw_method=None):
        """As SciPy: None keeps the current rule, 'scott', 'silverman', a scalar, or a
        callable taking the estimator."""
        if bw_method is None:
            pass
        elif isinstance(bw_method, str) and bw_method == "scott":
            self.covariance_factor = self.scotts_factor
        elif isinstance(bw_method, str) and bw_method == "silverman":
            self.covariance_factor = self.silverman_factor
        elif _is_scalar(bw_method):
            self._bw_method = "use constant"
            self.covariance_factor = lambda: bw_method
        elif callable(bw_method):
            self._bw_method = bw_method
            self.covariance_factor = lambda: self._bw_method(self)
        else:
            raise FuncdiffValueError("`bw_method` should be 'scott', 'silverman', a scalar "
                                     "or a callable.")
        self._compute_covariance()

    def _data_cov(self):
        """``numpy.cov(dataset, aweights=weights)`` (unbiased: divided by ``1 - sum
        w^2``, the weights summing to 1)."""
        x = self.dataset.astype(_F64)
        w = self.weights
        dev = x - fnp.sum(x * w, axis=1)[:, None]
        return (dev * w) @ dev.T / (1.0 - fnp.sum(w * w))

    def _compute_covariance(self):
        self.factor = self.covariance_factor()
        if not hasattr(self, "_data_cho_cov"):
            self._data_covariance = self._data_cov()
            self._data_cho_cov = fnp.linalg.cholesky(self._data_covariance)
        self.covariance = self._data_covariance * self.factor ** 2
        self.cho_cov = (self._data_cho_cov * self.factor).astype(_F64)
        self.log_det = 2 * fnp.sum(fnp.log(fnp.diagonal(self.cho_cov) * math.sqrt(2 * math.pi)))

    @property
    def inv_cov(self):
        """``inv(data covariance) / factor^2``."""
        self.factor = self.covariance_factor()
        return fnp.linalg.inv(self._data_cov()) / self.factor ** 2

    # --- the density ----------------------------------------------------------------------

    def _points(self, points):
        points = fnp.atleast_2d(fnp.asarray(points))
        d, m = points.shape
        if d != self.d:
            if d == 1 and m == self.d:          # a row vector: one point
                return fnp.reshape(points, (self.d, 1))
            raise FuncdiffValueError(f"points have dimension {d}, dataset has dimension "
                                     f"{self.d}")
        return points

    def _energies(self, points):
        """``|L^-1 (x_j - data_i)|^2 / 2`` for every data point i and point j, ``(n, m)``,
        L the bandwidth's Cholesky factor."""
        points = self._points(points).astype(_F64)
        m = points.shape[1]
        diff = self.dataset.astype(_F64)[:, :, None] - points[:, None, :]       # (d, n, m)
        z = triangular_solve(self.cho_cov, fnp.reshape(diff, (self.d, self.n * m)),
                             lower=True)
        return fnp.reshape(fnp.sum(z * z, axis=0), (self.n, m)) / 2.0

    def evaluate(self, points):
        """The density at the columns of ``points`` (``(d, m)``; a ``(d,)`` row is one
        point), float64."""
        e = self._energies(points)
        return fnp.sum(fnp.exp(-e) * self.weights[:, None], axis=0) / fnp.exp(self.log_det / 2)

    __call__ = evaluate

    def pdf(self, x):
        """``evaluate(x)``."""
        return self.evaluate(x)

    def logpdf(self, x):
        """``log(evaluate(x))`` as a logsumexp over the data (finite where the density
        underflows)."""
        e = self._energies(x)
        return fsp.logsumexp(-e, axis=0, b=self.weights[:, None]) - self.log_det / 2

    # --- integrals ------------------------------------------------------------------------

    def _gauss_overlap(self, means, cov, weights):
        """``sum_i w_i N(means_i; data_k, covariance + cov)`` summed over the data k with
        the estimator's weights: SciPy's integrate_gaussian/integrate_kde."""
        sum_cov = self.covariance + cov
        chol = fnp.linalg.cholesky(sum_cov)
        diff = self.dataset.astype(_F64)[:, :, None] - means[:, None, :]      # (d, n, k)
        k = means.shape[1]
        z = triangular_solve(chol, fnp.reshape(diff, (self.d, self.n * k)), lower=True)
        energies = fnp.reshape(fnp.sum(z * z, axis=0), (self.n, k)) / 2.0
        norm_const = (2 * math.pi) ** (self.d / 2.0) * fnp.prod(fnp.diagonal(chol))
        per_mean = fnp.sum(fnp.exp(-energies) * self.weights[:, None], axis=0)
        return fnp.sum(per_mean * weights) / norm_const

    def integrate_gaussian(self, mean, cov):
        """``int kde(x) N(x; mean, cov) dx``."""
        mean = fnp.atleast_1d(fnp.squeeze(fnp.asarray(mean)))
        cov = fnp.atleast_2d(fnp.asarray(cov))
        if mean.shape != (self.d,):
            raise FuncdiffValueError(f"mean does not have dimension {self.d}")
        if cov.shape != (self.d, self.d):
            raise FuncdiffValueError(f"covariance does not have dimension {self.d}")
        return self._gauss_overlap(mean.astype(_F64)[:, None], cov, np.ones(1))

    def integrate_box_1d(self, low, high):
        """The mass between ``low`` and ``high`` (one dimension only)."""
        if self.d != 1:
            raise FuncdiffValueError("integrate_box_1d() only handles 1D pdfs")
        stdev = fnp.ravel(fnp.sqrt(self.covariance))[0]
        lo = fnp.ravel((low - self.dataset) / stdev)
        hi = fnp.ravel((high - self.dataset) / stdev)
        return fnp.sum(self.weights * (fsp.ndtr(hi) - fsp.ndtr(lo)))

    def integrate_kde(self, other):
        """``int kde(x) other(x) dx`` for another estimator of the same dimension."""
        if other.d != self.d:
            raise FuncdiffValueError("KDEs are not the same dimensionality")
        return self._gauss_overlap(other.dataset.astype(_F64), other.covariance,
                                   other.weights)

    # --- sampling and marginals -----------------------------------------------------------

    def resample(self, size=None, seed=None):
        """``size`` points (default ``int(neff)``) as columns ``(d, size)``: SciPy's
        random stream (normal draws, then the data indices), so a seed gives SciPy's
        sample.  Differentiable in the data and the bandwidth; the weights must have
        known values (not under jit) for the index draw."""
        if size is None:
            size = int(self.neff)
        rs = _random_state(seed)
        z = rs.standard_normal((int(size), self.d))
        u, s, vh = fnp.linalg.svd(self.covariance)        # NumPy's multivariate_normal
        norm = (z @ (fnp.sqrt(s)[:, None] * vh)).T
        w = _concrete(self.weights)
        if w is None:
            raise FuncdiffValueError("gaussian_kde.resample draws data indices with the "
                                     "weights' values, which jit does not know; resample "
                                     "outside jit (or with the default weights)")
        indices = rs.choice(self.n, size=size, p=w)
        return self.dataset[:, indices] + norm

    def marginal(self, dimensions):
        """The estimator of the variables ``dimensions`` only (same bandwidth factor)."""
        dims = np.atleast_1d(dimensions)
        if not np.issubdtype(dims.dtype, np.integer):
            raise FuncdiffValueError("Elements of `dimensions` must be integers - the "
                                     "indices of the marginal variables being retained.")
        n = self.d
        original = dims.copy()
        dims = np.where(dims < 0, n + dims, dims)
        if len(np.unique(dims)) != len(dims):
            raise FuncdiffValueError("All elements of `dimensions` must be unique.")
        bad = (dims < 0) | (dims >= n)
        if np.any(bad):
            raise FuncdiffValueError(f"Dimensions {original[bad]} are invalid for a "
                                     f"distribution in {n} dimensions.")
        return gaussian_kde(self.dataset[dims], bw_method=self.covariance_factor(),
                            weights=self.weights)


def _random_state(seed):
    """SciPy's ``check_random_state``: None -> NumPy's global RandomState, an int -> a new
    RandomState, a RandomState/Generator itself."""
    if seed is None or seed is np.random:
        return np.random.mtrand._rand
    if isinstance(seed, (int, np.integer)):
        return np.random.RandomState(seed)
    if isinstance(seed, (np.random.RandomState, np.random.Generator)):
        return seed
    if isinstance(seed, Tracer):
        raise FuncdiffTypeError("gaussian_kde.resample: `seed` must not be traced")
    raise FuncdiffValueError(f"{seed!r} cannot be used to seed a numpy.random.RandomState "
                             "instance")

"""The SciPy rows of docs/subgradients.md: one row, one test; forward and reverse mode
agree on every row."""
import numpy as np
import pytest

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff.scipy import ndimage, signal
from funcdiff.scipy.cluster.vq import vq
from funcdiff.scipy.interpolate import RegularGridInterpolator
from funcdiff.scipy.spatial.transform import Rotation, Slerp

X5 = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
GRID = np.array([0.0, 1.0, 3.0, 4.0])
VALS = np.array([0.0, 2.0, 3.0, 7.0])
KEYS = Rotation.from_rotvec(np.array([[0.0, 0, 0], [0, 0, 1.0], [0.5, 0, 1.0]]))


def _mc(mode, order=1):
    return lambda c: ndimage.map_coordinates(X5, c[None], order=order, mode=mode, cval=-3.0)


def _rgi(method):
    return lambda x: RegularGridInterpolator((GRID,), VALS, method=method)(x[:, None])


def _slerp_angle(t):
    """A scalar of the interpolated rotation: its rotation vector's component sum."""
    return fnp.sum(Slerp([0.0, 1.0, 3.0], KEYS)(t).as_rotvec())


ROWS = [
    # (row name, function of a 1-d float array, point, expected derivative)
    ("map_coordinates at an interior integer", _mc("reflect"), np.array([2.0]),
     np.array([8.0 - 4.0])),
    ("map_coordinates at the last sample, mode nearest", _mc("nearest"), np.array([4.0]),
     np.array([0.0])),
    ("map_coordinates at the last sample, mode mirror", _mc("mirror"), np.array([4.0]),
     np.array([8.0 - 16.0])),
    ("map_coordinates at the last sample, mode grid-constant", _mc("grid-constant"),
     np.array([4.0]), np.array([-3.0 - 16.0])),
    ("map_coordinates at the last sample, mode constant", _mc("constant"), np.array([4.0]),
     np.array([16.0 - 8.0])),
    # (SciPy's 'wrap' jumps to the first sample just past the last: was 8 - 16, the slope
    # of a cell that mirrors back, matching neither side)
    ("map_coordinates at the last sample, mode wrap", _mc("wrap"), np.array([4.0]),
     np.array([16.0 - 8.0])),
    ("map_coordinates at a wrapped last sample, mode wrap", _mc("wrap"), np.array([-4.0]),
     np.array([16.0 - 8.0])),
    ("map_coordinates order 0", _mc("reflect", 0), np.array([1.3]), np.array([0.0])),
    ("RegularGridInterpolator nearest", _rgi("nearest"), np.array([1.3]), np.array([0.0])),
    ("RegularGridInterpolator linear at a grid point", _rgi("linear"), np.array([1.0]),
     np.array([(3.0 - 2.0) / (3.0 - 1.0)])),
    ("RegularGridInterpolator linear at the last grid point", _rgi("linear"),
     np.array([4.0]), np.array([(7.0 - 3.0) / (4.0 - 3.0)])),
    ("Rotation.magnitude at the identity", lambda v: Rotation.from_quat(
        fnp.concatenate([v, fnp.ones(1)])).magnitude(), np.zeros(3), np.zeros(3)),
    ("vq distance at its own code", lambda o: vq(o[None], np.array([[1.0, 2.0],
                                                                   [5.0, 5.0]]))[1],
     np.array([1.0, 2.0]), np.zeros(2)),
    ("welch median with tied segments", lambda x: signal.welch(
        x, nperseg=4, noverlap=0, detrend=False, window="boxcar", average="median",
        scaling="spectrum")[1][0], np.array([1.0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]),
     None),
]


@pytest.mark.parametrize("name,f,x,expected", ROWS, ids=[r[0] for r in ROWS])
def test_subgradient_row(name, f, x, expected):
    g_rev = fd.grad(lambda v: fnp.sum(f(v)))(x)
    _, g_fwd = fd.jvp(lambda v: fnp.sum(f(v)), (x,), (np.ones_like(x),))
    assert np.all(np.isfinite(g_rev)) and np.all(np.isfinite(g_fwd))
    np.testing.assert_allclose(np.sum(g_rev), g_fwd, atol=1e-12)
    if expected is not None:
        np.testing.assert_allclose(g_rev, expected, atol=1e-12)


def test_welch_median_ties_go_to_the_middle_segment_by_position():
    """Three equal segments: the median is the middle one by (value, position); its
    samples get the whole derivative, the others none (a stable sort's rule)."""
    x = np.ones(12)
    f = lambda x: signal.welch(x, nperseg=4, noverlap=0, detrend=False,  # noqa: E731
                               window="boxcar", average="median", scaling="spectrum")[1][0]
    g = fd.grad(f)(x)
    bias = 1 + (1 / 3 - 1 / 2)          # SciPy's median bias for 3 segments
    want = np.zeros(12)
    want[4:8] = 2 * 4 / 16 / bias        # d(sum^2 / 16)/dx at sum = 4, one segment
    np.testing.assert_allclose(g, want, atol=1e-12)


def test_slerp_at_a_key_time_takes_the_interval_before_it():
    # interval [0, 1]: rotation about z at rate 1 rad/unit; interval [1, 3]: slower
    g_key = fd.grad(_slerp_angle)(1.0)
    g_before = fd.grad(_slerp_angle)(1.0 - 1e-3)
    g_after = fd.grad(_slerp_angle)(1.0 + 1e-3)
    np.testing.assert_allclose(g_key, g_before, rtol=1e-4)
    assert not np.isclose(g_key, g_after, rtol=1e-2)
    # the first key time: the interval after it
    np.testing.assert_allclose(fd.grad(_slerp_angle)(0.0), fd.grad(_slerp_angle)(1e-4),
                               rtol=1e-3)


def test_rotvec_at_the_identity_is_exact_both_ways():
    jq = fd.jacfwd(lambda v: Rotation.from_rotvec(v).as_quat())(np.zeros(3))
    np.testing.assert_allclose(jq, np.vstack([0.5 * np.eye(3), np.zeros((1, 3))]),
                               atol=1e-15)
    jr = fd.jacrev(lambda q: Rotation.from_quat(q).as_rotvec())(np.array([0, 0, 0, 1.0]))
    np.testing.assert_allclose(jr, np.hstack([2 * np.eye(3), np.zeros((3, 1))]), atol=1e-15)


def test_from_matrix_differentiates_the_projection():
    """At an orthogonal matrix, in a direction off the rotations, the derivative is the
    polar projection's (finite differences of SciPy's own from_matrix agree)."""
    scipy_rot = pytest.importorskip("scipy.spatial.transform").Rotation
    r = scipy_rot.from_rotvec([0.3, -0.2, 0.5]).as_matrix()
    d = np.random.default_rng(0).normal(size=(3, 3))
    _, t = fd.jvp(lambda m: Rotation.from_matrix(m).as_quat(), (r,), (d,))
    eps = 1e-6

    def projected(m):        # SciPy (1.17) projects; older SciPy does not: done here
        u, _, vt = np.linalg.svd(m)
        return scipy_rot.from_matrix(u @ vt).as_quat()
    num = (projected(r + eps * d) - projected(r - eps * d)) / (2 * eps)
    np.testing.assert_allclose(t, num, atol=1e-6)

"""funcdiff.scipy.spatial.transform (Rotation, Slerp) and funcdiff.scipy.cluster.vq.vq.

Rotation: every conversion (quat, matrix incl. non-orthogonal, rotvec incl. tiny and
zero angles, mrp, Euler in all 12 sequences, intrinsic and extrinsic, degrees),
apply/inv/magnitude/mean/pow/composition/indexing/concatenate/identity/random/
approx_equal against SciPy, under jit with the inputs traced, over single rotations and
stacks; check_grads order 2; vmap; the pytree; SciPy's errors (values known) and NaN
(jit).  Slerp against SciPy, derivatives in the times and keys.  vq: codes and distances
against SciPy (dtypes, 1-d and 2-d), derivatives of the distances.
"""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import scipy
import scipy.cluster.vq as svq
from scipy.spatial.transform import Rotation as SR
from scipy.spatial.transform import Slerp as SS

import funcdiff as fd
from funcdiff.scipy import cluster, spatial
from funcdiff.scipy.cluster.vq import vq
from funcdiff.scipy.spatial import transform as T
from funcdiff.scipy.spatial.transform import Rotation as R
from funcdiff.scipy.spatial.transform import Slerp as S
from funcdiff.test_util import check_grads

SEQS = ["".join(p) for p in itertools.permutations("xyz")] + \
    ["xyx", "xzx", "yxy", "yzy", "zxz", "zyz"]
SEQS = SEQS + [s.upper() for s in SEQS]
# funcdiff follows SciPy 1.17: N-d rotation arrays, the projection of non-orthogonal
# matrices in from_matrix, from_euler's 1-d angles as one rotation; older SciPy differs
SCIPY_117 = tuple(int(v) for v in scipy.__version__.split(".")[:2]) >= (1, 17)
needs_117 = pytest.mark.skipif(not SCIPY_117, reason="SciPy 1.17's behaviour")


def close(got, want, atol=1e-10):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, \
        (got.shape, want.shape, got.dtype, want.dtype)
    np.testing.assert_allclose(got, want, atol=atol, rtol=1e-10, equal_nan=True)


def same_rotation(q1, q2):
    """Equal up to the quaternion's sign."""
    q1, q2 = np.asarray(q1), np.asarray(q2)
    assert q1.shape == q2.shape
    d = np.minimum(np.abs(q1 - q2).max(-1), np.abs(q1 + q2).max(-1))
    assert np.all(d < 1e-9), (q1, q2)


@pytest.fixture
def qs(rng):
    return rng.normal(size=(6, 4))


@pytest.fixture
def rv(rng):
    v = rng.normal(size=(6, 3))
    v[0], v[1], v[2] = 0.0, 1e-4, 3e-3         # zero, tiny and small angles
    return v


J = fd.jit


# --- conversions --------------------------------------------------------------------------

def test_quat_and_matrix(qs):
    close(J(lambda q: R.from_quat(q).as_quat())(qs), SR.from_quat(qs).as_quat())
    close(J(lambda q: R.from_quat(q, scalar_first=True).as_quat(canonical=True,
                                                                scalar_first=True))(qs),
          SR.from_quat(qs, scalar_first=True).as_quat(canonical=True, scalar_first=True))
    close(J(lambda q: R.from_quat(q).as_matrix())(qs), SR.from_quat(qs).as_matrix())
    close(J(lambda q: R.from_quat(q[0]).as_matrix())(qs), SR.from_quat(qs[0]).as_matrix())
    close(J(lambda q: R(q, normalize=False).as_quat())(qs), SR(qs, normalize=False).as_quat())
    assert R.from_quat(qs[0]).single and not R.from_quat(qs[:1]).single


def test_from_matrix(qs, rng):
    mats = SR.from_quat(qs).as_matrix()
    same_rotation(J(lambda m: R.from_matrix(m).as_quat())(mats), SR.from_matrix(mats).as_quat())
    noisy = mats + 0.05 * rng.normal(size=mats.shape)       # projected onto rotations
    u, _, vt = np.linalg.svd(noisy)
    same_rotation(J(lambda m: R.from_matrix(m).as_quat())(noisy),
                  SR.from_matrix(u @ vt).as_quat())
    same_rotation(R.from_matrix(noisy).as_quat(), SR.from_matrix(u @ vt).as_quat())
    if SCIPY_117:
        same_rotation(R.from_matrix(noisy).as_quat(), SR.from_matrix(noisy).as_quat())
    same_rotation(J(lambda m: R.from_matrix(m, assume_valid=True).as_quat())(mats),
                  SR.from_matrix(mats).as_quat())
    for m in ([[1.0, 0, 0], [0, -1, 0], [0, 0, -1]], np.diag([-1.0, -1, 1])):
        same_rotation(J(lambda m: R.from_matrix(m).as_quat())(np.array(m)),
                      SR.from_matrix(m).as_quat())   # 180-degree turns: other branches


def test_rotvec_mrp(rv):
    close(J(lambda v: R.from_rotvec(v).as_quat())(rv), SR.from_rotvec(rv).as_quat())
    close(J(lambda v: R.from_rotvec(v).as_rotvec())(rv), SR.from_rotvec(rv).as_rotvec())
    close(J(lambda v: R.from_rotvec(v, degrees=True).as_rotvec(degrees=True))(rv * 50),
          SR.from_rotvec(rv * 50, degrees=True).as_rotvec(degrees=True), atol=1e-8)
    close(J(lambda v: R.from_mrp(v).as_quat())(rv * 0.3), SR.from_mrp(rv * 0.3).as_quat())
    close(J(lambda v: R.from_rotvec(v).as_mrp())(rv * 2), SR.from_rotvec(rv * 2).as_mrp())


@pytest.mark.parametrize("seq", SEQS)
def test_euler(seq, qs, rng):
    ang = rng.uniform(-3, 3, (6, 3))
    close(J(lambda a: R.from_euler(seq, a).as_quat())(ang), SR.from_euler(seq, ang).as_quat())
    close(J(lambda q: R.from_quat(q).as_euler(seq))(qs), SR.from_quat(qs).as_euler(seq))
    close(J(lambda q: R.from_quat(q).as_euler(seq, degrees=True))(qs),
          SR.from_quat(qs).as_euler(seq, degrees=True), atol=1e-8)


def test_euler_short_sequences_and_gimbal_lock(rng):
    cases = [("x", 0.3), ("x", [[0.1], [0.2]]), ("xy", [[0.1, 0.2]]), ("ZY", [0.4, -0.5])]
    for seq, ang in cases + ([("x", [0.3])] if SCIPY_117 else []):
        close(J(lambda a: R.from_euler(seq, a).as_quat())(np.asarray(ang, float)),
              SR.from_euler(seq, ang).as_quat())
    locked = SR.from_euler("xyz", [0.3, np.pi / 2, 0.2])
    with pytest.warns(UserWarning, match="Gimbal lock"):
        got = R.from_quat(locked.as_quat()).as_euler("xyz")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        close(got, locked.as_euler("xyz"), atol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")       # suppressed, and unknown values: no warning
        R.from_quat(locked.as_quat()).as_euler("xyz", suppress_warnings=True)
        J(lambda q: R.from_quat(q).as_euler("xyz"))(locked.as_quat())


# --- operations ---------------------------------------------------------------------------

def test_apply_inv_magnitude_mul_pow(qs, rng):
    v = rng.normal(size=(6, 3))
    r, sr = (lambda q: R.from_quat(q)), SR.from_quat(qs)
    close(J(lambda q, v: r(q).apply(v))(qs, v), sr.apply(v))
    close(J(lambda q, v: r(q).apply(v, inverse=True))(qs, v), sr.apply(v, inverse=True))
    close(J(lambda q, v: r(q[0]).apply(v))(qs, v), sr[0].apply(v))
    close(J(lambda q, v: r(q).apply(v[0]))(qs, v), sr.apply(v[0]))
    close(J(lambda q, v: r(q[0]).apply(v[0]))(qs, v), sr[0].apply(v[0]))
    close(J(lambda q: r(q).inv().as_quat())(qs), sr.inv().as_quat())
    close(J(lambda q: r(q).magnitude())(qs), sr.magnitude())
    close(J(lambda q: (r(q) * r(q[::-1])).as_quat())(qs), (sr * SR.from_quat(qs[::-1])).as_quat())
    close(J(lambda q: (r(q) * r(q[1])).as_quat())(qs), (sr * sr[1]).as_quat())
    for n in (0, 1, -1, 0.3, 2.5):       # (SciPy < 1.17 agrees to 1e-8)
        close(J(lambda q: (r(q) ** n).as_quat())(qs), (sr ** n).as_quat(),
              atol=1e-10 if SCIPY_117 else 1e-7)
    close(J(lambda q: r(q).approx_equal(r(-q)))(qs), sr.approx_equal(SR.from_quat(-qs)))


def test_mean(qs, rng):
    sr = SR.from_quat(qs)
    same_rotation(J(lambda q: R.from_quat(q).mean().as_quat())(qs), sr.mean().as_quat())
    w = np.arange(1.0, 7.0)
    same_rotation(J(lambda q, w: R.from_quat(q).mean(weights=w).as_quat())(qs, w),
                  sr.mean(weights=w).as_quat())
    if not SCIPY_117:
        return
    q3 = rng.normal(size=(2, 3, 4))
    for axis in (0, 1, (0, 1), -1):
        same_rotation(J(lambda q: R.from_quat(q).mean(axis=axis).as_quat())(q3),
                      SR.from_quat(q3).mean(axis=axis).as_quat())


def test_container_protocol(qs):
    r, sr = R.from_quat(qs), SR.from_quat(qs)
    assert len(r) == len(sr) == 6 and r.shape == (6,)
    close(J(lambda q: R.from_quat(q)[1:3].as_quat())(qs), sr[1:3].as_quat())
    close(J(lambda q: R.from_quat(q)[2].as_quat())(qs), sr[2].as_quat())
    close(J(lambda q, i: R.from_quat(q)[i].as_quat())(qs, np.array([4, 0])),
          sr[[4, 0]].as_quat())
    close(J(lambda q: R.concatenate([R.from_quat(q), R.from_quat(q[0])]).as_quat())(qs),
          SR.concatenate([sr, sr[0]]).as_quat())
    close(R.identity(3).as_quat(), SR.identity(3).as_quat())
    close(R.identity().as_quat(), SR.identity().as_quat())
    np.testing.assert_array_equal(R.identity(shape=(2, 3)).as_quat(),
                                  np.broadcast_to([0.0, 0, 0, 1], (2, 3, 4)))
    close(R.random(4, rng=3).as_quat(), SR.random(4, rng=3).as_quat())
    close(R.random(rng=np.random.default_rng(5)).as_quat(),
          SR.random(rng=np.random.default_rng(5)).as_quat())
    with pytest.raises(TypeError, match="no len"):
        len(r[0])
    with pytest.raises(TypeError, match="not subscriptable"):
        r[0][0]
    assert "Rotation.from_matrix(" in repr(r[0])


def test_errors_known_values_and_nan_under_jit(qs):
    cases = [
        (lambda: R.from_quat(np.zeros(4)), "zero norm"),
        (lambda: R.from_matrix(-np.eye(3)), "determinant"),
        (lambda: R.from_quat(qs).mean(weights=-np.ones(6)), "non-negative"),
        (lambda: R.from_quat(np.ones(3)), r"\(\.\.\., 4\)"),
        (lambda: R.from_rotvec(np.ones(4)), "rot_vec"),
        (lambda: R.from_euler("xyz", [0.1, 0.2]), "last dimension"),
        (lambda: R.from_euler("xxy", [0.1, 0.2, 0.3]), "consecutive"),
        (lambda: R.from_euler("xYz", [0.1, 0.2, 0.3]), "from"),
        (lambda: R.from_quat(qs).as_euler("xy"), "3 axes"),
        (lambda: R.from_quat(qs[:2]) * R.from_quat(qs[:3]), "number of rotations"),
        (lambda: R.from_quat(qs[:2]).apply(np.ones((3, 3))), "broadcast"),
    ]
    for f, msg in cases:
        with pytest.raises(ValueError, match=msg):
            f()
    assert np.all(np.isnan(J(lambda q: R.from_quat(q).as_quat())(np.zeros(4))))
    assert np.all(np.isnan(J(lambda m: R.from_matrix(m).as_quat())(-np.eye(3))))


# --- derivatives, vmap, pytree ------------------------------------------------------------

def test_check_grads(qs, rv, rng):
    mats = SR.from_quat(qs).as_matrix()
    v = rng.normal(size=(6, 3))
    check_grads(lambda q: R.from_quat(q).as_matrix(), (qs,), order=2)
    check_grads(lambda r: R.from_rotvec(r).as_quat(), (rv,), order=2)
    check_grads(lambda r: R.from_rotvec(r).as_rotvec(), (rv[3:],), order=2)
    check_grads(lambda m: R.from_matrix(m).as_quat(), (mats,), order=2)
    check_grads(lambda m: R.from_matrix(m).as_quat(), (mats + 0.05 * rng.normal(
        size=mats.shape),), order=1)
    check_grads(lambda a: R.from_euler("xyz", a).as_euler("ZXZ"),
                (rng.uniform(-1, 1, (3, 3)),), order=2)
    check_grads(lambda q, v: R.from_quat(q).apply(v, inverse=True), (qs, v), order=2)
    check_grads(lambda q: R.from_quat(q).as_mrp(), (qs,), order=2)
    check_grads(lambda q: R.from_quat(q).mean().as_quat() ** 2, (qs,), order=1)
    check_grads(lambda q: (R.from_quat(q) ** 0.4).as_quat(), (qs,), order=1)


def test_vmap_and_pytree(qs, rng):
    close(fd.vmap(lambda q: R.from_quat(q).as_euler("xyz"))(qs),
          SR.from_quat(qs).as_euler("xyz"))
    v = rng.normal(size=3)
    close(fd.vmap(lambda q: R.from_quat(q).apply(v))(qs), SR.from_quat(qs).apply(v))
    out = J(lambda r: r.inv())(R.from_quat(qs))
    assert isinstance(out, R)
    close(out.as_quat(), SR.from_quat(qs).inv().as_quat())
    rs = fd.vmap(lambda q: R.from_quat(q))(qs)          # Rotations out of vmap
    close(rs.as_quat(), SR.from_quat(qs).as_quat())
    g = fd.grad(lambda r: r.magnitude().sum())(R.from_quat(qs))
    assert isinstance(g, R) and g.as_quat().shape == (6, 4)


# --- Slerp --------------------------------------------------------------------------------

def test_slerp(qs):
    times = np.array([0.0, 1.0, 3.0, 3.5, 4.0, 6.0])
    ts = np.array([0.0, 0.5, 1.0, 2.0, 3.0, 3.25, 6.0])
    ref = SS(times, SR.from_quat(qs))
    same_rotation(J(lambda q, t: S(times, R.from_quat(q))(t).as_quat())(qs, ts),
                  ref(ts).as_quat())
    same_rotation(J(lambda q, t: S(times, R.from_quat(q))(t).as_quat())(qs, 2.5),
                  ref(2.5).as_quat())
    same_rotation(S(times, R.from_quat(qs))(ts).as_quat(), ref(ts).as_quat())
    check_grads(lambda q, t: S(times, R.from_quat(q))(t).as_quat(), (qs, ts[1:-1] + 0.1),
                order=2)
    check_grads(lambda tk: S(tk, R.from_quat(qs))(np.array([0.5, 2.2])).as_quat(), (times,),
                order=1)
    sl = S(times, R.from_quat(qs))
    same_rotation(J(lambda s, t: s(t).as_quat())(sl, ts), ref(ts).as_quat())   # a pytree
    with pytest.raises(ValueError, match="within the range"):
        sl(7.0)
    assert np.all(np.isnan(J(lambda t: sl(t).as_quat())(np.array([7.0]))))
    for f, msg in [(lambda: S(times[::-1], R.from_quat(qs)), "increasing"),
                   (lambda: S(times[:3], R.from_quat(qs)), "timestamps"),
                   (lambda: S(times[:1], R.from_quat(qs[:1])), "at least 2"),
                   (lambda: S(times, qs), "Rotation")]:
        with pytest.raises((ValueError, TypeError), match=msg):
            f()


# --- cluster.vq.vq ------------------------------------------------------------------------

@pytest.mark.parametrize("dtypes", [(np.float64, np.float64), (np.float32, np.float32),
                                    (np.float32, np.float64), (np.int64, np.int64)])
def test_vq_values(dtypes, rng):
    obs, cb = rng.normal(size=(20, 3)) * 3, rng.normal(size=(4, 3)) * 3
    obs[0] = cb[2]
    obs, cb = obs.astype(dtypes[0]), cb.astype(dtypes[1])
    for o, c in ((obs, cb), (obs[:, 0], cb[:, 0])):
        code, dist = J(vq)(o, c)
        want_code, want_dist = svq.vq(o, c)
        np.testing.assert_array_equal(code, want_code)
        assert code.dtype == want_code.dtype and dist.dtype == want_dist.dtype
        np.testing.assert_allclose(dist, want_dist, rtol=1e-6, atol=1e-6)


def test_vq_grads_vmap_errors(rng):
    obs, cb = rng.normal(size=(8, 3)), rng.normal(size=(4, 3))
    check_grads(lambda o, c: vq(o, c)[1], (obs, cb), order=2)
    g = fd.grad(lambda o: vq(o, cb)[1].sum())(np.vstack([cb[1], obs]))
    np.testing.assert_array_equal(g[0], np.zeros(3))      # zero distance: 0, not NaN
    obs3 = rng.normal(size=(2, 8, 3))
    got = fd.vmap(lambda o: vq(o, cb)[1])(obs3)
    np.testing.assert_allclose(got, np.stack([svq.vq(o, cb)[1] for o in obs3]), rtol=1e-12)
    for o, c, msg in [(obs, cb[:, :2], "features"), (obs, cb[:, 0], "rank"),
                      (obs[None], cb[None], "ndim")]:
        with pytest.raises(ValueError, match=msg):
            J(vq)(o, c)
    bad = obs.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="infs or NaNs"):
        fd.grad(lambda o: vq(o, cb)[1].sum())(bad)


def test_namespaces():
    assert dir(T) == sorted(T.__all__) == ["Rotation", "Slerp"]
    assert dir(spatial) == ["transform"] and dir(cluster) == ["vq"]
    assert dir(cluster.vq) == ["vq"]


def test_package_namespace():
    import funcdiff.scipy as fs
    assert dir(fs) == sorted(fs.__all__)
    assert {"fft", "ndimage", "interpolate", "spatial", "cluster", "signal"} <= set(dir(fs))
    assert not any(n.startswith("_") for n in dir(fs))

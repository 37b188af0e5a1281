"""Arrays of array-API libraries: grad, jvp and jit run through the arrays' namespace.

array-api-strict (the standard's strict reference implementation: no NumPy protocols,
no implicit conversions) checks that nothing NumPy-only slips into that path: results
come back as its arrays and equal NumPy's.  PyTorch CPU tensors are tested where torch
is installed, CuPy where a GPU and CuPy are; each is skipped, saying why, elsewhere.

The losses keep traced values on the left of operators (``z * y``, ``fnp.matmul(X, w)``)
where the data is closed over: array-api-strict's and torch's ``y * z`` refuse a traced
``z`` (they raise instead of deferring to it), see docs/scaling.md.  Data passed as an
argument that is not differentiated enters the trace as a constant, so there either
order works (``test_strict_operators_on_arguments``).
"""
from __future__ import annotations

import numpy as np
import pytest

import funcdiff as fd
import funcdiff.numpy as fnp

N, D = 200, 4


def least_squares(w, X, y):
    return fnp.mean((fnp.matmul(X, w) - y) ** 2)


def logistic(w, X, y):
    z = fnp.matmul(X, w)
    return fnp.mean(fnp.logaddexp(0.0, z) - z * y)


LOSSES = [least_squares, logistic]


def hvp(f, w, X, y, v):
    return fd.jvp(fd.grad(lambda w: f(w, X, y)), (w,), (v,))[1]


TRANSFORMS = {
    "grad": lambda f, w, X, y: fd.grad(f)(w, X, y),
    "jit(grad)": lambda f, w, X, y: fd.jit(fd.grad(f))(w, X, y),
    "jvp": lambda f, w, X, y: fd.jvp(lambda w: f(w, X, y), (w,), (w * 0.5 + 1.0,))[1],
    "hvp": lambda f, w, X, y: hvp(f, w, X, y, w * 0.5 + 1.0),
    "grad wrt X": lambda f, w, X, y: fd.grad(f, argnums=1)(w, X, y),
    "jit(value_and_grad)": lambda f, w, X, y: fd.jit(fd.value_and_grad(f))(w, X, y)[1],
}


@pytest.fixture(scope="module")
def np_data():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((N, D))
    y = (rng.random(N) < 0.5).astype(float)
    w = rng.standard_normal(D) * 0.3
    return w, X, y


# --- array-api-strict -----------------------------------------------------------------

@pytest.fixture(scope="module")
def xp():
    pytest.importorskip("array_api_compat", reason="needs array-api-compat "
                        "(pip install 'funcdiff[array-api]')")
    return pytest.importorskip("array_api_strict", reason="needs array-api-strict "
                               "(pip install 'funcdiff[array-api]')")


@pytest.mark.parametrize("name", list(TRANSFORMS))
@pytest.mark.parametrize("f", LOSSES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("params_in", ["numpy", "strict"])
def test_strict_equals_numpy(f, name, params_in, np_data, xp):
    w, X, y = np_data
    t = TRANSFORMS[name]
    wx = w if params_in == "numpy" else xp.asarray(w)
    out = t(f, wx, xp.asarray(X), xp.asarray(y))
    assert type(out) is type(xp.asarray(0.0)), type(out)   # nothing converted to NumPy
    ref = t(f, w, X, y)
    got = np.asarray(out)
    assert got.shape == ref.shape and got.dtype == ref.dtype
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-13)


def test_strict_operators_on_arguments(np_data, xp):
    w, X, y = np_data
    f = lambda w, X, y: fnp.mean((X @ w - y) ** 2) + fnp.mean(y * (X @ w))
    for g in (fd.grad(f), fd.jit(fd.grad(f))):
        got = g(xp.asarray(w), xp.asarray(X), xp.asarray(y))
        np.testing.assert_allclose(np.asarray(got), g(w, X, y), rtol=1e-10)


def test_strict_float32(np_data, xp):
    w, X, y = np_data
    X32, y32, w32 = X.astype(np.float32), y.astype(np.float32), w.astype(np.float32)
    for g in (fd.grad(logistic), fd.jit(fd.grad(logistic))):
        out = g(xp.asarray(w32), xp.asarray(X32), xp.asarray(y32))
        assert out.dtype == xp.float32
        np.testing.assert_allclose(np.asarray(out), g(w32, X32, y32), rtol=1e-5)


def test_strict_jit_source_uses_the_namespace(np_data, xp):
    w, X, y = np_data
    f = fd.jit(fd.grad(logistic))
    f(xp.asarray(w), xp.asarray(X), xp.asarray(y))
    entry = next(iter(f._cache.values()))
    (fn, src), = entry.foreign.values()
    assert "xp = _alib.namespace(" in src and "xp.logaddexp(" in src
    assert "np." not in src.split("\n", 1)[1]


def test_strict_unsupported_primitive_names_it(xp):
    x = xp.asarray([3.0, 1.0, 2.0])
    with pytest.raises(fd.ArrayLibraryError, match=r"`sort` cannot run on a "
                                                   r"array_api_strict\..*Array"):
        fd.grad(lambda x: fnp.sum(fnp.sort(x) * fnp.asarray([1.0, 2.0, 3.0])))(x)
    with pytest.raises(fd.ArrayLibraryError, match="`sort`"):
        fd.jit(lambda x: fnp.sort(x))(x)


def test_strict_closed_form(xp):
    """grad of sum(tanh(a * x)) with respect to a: sum(x * (1 - tanh(a x)^2))."""
    x = np.linspace(-2, 2, 7)
    g = fd.grad(lambda a, x: fnp.sum(fnp.tanh(a * x)))(xp.asarray(0.7), xp.asarray(x))
    np.testing.assert_allclose(float(g), np.sum(x * (1 - np.tanh(0.7 * x) ** 2)),
                               rtol=1e-12)


# --- PyTorch and CuPy -----------------------------------------------------------------

@pytest.mark.parametrize("name", list(TRANSFORMS))
@pytest.mark.parametrize("f", LOSSES, ids=lambda f: f.__name__)
def test_torch_cpu_equals_numpy(f, name, np_data):
    pytest.importorskip("array_api_compat", reason="needs array-api-compat")
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (optional: the "
                                "wheel is large, CI does not install it)")
    w, X, y = np_data
    t = TRANSFORMS[name]
    out = t(f, torch.asarray(w), torch.asarray(X), torch.asarray(y))
    assert isinstance(out, torch.Tensor), type(out)
    np.testing.assert_allclose(out.numpy(), t(f, w, X, y), rtol=1e-10, atol=1e-13)


def test_cupy_equals_numpy(np_data):
    cupy = pytest.importorskip("cupy", reason="CuPy is not installed (needs a GPU)")
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            pytest.skip("no GPU")
    except Exception as e:   # no driver
        pytest.skip(f"no usable GPU: {e}")
    w, X, y = np_data
    for f in LOSSES:
        for name, t in TRANSFORMS.items():
            out = t(f, cupy.asarray(w), cupy.asarray(X), cupy.asarray(y))
            assert isinstance(out, cupy.ndarray), (name, type(out))
            np.testing.assert_allclose(cupy.asnumpy(out), t(f, w, X, y), rtol=1e-10)


def test_undifferentiated_arguments_keep_their_identity_once_array_api_is_active(xp):
    """Rebuilding non-differentiated arguments (so that array-API arrays in them enter
    the trace as constants) must not replace the caller's other objects: a list the
    function appends to is still the caller's list."""
    fd.grad(lambda w: fnp.sum(w * w))(xp.asarray([1.0, 2.0]))   # the namespace path is on
    log = []

    def f(W, x, log):
        log.append("called")
        return fnp.sum(fnp.tanh(x @ W))

    g = fd.grad(f)(np.eye(3), np.ones((2, 3)), log)
    assert log == ["called"]
    np.testing.assert_allclose(g, np.ones((2, 3)).T @ (1 - np.tanh(np.ones((2, 3))) ** 2))

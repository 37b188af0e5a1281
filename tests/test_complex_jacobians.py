"""Complex numbers in the derivative wrappers, against JAX's rules and numbers.

JAX's rules (jax/_src/api.py: ``_check_input_dtype_jacfwd``, ``_check_output_dtype_jacrev``,
``_check_input_dtype_revderiv``): without ``holomorphic=True`` forward mode (``jacfwd``,
``hessian``'s outer pass) rejects complex inputs and reverse mode (``jacrev``, ``grad``)
rejects complex outputs; ``holomorphic=True`` requires complex inputs and outputs.  The
values: a real input's direction pushes forward to the complex Jacobian
``d(re f)/dx + i d(im f)/dx``; reverse mode of a real-valued ``f`` of ``z = x + iy`` gives
``df/dx - i df/dy`` (the autodiff cookbook's conjugate convention); for holomorphic ``f``
both give ``f'(z)``.  References are central differences or closed forms, never funcdiff.
"""
from __future__ import annotations

import numpy as np
import pytest

import funcdiff as fd
import funcdiff.numpy as fnp

EPS = 1e-6


# --- references ----------------------------------------------------------------------------

def _fd_dir(f, x, d):
    """Central difference of ``f`` at ``x`` in direction ``d`` (complex outputs kept)."""
    return (np.asarray(f(x + EPS * d)) - np.asarray(f(x - EPS * d))) / (2 * EPS)


def _fd_jacobian(f, x, axis="real"):
    """``(*out_shape, *in_shape)`` Jacobian by central differences.  ``axis="real"``:
    along real directions (d/dx: jacfwd's number, and f'(z) for holomorphic f);
    ``"conj"``: ``d(re f)/dx - i d(re f)/dy``, reverse mode's number (JAX's convention,
    also what holomorphic=True reverse mode gives for a non-holomorphic f)."""
    x = np.asarray(x)
    cols = []
    for i in np.ndindex(x.shape):
        e = np.zeros(x.shape, x.dtype)
        e[i] = 1
        if axis == "real":
            cols.append(_fd_dir(f, x, e))
        else:
            cols.append(np.real(_fd_dir(f, x, e)) - 1j * np.real(_fd_dir(f, x, 1j * e)))
    out = np.stack(cols, axis=-1)
    return out.reshape(out.shape[:-1] + x.shape)


# --- the four pairings ----------------------------------------------------------------------

def _rr(x):                                  # R^3 -> R^3
    return fnp.stack([fnp.sin(x[0] * x[1]), x[0] ** 3 + x[2], x[1] * fnp.exp(x[2])])


def _rc(x):                                  # R^3 -> C^3
    return fnp.exp(1j * x) * x[::-1] + 1j * x[0] * x[1]


def _cr(z):                                  # C^3 -> R^3
    return fnp.real(z * fnp.conj(z[::-1])) + fnp.abs(z) ** 2 + fnp.imag(z) * fnp.real(z[0])


def _cc(z):                                  # C^3 -> C^3, holomorphic
    return fnp.exp(1j * z) * z[::-1] + z[0] * z ** 2


X = np.array([0.3, -0.5, 0.8])
Z = np.array([1.0 + 2.0j, -0.5 + 0.3j, 0.2 - 0.7j])
PAIRS = {"R->R": (_rr, X), "R->C": (_rc, X), "C->R": (_cr, Z), "C->C": (_cc, Z)}

# which transform accepts which pairing (JAX's rules; jacobian picks a mode that applies)
ACCEPTS = {
    False: {"jacfwd": {"R->R", "R->C"}, "jacrev": {"R->R", "C->R"},
            "jacobian": {"R->R", "R->C", "C->R"}},
    True: {"jacfwd": {"C->C"}, "jacrev": {"C->C"}, "jacobian": {"C->C"}},
}
JACS = {"jacfwd": fd.jacfwd, "jacrev": fd.jacrev, "jacobian": fd.jacobian}


def _expected(pair, transform, holomorphic):
    f, x = PAIRS[pair]
    uses_rev = transform == "jacrev" or (transform == "jacobian" and pair == "C->R")
    # reverse mode of C->R gives the conjugate convention; every other accepted case
    # (real inputs, or holomorphic f) is the derivative along the real axis
    return _fd_jacobian(f, x, "conj" if uses_rev and pair == "C->R" else "real")


@pytest.mark.parametrize("holomorphic", [False, True])
@pytest.mark.parametrize("transform", list(JACS))
@pytest.mark.parametrize("pair", list(PAIRS))
def test_jacobians_for_each_pairing(pair, transform, holomorphic):
    f, x = PAIRS[pair]
    jac = JACS[transform](f, holomorphic=holomorphic)
    if pair not in ACCEPTS[holomorphic][transform]:
        with pytest.raises(fd.GradientError) as info:
            jac(x)
        msg = str(info.value)
        assert transform in msg and "holomorphic=True" in msg
        assert "complex128" in msg or "float64" in msg
        assert isinstance(info.value, TypeError)
        return
    got = jac(x)
    want = _expected(pair, transform, holomorphic)
    assert got.shape == (3, 3)
    assert got.dtype == (np.complex128 if "C" in pair else np.float64)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("pair", list(PAIRS))
def test_error_messages_name_transform_dtypes_and_fix(pair):
    f, x = PAIRS[pair]
    in_dt, out_dt = ("complex128" if pair[0] == "C" else "float64",
                     "complex128" if pair[-1] == "C" else "float64")
    if pair != "R->R":           # non-holomorphic: the first transform that rejects
        name = "jacfwd" if pair[0] == "C" else "jacrev"
        with pytest.raises(fd.GradientError) as info:
            JACS[name](f)(x)
        msg = str(info.value)
        assert f"{name}(_{pair[0].lower()}{pair[-1].lower()})" in msg
        assert f"maps {in_dt} inputs to {out_dt} outputs" in msg
        assert "holomorphic=True" in msg and "real and imaginary parts" in msg
    if pair != "C->C":           # holomorphic=True needs complex inputs and outputs
        with pytest.raises(fd.GradientError) as info:
            fd.jacrev(f, holomorphic=True)(x)
        msg = str(info.value)
        side = "inputs" if pair[0] == "R" else "outputs"
        assert f"with holomorphic=True requires complex {side}" in msg
        assert f"maps {in_dt} inputs to {out_dt} outputs" in msg


def test_issue_repro_real_to_complex():
    """jacrev used to keep only the real part of i exp(ix); now it raises, and jacfwd
    (and jacobian, which picks it) give the full complex Jacobian."""
    v = np.array([0.3, 0.5])
    want = np.diag(1j * np.exp(1j * v))
    with pytest.raises(fd.GradientError, match="jacrev"):
        fd.jacrev(lambda v: fnp.exp(1j * v))(v)
    np.testing.assert_allclose(fd.jacfwd(lambda v: fnp.exp(1j * v))(v), want, rtol=1e-12)
    np.testing.assert_allclose(fd.jacobian(lambda v: fnp.exp(1j * v))(v), want, rtol=1e-12)


def test_issue_repro_complex_to_real():
    """jacfwd used to differentiate |z|^2 along the real axis only (2x); now it raises,
    and jacrev (and jacobian) give the conjugate convention 2 conj(z)."""
    z = np.array([1 + 2j, -0.5 + 0.3j])
    with pytest.raises(fd.GradientError, match="jacfwd"):
        fd.jacfwd(lambda z: fnp.abs(z) ** 2)(z)
    want = np.diag(2 * np.conj(z))
    np.testing.assert_allclose(fd.jacrev(lambda z: fnp.abs(z) ** 2)(z), want, rtol=1e-12)
    np.testing.assert_allclose(fd.jacobian(lambda z: fnp.abs(z) ** 2)(z), want, rtol=1e-12)


def test_holomorphic_closed_form_and_fwd_equals_rev():
    """d/dz exp(iz) = i exp(iz); jacfwd == jacrev == jacobian (each mode) for holomorphic f."""
    z = Z
    want = np.diag(1j * np.exp(1j * z))
    f = lambda z: fnp.exp(1j * z)  # noqa: E731
    jf = fd.jacfwd(f, holomorphic=True)(z)
    jr = fd.jacrev(f, holomorphic=True)(z)
    np.testing.assert_allclose(jf, want, rtol=1e-12)
    np.testing.assert_allclose(jr, jf, rtol=1e-12, atol=1e-15)
    for mode in ("auto", "fwd", "rev"):
        np.testing.assert_allclose(fd.jacobian(f, mode=mode, holomorphic=True)(z), want,
                                   rtol=1e-12)
    # a dense one: jacfwd and jacrev agree entry by entry
    np.testing.assert_allclose(fd.jacrev(_cc, holomorphic=True)(Z),
                               fd.jacfwd(_cc, holomorphic=True)(Z), rtol=1e-12, atol=1e-14)


def test_holomorphic_promise_broken_gives_jax_numbers():
    """holomorphic=True for a non-holomorphic f is the user's promise, not checked (as in
    JAX): forward mode then gives d f/dx, reverse mode d(re f)/dx - i d(re f)/dy (the
    cookbook: "the Jacobian of the function where we just discard the imaginary part")."""
    def f(z):
        return fnp.conj(z) * z[0]

    np.testing.assert_allclose(fd.jacfwd(f, holomorphic=True)(Z), _fd_jacobian(f, Z, "real"),
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(fd.jacrev(f, holomorphic=True)(Z), _fd_jacobian(f, Z, "conj"),
                               rtol=1e-6, atol=1e-8)
    assert fd.grad(fnp.conj, holomorphic=True)(3.0 + 4.0j) == 1.0   # the cookbook's value


# --- hessian --------------------------------------------------------------------------------

def _h_rr(x):
    return fnp.sin(x[0] * x[1]) + x[0] ** 3


def _h_rr_closed(x):
    a, b = x
    s, c = np.sin(a * b), np.cos(a * b)
    return np.array([[-b * b * s + 6 * a, c - a * b * s], [c - a * b * s, -a * a * s]])


def _h_cc(z):
    return fnp.exp(1j * z[0] * z[1]) + z[0] ** 3


def _h_cc_closed(z):
    a, b = z
    e = np.exp(1j * a * b)
    return np.array([[(1j * b) ** 2 * e + 6 * a, (1j - a * b) * e],
                     [(1j - a * b) * e, (1j * a) ** 2 * e]])


H_PAIRS = {"R->R": (_h_rr, X[:2]), "R->C": (_h_cc, X[:2]),
           "C->R": (lambda z: fnp.sum(fnp.abs(z) ** 2), Z[:2]), "C->C": (_h_cc, Z[:2])}


@pytest.mark.parametrize("holomorphic", [False, True])
@pytest.mark.parametrize("pair", list(H_PAIRS))
def test_hessian_for_each_pairing(pair, holomorphic):
    f, x = H_PAIRS[pair]
    ok = pair == ("C->C" if holomorphic else "R->R")
    if not ok:
        with pytest.raises(fd.GradientError) as info:
            fd.hessian(f, holomorphic=holomorphic)(x)
        msg = str(info.value)
        assert "hessian(" in msg and "holomorphic=True" in msg
        return
    got = fd.hessian(f, holomorphic=holomorphic)(x)
    want = _h_cc_closed(x) if holomorphic else _h_rr_closed(x)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_hessian_of_complex_input_suggests_splitting_and_splitting_works():
    f = H_PAIRS["C->R"][0]
    with pytest.raises(fd.GradientError, match=r"argnums=\(0, 1\)"):
        fd.hessian(f)(Z[:2])
    # the suggested split: |x + iy|^2 = x^2 + y^2, Hessian 2 I in each block
    h = fd.hessian(lambda x, y: f(x + 1j * y), argnums=(0, 1))(Z[:2].real, Z[:2].imag)
    np.testing.assert_allclose(h[0][0], 2 * np.eye(2))
    np.testing.assert_allclose(h[1][1], 2 * np.eye(2))
    np.testing.assert_allclose(h[0][1], np.zeros((2, 2)))


def test_hessian_has_aux():
    (h, aux) = fd.hessian(lambda x: (_h_rr(x), x * 2), has_aux=True)(X[:2])
    np.testing.assert_allclose(h, _h_rr_closed(X[:2]), rtol=1e-12)
    np.testing.assert_allclose(aux, 2 * X[:2])


# --- pytrees, argnums, jacobian's choice ---------------------------------------------------

def test_mixed_real_and_complex_leaves():
    def f(p):
        return fnp.real(p["z"] * fnp.conj(p["z"])) * p["x"]

    p = {"x": np.array([0.5, -1.0]), "z": Z[:2]}
    with pytest.raises(fd.GradientError, match=r"input leaf 1 .*c128\[2\]"):
        fd.jacfwd(f)(p)
    j = fd.jacrev(f)(p)
    np.testing.assert_allclose(j["x"], np.diag(np.abs(Z[:2]) ** 2), rtol=1e-12)
    np.testing.assert_allclose(j["z"], np.diag(2 * np.conj(Z[:2]) * p["x"]), rtol=1e-12)
    # a complex output leaf next to a real one: reverse mode refuses, naming the leaf
    with pytest.raises(fd.GradientError, match=r"output leaf 1 .*c128\[2\]"):
        fd.jacrev(lambda x: (x * 2, x * 1j))(X[:2])


def test_complex_argument_not_differentiated_is_fine():
    """Only the differentiated arguments' dtypes matter for the input rule."""
    j = fd.jacfwd(lambda x, z: fnp.abs(x * z) ** 2, argnums=0)(X[:2], Z[:2])
    np.testing.assert_allclose(j, np.diag(2 * X[:2] * np.abs(Z[:2]) ** 2), rtol=1e-12)


def test_jacobian_report_says_which_mode_applies(capsys):
    rep = fd.jacobian(_rc, mode="report")(X)
    assert rep.choice == "fwd" and rep.rev is None and "complex outputs" in rep.reason
    rep = fd.jacobian(_cr, mode="report")(Z)
    assert rep.choice == "rev" and rep.fwd is None and "complex inputs" in rep.reason
    fd.jacobian(_cr, explain=True)(Z)
    assert "does not apply" in capsys.readouterr().out
    rep = fd.jacobian(_cc, mode="report", holomorphic=True)(Z)
    assert rep.fwd is not None and rep.rev is not None
    with pytest.raises(fd.GradientError, match="jacobian"):
        fd.jacobian(_cc)(Z)
    with pytest.raises(fd.GradientError, match="jacobian.*output leaf"):
        fd.jacobian(_rc, mode="rev")(X)


# --- grad and value_and_grad ---------------------------------------------------------------

def test_grad_real_function_of_complex_input_is_conjugate_convention():
    """The cookbook's example: f = x^2 + y^2 at 3 + 4i gives 6 - 8i (df/dx - i df/dy),
    and the descent step follows conj(grad)."""
    def f(z):
        x, y = fnp.real(z), fnp.imag(z)
        return x ** 2 + y ** 2

    z = 3.0 + 4.0j
    g = fd.grad(f)(z)
    assert g == 6.0 - 8.0j
    want = _fd_jacobian(lambda w: np.real(w) ** 2 + np.imag(w) ** 2, np.array(z), "conj")
    np.testing.assert_allclose(g, want, rtol=1e-6)
    assert abs(z - 0.1 * np.conj(g)) < abs(z)           # descent along conj(grad)
    assert abs(z - 0.1 * g) > abs(z - 0.1 * np.conj(g))  # (not along grad itself)


def test_grad_holomorphic():
    z = 3.0 + 4.0j
    np.testing.assert_allclose(fd.grad(fnp.sin, holomorphic=True)(z), np.cos(z), rtol=1e-12)
    v, g = fd.value_and_grad(lambda z: z ** 3, holomorphic=True)(z)
    np.testing.assert_allclose(v, z ** 3)
    np.testing.assert_allclose(g, 3 * z ** 2, rtol=1e-12)
    g = fd.grad(lambda z, w: z * w, argnums=(0, 1), holomorphic=True)(z, 1j)
    np.testing.assert_allclose(g, (1j, z))


def test_grad_complex_dtype_errors():
    with pytest.raises(fd.GradientError, match="holomorphic=True"):
        fd.grad(fnp.sin)(3.0 + 4.0j)
    with pytest.raises(fd.GradientError, match="requires complex inputs.*float64"):
        fd.grad(fnp.sin, holomorphic=True)(3.0)
    with pytest.raises(fd.GradientError, match="requires complex outputs.*float64 outputs"):
        fd.grad(fnp.abs, holomorphic=True)(3.0 + 4.0j)
    with pytest.raises(fd.GradientError, match="value_and_grad.*holomorphic=True"):
        fd.value_and_grad(lambda z: z * z)(1.0 + 1.0j)


def test_real_function_with_complex_intermediates():
    """R -> R through complex values: the ordinary real derivative (cookbook upshot 3)."""
    x = np.array([0.3, 1.1])
    f = lambda x: fnp.sum(fnp.real(fnp.exp(1j * x)) * fnp.abs(x + 2j))  # noqa: E731
    want = -np.sin(x) * np.abs(x + 2j) + np.cos(x) * x / np.abs(x + 2j)
    np.testing.assert_allclose(fd.grad(f)(x), want, rtol=1e-12)
    np.testing.assert_allclose(fd.jacrev(f)(x), want, rtol=1e-12)
    np.testing.assert_allclose(fd.jacfwd(f)(x), want, rtol=1e-12)


def test_reverse_mode_complex_jacobian_from_two_pulls():
    """The workaround jacrev's message implies: for real x, vjp(1) = re J and
    vjp(1j) = -im J, so J = vjp(1) - i vjp(1j)."""
    x = np.array([0.3, 0.5])
    out, vjp_fn = fd.vjp(lambda v: fnp.exp(1j * v), x)
    rows = [vjp_fn(e.astype(complex))[0] - 1j * vjp_fn(1j * e)[0] for e in np.eye(2)]
    np.testing.assert_allclose(np.stack(rows), np.diag(1j * np.exp(1j * x)), rtol=1e-12)


# --- vjp_fn cotangent dtypes (issue 16, item 8) ---------------------------------------------

def test_vjp_fn_rejects_cotangent_of_another_dtype():
    x32 = np.ones(3, np.float32)
    _, vjp_fn = fd.vjp(lambda x: x * 2, x32)
    with pytest.raises(fd.FuncdiffTypeError) as info:
        vjp_fn(np.ones(3))
    msg = str(info.value)
    assert "vjp_fn" in msg and "float64" in msg and "float32" in msg and "astype" in msg
    assert isinstance(info.value, TypeError)
    with pytest.raises(fd.FuncdiffTypeError, match="complex64.*float32.*real and imag"):
        vjp_fn(np.ones(3, np.complex64) * 1j)
    (g,) = vjp_fn(np.ones(3, np.float32))
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, 2.0)
    # a real cotangent for a complex output, and a float32 one for float64: also rejected
    _, vjp_fn = fd.vjp(lambda x: x * 1j, np.ones(2))
    with pytest.raises(fd.FuncdiffTypeError, match="float64.*complex128"):
        vjp_fn(np.ones(2))
    _, vjp_fn = fd.vjp(fnp.sin, np.ones(2))
    with pytest.raises(fd.FuncdiffTypeError, match="float32.*float64"):
        vjp_fn(np.ones(2, np.float32))


def test_vjp_fn_complex_cotangent_for_real_output_is_rejected():
    _, vjp_fn = fd.vjp(lambda x: x ** 2, np.array([1.0, 2.0]))
    with pytest.raises(fd.FuncdiffTypeError, match="complex128.*float64"):
        vjp_fn(np.array([1.0, 1.0]) * (1 + 1j))
    _, vjp_fn = fd.vjp(lambda x: x ** 2, 3.0)
    with pytest.raises(fd.FuncdiffTypeError, match="complex128"):
        vjp_fn(1j)                   # a Python complex for a real output: rejected too


def test_vjp_fn_python_scalars_take_the_output_dtype():
    _, vjp_fn = fd.vjp(lambda x: x * 3, np.float32(2.0))
    for ct in (1.0, 1, True):
        (g,) = vjp_fn(ct)
        assert g.dtype == np.float32 and g == 3.0
    _, vjp_fn = fd.vjp(lambda z: z * 2, np.complex64(1 + 1j))
    (g,) = vjp_fn(1.0)
    assert g.dtype == np.complex64 and g == 2.0


def test_vjp_fn_dtype_checked_per_leaf_and_for_integer_outputs():
    _, vjp_fn = fd.vjp(lambda x: {"a": x, "b": x.astype(np.float32)}, np.ones(2))
    with pytest.raises(fd.FuncdiffTypeError, match="leaf 1 has dtype float64.*float32"):
        vjp_fn({"a": np.ones(2), "b": np.ones(2)})
    _, vjp_fn = fd.vjp(lambda x: (x * 2, fnp.floor(x).astype(int)), np.ones(2))
    for ct_int in (np.zeros(2, int), np.zeros(2, fd.float0)):
        np.testing.assert_allclose(vjp_fn((np.ones(2), ct_int))[0], 2.0)
    with pytest.raises(fd.GradientError, match="float0"):
        vjp_fn((np.ones(2), np.ones(2)))


def test_vjp_fn_under_a_transform_checks_traced_cotangents():
    x32 = np.ones(2, np.float32)
    _, vjp_fn = fd.vjp(fnp.sin, x32)
    g = fd.grad(lambda c: fnp.sum(vjp_fn(c)[0]))(np.full(2, 0.5, np.float32))
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, np.cos(1.0), rtol=1e-6)
    with pytest.raises(fd.FuncdiffTypeError, match="float64.*float32"):
        fd.grad(lambda c: fnp.sum(vjp_fn(c)[0]))(np.full(2, 0.5))


def test_internal_cotangents_keep_working_in_float32_and_complex():
    """grad's own cotangent and jacrev's basis have the output's dtype."""
    x32 = np.array([0.5, 1.5], np.float32)
    g = fd.grad(lambda x: fnp.sum(fnp.sin(x)))(x32)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, np.cos(x32), rtol=1e-6)
    j = fd.jacrev(fnp.sin)(x32)
    assert j.dtype == np.float32
    np.testing.assert_allclose(j, np.diag(np.cos(x32)), rtol=1e-6)
    z64 = Z[:2].astype(np.complex64)
    j = fd.jacrev(fnp.sin, holomorphic=True)(z64)
    assert j.dtype == np.complex64
    np.testing.assert_allclose(j, np.diag(np.cos(z64)), rtol=1e-5)


def test_jvp_tangent_dtype_rule_is_the_same():
    """jvp/linearize share vjp_fn's rule: a complex tangent for a real primal is rejected
    (it used to give a complex tangent out), a Python scalar takes the primal's dtype."""
    with pytest.raises(fd.FuncdiffTypeError, match="complex128.*float64"):
        fd.jvp(lambda x: x * 2, (1.0,), (1j,))
    _, f_jvp = fd.linearize(lambda x: x * 2, np.ones(2))
    with pytest.raises(fd.FuncdiffTypeError, match="linearize.*complex128"):
        f_jvp(np.ones(2) * 1j)
    _, t = fd.jvp(lambda x: x * 2, (np.float32(1.0),), (1.0,))
    assert t.dtype == np.float32 and t == 2.0

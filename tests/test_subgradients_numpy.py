"""The second table of docs/subgradients.md (the rest of NumPy's elementwise functions
and polynomial roots): one row, one test; forward and reverse mode agree on every row."""
import numpy as np
import pytest

import funcdiff as fd
import funcdiff.numpy as fnp

NAN = np.nan
ROWS = [
    # (row name, function, point, expected derivative)
    ("fmax with a NaN operand", lambda x: fnp.fmax(x, np.array([NAN, 0.0, NAN])),
     np.array([2.0, NAN, NAN]), np.array([1.0, 0.0, 0.0])),
    ("fmin with a NaN operand", lambda x: fnp.fmin(np.array([NAN, 5.0]), x),
     np.array([2.0, NAN]), np.array([1.0, 0.0])),
    ("fmax at a tie", lambda x: fnp.fmax(x, 1.0), 1.0, 0.5),
    ("fmin at a tie", lambda x: fnp.fmin(1.0, x), 1.0, 0.5),
    ("fmax.reduce with ties and NaN", lambda x: np.fmax.reduce(x),
     np.array([1.0, NAN, 1.0, 0.0]), np.array([0.5, 0.0, 0.5, 0.0])),
    ("heaviside in x", lambda x: fnp.heaviside(x, 0.5), np.array([-1.0, 0.0, 2.0]),
     np.zeros(3)),
    ("heaviside in h where x == 0", lambda h: fnp.heaviside(np.array([-1.0, 0.0, 2.0]), h),
     np.array([0.3, 0.3, 0.3]), np.array([0.0, 1.0, 0.0])),
    ("copysign in x", lambda x: fnp.copysign(x, np.array([-1.0, 1.0, -1.0, 1.0])),
     np.array([2.0, -2.0, 0.0, 0.0]), np.array([-1.0, -1.0, 0.0, 0.0])),
    ("copysign in s", lambda s: fnp.copysign(2.0, s), np.array([-1.0, 0.0, 3.0]),
     np.zeros(3)),
    ("signbit, spacing, isposinf, isneginf",
     lambda x: (fnp.signbit(x) + fnp.spacing(x) + fnp.isposinf(x) + fnp.isneginf(x)),
     np.array([-1.0, 0.0, 2.0]), np.zeros(3)),
    ("nextafter in x", lambda x: fnp.nextafter(x, 0.0), np.array([-1.0, 0.0, 2.0]),
     np.ones(3)),
    ("nextafter in y", lambda y: fnp.nextafter(1.0, y), np.array([-1.0, 1.0, 2.0]),
     np.zeros(3)),
    ("divmod quotient", lambda x: fnp.divmod(x, 0.75)[0], np.array([-1.0, 1.5, 2.0]),
     np.zeros(3)),
    ("divmod remainder in x", lambda x: fnp.divmod(x, 0.75)[1], np.array([-1.0, 1.5, 2.0]),
     np.ones(3)),
    ("divmod remainder in y", lambda y: fnp.divmod(np.array([-1.0, 1.4, 2.0]), y)[1],
     np.array([0.75, 0.75, 0.75]), -np.floor_divide([-1.0, 1.4, 2.0], 0.75)),
    ("modf fractional part (integers too)", lambda x: fnp.modf(x)[0],
     np.array([-2.0, 0.5, 3.0]), np.ones(3)),
    ("modf integral part", lambda x: fnp.modf(x)[1], np.array([-2.0, 0.5, 3.0]), np.zeros(3)),
    ("frexp mantissa", lambda x: fnp.frexp(x)[0], np.array([-3.0, 0.5, 12.0]),
     2.0 ** -np.frexp(np.array([-3.0, 0.5, 12.0]))[1]),
    ("ldexp in x", lambda x: fnp.ldexp(x, np.array([3, -1, 0])), np.array([1.5, -2.0, 0.0]),
     np.array([8.0, 0.5, 1.0])),
    ("float_power(x, 0.5) at 0", lambda x: fnp.float_power(x, 0.5), 0.0, 0.0),
    ("float_power(x, 0) at 0", lambda x: fnp.float_power(x, 0), 0.0, 0.0),
    ("float_power at 0, in y", lambda y: fnp.float_power(0.0, y), np.array([0.5, 2.0]),
     np.zeros(2)),
    ("nan_to_num at NaN and inf", lambda x: fnp.nan_to_num(x),
     np.array([NAN, np.inf, -np.inf, 1.5]), np.array([0.0, 0.0, 0.0, 1.0])),
    ("nan_to_num: the traced replacement value",
     lambda f: fnp.nan_to_num(np.array([NAN, np.inf, 1.5]), nan=f), 2.0, 1.0),
    ("arctan2 at the origin (in y)", lambda y: fnp.arctan2(y, 0.0), 0.0, 0.0),
    ("arctan2 at the origin (in x)", lambda x: fnp.arctan2(0.0, x), 0.0, 0.0),
    ("angle of a real x", lambda x: fnp.angle(x), np.array([-2.0, 0.0, 3.0]), np.zeros(3)),
    ("roots: a zero root from a trailing zero",
     lambda c: fnp.roots(np.array([1.0, -3.0, 2.0, 0.0]) + c * np.array([0, 0, 0, 1.0]))[-1],
     0.0, -0.5),
    ("roots: a leading zero coefficient",
     lambda c: fnp.roots(np.array([0.0, 1.0, -3.0, 2.0]) + c * np.array([1.0, 0, 0, 0])),
     0.0, 0.0),
    ("maximum.accumulate at ties", lambda x: np.maximum.accumulate(x)[-1],
     np.array([1.0, 3.0, 2.0, 3.0]), np.array([0.0, 0.5, 0.0, 0.5])),
    ("minimum.reduce at ties", lambda x: np.minimum.reduce(x),
     np.array([2.0, 1.0, 1.0]), np.array([0.0, 0.5, 0.5])),
]


@pytest.mark.parametrize("name,f,x,expected", ROWS, ids=[r[0] for r in ROWS])
def test_subgradient_row(name, f, x, expected):
    with np.errstate(all="ignore"):
        g_rev = fd.grad(lambda v: fnp.sum(f(v)))(x)
        _, g_fwd = fd.jvp(f, (x,), (np.ones_like(x),))
    np.testing.assert_allclose(g_rev, expected, atol=1e-12)
    np.testing.assert_allclose(np.sum(g_fwd), np.sum(expected), atol=1e-12)
    assert np.all(np.isfinite(g_rev)) and np.all(np.isfinite(g_fwd))


def test_angle_at_zero_complex():
    """angle(z) at z = 0: 0, in both real directions (JAX: NaN)."""
    g = fd.grad(lambda z: fnp.angle(z))(0j)
    assert g == 0
    _, t = fd.jvp(fnp.angle, (0j,), (1 + 1j,))
    assert t == 0


def test_roots_at_a_repeated_root_is_not_finite_or_huge():
    """(x - 1)**2: the double root moves like sqrt(dp); funcdiff gives what the
    eigenvalue rule gives -- non-finite or of order 1/eps in both modes -- never a small
    plausible number."""
    p = np.array([1.0, -2.0, 1.0])
    with np.errstate(all="ignore"):
        for j in (fd.jacfwd(lambda u: fnp.real(fnp.roots(u)))(p),
                  fd.jacrev(lambda u: fnp.real(fnp.roots(u)))(p)):
            assert (~np.isfinite(j)).any() or np.abs(j).max() > 1e6

"""More special-function primitives: the rest of SciPy's ``scipy.special`` list (issue 15).

==============================  ==============================================================
``erfcx wofz dawsn``            scaled erfc ``exp(x^2) erfc(x)``, Faddeeva ``w(z)``, Dawson
``exp1 expi expn``              exponential integrals ``E1``, ``Ei``, ``E_n`` (``n`` integer)
``hyp1f1 hyp2f1``               confluent / Gauss hypergeometric functions
``zeta hurwitz_zeta``           Riemann ``zeta(x)`` and Hurwitz ``zeta(x, q)``
``poch loggamma spence``        Pochhammer ``(z)_m``, principal ``log Gamma``, dilogarithm
``si ci fresnel_s fresnel_c``   sine/cosine integrals (``sici``), Fresnel integrals
``owens_t``                     Owen's T function ``T(h, a)``
``sph_harm_y``                  spherical harmonics ``Y_n^m(theta, phi)`` (integer n, m)
==============================  ==============================================================

Conventions as in ``funcdiff.primitives.special``: ``impl`` is SciPy's function (without
SciPy every primitive here raises ``SciPyRequiredError``: accurate evaluation needs
SciPy's Cephes/Faddeeva/AMOS code); ``funcdiff.scipy.special`` casts the operands to the
dtypes of one of SciPy's loops first.  Unlike there, operands may be complex where SciPy
has complex loops: all floating operands share one precision, and the output is complex
when any operand is (always for ``wofz`` and ``sph_harm_y``).  Integer operands are the
order ``n`` of ``expn`` and the degree/order ``n, m`` of ``sph_harm_y``.

Derivatives, each written with primitives (so every order differentiates again), JAX's
complex convention (``f'(z)`` for the holomorphic ones):

* ``erfcx' = 2x erfcx - 2/sqrt(pi)``, ``w' = -2z w + 2i/sqrt(pi)``, ``dawsn' = 1 - 2x dawsn``;
* ``exp1' = -exp(-x)/x``, ``expi' = exp(x)/x``, ``d/dx expn(n, x) = -expn(n-1, x)``
  (``-expn(0, x)(1 + 1/x)`` for ``n = 0``);
* ``d/dx hyp1f1(a, b, x) = a/b hyp1f1(a+1, b+1, x)``, ``d/dx hyp2f1(a, b, c, x) =
  ab/c hyp2f1(a+1, b+1, c+1, x)``; ``d/dq zeta(x, q) = -x zeta(x+1, q)``;
* ``d/dz poch(z, m) = poch (digamma(z+m) - digamma(z))``, ``d/dm = poch digamma(z+m)``;
  ``loggamma' = digamma`` (complex: a recurrence/asymptotic/reflection composition);
* ``spence'(z) = log(z)/(1-z)`` (a series near ``z = 1``, where it is -1);
  ``si' = sin(x)/x`` (a series near 0), ``ci' = cos(x)/x``; ``S' = sin(pi x^2/2)``,
  ``C' = cos(pi x^2/2)``;
* ``dT/dh = -phi(h) erf(a h/sqrt(2))/2``, ``dT/da = exp(-h^2 (1+a^2)/2) / (2 pi (1+a^2))``;
* ``dY/dtheta = sign(sin theta) (e^{-i phi} c+ Y_n^{m+1} - e^{i phi} c- Y_n^{m-1})/2``
  (the ladder operators, no ``cot(theta)``; the sign because SciPy's ``Y`` sees theta
  only through ``cos theta`` and ``|sin theta|``), ``dY/dphi = i m Y``.

With respect to the parameters of the hypergeometric functions, the exponent ``x`` of
``zeta`` and the integer orders, a derivative raises ``GradientError`` naming the argument
when it is used (``no_derivative``, as in ``funcdiff.primitives.special``).

Every primitive is elementwise: vmap by ``broadcasting_batcher``; jit calls SciPy's ufunc
directly when the operands' dtypes are exactly one of its loops.
"""
from __future__ import annotations

import math

import numpy as np

from ..core.avals import ShapedArray, aval_of_value
from ..core.errors import FuncdiffTypeError
from ..core.trace import Primitive
from ._special_np import scipy_required
from .base import (add, aval, broadcast_shapes, broadcasting_batcher, convert_element_type,
                   defjvp, imag, make_complex, neg, real)
from .elementwise import (abs_, cos, div, eq, erf, exp, ge, gt, le, log, logical_and, lt,
                          maximum, mul, select, sign, sin, sqrt, square, sub, trunc)
from .special import _NO_PARAM_GRAD, _cost, _no_grad, digamma, erfc

try:  # SciPy is optional
    from scipy import special as _sp  # type: ignore
except ImportError:  # pragma: no cover - exercised without SciPy
    _sp = None

_PY = (bool, int, float, complex)
_F64 = np.dtype(np.float64)
_SQRT_PI = math.sqrt(math.pi)
_INT_ORDER = "the order is an integer; there is no derivative with respect to it"
_ZETA_X = "the derivative of zeta in its exponent has no closed form"


# --- impl / abstract_eval / emit, shared by all -------------------------------------------------

def _abstract(name, int_ok=(), complex_out=False):
    """Floating (real or complex) operands of one precision, weak Python scalars aside
    (integers at the positions ``int_ok``); the output is complex if any operand is (or
    ``complex_out``), and has the operands' broadcast shape."""
    def abstract_eval(*avals, **params):
        reals = set()
        for i, a in enumerate(avals):
            k = a.dtype.kind
            if k in "fc":
                if not a.weak_type:
                    reals.add(np.finfo(a.dtype).dtype)
            elif not (i in int_ok and k in "iub"):
                raise FuncdiffTypeError(
                    f"`{name}` needs floating-point operands, got "
                    f"{', '.join(b.str_short() for b in avals)} (funcdiff.scipy.special "
                    "converts them as SciPy does)")
        if len(reals) > 1:
            raise FuncdiffTypeError(
                f"`{name}`: operands of different precisions "
                f"{', '.join(b.str_short() for b in avals)}; cast them to one first")
        real_dt = reals.pop() if reals else _F64
        cplx = complex_out or any(a.dtype.kind == "c" for a in avals)
        dtype = np.result_type(real_dt, np.complex64) if cplx else real_dt
        shape = avals[0].shape if len(avals) == 1 else broadcast_shapes(
            name, *[a.shape for a in avals])
        return ShapedArray(shape, dtype, all(a.weak_type for a in avals) and not complex_out)
    return abstract_eval


def _impl(fn, abstract_eval):
    """``fn`` on the operands, returned in the abstract rule's dtype (Python scalars in,
    Python scalar out)."""
    def impl(*args, **params):
        out_aval = abstract_eval(*[aval_of_value(a) for a in args], **params)
        out = np.asarray(fn(*[np.asarray(a) for a in args], **params)).astype(
            out_aval.dtype, copy=False)
        if all(type(a) in _PY for a in args):
            return out.item()
        return out if out.ndim else out[()]
    return impl


def _emit(prim, sp_fn):
    """jit: SciPy's ufunc itself when the operands' dtypes are exactly one of its loops
    (so its output dtype is the primitive's); otherwise the impl."""
    def emit(args, params, gen):
        eqn = gen.eqn
        sig = "".join(v.aval.dtype.char for v in eqn.invars) + "->" + \
            eqn.outvars[0].aval.dtype.char
        direct = isinstance(sp_fn, np.ufunc) and sig in sp_fn.types and not any(
            v.aval.weak_type for v in eqn.invars)
        fn = gen.const(sp_fn if direct else prim.impl, prim.name)
        return f"{fn}({', '.join(args)})"
    return emit


def _prim(name, fn_name=None, *, nin=1, fn=None, int_ok=(), complex_out=False, work=20,
          doc=""):
    """An elementwise primitive computed by SciPy's ``fn_name`` (or ``fn(sp)``), with
    impl, abstract_eval, batch, cost and emit (its jvp rule follows it below)."""
    p = Primitive(name)
    p.sparsity = "elementwise"
    p.abstract_eval = _abstract(name, int_ok, complex_out)
    if _sp is None:  # pragma: no cover - exercised without SciPy
        sp_fn = None
        p.impl = scipy_required(name)
    else:
        sp_fn = fn(_sp) if fn is not None else getattr(_sp, fn_name or name)
        p.impl = _impl(sp_fn, p.abstract_eval)
        p.emit = _emit(p, sp_fn)
    p.sp_fn = sp_fn
    p.batch = broadcasting_batcher(p)
    p.cost = _cost(work)
    p.nin = nin
    p.doc = doc
    return p


def _c(x, value):
    """``value`` as a 0-d constant of ``x``'s dtype (complex values need a complex x)."""
    return np.asarray(value, aval(x).dtype)[()]


def _poly(z, coefs):
    """``sum_k coefs[k] z^k`` by Horner's rule, in ``z``'s dtype."""
    out = _c(z, coefs[-1])
    for ck in reversed(coefs[:-1]):
        out = add(mul(out, z), _c(z, ck))
    return out


def _small(z, r):
    """``|z| < r`` (complex z too)."""
    return lt(abs_(z), np.asarray(r, np.finfo(aval(z).dtype).dtype)[()])


# --- error function relatives --------------------------------------------------------------------

erfcx_p = _prim("erfcx", doc="`scipy.special.erfcx`: exp(x^2) erfc(x)")
wofz_p = _prim("wofz", complex_out=True,
               doc="`scipy.special.wofz`: the Faddeeva function exp(-z^2) erfc(-iz)")
dawsn_p = _prim("dawsn", doc="`scipy.special.dawsn`: Dawson's integral")


def erfcx(x):
    return erfcx_p.bind(x)


def wofz(z):
    return wofz_p.bind(z)


def dawsn(x):
    return dawsn_p.bind(x)


defjvp(erfcx_p, lambda t, x: mul(t, sub(mul(mul(_c(x, 2.0), x), erfcx(x)),
                                         _c(x, 2 / _SQRT_PI))))
defjvp(wofz_p, lambda t, z: mul(t, add(mul(mul(_c(z, -2.0), z), wofz(z)),
                                       2j / _SQRT_PI)))
defjvp(dawsn_p, lambda t, x: mul(t, sub(_c(x, 1.0), mul(mul(_c(x, 2.0), x), dawsn(x)))))


# Complex erf and erfc follow SciPy's (Faddeeva's) algorithms branch for branch, so the
# values match SciPy's where it overflows too.  Their derivatives are not those of these
# compositions (whose branches cancel): funcdiff.scipy.special attaches the closed form.

def _exp_times(m_re, m_im, w):
    """``exp(m_re + i m_im) w`` as Faddeeva's erf computes it: the real ``exp(m_re)``
    scales ``(cos m_im + i sin m_im) w`` componentwise, so an overflow gives infinities
    (a complex product ``inf * (a + bi)`` would give NaN)."""
    p = mul(make_complex(cos(m_im), sin(m_im)), w)
    e = exp(m_re)
    return make_complex(mul(e, real(p)), mul(e, imag(p)))


def _w_im(y):
    """``Im w(y)`` for real ``y``: ``2/sqrt(pi) dawsn(y)``."""
    return mul(_c(y, 2 / _SQRT_PI), dawsn(y))


def _erfi_axis(y):
    """``erfi(y) = exp(y^2) Im w(y)``, +-inf once ``exp(y^2)`` overflows (where ``Im w``
    underflows: their product would be NaN)."""
    big = gt(square(y), _c(y, 720.0))
    ys = select(big, _c(y, 0.0), y)
    inf = select(gt(y, _c(y, 0.0)), _c(y, math.inf), _c(y, -math.inf))
    return select(big, inf, mul(exp(square(ys)), _w_im(ys)))


def _faddeeva_parts(z):
    """``x, y, Re(-z^2), Im(-z^2)`` (the real part as ``(y - x)(y + x)``: no overflow)."""
    x, y = real(z), imag(z)
    return x, y, mul(sub(y, x), add(x, y)), mul(_c(x, -2.0), mul(x, y))


def erfc_complex(z):
    """erfc of complex z as SciPy's: on the imaginary axis ``1 - i erfi(y)``, on the real
    axis the real erfc, else ``exp(-z^2) w(iz)`` for ``Re z >= 0`` and ``2 - exp(-z^2)
    w(-iz)`` elsewhere (complex ``exp``, as SciPy's), 0 or 2 where ``Re(-z^2) < -750``."""
    x, y, m_re, m_im = _faddeeva_parts(z)
    pos = ge(x, _c(x, 0.0))
    e = mul(exp(make_complex(m_re, m_im)),
            wofz(select(pos, make_complex(neg(y), x), make_complex(y, neg(x)))))
    general = select(pos, e, sub(_c(z, 2.0), e))
    edge = select(pos, _c(z, 0.0), _c(z, 2.0))
    general = select(lt(m_re, _c(x, -750.0)), edge, general)
    on_real = make_complex(erfc(x), neg(y))
    on_imag = make_complex(_c(x, 1.0), neg(_erfi_axis(y)))
    return select(eq(x, _c(x, 0.0)), on_imag,
                  select(eq(y, _c(y, 0.0)), on_real, general))


# erf(x + iy) near the imaginary axis, Faddeeva's series in x (``taylor_erfi``): the real
# part, tiny beside the imaginary one, without the cancellation of 1 - exp(-z^2) w(iz)
_R1, _R2, _R3 = 1.1283791670955125739, 0.37612638903183752464, 0.75225277806367504925
_R4, _R5, _R6 = 0.11283791670955125739, 0.45135166683820502956, 0.15045055561273500986
_R7 = 0.56418958354775628695


def erf_complex(z):
    """erf of complex z as SciPy's (Faddeeva's erf): the real erf on the real axis,
    ``i erfi(y)`` on the imaginary one (exactly 0 real part, +-inf past overflow), below
    ``|z| = 1/2`` the Taylor series ``2/sqrt(pi) sum (-1)^n z^(2n+1) / (n! (2n+1))`` (16
    terms), near the imaginary axis (``|x|, |2xy| < 5e-3``) Faddeeva's series in x, else
    ``1 - exp(-z^2) w(iz)`` for ``Re z >= 0`` and ``exp(-z^2) w(-iz) - 1`` elsewhere, +-1
    where ``Re(-z^2) < -750``."""
    x, y, m_re, m_im = _faddeeva_parts(z)
    near = _small(z, 0.5)
    zn = select(near, z, _c(z, 0.0))
    series = mul(mul(_c(z, 2 / _SQRT_PI), zn), _poly(
        square(zn), [(-1) ** n / (math.factorial(n) * (2 * n + 1)) for n in range(16)]))
    pos = ge(x, _c(x, 0.0))
    w = wofz(select(pos, make_complex(neg(y), x), make_complex(y, neg(x))))
    t = _exp_times(m_re, m_im, w)
    general = select(pos, sub(_c(z, 1.0), t), sub(t, _c(z, 1.0)))
    general = select(lt(m_re, _c(x, -750.0)), select(pos, _c(z, 1.0), _c(z, -1.0)), general)
    x2, y2 = square(x), square(y)
    ey2 = exp(y2)
    erfi_re = mul(mul(ey2, x), add(sub(_c(x, _R1), mul(x2, add(_c(x, _R2), mul(_c(x, _R3), y2)))),
                                   mul(square(x2), add(_c(x, _R4), mul(y2, add(
                                       _c(x, _R5), mul(_c(x, _R6), y2)))))))
    erfi_im = mul(ey2, sub(_w_im(y), mul(mul(x2, y), sub(_c(x, _R1), mul(x2, add(
        _c(x, _R7), mul(_c(x, _R2), y2)))))))
    small_x = lt(abs_(x), _c(x, 5e-3))
    by_erfi = logical_and(small_x, lt(abs_(m_im), _c(x, 5e-3)))
    general = select(by_erfi, make_complex(erfi_re, erfi_im), general)
    on_real = make_complex(erf(x), y)
    on_imag = make_complex(x, _erfi_axis(y))
    return select(eq(y, _c(y, 0.0)), on_real,
                  select(eq(x, _c(x, 0.0)), on_imag, select(near, series, general)))


# --- exponential integrals -----------------------------------------------------------------------

exp1_p = _prim("exp1", doc="`scipy.special.exp1`: E1(x)")
expi_p = _prim("expi", doc="`scipy.special.expi`: Ei(x)")
expn_p = _prim("expn", nin=2, int_ok=(0,), work=50,
               doc="`scipy.special.expn(n, x)`: E_n(x), integer order n")


def exp1(x):
    return exp1_p.bind(x)


def expi(x):
    return expi_p.bind(x)


def expn(n, x):
    return expn_p.bind(n, x)


def _expn_dx(t, n, x):
    """``-expn(n-1, x)``; for ``n = 0`` (``expn(0, x) = exp(-x)/x``) ``-expn(0, x)(1 +
    1/x)``.  A real order is truncated, as SciPy does."""
    if aval(n).dtype.kind == "f":
        n = trunc(n)
    pos = ge(n, 1)
    lower = expn(maximum(sub(n, 1), 0), x)
    zero_order = mul(expn(mul(n, 0), x), add(_c(x, 1.0), div(_c(x, 1.0), x)))
    return neg(mul(t, select(pos, lower, zero_order)))


defjvp(exp1_p, lambda t, x: mul(t, neg(div(exp(neg(x)), x))))
defjvp(expi_p, lambda t, x: mul(t, div(exp(x), x)))
defjvp(expn_p, _no_grad("expn", "n", _INT_ORDER), _expn_dx)


# --- hypergeometric functions --------------------------------------------------------------------

hyp1f1_p = _prim("hyp1f1", nin=3, work=100,
                 doc="`scipy.special.hyp1f1(a, b, x)`: confluent hypergeometric 1F1")
hyp2f1_p = _prim("hyp2f1", nin=4, work=100,
                 doc="`scipy.special.hyp2f1(a, b, c, x)`: Gauss hypergeometric 2F1")


def hyp1f1(a, b, x):
    return hyp1f1_p.bind(a, b, x)


def hyp2f1(a, b, c, x):
    return hyp2f1_p.bind(a, b, c, x)


def _plus1(v):
    return add(v, _c(v, 1.0))


defjvp(hyp1f1_p, _no_grad("hyp1f1", "a", _NO_PARAM_GRAD),
       _no_grad("hyp1f1", "b", _NO_PARAM_GRAD),
       lambda t, a, b, x: mul(t, mul(div(a, b), hyp1f1(_plus1(a), _plus1(b), x))))
defjvp(hyp2f1_p, _no_grad("hyp2f1", "a", _NO_PARAM_GRAD),
       _no_grad("hyp2f1", "b", _NO_PARAM_GRAD), _no_grad("hyp2f1", "c", _NO_PARAM_GRAD),
       lambda t, a, b, c, x: mul(t, mul(div(mul(a, b), c),
                                        hyp2f1(_plus1(a), _plus1(b), _plus1(c), x))))


# --- zeta functions ------------------------------------------------------------------------------

zeta_p = _prim("zeta", fn=lambda sp: (lambda x: sp.zeta(x)), work=50,
               doc="`scipy.special.zeta(x)`: the Riemann zeta function")
hurwitz_zeta_p = _prim("hurwitz_zeta", fn=lambda sp: (lambda x, q: sp.zeta(x, q)), nin=2,
                       work=50, doc="`scipy.special.zeta(x, q)`: the Hurwitz zeta function")


def zeta(x):
    return zeta_p.bind(x)


def hurwitz_zeta(x, q):
    return hurwitz_zeta_p.bind(x, q)


defjvp(zeta_p, _no_grad("zeta", "x", _ZETA_X))
defjvp(hurwitz_zeta_p, _no_grad("zeta", "x", _ZETA_X),
       lambda t, x, q: mul(t, neg(mul(x, hurwitz_zeta(_plus1(x), q)))))


# --- gamma relatives: Pochhammer symbol, log-gamma -----------------------------------------------

poch_p = _prim("poch", nin=2, doc="`scipy.special.poch(z, m)`: Gamma(z + m) / Gamma(z)")
loggamma_p = _prim("loggamma", doc="`scipy.special.loggamma`: principal branch of log Gamma")


def poch(z, m):
    return poch_p.bind(z, m)


def loggamma(z):
    return loggamma_p.bind(z)


defjvp(poch_p,
       lambda t, z, m: mul(t, mul(poch(z, m), sub(digamma(add(z, m)), digamma(z)))),
       lambda t, z, m: mul(t, mul(poch(z, m), digamma(add(z, m)))))

# B_2k for the asymptotic series of digamma
_BERNOULLI_2K = [1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510,
                 43867 / 798, -174611 / 330]


def _cot_pi(z):
    """``cot(pi z)`` for complex z without overflow: ``i (q + 1)/(q - 1)`` with ``q =
    exp(2 pi i z)`` where ``Im z >= 0`` (|q| <= 1), and the conjugate form below."""
    up = ge(imag(z), 0)
    s = select(up, _c(z, 1.0), _c(z, -1.0))
    q = exp(mul(mul(_c(z, 2j * math.pi), s), z))
    return mul(mul(_c(z, 1j), s), div(add(q, _c(z, 1.0)), sub(q, _c(z, 1.0))))


def complex_digamma(z):
    """``psi(z)`` for complex z as a composition (its derivatives are then exact to every
    order): reflection ``psi(z) = psi(1-z) - pi cot(pi z)`` for ``Re z < 1/2``, then ten
    steps of ``psi(w) = psi(w+1) - 1/w`` and the asymptotic series at ``|w + 10| >= 10.5``
    (10 terms: relative error below 1e-16)."""
    refl = lt(real(z), 0.5)
    w = select(refl, sub(_c(z, 1.0), z), z)
    acc = _c(z, 0.0)
    for k in range(10):
        acc = add(acc, div(_c(z, 1.0), add(w, _c(z, float(k)))))
    u = add(w, _c(z, 10.0))
    r2 = div(_c(z, 1.0), square(u))
    tail = _poly(r2, [0.0] + [b / (2 * k) for k, b in enumerate(_BERNOULLI_2K, start=1)])
    psi_w = sub(sub(sub(log(u), div(_c(z, 0.5), u)), tail), acc)
    zr = select(refl, z, _c(z, 0.25))     # cot(pi/4) = 1 where the branch is unused
    return select(refl, sub(psi_w, mul(_c(z, math.pi), _cot_pi(zr))), psi_w)


def _loggamma_dz(t, z):
    if aval(z).dtype.kind == "c":
        return mul(t, complex_digamma(z))
    return mul(t, digamma(z))


defjvp(loggamma_p, _loggamma_dz)


# --- dilogarithm, sine/cosine and Fresnel integrals ----------------------------------------------

spence_p = _prim("spence", doc="`scipy.special.spence`: integral_1^z log(t)/(1-t) dt")
si_p = _prim("si", fn=lambda sp: (lambda x: sp.sici(x)[0]),
             doc="`scipy.special.sici(x)[0]`: the sine integral Si(x)")
ci_p = _prim("ci", fn=lambda sp: (lambda x: sp.sici(x)[1]),
             doc="`scipy.special.sici(x)[1]`: the cosine integral Ci(x)")
fresnel_s_p = _prim("fresnel_s", fn=lambda sp: (lambda x: sp.fresnel(x)[0]),
                    doc="`scipy.special.fresnel(x)[0]`: the Fresnel integral S(x)")
fresnel_c_p = _prim("fresnel_c", fn=lambda sp: (lambda x: sp.fresnel(x)[1]),
                    doc="`scipy.special.fresnel(x)[1]`: the Fresnel integral C(x)")


def spence(z):
    return spence_p.bind(z)


def si(x):
    return si_p.bind(x)


def ci(x):
    return ci_p.bind(x)


def fresnel_s(x):
    return fresnel_s_p.bind(x)


def fresnel_c(x):
    return fresnel_c_p.bind(x)


def _log_over_one_minus(z):
    """``log(z)/(1 - z)``, the derivative of spence: near ``z = 1`` (|z-1| < 0.05) the
    series ``-sum_k (1-z)^k/(k+1)`` (14 terms), so the value (-1 at 1) and its own
    derivatives are exact there."""
    u = sub(z, _c(z, 1.0))
    near = _small(u, 0.05)
    us = select(near, u, _c(z, 0.0))
    zs = select(near, _c(z, 2.0), z)
    series = neg(_poly(neg(us), [1.0 / (k + 1) for k in range(14)]))
    return select(near, series, div(log(zs), sub(_c(z, 1.0), zs)))


def _sinc(z):
    """``sin(z)/z`` (1 at 0): below |z| = 1/2 its Taylor series (10 terms), so every
    derivative at 0 is right."""
    near = _small(z, 0.5)
    zs = select(near, _c(z, 0.0), z)
    zn = select(near, z, _c(z, 1.0))
    series = _poly(square(zn), [(-1) ** k / math.factorial(2 * k + 1) for k in range(10)])
    return select(near, series, div(sin(zs), select(near, _c(z, 1.0), zs)))


def _half_pi_sq(x):
    return mul(_c(x, math.pi / 2), square(x))


defjvp(spence_p, lambda t, z: mul(t, _log_over_one_minus(z)))
defjvp(si_p, lambda t, x: mul(t, _sinc(x)))
defjvp(ci_p, lambda t, x: mul(t, div(cos(x), x)))
defjvp(fresnel_s_p, lambda t, x: mul(t, sin(_half_pi_sq(x))))
defjvp(fresnel_c_p, lambda t, x: mul(t, cos(_half_pi_sq(x))))


# --- Owen's T ------------------------------------------------------------------------------------

owens_t_p = _prim("owens_t", nin=2, work=50, doc="`scipy.special.owens_t(h, a)`: Owen's T")


def owens_t(h, a):
    return owens_t_p.bind(h, a)


def _owens_t_dh(t, h, a):
    """``-phi(h) erf(a h / sqrt 2) / 2``."""
    phi = mul(_c(h, 1 / math.sqrt(2 * math.pi)), exp(mul(_c(h, -0.5), square(h))))
    return mul(t, mul(mul(_c(h, -0.5), phi), erf(mul(_c(h, math.sqrt(0.5)), mul(a, h)))))


def _owens_t_da(t, h, a):
    """``exp(-h^2 (1 + a^2)/2) / (2 pi (1 + a^2))``."""
    s = add(_c(a, 1.0), square(a))
    return mul(t, div(exp(mul(mul(_c(a, -0.5), square(h)), s)), mul(_c(a, 2 * math.pi), s)))


defjvp(owens_t_p, _owens_t_dh, _owens_t_da)


# --- spherical harmonics -------------------------------------------------------------------------

sph_harm_y_p = _prim("sph_harm_y", nin=4, int_ok=(0, 1), complex_out=True, work=50,
                     doc="`scipy.special.sph_harm_y(n, m, theta, phi)`: spherical "
                         "harmonics, integer degree n and order m")


def sph_harm_y(n, m, theta, phi):
    return sph_harm_y_p.bind(n, m, theta, phi)


def _ladder(n, m, s, x):
    """``sqrt((n - s m)(n + s m + 1))`` in ``x``'s dtype (0 where |m| > n)."""
    nf = convert_element_type(n, dtype=aval(x).dtype)
    mf = convert_element_type(m, dtype=aval(x).dtype)
    prod = mul(sub(nf, mul(_c(x, s), mf)), add(add(nf, mul(_c(x, s), mf)), _c(x, 1.0)))
    return sqrt(maximum(prod, _c(x, 0.0)))


def _sph_harm_dtheta(t, n, m, theta, phi):
    """SciPy's ``Y`` depends on theta through ``cos(theta)`` and ``|sin(theta)|``: it is
    ``Y(arccos(cos theta))``, the standard harmonic at theta reflected into [0, pi].  So
    its derivative is the ladder formula times ``sign(sin(theta))``: 0 at the poles, where
    (for odd |m|) it has a kink -- the symmetric choice, as ``abs'(0) = 0``."""
    e = exp(mul(_c(phi, -1.0), mul(phi, 1j)))            # exp(-i phi)
    up = mul(mul(e, _ladder(n, m, 1.0, theta)), sph_harm_y(n, add(m, 1), theta, phi))
    down = mul(mul(div(1.0, e), _ladder(n, m, -1.0, theta)),
               sph_harm_y(n, sub(m, 1), theta, phi))
    # the kink sits at multiples of pi: where sin(theta) is 0 to rounding (float pi's
    # sine is 1.2e-16, not 0; but |cos(theta)| == 1 would also take every |theta| <
    # 1e-8, where the slope is not 0)
    eps = float(np.finfo(np.dtype(aval(theta).dtype)).eps)
    pole = le(abs_(sin(theta)), mul(_c(theta, eps), abs_(theta)))
    side = select(pole, _c(theta, 0.0), sign(sin(theta)))
    return mul(mul(t, side), mul(0.5, sub(up, down)))


def _sph_harm_dphi(t, n, m, theta, phi):
    mf = convert_element_type(m, dtype=aval(phi).dtype)
    return mul(t, mul(mul(mf, 1j), sph_harm_y(n, m, theta, phi)))


defjvp(sph_harm_y_p, _no_grad("sph_harm_y", "n", _INT_ORDER),
       _no_grad("sph_harm_y", "m", _INT_ORDER), _sph_harm_dtheta, _sph_harm_dphi)


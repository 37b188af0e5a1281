"""``funcdiff.scipy.special``: SciPy's special functions on values that trace.

Gamma and beta: ``gamma gammaln gammasgn rgamma digamma (psi) polygamma multigammaln
loggamma poch beta betaln comb factorial``; incomplete: ``gammainc gammaincc betainc
betaincc``; error and normal: ``erf erfc erfcx erfinv erfcinv wofz dawsn ndtr log_ndtr
ndtri owens_t``; Student's t: ``stdtr``; logistic: ``expit logit log_expit softplus``;
information: ``xlogy xlog1py entr rel_entr kl_div``; exponential and other integrals:
``exp1 expi expn sici fresnel spence``; hypergeometric and zeta: ``hyp1f1 hyp2f1 zeta
bernoulli``; Bessel: ``i0 i0e i1 i1e iv ive j0 j1 jn (jv) bessel_jn y0 y1 yn``;
spherical harmonics: ``sph_harm_y``; transformations: ``boxcox boxcox1p``; over an axis:
``logsumexp softmax log_softmax``.

Outside transforms each function is SciPy's own when SciPy is importable (same values
and dtypes), and otherwise runs the same composition as under a trace, on NumPy.  When
SciPy is present its ufuncs are also registered for NumPy's ``__array_ufunc__``
dispatch, so ``scipy.special.expit(traced)`` runs the function here.

dtypes follow SciPy: a ufunc's operands are cast to the loop NumPy picks among SciPy's
(an exact dtype match first, else the first loop the operands cast to safely, Python
scalars weakly), so e.g. ``gamma`` of float32 is float32 and of float16 float64, while
``erfinv`` of float16 is float32; complex operands where SciPy has complex loops (``erf
erfc erfcx wofz dawsn exp1 expi loggamma spence sici fresnel zeta``, ``hyp1f1``/``hyp2f1``
in ``x``); ``logsumexp`` keeps float16/float32 and takes Python scalars weakly;
``softmax``/``log_softmax``/``softplus`` follow NumPy's promotion (they are NumPy code in
SciPy); ``multigammaln``, ``factorial`` and ``polygamma`` are float64; ``sph_harm_y`` is complex128.

Derivatives (see ``funcdiff.primitives.special`` and ``special_more`` for the rules, all
written with primitives so every order works): closed forms in every argument where
mathematics has them.  With respect to the parameters ``a``/``b``/``c`` of ``gammainc
gammaincc betainc betaincc hyp1f1 hyp2f1`` and ``df`` of ``stdtr`` (hypergeometric
series), the exponent of ``zeta``, a Bessel order, the integer orders of ``polygamma``,
``expn`` and ``sph_harm_y``, asking for a derivative raises ``GradientError`` naming the
argument.

Without SciPy, ``j0 j1 jn jv y0 y1 yn bessel_jn`` and the functions of issue 15 that are
primitives (``erfcx wofz dawsn exp1 expi expn hyp1f1 hyp2f1 zeta poch loggamma spence sici
fresnel owens_t sph_harm_y``, complex ``erf``/``erfc``) raise ``SciPyRequiredError`` (no
pure-NumPy fallback: accurate values need SciPy's long rational approximations), as does
``iv`` of a negative non-integer order; everything else has a NumPy fallback.

Numerical care (values and derivatives): ``expit``, ``log_expit``, ``softplus``,
``logaddexp`` are exact for |x| up to the float range (no overflow, no NaN);
``logsumexp`` shifts by the (gradient-stopped) maximum and has gradient 0, not NaN,
where every input is -inf; ``xlogy(0, y) = 0`` with the finite x-derivative ``log(y)``
where ``y > 0``; ``entr`` has derivative ``-(log x + 1)`` for x > 0 and, by the same
convention as ``xlogy``, 0 at x = 0 (``rel_entr``/``kl_div`` likewise 0 in ``x`` at
``x = 0``); ``log_ndtr`` is exact down to x = -1e154 (an asymptotic series below x =
-20) and its derivative finite there; ``boxcox``/``boxcox1p`` are smooth through
``lmbda = 0`` (d/dlmbda ``= log(x)^2/2`` there); ``spence'`` is -1 at 1 and ``sici``'s
``Si'`` is 1 at 0 (series there).
"""
from ._special import (beta, betainc, betaincc, betaln, digamma, entr, erf, erfc, erfcinv,
                       erfinv, expit, gamma, gammainc, gammaincc, gammaln, gammasgn, i0, i1,
                       iv, ive, j0, j1, jn, jv, log_expit, log_ndtr, log_softmax, logit,
                       logsumexp, multigammaln, ndtr, ndtri, polygamma, psi, rgamma, softmax,
                       softplus, stdtr, xlog1py, xlogy, y0, y1, yn)
from ._special_more import (bernoulli, bessel_jn, boxcox, boxcox1p, comb, dawsn, erfcx, exp1,
                            expi, expn, factorial, fresnel, hyp1f1, hyp2f1, i0e, i1e, kl_div,
                            loggamma, owens_t, poch, rel_entr, sici, spence, sph_harm_y, wofz,
                            zeta)

__all__ = [
    # logistic and information
    "expit", "logit", "log_expit", "softplus", "xlogy", "xlog1py", "entr", "rel_entr",
    "kl_div",
    # error function and normal distribution
    "erf", "erfc", "erfcx", "erfinv", "erfcinv", "wofz", "dawsn", "ndtr", "log_ndtr",
    "ndtri", "owens_t",
    # gamma, beta and relatives
    "gamma", "gammaln", "loggamma", "gammasgn", "rgamma", "digamma", "psi", "polygamma",
    "multigammaln", "poch", "beta", "betaln", "comb", "factorial",
    # incomplete gamma and beta, Student's t
    "gammainc", "gammaincc", "betainc", "betaincc", "stdtr",
    # integrals, hypergeometric and zeta functions
    "exp1", "expi", "expn", "sici", "fresnel", "spence", "hyp1f1", "hyp2f1", "zeta",
    "bernoulli",
    # Bessel functions and spherical harmonics
    "i0", "i0e", "i1", "i1e", "iv", "ive", "j0", "j1", "jn", "jv", "bessel_jn", "y0", "y1",
    "yn", "sph_harm_y",
    # transformations and reductions
    "boxcox", "boxcox1p", "logsumexp", "softmax", "log_softmax",
]


def __dir__():
    return sorted(__all__)

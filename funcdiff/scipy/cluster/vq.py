"""``funcdiff.scipy.cluster.vq``: ``vq`` (vector quantization) on values that trace.

Outside transforms it *is* SciPy's.  Inside, the codes are the ``argmin`` of the
squared distances to every code (piecewise constant: no derivative; ties go to the
first code, as SciPy's), and the distances are the Euclidean norms of ``obs -
code_book[code]``, differentiable in both arrays.  At a zero distance (an observation
equal to its code) the derivative is 0, a subgradient of the norm, instead of NaN.
Dtypes are SciPy's: float32 stays float32 when both inputs are, integers compute in
float64; codes are int32 for floating inputs (SciPy's compiled path) and the default
integer otherwise.  ``check_finite`` checks values when they are known.
"""
from __future__ import annotations

import numpy as np

from ... import numpy as fnp
from ...core.errors import FuncdiffTypeError, FuncdiffValueError
from ...numpy._core import aval
from ...numpy._sizes import known
from .._fastpath import array_arg as _arr
from .._fastpath import scipy_function

try:  # SciPy is optional at run time
    import scipy.cluster.vq as _svq  # type: ignore
except ImportError:  # pragma: no cover - exercised without SciPy
    _svq = None

__all__ = ["vq"]


@scipy_function(_svq, "vq")
def vq(obs, code_book, check_finite=True):
    """SciPy's ``scipy.cluster.vq.vq``: for each observation (row of ``obs``) the index
    of the nearest code (row of ``code_book``) and the distance to it.  Returns
    ``(code, dist)``."""
    o, c = _arr(obs), _arr(code_book)
    if check_finite:
        for v in (o, c):
            val = known(v)
            if val is not None and val.dtype.kind in "fc" and not np.all(np.isfinite(val)):
                raise FuncdiffValueError("array must not contain infs or NaNs")
    if aval(o).ndim != aval(c).ndim:
        raise FuncdiffValueError("Observation and code_book should have the same rank")
    if aval(o).ndim > 2:
        raise FuncdiffValueError("ndim different than 1 or 2 are not supported")
    ct = np.result_type(aval(o).dtype, aval(c).dtype)
    if ct.kind == "c":       # (casting to float64 would drop the imaginary parts)
        raise FuncdiffValueError(f"vq: unsupported dtype {ct} (as SciPy: complex "
                                 "observations and codes are not supported)")
    if ct.kind == "f" and ct not in (np.float32, np.float64):
        raise FuncdiffTypeError(f"vq: {ct} is not supported (as SciPy: only float32 "
                                "and float64, or integers, which become float64)")
    floating = ct.kind == "f"
    work = ct if floating else np.dtype(np.float64)
    o, c = o.astype(work), c.astype(work)
    if aval(o).ndim == 1:
        o, c = o[:, None], c[:, None]
    elif aval(o).shape[1] != aval(c).shape[1]:
        raise FuncdiffValueError("obs and code should have same number of features "
                                 "(columns)")
    diff = o[:, None, :] - c[None, :, :]
    code = fnp.argmin(fnp.sum(diff * diff, axis=-1), axis=1)
    r = o - fnp.asarray(c)[code]
    n2 = fnp.sum(r * r, axis=-1)
    pos = n2 > 0
    dist = fnp.where(pos, fnp.sqrt(fnp.where(pos, n2, 1.0)), 0.0).astype(work)
    return code.astype(np.int32 if floating else np.intp), dist


def __dir__():
    return sorted(__all__)

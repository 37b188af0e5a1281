"""``funcdiff.numpy``: NumPy's API on values that trace.

Outside any transform each function *is* NumPy's (creation functions return
``funcdiff.numpy.Array``, an ``ndarray`` with ``.at[]``); inside a transform every call
is recorded in the trace, so it differentiates, vectorizes and compiles.
"""
from numpy import (bool_, complex64, complex128, dtype, e, float16, float32,  # noqa: F401
                   float64, inf, int8, int16, int32, int64, nan, newaxis, pi, uint8,
                   integer, floating, inexact, number, complexfloating, signedinteger,
                   finfo, iinfo, issubdtype, ndarray)

import sys

from ._core import FUNCTIONS  # noqa: F401
from ._math import *  # noqa: F401,F403
from ._math import around, real, imag, where, clip, positive  # noqa: F401
from ._reductions import *  # noqa: F401,F403
from ._creation import *  # noqa: F401,F403
from ._shape import *  # noqa: F401,F403
from ._products import *  # noqa: F401,F403
from ._indexing import *  # noqa: F401,F403
from ._indexing import Array  # noqa: F401
from ._ufuncs import *  # noqa: F401,F403
from ._predicates import *  # noqa: F401,F403
from ._arrayapi import *  # noqa: F401,F403
from ._signal import *  # noqa: F401,F403
from ._poly import *  # noqa: F401,F403
from ._sequences import *  # noqa: F401,F403
from ._selection import *  # noqa: F401,F403
from ._index_tricks import *  # noqa: F401,F403
from ._arrayops import *  # noqa: F401,F403
from ._differences import *  # noqa: F401,F403
from ._statistics import *  # noqa: F401,F403
from ._io import *  # noqa: F401,F403
from ._sorting import *  # noqa: F401,F403
from ._quantiles import *  # noqa: F401,F403
from ._nanfunctions import *  # noqa: F401,F403
from ._histograms import *  # noqa: F401,F403
from ._setops import *  # noqa: F401,F403
from ._vectorize import *  # noqa: F401,F403
from ._vectorize import ufunc  # noqa: F401
from . import fft, linalg  # noqa: F401
from . import _methods

_methods.install(sys.modules[__name__])   # operators, methods and NumPy dispatch on tracers

# everything above but the registry, the submodules and ``sys`` (computed: the names come
# from the star imports, each module's own ``__all__``)
__all__ = sorted(n for n in dict(globals()) if not n.startswith("_") and n not in (
    "FUNCTIONS", "fft", "linalg", "sys"))


def __dir__():
    return sorted(__all__ + ["fft", "linalg"])   # dir() shows the public names only

"""``funcdiff.scipy``: SciPy functions on values that trace (SciPy itself is optional:
with it the eager path is SciPy's, without it the same compositions run on NumPy)."""
from . import special  # noqa: F401
from . import stats  # noqa: F401
from . import signal  # noqa: F401
from . import fft  # noqa: F401
from . import ndimage  # noqa: F401
from . import interpolate  # noqa: F401
from . import spatial  # noqa: F401
from . import cluster  # noqa: F401
from . import linalg  # noqa: F401
from . import integrate  # noqa: F401
from . import optimize  # noqa: F401
from . import sparse  # noqa: F401

__all__ = ["cluster", "fft", "integrate", "interpolate", "linalg", "ndimage", "optimize",
           "signal", "sparse", "spatial", "special", "stats"]


def __dir__():
    return sorted(__all__)

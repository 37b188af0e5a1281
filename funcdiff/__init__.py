"""funcdiff: JAX-style function transformations (grad, jvp, vjp, vmap, jit, ...) for
numerical Python code written with NumPy.

The package is layered (docs/architecture.md; tests/test_layers.py enforces it): core,
primitives, transforms, higher_order, jit, analysis, api, then numpy / lax and scipy.
This module, at the top, exports the public names."""
import sys

from . import core, tree_util  # noqa: F401
from .core.check import check_jaxpr  # noqa: F401
from .core.errors import (ConcretizationError, DerivativeCutWarning,  # noqa: F401
                          FuncdiffError, FuncdiffIndexError, FuncdiffTypeError,
                          FuncdiffValueError, FuncdiffWarning, GradientError,
                          ImplicitGradientWarning, RetraceWarning,
                          NonConcreteBooleanIndexError, ShapeError, StructureError,
                          TracerArrayConversionError, TracerBufferWriteError,
                          TracerLeakError, UnsupportedNumpyFunctionError)
from .core.interpret import eval_jaxpr  # noqa: F401
from .config import config  # noqa: F401
from .api.autodiff import (float0, grad, hessian, hvp, jacfwd, jacrev, jvp,  # noqa: F401
                           linearize, make_jaxpr, value_and_grad, vjp)
from .api.custom_derivatives import custom_jvp, custom_vjp, stop_gradient  # noqa: F401
from .api.jacobian import jacobian  # noqa: F401
from .api.jit import cost_analysis, jit  # noqa: F401
from .api.vmap import vmap  # noqa: F401
from .transforms.vmap import BatchingError  # noqa: F401
from . import lax, numpy  # noqa: F401
from . import flatten_util, test_util  # noqa: F401
from .test_util import check_grads  # noqa: F401
from .checkpoint import (checkpoint, checkpoint_fori_loop, checkpoint_name,  # noqa: F401
                         checkpoint_policies, checkpoint_scan, checkpoint_sequential,
                         print_saved_residuals, remat, saved_residuals)

__version__ = "0.1.0"


def _register_scipy_functions():
    """NumPy's dispatch met a function funcdiff has not registered: if SciPy is loaded,
    load ``funcdiff.scipy``, which registers scipy.special/linalg/... functions (True
    when it did).  ``import funcdiff`` does not import it, as that would import SciPy."""
    if "scipy" in sys.modules and "funcdiff.scipy" not in sys.modules:
        import funcdiff.scipy  # noqa: F401  (why: it imports SciPy, optional and slow)
        return True
    return False


numpy._core.ON_LOOKUP_MISS.append(_register_scipy_functions)

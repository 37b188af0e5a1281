"""funcdiff: JAX-style function transformations (grad, jvp, vjp, vmap, jit, ...) for
numerical Python code written with NumPy.

The package is layered (docs/architecture.md; tests/test_layers.py enforces it): core,
primitives, transforms, higher_order, jit, analysis, api, then numpy / lax and scipy.
This module, at the top, exports the public names (``__all__``; ``dir(funcdiff)`` shows
them and the public submodules, not the layers)."""
import sys

from . import core  # noqa: F401
from . import tree_util as tree_util  # noqa: F401
from .core.check import check_jaxpr  # noqa: F401
from .core.errors import (ArrayLibraryError, ArrayLibraryFallbackWarning,  # noqa: F401
                          ConcretizationError, DerivativeCutWarning,
                          FuncdiffError, FuncdiffIndexError, FuncdiffTypeError,
                          FuncdiffValueError, FuncdiffWarning, GradientError,
                          ImplicitGradientWarning, RetraceWarning,
                          NonConcreteBooleanIndexError, ShapeError, StructureError,
                          TracerArrayConversionError, TracerBufferWriteError,
                          TracerLeakError, UnsupportedNumpyFunctionError)
from .core.interpret import eval_jaxpr  # noqa: F401
from .config import config  # noqa: F401
from .api.autodiff import (float0, grad, hvp, jacfwd, jacrev, jvp,  # noqa: F401
                           linearize, make_jaxpr, value_and_grad, vjp)
from .api.custom_derivatives import custom_jvp, custom_vjp, stop_gradient  # noqa: F401
from .api.jacobian import SparseJacobian, hessian, jacobian  # noqa: F401
from .api.jit import cost_analysis, jit  # noqa: F401
from .api.vmap import vmap  # noqa: F401
from .transforms.vmap import BatchingError  # noqa: F401
from . import lax as lax, numpy as numpy  # noqa: F401
from . import flatten_util as flatten_util, test_util as test_util  # noqa: F401
from . import typing as typing  # noqa: F401
from . import debug as debug  # noqa: F401
from .typing import Array
from .test_util import check_grads  # noqa: F401
from .checkpoint import (checkpoint, checkpoint_fori_loop, checkpoint_name,  # noqa: F401
                         checkpoint_policies, checkpoint_scan, checkpoint_sequential,
                         print_saved_residuals, remat, saved_residuals)

__version__ = "0.1.0"

__all__ = [
    # transforms
    "grad", "value_and_grad", "vjp", "jvp", "linearize", "jacfwd", "jacrev", "jacobian",
    "hessian", "hvp", "vmap", "jit", "make_jaxpr", "stop_gradient", "custom_jvp",
    "SparseJacobian",
    "custom_vjp", "float0",
    # checkpointing and analysis
    "checkpoint", "remat", "checkpoint_name", "checkpoint_policies",
    "checkpoint_sequential", "checkpoint_scan", "checkpoint_fori_loop",
    "saved_residuals", "print_saved_residuals", "cost_analysis",
    # the IR, configuration, testing, types
    "eval_jaxpr", "check_jaxpr", "config", "check_grads", "Array",
    # errors
    "FuncdiffError", "FuncdiffTypeError", "FuncdiffValueError", "FuncdiffIndexError",
    "FuncdiffWarning", "RetraceWarning", "BatchingError", "ConcretizationError", "DerivativeCutWarning", "GradientError",
    "ImplicitGradientWarning", "NonConcreteBooleanIndexError", "ShapeError",
    "StructureError", "TracerArrayConversionError", "TracerBufferWriteError",
    "TracerLeakError", "UnsupportedNumpyFunctionError", "ArrayLibraryError",
    "ArrayLibraryFallbackWarning",
]
# public submodules: attributes and in dir(), but not in __all__ (a star import must not
# bind ``numpy``)
_SUBMODULES = ["lax", "numpy", "tree_util", "flatten_util", "test_util", "typing", "debug"]


def __dir__():
    return sorted(__all__ + _SUBMODULES + ["__version__"])


def _register_scipy_functions():
    """NumPy's dispatch met a function funcdiff has not registered: if SciPy is loaded,
    load ``funcdiff.scipy``, which registers scipy.special/linalg/... functions (True
    when it did).  ``import funcdiff`` does not import it, as that would import SciPy."""
    if "scipy" in sys.modules and "funcdiff.scipy" not in sys.modules:
        import funcdiff.scipy  # noqa: F401  (why: it imports SciPy, optional and slow)
        return True
    return False


numpy._core.ON_LOOKUP_MISS.append(_register_scipy_functions)

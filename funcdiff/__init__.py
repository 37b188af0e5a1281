"""funcdiff: JAX-style function transformations (grad, jvp, vjp, vmap, jit, ...) for
numerical Python code written with NumPy."""
from . import core, tree_util  # noqa: F401
from .core.errors import (ConcretizationError, DerivativeCutWarning,  # noqa: F401
                          FuncdiffError, FuncdiffIndexError, FuncdiffTypeError,
                          FuncdiffValueError, GradientError, ImplicitGradientWarning,
                          NonConcreteBooleanIndexError, ShapeError, StructureError,
                          TracerArrayConversionError, TracerBufferWriteError,
                          TracerLeakError, UnsupportedNumpyFunctionError)
from .core.check import check_jaxpr  # noqa: F401
from .core.interpret import eval_jaxpr  # noqa: F401
from . import numpy  # noqa: F401
from .api import (float0, grad, hessian, hvp, jacfwd, jacrev, jvp, linearize,  # noqa: F401
                  make_jaxpr, value_and_grad, vjp)

from .custom_derivatives import custom_jvp, custom_vjp, stop_gradient  # noqa: F401
from . import flatten_util, test_util  # noqa: F401
from .test_util import check_grads  # noqa: F401

from .jit import jit  # noqa: F401
from . import lax  # noqa: F401
from .vmap_api import vmap  # noqa: F401
from .config import config  # noqa: F401
from .analysis import cost_analysis  # noqa: F401
from .checkpoint import (checkpoint, checkpoint_fori_loop, checkpoint_name,  # noqa: F401
                         checkpoint_policies, checkpoint_scan, checkpoint_sequential,
                         print_saved_residuals, remat, saved_residuals)
from .jacobian import jacobian  # noqa: F401

__version__ = "0.1.0"

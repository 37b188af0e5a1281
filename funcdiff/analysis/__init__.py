"""What running a jaxpr costs, predicted from the IR alone: ``cost`` (flops, bytes moved,
peak memory from jit's memory model) and ``residuals`` (what a reverse pass saves)."""
from .cost import jaxpr_cost  # noqa: F401
from .residuals import Residual, saved_residuals_jaxpr  # noqa: F401

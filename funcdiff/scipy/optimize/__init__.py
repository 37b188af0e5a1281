"""``funcdiff.scipy.optimize``: ``minimize`` (BFGS, L-BFGS-B) on values that trace, its
solution differentiable by implicit differentiation (see ``_minimize``)."""
from ._minimize import OptimizeResults, minimize

__all__ = ["OptimizeResults", "minimize"]


def __dir__():
    return list(__all__)

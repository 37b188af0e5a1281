"""``funcdiff.scipy.sparse.linalg``: SciPy's iterative linear solvers on values that trace,
differentiable through the linear system (see ``_isolve``)."""
from ._isolve import bicgstab, cg, gmres

__all__ = ["bicgstab", "cg", "gmres"]


def __dir__():
    return list(__all__)

"""``funcdiff.scipy.sparse``: only ``linalg`` (the iterative solvers), on values that trace."""
from . import linalg

__all__ = ["linalg"]


def __dir__():
    return list(__all__)

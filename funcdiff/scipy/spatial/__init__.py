"""``funcdiff.scipy.spatial``: ``transform`` (``Rotation``, ``Slerp``) on values that
trace."""
from . import transform

__all__ = ["transform"]


def __dir__():
    return sorted(__all__)

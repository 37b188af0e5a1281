"""``funcdiff.scipy.cluster``: ``vq.vq`` on values that trace."""
from . import vq

__all__ = ["vq"]


def __dir__():
    return sorted(__all__)

# Type stub of funcdiff.numpy.fft: every function returns an ``Array``.
from typing import Callable

from ..typing import Array as _Array

def __getattr__(name: str) -> Callable[..., _Array]: ...

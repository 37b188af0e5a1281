# Type stub of funcdiff.numpy, for type checkers (mypy, pyright): NumPy's API on values
# that trace.  Every function not declared here returns an ``Array`` (the module
# ``__getattr__`` below, as in an incomplete stub); the ones declared return something
# else.  tests/test_typing.py checks that every name declared exists at run time.
from typing import Any, Callable

import numpy as _np
from numpy import (bool_ as bool_, complex64 as complex64, complex128 as complex128,
                   complexfloating as complexfloating, dtype as dtype, e as e,
                   finfo as finfo, float16 as float16, float32 as float32,
                   float64 as float64, floating as floating, iinfo as iinfo,
                   inexact as inexact, inf as inf, int8 as int8, int16 as int16,
                   int32 as int32, int64 as int64, integer as integer,
                   issubdtype as issubdtype, nan as nan, ndarray as ndarray,
                   newaxis as newaxis, number as number, pi as pi,
                   signedinteger as signedinteger, uint8 as uint8)

from ..typing import Array as _Array, ArrayLike as _ArrayLike
from . import fft as fft, linalg as linalg

class Array(_np.ndarray[Any, Any]):
    # what creation functions return outside transforms: an ndarray with .at[]
    @property
    def at(self) -> Any: ...

r_: Any
c_: Any
s_: Any

def shape(a: _ArrayLike) -> tuple[int, ...]: ...
def ndim(a: _ArrayLike) -> int: ...
def size(a: _ArrayLike, axis: int | None = ...) -> int: ...
def result_type(*arrays_and_dtypes: Any) -> _np.dtype[Any]: ...
def isscalar(element: Any) -> bool: ...
def can_cast(from_: Any, to: Any, casting: str = ...) -> bool: ...
def __getattr__(name: str) -> Callable[..., _Array]: ...

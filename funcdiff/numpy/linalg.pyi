# Type stub of funcdiff.numpy.linalg: functions returning one array are declared; the
# others (eigh, svd, qr, slogdet, eig, lstsq: tuples) are ``Any`` through ``__getattr__``.
from typing import Any, Callable

from numpy.linalg import LinAlgError as LinAlgError

from ..typing import Array as _Array

def _f(*args: Any, **kwargs: Any) -> _Array: ...

norm = _f
inv = _f
solve = _f
det = _f
cholesky = _f
eigvalsh = _f
eigvals = _f
matrix_power = _f
multi_dot = _f
svdvals = _f
pinv = _f
matrix_rank = _f
cond = _f
tensorinv = _f
tensorsolve = _f
cross = _f
diagonal = _f
trace = _f
matrix_norm = _f
vector_norm = _f
outer = _f
tensordot = _f
matmul = _f
matrix_transpose = _f
vecdot = _f

def __getattr__(name: str) -> Any: ...

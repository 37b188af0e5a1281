"""NumPy's reading, writing and printing functions and ``einsum_path``, next to traced
values.

Outside transforms each is NumPy's (the creation and reading functions ``frombuffer
fromfile fromiter fromstring from_dlpack load`` return ``funcdiff.numpy.Array``, as the
other creation functions do).  Inside a trace:

- the readers read, as NumPy does: their results are constants of the trace (data on
  disk or in a buffer does not depend on the traced inputs); ``fromiter`` over
  traced values stacks them (differentiable), ``from_dlpack`` of a traced value is
  that value;
- ``save``/``savez`` of a traced value raise a ``FuncdiffTypeError``: writing a file is
  a side effect that the traced program cannot hold (under ``jit`` the values are not
  even known while tracing), so the array must be returned and saved outside;
- ``array_repr``/``array_str`` of a traced value give its ``repr``/``str`` (the type
  and, outside ``jit``, the value); the print options are NumPy's own;
- ``einsum_path`` needs only the operands' shapes, which are known even under ``jit``:
  it returns NumPy's path and report.
"""
from __future__ import annotations

import itertools

import numpy as np

from ..core.errors import FuncdiffTypeError
from ..core.trace import Tracer
from ._core import _contains_tracer, _record, aval, implements
from ._creation import array, creation

__all__ = ["einsum_path", "array_repr", "array_str", "get_printoptions",
           "set_printoptions", "printoptions", "from_dlpack", "frombuffer", "fromfile",
           "fromiter", "fromstring", "load", "save", "savez"]

# the print options are global NumPy state: NumPy's own functions
get_printoptions = np.get_printoptions
set_printoptions = np.set_printoptions
printoptions = np.printoptions


def _stand_in(x):
    """An array of ``x``'s shape and dtype without its values (a broadcast view: no
    memory), for functions that only look at shapes."""
    if type(x) is Tracer:
        a = aval(x)
        return np.broadcast_to(np.zeros((), a.dtype), a.shape)
    return x


@implements(np.einsum_path)
def einsum_path(*operands, optimize="greedy", einsum_call=False):
    """NumPy's ``einsum_path``: the contraction order and its report, from the
    operands' shapes (traced operands are fine, also under ``jit``)."""
    return np.einsum_path(*[_stand_in(o) for o in operands], optimize=optimize,
                          einsum_call=einsum_call)


@implements(np.array_repr)
def array_repr(arr, max_line_width=None, precision=None, suppress_small=None):
    """NumPy's ``array_repr``; of a traced value, its ``repr``."""
    if type(arr) is Tracer:
        return repr(arr)
    return np.array_repr(arr, max_line_width, precision, suppress_small)


@implements(np.array_str)
def array_str(a, max_line_width=None, precision=None, suppress_small=None):
    """NumPy's ``array_str``; of a traced value, its ``str``."""
    if type(a) is Tracer:
        return str(a)
    return np.array_str(a, max_line_width, precision, suppress_small)


# --- creation and reading ----------------------------------------------------------------------

@creation(np.from_dlpack)
def from_dlpack(x, /, *, device=None, copy=None):
    """NumPy's ``from_dlpack``; a traced value is returned as it is."""
    if type(x) is Tracer:
        return x
    kw = {} if device is None and copy is None else {"device": device, "copy": copy}
    return _record(np.from_dlpack(x, **kw))


@creation(np.frombuffer)
def frombuffer(buffer, dtype=float, count=-1, offset=0, *, like=None):
    """NumPy's ``frombuffer`` (a constant of the trace)."""
    return _record(np.frombuffer(buffer, dtype, count, offset))


@creation(np.fromfile)
def fromfile(file, dtype=float, count=-1, sep="", offset=0, *, like=None):
    """NumPy's ``fromfile`` (a constant of the trace)."""
    return _record(np.fromfile(file, dtype, count, sep, offset))


@creation(np.fromstring)
def fromstring(string, dtype=float, count=-1, *, sep, like=None):
    """NumPy's ``fromstring`` (a constant of the trace)."""
    return _record(np.fromstring(string, dtype, count, sep=sep))


@creation(np.fromiter)
def fromiter(iter, dtype, count=-1, *, like=None):  # noqa: A002 - NumPy's name
    """NumPy's ``fromiter``: items that are traced values are stacked (so derivatives
    flow to them); otherwise NumPy's result, a constant of the trace."""
    items = list(itertools.islice(iter, None if count < 0 else count))
    if 0 <= count != len(items):
        raise ValueError(f"iterator too short: Expected {count} but iterator had only "
                         f"{len(items)} items.")
    if _contains_tracer(items):
        return array.traced(items, dtype=dtype)
    return _record(np.fromiter(items, dtype, len(items)))


@creation(np.load)
def load(file, mmap_mode=None, allow_pickle=False, fix_imports=True, encoding="ASCII",
         **kwargs):
    """NumPy's ``load`` (arrays are constants of the trace; ``.npz`` archives are
    NumPy's ``NpzFile``)."""
    out = np.load(file, mmap_mode, allow_pickle, fix_imports, encoding, **kwargs)
    return _record(out) if isinstance(out, np.ndarray) else out


def _no_save(name, values):
    if _contains_tracer(list(values)):
        raise FuncdiffTypeError(
            f"`numpy.{name}` of a traced value: writing a file is a side effect, which a "
            "transformed function cannot perform (under jit the values are not even known "
            "while tracing).  Return the array from the function and save the result "
            f"outside the transform: `y = f(x); numpy.{name}(file, y)`.")


@implements(np.save)
def save(file, arr, allow_pickle=True, **kwargs):
    """NumPy's ``save``; a traced ``arr`` is an error (see the module docstring)."""
    _no_save("save", [arr])
    return np.save(file, arr, allow_pickle=allow_pickle, **kwargs)


@implements(np.savez)
def savez(file, *args, allow_pickle=True, **kwds):
    """NumPy's ``savez``; traced arrays are an error (see the module docstring)."""
    _no_save("savez", list(args) + list(kwds.values()))
    return np.savez(file, *args, allow_pickle=allow_pickle, **kwds)

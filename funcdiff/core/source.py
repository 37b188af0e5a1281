"""Where in user code an operation happens, and the thread-local trace state.

The bottom of ``core``: errors name the user's line (``current_source_info``), eqns
record it (``SourceInfo``), and both read the thread-local ``state`` (the trace stack and
the source override transforms set while they process an eqn).  Nothing here imports
another funcdiff module.
"""
from __future__ import annotations

import contextlib
import os
import sys
import threading
from typing import NamedTuple

import numpy as np


class SourceInfo(NamedTuple):
    filename: str
    lineno: int
    function: str

    def __str__(self):
        return f"{self.filename}:{self.lineno} ({self.function})"


_new_tuple = tuple.__new__


def new_source_info(filename, lineno, function) -> SourceInfo:
    """``SourceInfo(...)`` built directly as a tuple (no Python-level ``__new__``)."""
    return _new_tuple(SourceInfo, (filename, lineno, function))


class _TraceState(threading.local):
    def __init__(self):
        self.stack: list = []           # the active traces (core.trace.JaxprTrace)
        self.source_override = None
        self.memo = None   # (primitive, args, outputs): see `core.trace.memo_outputs`
        self.store_error = None   # (error, frame, offset): core.trace.numpy_may_replace


state = _TraceState()

PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
NP_DIR = os.path.dirname(os.path.abspath(np.__file__)) + os.sep
# contextlib: context managers written as generators run user code from its frames
SKIP = (PKG_DIR, NP_DIR, os.path.abspath(contextlib.__file__),
        "<funcdiff-")   # code that jit generated (registered as <funcdiff-jit-...>)
INTERNAL: dict = {}   # filename -> whether frames there are funcdiff's (or NumPy's)


def current_source_info():
    """The innermost user frame outside funcdiff and NumPy, as a ``SourceInfo`` (or
    the eqn's line while a transform processes an eqn)."""
    ov = state.source_override
    if ov is not None:
        return ov
    f = sys._getframe(2)
    internal = INTERNAL
    while f is not None:
        fn = f.f_code.co_filename
        skip = internal.get(fn)
        if skip is None:
            skip = internal[fn] = fn.startswith(SKIP)
        if not skip:
            return new_source_info(fn, f.f_lineno, f.f_code.co_name)
        f = f.f_back
    return None


class source_context:
    """``with source_context(source_info):`` attributes eqns recorded inside to
    ``source_info`` (used by transforms so that derived eqns point at the user line of
    the eqn they came from).  A plain class, not a generator-based context manager: the
    transforms enter one per eqn."""

    __slots__ = ("_source_info", "_prev")

    def __init__(self, source_info):
        self._source_info = source_info

    def __enter__(self):
        self._prev = state.source_override
        state.source_override = self._source_info

    def __exit__(self, *exc):
        state.source_override = self._prev
        return False

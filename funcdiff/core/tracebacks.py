"""Traceback filtering, as JAX does it: an error raised through a public transform
(``grad``, ``jit``, ``vmap``, ...) reaches the user with funcdiff's own frames (and the
code ``jit`` generated, ``<funcdiff-jit-...>``) removed, so the traceback shows the
user's frames and the message, plus a note saying frames were hidden and how to see
them.  The exception itself -- its type, message, ``__cause__`` -- is never changed, so
``except`` works as before.

Switch: ``funcdiff.config.update("traceback_filtering", "off")`` or the environment
variable ``FUNCDIFF_TRACEBACK_FILTERING=off`` shows every frame ("on", the default,
filters).
"""
from __future__ import annotations

import functools
import os
import types
import warnings
from typing import Any, Callable, TypeVar, cast

from .source import PKG_DIR

MODES = ("on", "off")
ENV_VAR = "FUNCDIFF_TRACEBACK_FILTERING"
NOTE = ("--------------------\n"
        "funcdiff removed its internal frames from the traceback of this exception "
        "(the error above names your line).  To see every frame, run with "
        f"{ENV_VAR}=off or call funcdiff.config.update(\"traceback_filtering\", \"off\").")
_INTERNAL = (PKG_DIR, "<funcdiff-")
F = TypeVar("F", bound=Callable[..., Any])


def _mode_from_env():
    v = os.environ.get(ENV_VAR, "on").strip().lower()
    aliases = {"": "on", "auto": "on", "1": "on", "true": "on", "remove_frames": "on",
               "quiet_remove_frames": "on", "0": "off", "false": "off"}
    v = aliases.get(v, v)
    if v not in MODES:
        warnings.warn(f"{ENV_VAR}={os.environ[ENV_VAR]!r} is not one of {MODES}; "
                      "filtering tracebacks (the default)", stacklevel=2)
        v = "on"
    return v


class _Flags:
    __slots__ = ("mode",)

    def __init__(self):
        self.mode = _mode_from_env()


flags = _Flags()


def _internal(frame):
    return frame.f_code.co_filename.startswith(_INTERNAL)


def filter_traceback(tb):
    """``tb`` without the entries of funcdiff's frames (a new chain; ``tb`` unchanged)."""
    kept = []
    while tb is not None:
        if not _internal(tb.tb_frame):
            kept.append(tb)
        tb = tb.tb_next
    out = None
    for t in reversed(kept):
        out = types.TracebackType(out, t.tb_frame, t.tb_lasti, t.tb_lineno)
    return out


def _add_note(e, note):
    if hasattr(e, "add_note"):          # Python >= 3.11: printed after the message
        if note not in getattr(e, "__notes__", ()):
            e.add_note(note)
    elif e.__cause__ is None and not e.__suppress_context__:
        # Python 3.10 prints no notes: chain the note in as the cause, printed first
        e.__cause__ = FilteredFramesNote(note)


class FilteredFramesNote(Exception):
    """(Python 3.10) The note chained to a filtered exception: frames were hidden."""


def filter_exception(e):
    """Filter the tracebacks of ``e`` and the exceptions chained to it, and add the note
    when frames were removed.  Returns ``e``."""
    seen = set()
    removed = False
    x = e
    while x is not None and id(x) not in seen:
        seen.add(id(x))
        tb = x.__traceback__
        new = filter_traceback(tb)
        n_old = n_new = 0
        while tb is not None:
            n_old, tb = n_old + 1, tb.tb_next
        t = new
        while t is not None:
            n_new, t = n_new + 1, t.tb_next
        if n_new != n_old:
            removed = True
            x.__traceback__ = new
        x = x.__cause__ if x.__cause__ is not None else (
            None if x.__suppress_context__ else x.__context__)
    if removed:
        _add_note(e, NOTE)
    return e


LIST_HINT = (
    "Hint: inside a transform a Python list or tuple argument is a pytree -- a list of "
    "traced scalars, not an array -- so arithmetic on it does what it does on any list "
    "(here: fail).  Make it an array first: x = funcdiff.numpy.asarray(x) in the "
    "function, or pass np.asarray(x).")
_SEQUENCE_ERRORS = ("'list'", "'tuple'", "can't multiply sequence",
                    "can only concatenate list", "can only concatenate tuple")


def add_hints(e):
    """Hints for Python errors users meet through transforms (not ``FuncdiffError``s,
    which say what to do themselves): a list reaching arithmetic."""
    if type(e) is TypeError:
        msg = str(e)
        if any(s in msg for s in _SEQUENCE_ERRORS) and (
                "operand" in msg or "sequence" in msg or "concatenate" in msg):
            _add_note(e, LIST_HINT)
    return e


def api_boundary(fun: F) -> F:
    """Decorate a public entry point: errors leaving it have funcdiff's frames filtered
    out of their traceback (unless the switch is off).  Nested boundaries filter again,
    which changes nothing; the outermost one decides what the user sees."""

    @functools.wraps(fun)
    def boundary(*args, **kwargs):
        __tracebackhide__ = True   # noqa: F841  (pytest and IPython hide this frame)
        try:
            return fun(*args, **kwargs)
        except Exception as e:
            add_hints(e)
            if flags.mode == "off":
                raise
            raise filter_exception(e)   # (re-raised: its traceback is the filtered one)

    return cast(F, boundary)


def reraise_filtered(e):
    """``raise reraise_filtered(e)`` inside ``except Exception as e`` of an entry point
    that cannot be wrapped by ``api_boundary`` (a hot path): ``e``, filtered when the
    switch is on."""
    add_hints(e)
    return e if flags.mode == "off" else filter_exception(e)


"""Traceback filtering: errors raised through transforms show the user's frames and the
message, with funcdiff's internal frames (and jit's generated code) removed unless
the switch is off."""
from __future__ import annotations

import os
import subprocess
import sys
import traceback

import numpy as np
import pytest

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff.core import tracebacks

PKG = os.path.dirname(os.path.abspath(fd.__file__)) + os.sep


def _internal(frames):
    return [f for f in frames if f.filename.startswith(PKG) or
            f.filename.startswith("<funcdiff-")]


@pytest.fixture
def filtering():
    """Run a test with filtering on (the default), restoring the switch after."""
    prev = fd.config.traceback_filtering
    fd.config.update("traceback_filtering", "on")
    yield
    fd.config.traceback_filtering = prev


def shape_bug(x):
    W = np.ones((3, 4))
    return fnp.sum(W @ x)   # x has 5 elements: a shape error here


def _raise(fun, *args, exc=fd.ShapeError):
    with pytest.raises(exc) as ei:
        fun(*args)
    return ei.value, traceback.extract_tb(ei.value.__traceback__)


def test_jit_grad_shape_error_shows_at_most_three_funcdiff_frames(filtering):
    e, frames = _raise(fd.jit(fd.grad(shape_bug)), np.ones(5))
    assert len(_internal(frames)) <= 3
    assert frames[-1].name == "shape_bug" and frames[-1].line == "return fnp.sum(W @ x)   " \
        "# x has 5 elements: a shape error here"
    assert "matmul" in str(e) and "(3, 4)" in str(e)   # the message is intact
    assert isinstance(e, ValueError)                   # and so is the type
    assert any("FUNCDIFF_TRACEBACK_FILTERING=off" in n for n in e.__notes__)


def test_switch_off_shows_every_frame(filtering):
    fd.config.update("traceback_filtering", "off")
    e, frames = _raise(fd.jit(fd.grad(shape_bug)), np.ones(5))
    internal = _internal(frames)
    assert len(internal) > 3
    names = {os.path.relpath(f.filename, PKG) for f in internal}
    assert os.path.join("api", "jit.py") in names and \
        os.path.join("api", "autodiff.py") in names
    assert not getattr(e, "__notes__", None)


def test_filtered_frames_are_a_subsequence_of_all_frames(filtering):
    """Filtering removes funcdiff's frames and nothing else: the user's frames are the
    same ones, in the same order, either way."""
    fun = fd.vmap(fd.grad(shape_bug))
    _, filtered = _raise(fun, np.ones((2, 5)))
    fd.config.traceback_filtering = "off"
    _, full = _raise(fun, np.ones((2, 5)))
    user = [(f.filename, f.lineno) for f in full if f not in _internal(full)]
    assert [(f.filename, f.lineno) for f in filtered if f not in _internal(filtered)] \
        == user
    assert len(_internal(filtered)) <= 3 < len(_internal(full))


@pytest.mark.parametrize("transform", ["grad", "vjp", "jvp", "vmap", "jit", "jacfwd",
                                       "jacrev", "hessian", "make_jaxpr", "scan",
                                       "checkpoint", "cost_analysis"])
def test_every_transform_filters(filtering, transform):
    x = np.ones(5)
    calls = {
        "grad": lambda: fd.grad(shape_bug)(x),
        "vjp": lambda: fd.vjp(shape_bug, x),
        "jvp": lambda: fd.jvp(shape_bug, (x,), (x,)),
        "vmap": lambda: fd.vmap(shape_bug)(np.ones((2, 5))),
        "jit": lambda: fd.jit(shape_bug)(x),
        "jacfwd": lambda: fd.jacfwd(shape_bug)(x),
        "jacrev": lambda: fd.jacrev(shape_bug)(x),
        "hessian": lambda: fd.hessian(shape_bug)(x),
        "make_jaxpr": lambda: fd.make_jaxpr(shape_bug)(x),
        "scan": lambda: fd.lax.scan(lambda c, _: (c, shape_bug(x + c)), 0.0, None, length=2),
        "checkpoint": lambda: fd.grad(fd.checkpoint(shape_bug))(x),
        "cost_analysis": lambda: fd.cost_analysis(shape_bug)(x),
    }
    e, frames = _raise(calls[transform])
    assert len(_internal(frames)) <= 3, [f"{f.filename}:{f.lineno}" for f in frames]
    assert frames[-1].name == "shape_bug"


def test_user_exceptions_keep_type_identity_and_cause(filtering):
    class MyError(Exception):
        pass

    def f(x):
        try:
            {}["missing"]
        except KeyError as k:
            raise MyError("mine") from k

    with pytest.raises(MyError) as ei:
        fd.jit(fd.grad(f))(1.0)
    e = ei.value
    assert str(e) == "mine" and isinstance(e.__cause__, KeyError)
    assert not _internal(traceback.extract_tb(e.__traceback__))[1:]
    # the cause's traceback is the user's too
    assert traceback.extract_tb(e.__cause__.__traceback__)[-1].name == "f"


def test_except_clauses_still_catch(filtering):
    for exc in (fd.ShapeError, fd.FuncdiffError, ValueError, Exception):
        try:
            fd.grad(shape_bug)(np.ones(5))
        except exc:
            pass


def test_the_note_is_added_once_through_nested_transforms(filtering):
    e, _ = _raise(fd.jit(fd.vmap(fd.jit(fd.grad(shape_bug)))), np.ones((2, 5)))
    assert sum("removed its internal frames" in n for n in e.__notes__) == 1


def test_no_note_when_nothing_was_removed(filtering):
    e = ValueError("plain")
    try:
        raise e
    except ValueError:
        pass
    tracebacks.filter_exception(e)
    assert not getattr(e, "__notes__", None)


def test_config_update_rejects_bad_names_and_values(filtering):
    with pytest.raises(fd.FuncdiffValueError, match="on.*off"):
        fd.config.update("traceback_filtering", "sometimes")
    with pytest.raises(fd.FuncdiffValueError, match="unknown switch 'no_such_switch'"):
        fd.config.update("no_such_switch", 1)
    assert fd.config.traceback_filtering == "on"


def _run(env_value, code):
    env = dict(os.environ, FUNCDIFF_TRACEBACK_FILTERING=env_value,
               PYTHONPATH=os.path.dirname(PKG.rstrip(os.sep)))
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120)


def test_environment_variable():
    code = "import funcdiff; print(funcdiff.config.traceback_filtering)"
    assert _run("off", code).stdout.strip() == "off"
    assert _run("on", code).stdout.strip() == "on"
    bad = _run("maybe", code)
    assert bad.stdout.strip() == "on" and "FUNCDIFF_TRACEBACK_FILTERING='maybe'" in \
        bad.stderr

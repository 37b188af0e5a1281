"""Feedback from jit and the residual listings: ``repr(jit(f))``, the one-time
``RetraceWarning``, the slow-compile log line and arguments named by pytree path."""
from __future__ import annotations

import io
import logging
import warnings

import numpy as np
import pytest

import funcdiff as fd
import funcdiff.numpy as fnp


@pytest.fixture
def threshold():
    prev = fd.config.retrace_warning_threshold
    yield
    fd.config.retrace_warning_threshold = prev


def _retrace_warnings(record):
    return [w for w in record if issubclass(w.category, fd.RetraceWarning)]


def test_repr_names_the_function_and_its_cache():
    def scale(x):
        return 2.0 * x

    jf = fd.jit(scale)
    assert "jit(scale)" in repr(jf) and "0 compiled signature(s)" in repr(jf)
    jf(np.ones(2))
    jf(np.ones(2))
    jf(np.ones(3))
    r = repr(jf)
    assert "test_feedback" in r and "scale" in r
    assert "2 compiled signature(s), 1 hit(s), 2 miss(es)" in r


def test_retrace_warning_fires_once_per_function_naming_the_argument(threshold):
    fd.config.update("retrace_warning_threshold", 4)

    def f(params, x):
        return fnp.sum(params["w"] * x)

    jf, jg = fd.jit(f), fd.jit(f)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        for n in range(1, 12):
            jf({"w": 1.0}, np.ones(n))
        for n in range(1, 12):
            jg({"w": 1.0}, np.ones(n))
    ws = _retrace_warnings(record)
    assert len(ws) == 2                                   # once for each function
    msg = str(ws[0].message)
    assert "jit(f) has traced and compiled 5 times" in msg
    assert "argument `x` changed from f64[4] to f64[5]" in msg
    assert "pad" in msg and "static_argnums" in msg
    assert ws[0].filename == __file__                     # points at the user's call
    assert issubclass(fd.RetraceWarning, fd.FuncdiffWarning)


def test_retrace_warning_names_pytree_paths_dtypes_and_static_values(threshold):
    fd.config.retrace_warning_threshold = 2
    dtypes = [np.float64, np.float32, np.float16, np.int64]
    jf = fd.jit(lambda p: p["w"][1] * 2)
    jn = fd.jit(lambda x, n: x * n, static_argnums=1)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        for dt in dtypes:
            jf({"w": [np.ones(2), np.ones(2, dt)]})
        for n in range(5):
            jn(np.ones(2), n)
    ws = [str(w.message) for w in _retrace_warnings(record)]
    assert len(ws) == 2
    assert "argument `p['w'][1]` changed from f32[2] to f16[2]" in ws[0]
    assert "cast the inputs to one dtype" in ws[0]
    assert "static argument 1 (`n`) changed from 1 to 2" in ws[1]
    assert "regular (traced) argument" in ws[1]


def test_no_retrace_warning_below_the_threshold(threshold):
    fd.config.retrace_warning_threshold = 8
    jf = fd.jit(lambda x: x + 1.0)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        for n in range(1, 9):          # 8 traces: not more than the threshold
            jf(np.ones(n))
        for n in range(1, 9):          # cache hits never count
            jf(np.ones(n))
    assert not _retrace_warnings(record)


def test_slow_compile_is_logged(caplog):
    prev = fd.config.compile_log_seconds
    try:
        with caplog.at_level(logging.WARNING, logger="funcdiff"):
            fd.config.compile_log_seconds = 1e9       # nothing is that slow
            fd.jit(lambda x: x * 3.0)(1.0)
            assert not caplog.records
            fd.config.compile_log_seconds = -1.0      # everything is slower
            fd.jit(lambda x: fnp.sin(x) * 3.0, static_argnums=())(np.ones(2))
        (rec,) = caplog.records
        assert rec.name == "funcdiff"
        assert "tracing and compiling took" in rec.getMessage()
        assert "2 eqns" in rec.getMessage()
    finally:
        fd.config.compile_log_seconds = prev


def test_saved_residuals_name_arguments_by_pytree_path():
    def loss(Ws, cfg, x):
        for W in Ws:
            x = fnp.tanh(W @ x)
        return fnp.sum(x * cfg["scale"])

    Ws = [np.ones((3, 3)) / (k + 1) for k in range(3)]
    buf = io.StringIO()
    fd.print_saved_residuals(loss, Ws, {"scale": np.ones(3)}, np.ones(3), file=buf)
    text = buf.getvalue()
    assert "argument Ws[1]" in text and "argument Ws[2]" in text
    assert "argument cfg['scale']" in text
    assert "argument 1" not in text
    kinds = {r.description: r.kind for r in fd.saved_residuals(
        loss, Ws, {"scale": np.ones(3)}, np.ones(3))}
    assert kinds["argument x"] == "argument"


# --- messages in the user's words ---------------------------------------------------------

def test_missing_return_says_your_function_returned_none():
    def f(x):
        fnp.sum(x ** 2)

    for t in (fd.grad, fd.value_and_grad):
        with pytest.raises(fd.GradientError, match="your function returned None.*`return`"):
            t(f)(np.ones(3))
    with pytest.raises(fd.FuncdiffTypeError, match=r"returned None \(is a `return` missing"):
        fd.grad(f, has_aux=True)(np.ones(3))


def test_integer_input_is_named_by_argument():
    def f(params, x):
        return fnp.sum(params["w"] * x)

    with pytest.raises(fd.GradientError,
                       match=r"argument `params\['w'\]` is an integer array \(dtype int64"):
        fd.grad(f)({"w": np.arange(3)}, np.ones(3))
    with pytest.raises(fd.GradientError, match="argument `x` is a boolean scalar"):
        fd.grad(f, argnums=1)({"w": np.ones(3)}, np.bool_(True))
    with pytest.raises(fd.GradientError, match="argument `x` is an integer array"):
        fd.jacrev(lambda x: x * 2)(np.arange(3))


def test_string_keyword_under_jit_suggests_static_argnames():
    f = fd.jit(lambda x, mode="a": x)
    with pytest.raises(fd.FuncdiffTypeError, match=r"static_argnames=\('mode',\)"):
        f(1.0, mode="b")
    with pytest.raises(fd.FuncdiffTypeError, match="static_argnums") as ei:
        f(1.0, "b")                               # positional: static_argnums
    assert "static_argnames" not in str(ei.value).split("\n  (at")[0]
    assert fd.jit(lambda x, mode="a": x, static_argnames="mode")(1.0, mode="b") == 1.0


@pytest.mark.parametrize("value, words", [
    ({"a": 1}, ["type dict", "regular (traced) argument", "(key, value) pairs"]),
    ([1, 2], ["type list", "tuple instead of a list"]),
    ({1, 2}, ["type set", "frozenset"]),
    (np.ones(2), ["type ndarray", "regular (traced) argument"]),
])
def test_unhashable_static_argument_names_its_real_type(value, words):
    f = fd.jit(lambda x, s: x, static_argnums=1)
    with pytest.raises(fd.FuncdiffTypeError) as ei:
        f(1.0, value)
    for w in words:
        assert w in str(ei.value)
    if not isinstance(value, list):
        assert "instead of a list" not in str(ei.value)


@pytest.mark.parametrize("body", [lambda x: x ** 2, lambda x: fnp.sum(x * 2.0),
                                  lambda x: fnp.sum(x + (1.0,))])
@pytest.mark.parametrize("transform", [fd.grad, lambda f: fd.jit(fd.grad(f)),
                                       fd.vmap])
def test_a_list_reaching_arithmetic_gets_a_hint(body, transform):
    arg = [np.ones(3), np.ones(3)] if transform is fd.vmap else [1.0, 2.0]
    with pytest.raises(TypeError) as ei:
        transform(body)(arg)
    assert type(ei.value) is TypeError                # Python's own error, unchanged
    assert any("funcdiff.numpy.asarray(x)" in n for n in ei.value.__notes__)


def test_no_list_hint_for_other_type_errors():
    def f(x):
        return x + "a"

    with pytest.raises(TypeError) as ei:
        fd.grad(f)(1.0)
    assert not any("asarray" in n for n in getattr(ei.value, "__notes__", []))

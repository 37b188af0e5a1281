"""float32 programs stay float32 in jit's generated code: the float32 MLP's
``value_and_grad`` (benchmarks/bench_autodiff.py) has no float64 value anywhere -- in
its optimized IR (sub-programs included), its constants and literals, its source, and
in every value the generated code computes when it runs (checked by running the source
with each assignment recorded)."""
from __future__ import annotations

import re

import numpy as np
import pytest

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff.analysis.cost import _sub_jaxprs
from funcdiff.core.ir import ClosedJaxpr, Literal


def mlp_setup(dtype):
    rng = np.random.default_rng(0)
    sizes = [50, 32, 32, 10]
    params = [((rng.standard_normal((a, b)) / np.sqrt(a)).astype(dtype),
               np.zeros(b, dtype)) for a, b in zip(sizes[:-1], sizes[1:])]
    x = rng.standard_normal((16, 50)).astype(dtype)
    y = np.eye(10, dtype=dtype)[rng.integers(0, 10, 16)]
    return params, x, y


def mlp_loss(params, x, y):
    """The benchmark's MLP (tanh layers, softmax cross-entropy), smaller."""
    h = x
    for W, b in params[:-1]:
        h = fnp.tanh(h @ W + b)
    W, b = params[-1]
    logits = h @ W + b
    m = fnp.max(logits, axis=1, keepdims=True)
    lse = fnp.log(fnp.sum(fnp.exp(logits - m), axis=1, keepdims=True)) + m
    return -fnp.sum(y * (logits - lse)) / x.shape[0]


def _all_eqns(jaxpr):
    for e in jaxpr.eqns:
        yield e
        for sub in _sub_jaxprs(e):
            yield from _all_eqns(sub)


def _recording(fn, source):
    """``fn``'s generated source with a ``_seen(name, value)`` call after every
    assignment, compiled in ``fn``'s globals: ``(function, seen)``."""
    seen = []
    out = []
    for line in source.split("\n\n#")[0].splitlines():
        out.append(line)
        m = re.match(r"(\s+)(t\d+) = ", line)
        if m:
            out.append(f"{m.group(1)}_seen.append(({m.group(2)!r}, {m.group(2)}))")
    ns = dict(fn.__globals__)
    ns["_seen"] = seen
    exec("\n".join(out), ns)   # noqa: S102 - the program's own source
    return ns[fn.__name__], seen


@pytest.fixture(params=["blocked", "plain"])
def fusion(request, monkeypatch):
    """Run with blocked fusion forced on every group, and without."""
    if request.param == "blocked":
        monkeypatch.setattr(fd.config, "_blocked_fusion_min_size", 1)
        monkeypatch.setattr(fd.config, "_blocked_fusion_block_size", 64)
    else:
        monkeypatch.setattr(fd.config, "blocked_fusion", False)
    return request.param


def test_float32_mlp_value_and_grad_has_no_float64(fusion):
    params, x, y = mlp_setup(np.float32)
    vg = fd.jit(fd.value_and_grad(mlp_loss))
    low = vg.lower(params, x, y)
    closed = low.jaxpr
    assert isinstance(closed, ClosedJaxpr)
    # the IR: every value, constant and strongly typed literal
    for e in _all_eqns(closed.jaxpr):
        for v in e.outvars + [a for a in e.invars if type(a) is not Literal]:
            assert v.aval.dtype != np.float64, (e, v.aval)
        for a in e.invars:
            if type(a) is Literal and not a.aval.weak_type:
                assert np.asarray(a.val).dtype != np.float64, (e, a)
    for c in closed.consts:
        assert np.asarray(c).dtype != np.float64
    # the source: no float64 spelled out (casts, dtype= arguments)
    code = "\n".join(line.split("  #")[0] for line in low.source.splitlines()
                     if not line.lstrip().startswith("#"))
    assert "float64" not in code and "astype(float)" not in code, code
    if fusion == "blocked":
        assert "_rt.blocks(" in low.source
    # at run time: every value the generated code assigns
    run, seen = _recording(low._entry.fn, low.source.split("\n\n#")[0])
    leaves = [p for layer in params for p in layer] + [x, y]
    loss, grads = run(*leaves)[0], run(*leaves)[1:]
    assert seen
    bad = [(name, np.asarray(v).dtype) for name, v in seen
           if np.asarray(v).dtype == np.float64]
    assert not bad, bad
    # and the answer: float32 throughout, close to float64's
    l32, g32 = vg(params, x, y)
    p64 = [(W.astype(np.float64), b.astype(np.float64)) for W, b in params]
    l64, g64 = fd.value_and_grad(mlp_loss)(p64, x.astype(np.float64), y.astype(np.float64))
    assert np.asarray(l32).dtype == np.float32
    np.testing.assert_allclose(l32, l64, rtol=1e-5)
    for (gw, gb), (hw, hb) in zip(g32, g64):
        assert gw.dtype == gb.dtype == np.float32
        np.testing.assert_allclose(gw, hw, rtol=1e-3, atol=1e-5)
    assert np.asarray(loss).dtype == np.float32 and len(grads) == 6

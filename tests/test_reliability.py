"""Reliability: tracer leaks, NaN debugging, threads, scale, state after errors, inputs
never mutated, and regressions for bugs the random programs found."""
from __future__ import annotations

import functools

import numpy as np

import funcdiff as fd
import funcdiff.numpy as fnp


# --- regressions ---------------------------------------------------------------------------

def test_jit_of_partial_and_callable_objects():
    """jit(functools.partial(...)) used to fail: JittedFunction read ``__name__``, which
    partials and callable objects do not have."""
    def f(x, a):
        return fnp.sin(x) * a

    class Scale:
        def __call__(self, x):
            return x * 3.0

    x = np.linspace(0.0, 1.0, 4)
    p = fd.jit(functools.partial(f, a=2.0))
    np.testing.assert_allclose(p(x), np.sin(x) * 2.0)
    assert "partial" in p.lower(x).source
    np.testing.assert_allclose(fd.jit(Scale())(x), x * 3.0)
    np.testing.assert_allclose(fd.grad(lambda y: fnp.sum(p(y)))(x), 2.0 * np.cos(x))

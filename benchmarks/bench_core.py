"""Core overheads (issue 2): funcdiff.numpy outside transforms vs NumPy; tracing cost per
eqn; interpreter overhead per eqn.  Run: python benchmarks/bench_core.py"""
from __future__ import annotations

import numpy as np

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff.core.avals import ShapedArray
from funcdiff.core.interpret import eval_jaxpr
from funcdiff.core.trace import trace_flat

try:
    from _harness import compare, table
except ImportError:  # run from the repo root as a module
    from benchmarks._harness import compare, table


def eager_vs_numpy():
    out = ""
    for n in (10, 1_000_000):
        x = np.random.default_rng(0).standard_normal(n)
        res = compare({
            "numpy: sum(tanh(x)**2 + sin(x)*x)":
                lambda: np.sum(np.tanh(x) ** 2 + np.sin(x) * x),
            "funcdiff.numpy (no transform)":
                lambda: fnp.sum(fnp.tanh(x) ** 2 + fnp.sin(x) * x),
        }, reps=9 if n > 1000 else 15)
        out += table(f"funcdiff.numpy outside transforms, n={n:,}", res,
                     baseline="numpy: sum(tanh(x)**2 + sin(x)*x)")
    return out


def chain(n_ops):
    def f(x):
        for i in range(n_ops):
            x = fnp.sin(x) * 1.0001 if i % 2 else x + 0.5
        return x
    return f


def tracing_and_interpreter():
    n_ops = 1000
    x = np.ones(10)
    av = [ShapedArray((10,), np.float64)]
    f = chain(n_ops)
    closed, _, _ = trace_flat(lambda a: [f(a)], av)
    n_eqns = len(closed.jaxpr.eqns)
    res = compare({
        "trace (abstract)": lambda: trace_flat(lambda a: [f(a)], av),
        "trace (concrete values)": lambda: trace_flat(lambda a: [f(a)], av, [x]),
        "eval_jaxpr": lambda: eval_jaxpr(closed.jaxpr, closed.consts, x),
        "plain numpy, same ops": lambda: f(x),
    }, reps=7)
    lines = [f"### tracing and interpreting a {n_eqns}-eqn chain on 10-element arrays", "",
             "| what | per eqn |", "|---|---|"]
    base = res["plain numpy, same ops"]["median"]
    for k, r in res.items():
        lines.append(f"| {k} | {r['median'] / n_eqns * 1e6:.2f} us |")
    lines.append(f"| interpreter overhead over NumPy | "
                 f"{(res['eval_jaxpr']['median'] - base) / n_eqns * 1e6:.2f} us |")
    return "\n".join(lines) + "\n\n"


def main():
    report = eager_vs_numpy() + "\n" + tracing_and_interpreter()
    print(report)
    return report


if __name__ == "__main__":
    main()
    fd  # noqa: B018

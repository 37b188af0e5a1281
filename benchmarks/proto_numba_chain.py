"""Measurement prototype (issue 21, item 2), not part of funcdiff: the 1,000-op
elementwise chain's ``jit(grad)`` program compiled by Numba into one scalar loop, against
funcdiff's NumPy code and hand-written NumPy, with Numba's compile cost and a warm disk
cache (a second process loading the kernel cached by program structure).

Numba is not a dependency: run this with an interpreter that has it, e.g.
``python -m venv /tmp/nb && /tmp/nb/bin/pip install numba`` then
``PYTHONPATH=. /tmp/nb/bin/python benchmarks/proto_numba_chain.py``.  Results are in
docs/benchmarks.md ("Reading the numbers").
"""
from __future__ import annotations

import hashlib
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import funcdiff as fd
import funcdiff.numpy as fnp

REPS = 200          # 5 eqns a step: the "1,000-op" program of bench_autodiff's latency row
N = 100             # elements: the dispatch-bound case

SCALAR = {"tanh": "math.tanh({0})", "sin": "math.sin({0})", "cos": "math.cos({0})",
          "mul": "({0} * {1})", "add": "({0} + {1})", "sub": "({0} - {1})",
          "square": "({0} * {0})", "neg": "(-{0})", "broadcast_to": "{0}"}


def g(x):
    for _ in range(REPS):
        x = fnp.tanh(x) * 0.5 + fnp.sin(x) * 0.25
    return fnp.sum(x)


def g_numpy_grad(x):
    xs = [x]
    for _ in range(REPS):
        x = np.tanh(x) * 0.5 + np.sin(x) * 0.25
        xs.append(x)
    d = np.ones_like(x)
    for i in range(REPS - 1, -1, -1):
        xi = xs[i]
        t = np.tanh(xi)
        d = d * ((1 - t * t) * 0.5 + np.cos(xi) * 0.25)
    return d


def kernel_source(closed):
    """One scalar loop over the elements for an elementwise program of one input."""
    j = closed.jaxpr
    names = {v: f"c{i}" for i, v in enumerate(j.constvars)}
    names[j.invars[0]] = "xi"
    lines = ["import math", "import numba", "", "@numba.njit(cache=True)",
             "def kernel(x, out" + "".join(f", c{i}" for i in range(len(j.constvars))) + "):",
             "    for i in range(x.shape[0]):", "        xi = x[i]"]
    for k, e in enumerate(j.eqns):
        tmpl = SCALAR[e.primitive.name]
        args = [names[a] if hasattr(a, "aval") and a in names else repr(float(a.val))
                for a in e.invars]
        names[e.outvars[0]] = f"v{k}"
        lines.append(f"        v{k} = {tmpl.format(*args)}")
    lines.append(f"        out[i] = {names[j.outvars[0]]}")
    return "\n".join(lines) + "\n"


def load(source, cache_dir):
    """The kernel module, written to a file named by the hash of its source (the
    program's structure), so Numba's disk cache finds it in another process."""
    key = hashlib.sha256(source.encode()).hexdigest()[:16]
    path = os.path.join(cache_dir, f"fdk_{key}.py")
    if not os.path.exists(path):
        with open(path, "w") as fh:
            fh.write(source)
    if cache_dir not in sys.path:
        sys.path.insert(0, cache_dir)
    return importlib.import_module(f"fdk_{key}").kernel


def first_call(cache_dir):
    """(In a fresh process) trace, optimize, build and run the kernel once: seconds."""
    x = np.random.default_rng(3).standard_normal(N)
    t0 = time.perf_counter()
    closed = fd.jit(fd.grad(g)).lower(x).jaxpr
    kernel = load(kernel_source(closed), cache_dir)
    out = np.empty_like(x)
    kernel(x, out, *[np.asarray(c).reshape(()).item() for c in closed.consts])
    took = time.perf_counter() - t0
    assert np.allclose(out, g_numpy_grad(x))
    return took


def fd_first_call():
    x = np.random.default_rng(3).standard_normal(N)
    t0 = time.perf_counter()
    fd.jit(fd.grad(g))(x)
    return time.perf_counter() - t0


def steady(cache_dir):
    x = np.random.default_rng(3).standard_normal(N)
    jg = fd.jit(fd.grad(g))
    closed = jg.lower(x).jaxpr
    kernel = load(kernel_source(closed), cache_dir)
    consts = [np.asarray(c).reshape(()).item() for c in closed.consts]
    out = np.empty_like(x)

    def numba_call():
        o = np.empty_like(x)
        kernel(x, o, *consts)
        return o
    numba_call()
    assert np.allclose(numba_call(), g_numpy_grad(x)) and np.allclose(jg(x), out * 0 +
                                                                       g_numpy_grad(x))
    fns = {"hand": lambda: g_numpy_grad(x), "fd.jit": lambda: jg(x), "numba": numba_call}
    samples = {k: [] for k in fns}
    for _ in range(15):
        for k, f in fns.items():
            t0 = time.perf_counter()
            for _ in range(20):
                f()
            samples[k].append((time.perf_counter() - t0) / 20)
    return {k: statistics.median(s) for k, s in samples.items()}


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--first":
        print(json.dumps({"numba": first_call(sys.argv[2]), "fd": fd_first_call()}))
        return
    cache_dir = tempfile.mkdtemp(prefix="fd-numba-")
    runs = []
    for label in ("cold (empty disk cache)", "warm (cached kernel)", "warm again"):
        p = subprocess.run([sys.executable, __file__, "--first", cache_dir],
                           capture_output=True, text=True)
        if p.returncode:
            raise SystemExit(p.stderr[-2000:])
        runs.append((label, json.loads(p.stdout.strip().splitlines()[-1])))
    st = steady(cache_dir)
    print(f"### Numba prototype: the {REPS * 5}-op chain's jit(grad), {N} elements\n")
    print("| first call in a new process | Numba kernel (incl. funcdiff trace) | "
          "fd.jit (NumPy code) |\n|---|---|---|")
    for label, r in runs:
        print(f"| {label} | {r['numba'] * 1e3:.0f} ms | {r['fd'] * 1e3:.0f} ms |")
    h = st["hand"]
    print("\n| steady state | time | ratio to hand |\n|---|---|---|")
    for k, v in st.items():
        print(f"| {k} | {v * 1e6:.0f} us | {v / h:.2f}x |")


if __name__ == "__main__":
    main()

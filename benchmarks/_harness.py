"""A small benchmark harness: interleaved repetitions, medians and spreads, ratios
against a baseline measured in the same run, markdown and JSON output.

Timing lives here and in the bench_*.py scripts, never in the test suite.
"""
from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

FAST = os.environ.get("FUNCDIFF_FAST") == "1" or "--smoke" in sys.argv


def _time_once(fn, inner):
    t = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - t) / inner


def autorange(fn, target=0.02):
    """How many inner calls make one repetition last about ``target`` seconds."""
    fn()
    n = 1
    while True:
        dt = _time_once(fn, n) * n
        if dt >= target or n >= 1 << 20:
            return n
        n = max(n * 2, int(n * target / max(dt, 1e-9)))


def compare(fns: dict, reps: int = 15, target: float = 0.02):
    """Time every callable in ``fns`` with interleaved repetitions.  Returns
    ``{name: {"median": s, "spread": (p25, p75) in s}}``."""
    if FAST:
        reps, target = 3, 0.002
    inner = {k: autorange(f, target) for k, f in fns.items()}
    samples = {k: [] for k in fns}
    gc.collect()
    for _ in range(reps):
        for k, f in fns.items():
            samples[k].append(_time_once(f, inner[k]))
    out = {}
    for k, s in samples.items():
        q = np.percentile(s, [25, 75])
        out[k] = {"median": statistics.median(s), "spread": (float(q[0]), float(q[1]))}
    return out


def fmt_time(s):
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s:.3g} s"


def table(title, results, baseline=None, extra=None):
    """Markdown table of ``results`` (from ``compare``) with ratios to ``baseline``,
    ending in a blank line."""
    lines = [f"### {title}", "", "| variant | median | IQR | ratio |", "|---|---|---|---|"]
    base = results[baseline]["median"] if baseline in results else None
    for k, r in results.items():
        ratio = f"{r['median'] / base:.2f}x" if base else ""
        lo, hi = r["spread"]
        lines.append(f"| {k} | {fmt_time(r['median'])} | {fmt_time(lo)}-{fmt_time(hi)} "
                     f"| {ratio} |")
    if extra:
        lines += ["", extra]
    # a blank line ends the table: what follows (the next table's heading) would else be
    # read as one more row
    return "\n".join(lines) + "\n\n"


def machine():
    import numpy
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, NumPy {numpy.__version__}")


def peers():
    """Importable peer libraries (used only when present)."""
    found = {}
    for name in ("autograd", "jax", "torch", "numexpr"):
        try:
            found[name] = __import__(name)
        except Exception:  # noqa: BLE001 - absent or broken: just not compared
            pass
    return found


def save_json(path, payload):
    with open(path, "w") as f:
        json.dump(payload, f, indent=1, default=float)

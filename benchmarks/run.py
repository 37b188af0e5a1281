"""Run the benchmark suite in one command and collect one report.

    python benchmarks/run.py                  # everything (several minutes)
    python benchmarks/run.py --only core,jit  # some workloads
    python benchmarks/run.py --smoke          # a tiny configuration (what the tests run)

Each workload is a script ``bench_<name>.py`` run in its own process (fresh caches and
allocator state); it prints markdown tables of medians, spreads and ratios measured in
that same run.  The report goes to stdout and to benchmarks/results/latest.md and
latest.json, with the machine it ran on.  Timing assertions never live in tests.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
WORKLOADS = {
    "core": "funcdiff.numpy overheads, tracing and interpreter cost per eqn",
    "autodiff": "eager and jit gradients, MLP, Hessian/HVP, compile latency",
    "vmap": "per-example gradients, jacfwd vs jacrev",
    "scan": "a 1,000-step scan RNN under jit(grad)",
    "checkpoint": "a deep tanh chain with and without checkpointing: time and memory",
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="comma-separated workloads: " +
                    ", ".join(WORKLOADS))
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, few repetitions")
    ap.add_argument("--out", default=str(HERE / "results"), help="report directory")
    args = ap.parse_args(argv)
    names = [n for n in args.only.split(",") if n] or list(WORKLOADS)
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        ap.error(f"unknown workload(s) {unknown}; choose from {list(WORKLOADS)}")
    sys.path.insert(0, str(HERE))
    from _harness import machine, peers
    env = dict(os.environ)
    if args.smoke:
        env["FUNCDIFF_FAST"] = "1"
    extra = ["--smoke"] if args.smoke else []
    sections, results = [], {}
    for name in names:
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, str(HERE / f"bench_{name}.py"), *extra],
                              capture_output=True, text=True, env=env, cwd=str(HERE))
        took = time.perf_counter() - t0
        ok = proc.returncode == 0
        body = proc.stdout if ok else proc.stdout + "\n```\n" + proc.stderr[-3000:] + "\n```"
        sections.append(f"## {name}: {WORKLOADS[name]}\n\n{body.strip()}\n")
        results[name] = {"ok": ok, "seconds": took, "markdown": proc.stdout}
        print(sections[-1], flush=True)
        if not ok:
            print(proc.stderr, file=sys.stderr)
    header = (f"# funcdiff benchmarks\n\nMachine: {machine()}.  Peers installed: "
              f"{', '.join(sorted(peers())) or 'none'}.  "
              f"{'Smoke configuration (sizes shrunk; numbers not meaningful).' if args.smoke else ''}\n")
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.md").write_text(header + "\n" + "\n".join(sections))
    (out / "latest.json").write_text(json.dumps({"machine": machine(), "smoke": args.smoke,
                                                 "results": results}, indent=1))
    return 0 if all(r["ok"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

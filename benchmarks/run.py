"""Run the benchmark suite in one command and collect one report.

    python benchmarks/run.py                  # everything (several minutes)
    python benchmarks/run.py --only core,jit  # some workloads
    python benchmarks/run.py --smoke          # a tiny configuration (what the tests run)
    python benchmarks/run.py --docs           # also publish into docs/benchmarks.md


Each workload is a script ``bench_<name>.py`` run in its own process (fresh caches and
allocator state); it prints markdown tables of medians, spreads and ratios measured in
that same run.  The report goes to stdout and to benchmarks/results/latest.md and
latest.json (with every table row parsed: variant, median, ratio), with the machine it
ran on, and a plot of the ratios (when matplotlib is installed).  ``--docs`` puts the
report and the plot into docs/benchmarks.md below its RESULTS marker.  Timing
assertions never live in tests.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
DOCS_PAGE = HERE.parent / "docs" / "benchmarks.md"
MARKER = "<!-- RESULTS: everything below is written by `python benchmarks/run.py --docs` -->"
WORKLOADS = {
    "core": "funcdiff.numpy overheads, tracing and interpreter cost per eqn",
    "autodiff": "eager and jit gradients, MLP, Hessian/HVP, compile latency",
    "vmap": "per-example gradients, jacfwd vs jacrev",
    "scan": "a 1,000-step scan RNN under jit(grad)",
    "checkpoint": "a deep tanh chain with and without checkpointing: time and memory",
    "eager": "eager grad's peak memory on a 60-layer network, against a hand-written backward",
    "sparse": "sparse Jacobians and Hessians by coloring: Bratu, Rosenbrock",
    "blocked": "jit's cache-blocked fusion (block sizes, threshold, numexpr) and the "
               "Hessian row",
    "dask": "a gradient over a chunked dataset on Dask: in process and on a LocalCluster",
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="comma-separated workloads: " +
                    ", ".join(WORKLOADS))
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, few repetitions")
    ap.add_argument("--out", default=str(HERE / "results"), help="report directory")
    ap.add_argument("--docs", action="store_true",
                    help="publish the report and plot into docs/benchmarks.md")
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
        body = tidy(proc.stdout)
        if not ok:
            body += "\n```\n" + proc.stderr[-3000:] + "\n```"
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
    report = header + "\n" + "\n".join(sections)
    rows = [row for r in results.values() for row in parse_tables(r["markdown"])]
    (out / "latest.md").write_text(report)
    (out / "latest.json").write_text(json.dumps({"machine": machine(), "smoke": args.smoke,
                                                 "results": results, "rows": rows},
                                                indent=1))
    plotted = plot(rows, out / "ratios.png")
    if args.docs:
        publish(report, plotted)
    return 0 if all(r["ok"] for r in results.values()) else 1


def tidy(markdown):
    """A script's markdown as a section of the report: its headings at level 3 or below
    (level 1 and 2 belong to the report and its workload sections) and a blank line
    after every table (a line right after a table row, a heading say, would be read as
    one more row of it)."""
    out = []
    for line in markdown.splitlines():
        if out and out[-1].startswith("|") and line.strip() and not line.startswith("|"):
            out.append("")
        out.append(re.sub(r"^#{1,2} ", "### ", line))
    return "\n".join(out)


_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


def parse_tables(markdown):
    """Every row of the harness's tables: ``{"table", "variant", "median_s", "ratio"}``
    (ratio None for a table without a baseline)."""
    rows, title, in_table = [], None, False
    for line in markdown.splitlines():
        if line.startswith("### "):
            title = line[4:].strip()
        if line.startswith("| variant | median | IQR | ratio |"):
            in_table = True
            continue
        if not line.startswith("|"):
            in_table = False
        if not in_table or line.startswith("|---"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        m = re.fullmatch(r"([0-9.e+-]+) (s|ms|us|ns)", cells[1])
        if not m:
            continue
        r = re.fullmatch(r"([0-9.]+)x", cells[3])
        rows.append({"table": title, "variant": cells[0],
                     "median_s": float(m.group(1)) * _UNITS[m.group(2)],
                     "ratio": float(r.group(1)) if r else None})
    return rows


def plot(rows, path):
    """Horizontal bars: each funcdiff variant's time as a ratio to its table's baseline
    (log scale; 1.0 = the hand-written NumPy baseline).  Returns the path, or None."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    pts = [r for r in rows if r["ratio"] is not None and not r["variant"].startswith("numpy")]
    if not pts:
        return None
    fig, ax = plt.subplots(figsize=(9, 0.28 * len(pts) + 1.2))
    labels = [f"{r['table'][:48]} | {r['variant'][:32]}" for r in pts]
    colors = ["tab:blue" if "funcdiff" in r["variant"] else "tab:gray" for r in pts]
    ax.barh(range(len(pts)), [r["ratio"] for r in pts], color=colors)
    ax.set_yticks(range(len(pts)), labels, fontsize=6)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.axvline(1.0, color="k", lw=0.8)
    ax.set_xlabel("time / baseline of the same table (log scale; blue = funcdiff)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def publish(report, plotted, page=DOCS_PAGE):
    """Replace everything below the RESULTS marker of ``page`` (docs/benchmarks.md),
    and copy the plot beside it (img/benchmarks.png)."""
    text = page.read_text()
    head = text.split(MARKER)[0] if MARKER in text else text.rstrip() + "\n\n"
    body = report.replace("# funcdiff benchmarks\n", "", 1).strip()
    body = re.sub(r"^(#{2,3}) ", r"#\1 ", body, flags=re.M)   # nest under "Results"
    img = ""
    if plotted is not None:
        target = page.parent / "img" / "benchmarks.png"
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(pathlib.Path(plotted).read_bytes())
        img = "![Ratios to the baseline of each table](img/benchmarks.png)\n\n"
    page.write_text(head + MARKER + "\n\n" + img + body + "\n")


if __name__ == "__main__":
    sys.exit(main())

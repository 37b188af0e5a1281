"""The benchmark suite runs end to end in its smoke configuration (no timing asserts:
tests check behaviour; benchmarks/ checks speed)."""
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_benchmark_suite_smoke(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke",
                           "--out", str(tmp_path)], capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads((tmp_path / "latest.json").read_text())
    assert report["smoke"] and set(report["results"]) >= {"core", "autodiff", "vmap",
                                                          "scan", "checkpoint"}
    md = (tmp_path / "latest.md").read_text()
    assert "| variant | median |" in md and "Machine:" in md
    # every table row is parsed into the JSON (what the plot and docs are made from)
    n_rows, in_table = 0, False
    for line in md.splitlines():
        if line.startswith("| variant | median | IQR | ratio |"):
            in_table = True
        elif not line.startswith("|"):
            in_table = False
        elif in_table and not line.startswith("|---"):
            n_rows += 1
    assert len(report["rows"]) == n_rows > 0
    assert all(r["median_s"] > 0 for r in report["rows"])

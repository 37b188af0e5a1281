"""The benchmark suite runs end to end in its smoke configuration (no timing asserts:
tests check behaviour; benchmarks/ checks speed), and the report it publishes into
docs/benchmarks.md renders (headings stay headings, tables stay tables)."""
import importlib.util
import json
import pathlib
import re
import subprocess
import sys

from _markdown import table_layout_problems

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _run_module():
    """benchmarks/run.py as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("benchmarks_run",
                                                  ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
    assert table_layout_problems(md) == []
    assert re.findall(r"^# .*", md, flags=re.M) == ["# funcdiff benchmarks"]   # one H1
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


def test_published_results_nest_under_the_page(tmp_path):
    """What a script prints (an H1 of its own, a heading right after a table row) is
    tidied into the page: one H1, the page's; every table ends before the next heading;
    the text above the RESULTS marker is kept."""
    run = _run_module()
    page = tmp_path / "benchmarks.md"
    page.write_text("# Benchmarks\n\nHand-written text.\n\n## Results\n\n" + run.MARKER
                    + "\n\nold results\n")
    script_output = ("# vmap benchmarks\n\n### first\n\n| variant | median | IQR | ratio |\n"
                     "|---|---|---|---|\n| a | 1 us | 1 us-1 us | 1.00x |\n### second\n\n"
                     "| what | per eqn |\n|---|---|\n| b | 2 us |\nA note.\n")
    report = ("# funcdiff benchmarks\n\nMachine: m.\n\n## vmap: batching\n\n"
              + run.tidy(script_output) + "\n")
    run.publish(report, None, page=page)
    text = page.read_text()
    assert text.startswith("# Benchmarks\n\nHand-written text.") and "old results" not in text
    assert re.findall(r"^# .*", text, flags=re.M) == ["# Benchmarks"]
    assert re.findall(r"^#+ (?:first|second|vmap.*)$", text, flags=re.M) == [
        "### vmap: batching", "#### vmap benchmarks", "#### first", "#### second"]
    assert table_layout_problems(text) == []
    assert table_layout_problems(script_output) != []      # what tidy() repaired

"""Examples run in fast mode (FUNCDIFF_FAST=1), so they never rot; their plots go to an
output folder, never over the pictures in docs/img/ (only ``--docs`` writes there)."""
import hashlib
import importlib.util
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.py") if not p.name.startswith("_"))
PLOTTING = {p.name for p in EXAMPLES if "from _plotting import" in p.read_text()}
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


def _docs_images():
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in (ROOT / "docs" / "img").glob("*")}


def _plotting_module():
    """examples/_plotting.py as a module (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location("examples_plotting",
                                                  ROOT / "examples" / "_plotting.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script, tmp_path):
    env = dict(os.environ, FUNCDIFF_FAST="1", MPLBACKEND="Agg")
    out = tmp_path / "out"
    images = _docs_images()
    proc = subprocess.run([sys.executable, str(script), "--out", str(out)], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{script.name} failed:\n{proc.stdout}\n{proc.stderr}"
    assert proc.stdout.strip(), f"{script.name} printed nothing"
    assert _docs_images() == images, f"{script.name} changed docs/img/"
    if script.name in PLOTTING and HAS_MATPLOTLIB:
        png = out / script.with_suffix(".png").name
        assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"plot written to {png}" in proc.stdout


def test_plots_go_to_an_output_folder_unless_docs_is_asked():
    plotting = _plotting_module()
    examples = ROOT / "examples"
    assert plotting.output_dir([], environ={}) == examples / "out"
    assert plotting.output_dir(["--fast"], environ={}) == examples / "out"
    assert plotting.output_dir([], environ={"FUNCDIFF_FAST": "1"}) == examples / "out"
    assert plotting.output_dir(["--docs"], environ={}) == ROOT / "docs" / "img"
    assert plotting.output_dir(["--out", "pics"], environ={}) == pathlib.Path("pics")
    assert "examples/out/" in (ROOT / ".gitignore").read_text().splitlines()


@pytest.mark.parametrize("argv, environ, message", [
    (["--docs", "--fast"], {}, "full mode"),
    (["--docs"], {"FUNCDIFF_FAST": "1"}, "full mode"),
    (["--out"], {}, "--out needs a directory"),
])
def test_plot_destination_errors(argv, environ, message):
    with pytest.raises(SystemExit, match=message):
        _plotting_module().output_dir(argv, environ=environ)


def test_missing_matplotlib_names_the_checkout_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)     # import fails
    assert _plotting_module().pyplot() is None
    assert 'pip install -e ".[plot]"' in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(PLOTTING))
def test_docs_flag_is_refused_in_fast_mode_before_the_run(name, tmp_path):
    images = _docs_images()
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / name), "--docs"],
                          cwd=tmp_path, env=dict(os.environ, FUNCDIFF_FAST="1"),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "full mode" in proc.stderr
    assert proc.stdout == ""                      # refused before measuring anything
    assert _docs_images() == images

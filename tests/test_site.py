"""The documentation site builds with mkdocs, warnings as errors (broken links, pages
missing from the nav, docstrings mkdocstrings cannot render)."""
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent

pytest.importorskip(
    "mkdocs", reason="mkdocs is not installed (pip install -e \".[docs]\"; CI installs it)")
pytest.importorskip("mkdocstrings", reason="mkdocstrings is not installed (extra `docs`)")
pytest.importorskip("material", reason="mkdocs-material is not installed (extra `docs`)")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
         str(ROOT / "mkdocs.yml"), "--site-dir", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    return out


def test_site_builds(site):
    assert (site / "index.html").exists()
    assert (site / "getting-started" / "index.html").exists()


def test_api_reference_is_rendered_from_docstrings(site):
    html = (site / "api" / "index.html").read_text()
    import funcdiff
    first = funcdiff.vmap.__doc__.split("``")[0].strip()     # "Vectorizing map: ..."
    assert "funcdiff.value_and_grad" in html and "funcdiff.lax.scan" in html
    assert first in html


def test_every_page_is_in_the_nav():
    nav = (ROOT / "mkdocs.yml").read_text().split("\nnav:", 1)[1]
    listed = set(re.findall(r"([\w\-/]+\.md)", nav))
    pages = {str(p.relative_to(ROOT / "docs")) for p in (ROOT / "docs").glob("**/*.md")}
    missing = sorted(pages - listed)
    assert not missing, f"docs pages not in mkdocs.yml's nav: {missing}"

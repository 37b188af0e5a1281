"""The documentation site builds with mkdocs, warnings as errors (broken links, pages
missing from the nav, docstrings mkdocstrings cannot render)."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_site_builds(built_site):     # the fixture: tests/conftest.py
    assert (built_site / "index.html").exists()
    assert (built_site / "getting-started" / "index.html").exists()


def test_api_reference_is_rendered_from_docstrings(built_site):
    html = (built_site / "api" / "index.html").read_text()
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

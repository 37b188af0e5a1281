"""Every ```python block in README.md and docs/*.md runs (blocks of one file share a
namespace, in order), so the documentation never rots."""
import pathlib
import re

import pytest

from _markdown import table_layout_problems

ROOT = pathlib.Path(__file__).resolve().parent.parent
FILES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("**/*.md"))
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
# `<!-- requires: dask -->` on a page: its blocks run only where that module imports
_REQUIRES = re.compile(r"^<!-- requires: ([\w.]+) -->$", re.M)


def _blocks(path):
    return BLOCK.findall(path.read_text())


@pytest.mark.parametrize("path", [p for p in FILES if _blocks(p)],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_code_blocks_run(path, monkeypatch, tmp_path):
    for module in _REQUIRES.findall(path.read_text()):   # optional extras a page runs
        pytest.importorskip(module, reason=f"{path.name} runs {module} (an optional extra)")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FUNCDIFF_FAST", "1")
    namespace = {"__name__": f"doc_{path.stem}"}
    for i, code in enumerate(_blocks(path)):
        try:
            exec(compile(code, f"{path.name}[block {i}]", "exec"), namespace)
        except Exception as e:  # noqa: BLE001 - re-raised with the block's location
            raise AssertionError(f"{path.name}, code block {i} failed: {e!r}\n{code}") from e


def test_readme_has_the_commands_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    cmd = 'pip install -e ".[test]" && python -m pytest'
    assert cmd in readme and cmd in ci
    assert "pip install -e . && python examples/quickstart.py" in readme


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_tables_are_blocks_of_their_own(path):
    """No heading or text right after a table row, no table right after text: the site
    would show the heading as a table cell (tests/test_site_browser.py checks the
    rendered pages too)."""
    problems = table_layout_problems(path.read_text())
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


def test_table_layout_check_finds_what_it_should():
    good = "text\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n## next\n"
    assert table_layout_problems(good) == []
    assert table_layout_problems("```\n| a |\n## x\n```\n") == []    # code is skipped
    heading_in_cell = table_layout_problems("| a |\n|---|\n| 1 |\n#### next\n")
    assert len(heading_in_cell) == 1 and heading_in_cell[0].startswith("line 4: a heading")
    glued = table_layout_problems("intro\n| a |\n|---|\n\nend\n")
    assert len(glued) == 1 and glued[0].startswith("line 2: a table right after")


def test_getting_started_lists_every_extra():
    """Every extra of pyproject.toml has a row in getting-started's table of extras."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    section = pyproject.split("[project.optional-dependencies]", 1)[1].split("\n[", 1)[0]
    extras = re.findall(r"^([\w-]+)\s*=", section, flags=re.M)
    assert {"test", "fast", "plot", "examples", "docs", "bench"} <= set(extras)
    page = (ROOT / "docs" / "getting-started.md").read_text()
    missing = [e for e in extras if f"| `{e}` |" not in page]
    assert not missing, f"extras not listed in docs/getting-started.md: {missing}"

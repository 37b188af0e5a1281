"""Every ```python block in README.md and docs/*.md runs (blocks of one file share a
namespace, in order), so the documentation never rots."""
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
FILES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("**/*.md"))
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _blocks(path):
    return BLOCK.findall(path.read_text())


@pytest.mark.parametrize("path", [p for p in FILES if _blocks(p)],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_code_blocks_run(path, monkeypatch, tmp_path):
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

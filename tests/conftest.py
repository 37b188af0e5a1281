"""Shared test configuration.

Hypothesis profiles:

* ``ci`` (the default): derandomized, modest ``max_examples``, no deadline -- the whole
  suite stays fast and every run tries the same examples.
* ``soak``: many random examples, for hunting bugs (``pytest --hypothesis-profile=soak``).

``FUNCDIFF_HIDE_NUMEXPR=1`` runs the tests as if the optional numexpr were not installed.

The ``ci`` profile is loaded here at import; the hypothesis pytest plugin loads the
profile named by ``--hypothesis-profile`` afterwards (in ``pytest_configure``), so the
command-line choice wins.
"""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

if os.environ.get("FUNCDIFF_HIDE_NUMEXPR") == "1":
    # run the suite as on a machine without the optional `fast` extra (.ci/run does,
    # for the jit tests): importing numexpr fails, as if it were not installed
    import sys

    class _HideNumexpr:
        def find_spec(self, name, path=None, target=None):
            if name == "numexpr" or name.startswith("numexpr."):
                raise ImportError("numexpr hidden by FUNCDIFF_HIDE_NUMEXPR=1")
            return None

    sys.meta_path.insert(0, _HideNumexpr())

settings.register_profile(
    "ci", derandomize=True, max_examples=25, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile(
    "soak", max_examples=1000, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("FUNCDIFF_HYPOTHESIS_PROFILE", "ci"))


_all_imported = []


def _import_every_funcdiff_module():
    if not _all_imported:
        import importlib
        import pkgutil

        import funcdiff
        for mod in pkgutil.walk_packages(funcdiff.__path__, "funcdiff."):
            importlib.import_module(mod.name)
        _all_imported.append(True)


@pytest.fixture
def rng():
    """A seeded NumPy generator, fresh for each test."""
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _trace_stack_is_clean():
    """Every test must leave the (thread-local) trace stack empty: a transform that
    forgets to pop its trace on some exit path would otherwise poison later tests."""
    from funcdiff.core.trace import state
    assert not state.stack, "trace stack not empty before the test"
    yield
    leftover = list(state.stack)
    state.stack.clear()
    assert not leftover, f"trace stack not empty after the test: {leftover}"


@pytest.fixture(autouse=True)
def _primitive_registry_is_restored():
    """A test that defines its own primitive must unregister it: the generated docs
    (docs/ir.md) list the registry, so a leftover would make them look stale."""
    from funcdiff.core.primitive import registry
    _import_every_funcdiff_module()     # lazily imported modules register primitives too
    before = set(registry)
    yield
    added = set(registry) - before
    for name in added:
        del registry[name]
    assert not added, f"test left primitives registered: {sorted(added)}"


@pytest.fixture(scope="session")
def built_site(tmp_path_factory):
    """The documentation site, built once per session with ``mkdocs build --strict``
    (warnings are errors: broken links, pages missing from the nav, docstrings
    mkdocstrings cannot render).  Skips where the ``docs`` extra is not installed."""
    for module in ("mkdocs", "mkdocstrings", "material"):
        pytest.importorskip(module, reason=f"{module} is not installed (pip install -e "
                            f"\".[docs]\"; CI installs it)")
    root = pathlib.Path(__file__).resolve().parent.parent
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
         str(root / "mkdocs.yml"), "--site-dir", str(out)],
        cwd=root, env=dict(os.environ, NO_MKDOCS_2_WARNING="1"), capture_output=True,
        text=True, timeout=300)
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    return out

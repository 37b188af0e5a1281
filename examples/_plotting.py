"""What the plotting examples share: matplotlib if installed, and where a plot goes.

A plot is written to ``examples/out/`` (git-ignored), to ``DIR`` with ``--out DIR``, or,
with ``--docs``, into ``docs/img/``, replacing the picture the documentation shows (do
that with a full run, not ``--fast``)."""
import os
import pathlib
import sys

EXAMPLES = pathlib.Path(__file__).resolve().parent


def pyplot():
    """``matplotlib.pyplot`` on a non-interactive backend, or None (with a note) when
    matplotlib is not installed."""
    try:
        import matplotlib
        matplotlib.use(os.environ.get("MPLBACKEND", "Agg"))
        import matplotlib.pyplot as plt
    except ImportError:
        print('\n(matplotlib is not installed: pip install -e ".[plot]" in the funcdiff '
              "checkout to draw the plot)")
        return None
    return plt


def output_dir(argv=None, environ=None):
    """Where plots go: ``--out DIR``, else ``docs/img/`` with ``--docs`` (refused in fast
    mode: the documentation shows full runs), else ``examples/out/``."""
    argv = sys.argv[1:] if argv is None else argv
    environ = os.environ if environ is None else environ
    if "--out" in argv:
        i = argv.index("--out")
        if i + 1 == len(argv):
            raise SystemExit("--out needs a directory: --out DIR")
        return pathlib.Path(argv[i + 1])
    if "--docs" in argv:
        if environ.get("FUNCDIFF_FAST") == "1" or "--fast" in argv:
            raise SystemExit("--docs replaces the pictures in docs/img/: run it in full "
                             "mode (without --fast or FUNCDIFF_FAST=1)")
        return EXAMPLES.parent / "docs" / "img"
    return EXAMPLES / "out"


def save(fig, name, out_dir):
    """Write ``fig`` as ``name`` into ``out_dir`` (from ``output_dir()``, asked for
    before the run, so that a wrong flag fails at once) and say where."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / name
    fig.savefig(path, dpi=110)
    print(f"\nplot written to {path}")
    return path

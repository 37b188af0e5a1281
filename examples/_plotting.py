"""What the plotting examples share: matplotlib if installed, and where a plot goes
(``--out DIR``; else the working directory in fast mode, ``docs/img/`` in full mode)."""
import os
import pathlib
import sys


def pyplot():
    """``matplotlib.pyplot`` on a non-interactive backend, or None (with a note) when
    matplotlib is not installed."""
    try:
        import matplotlib
        matplotlib.use(os.environ.get("MPLBACKEND", "Agg"))
        import matplotlib.pyplot as plt
    except ImportError:
        print("\n(matplotlib not installed: pip install funcdiff[plot] to draw the plot)")
        return None
    return plt


def save(fig, name, fast):
    """Write ``fig`` as ``name`` and say where."""
    if "--out" in sys.argv:
        out_dir = pathlib.Path(sys.argv[sys.argv.index("--out") + 1])
    elif fast:
        out_dir = pathlib.Path.cwd()
    else:
        out_dir = pathlib.Path(__file__).resolve().parent.parent / "docs" / "img"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / name
    fig.savefig(path, dpi=110)
    print(f"\nplot written to {path}")

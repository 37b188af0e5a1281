"""Error classes.  Every user-facing error is a ``FuncdiffError`` *and* the matching
built-in exception (``TypeError``, ``ValueError``, ``IndexError``), as in JAX, so both
``except FuncdiffError`` and ``except TypeError`` work.  Messages say what happened,
the shapes/types involved, the user's line, and what to do instead."""
from .source import current_source_info


class FuncdiffError(Exception):
    """Base class of every error funcdiff raises on purpose.

    The message ends with the user's line -- the innermost frame outside funcdiff and
    NumPy, or, while a transform processes an eqn, the line that made that eqn -- unless
    it names that line already."""

    def __init__(self, *args):
        if len(args) == 1 and isinstance(args[0], str):
            args = (_with_user_line(args[0]),)
        super().__init__(*args)


def _with_user_line(msg):
    src = current_source_info()
    if src is None:
        return msg
    loc = f"{src.filename}:{src.lineno}"
    tag = f"\n  (at {src})"
    if loc in msg:
        if msg.count(loc) > 1 and tag in msg:
            # re-raised with more context, e.g. "(in `add`, at <loc>)": one mention is
            # enough
            msg = msg.replace(tag, "", 1)
        return msg
    if "\n  (at " in msg:      # located already (e.g. an unpickled copy)
        return msg
    return msg + tag


class FuncdiffTypeError(FuncdiffError, TypeError):
    """A value of the wrong type or dtype (e.g. integer input to ``grad``)."""


class FuncdiffValueError(FuncdiffError, ValueError):
    """A value of the wrong shape or structure."""


class FuncdiffIndexError(FuncdiffError, IndexError):
    """An index out of bounds or of an unsupported kind."""


class ShapeError(FuncdiffValueError):
    """Operand shapes that do not fit the operation."""


class ConcretizationError(FuncdiffTypeError):
    """Python control flow (``if``, ``while``, ``bool()``, ``float()``, ``int()``) on a value
    whose concrete value is unknown, i.e. inside ``jit``.  Use ``funcdiff.lax.cond`` /
    ``while_loop`` / ``fori_loop``, or mark the argument static with ``static_argnums``."""


class TracerArrayConversionError(FuncdiffTypeError):
    """``numpy.asarray(traced)`` or similar: it would silently cut the derivative."""


class TracerBufferWriteError(TracerArrayConversionError):
    """A traced value written into a NumPy array: ``buf[i] = x``, ``buf[:] = [x, y]``,
    ``buf.fill(x)``, ``numpy.copyto(buf, x)`` / ``put`` / ``place`` / ``putmask``,
    ``numpy.sin(x, out=buf)``, ``buf += x``.  The array would hold a plain number
    without the derivative (or, under ``jit``/``vmap``, no value is known to store).
    Build the array with ``funcdiff.numpy`` and update it functionally::

        buf = fnp.zeros(3).at[0].set(x[0] * 2)

    or collect the values in a list and ``np.stack`` them.  Writing values that carry
    no derivative (integers, ``stop_gradient(x)``) works outside ``jit``/``vmap``."""


class TracerLeakError(FuncdiffError, RuntimeError):
    """A traced value escaped the transform that created it and was used later."""


class NonConcreteBooleanIndexError(FuncdiffIndexError):
    """Boolean-mask indexing needs the mask's value, which ``jit`` does not know."""


class UnsupportedNumpyFunctionError(FuncdiffTypeError):
    """A NumPy function funcdiff does not (yet) trace was applied to a traced value."""


class FuncdiffWarning(UserWarning):
    """Base class of funcdiff's own warnings that are not about derivatives (e.g.
    ``RetraceWarning``)."""


class RetraceWarning(FuncdiffWarning):
    """A ``jit`` function traced (and compiled) more often than
    ``funcdiff.config.retrace_warning_threshold``: an argument keeps changing shape,
    dtype or static value.  Issued once per function, naming the argument."""


class DerivativeCutWarning(UserWarning):
    """``float(x)``, ``complex(x)``, ``x.item()``, ``x.tolist()`` (or a ``math.*``
    function, ``"%f" % x``: anything asking for a Python number) on a traced value that
    carries a derivative (under ``grad``/``jvp``/``vjp``): the Python number has none.
    Fine for control flow (``while abs(float(err)) > tol``); to compute with the value,
    keep it traced.  Convert ``funcdiff.stop_gradient(x)`` to say the cut is intended.
    Writing the value into a NumPy array is an error instead
    (``TracerBufferWriteError``); docs/sharp-edges.md lists every deliberate cut."""


class ImplicitGradientWarning(UserWarning):
    """A derivative taken through the solution of a solver that did not converge
    (``scipy.optimize.minimize``, ``scipy.sparse.linalg.cg``/``gmres``/``bicgstab``):
    implicit differentiation assumes the solution is exact (the objective's gradient is
    zero, the residual is zero), so the derivative is unreliable.  Tighten the tolerance
    or raise ``maxiter``, and check the result's status."""


class GradientError(FuncdiffTypeError):
    """A derivative asked for where none is defined (non-scalar ``grad`` output, integer
    inputs, a non-differentiable primitive on a differentiated path)."""


class StructureError(FuncdiffValueError):
    """Pytree structures that should match do not (primals vs tangents, cotangents)."""


def where_str(source_info):
    """Render an eqn's source info as ``file:line (function)`` for messages."""
    if source_info is None:
        return "<unknown location>"
    filename, lineno, func = source_info
    return f"{filename}:{lineno} ({func})"

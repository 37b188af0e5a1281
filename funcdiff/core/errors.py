"""Error classes.  Every user-facing error is a ``FuncdiffError`` *and* the matching
built-in exception (``TypeError``, ``ValueError``, ``IndexError``), as in JAX, so both
``except FuncdiffError`` and ``except TypeError`` work.  Messages say what happened,
the shapes/types involved, the user's line, and what to do instead."""
from .source import current_source_info


class FuncdiffError(Exception):
    """Base class of every error funcdiff raises on purpose.

    The message ends with the user's line -- the innermost frame outside funcdiff and
    NumPy, or, while a transform processes an eqn, the line that made that eqn -- unless
    it names that line already.

    Examples
    --------
    Every funcdiff error is also the matching built-in exception:

    >>> try:
    ...     fd.jit(lambda x, y: x @ y)(np.ones(3), np.ones(4))
    ... except fd.FuncdiffError as e:
    ...     print(type(e).__name__, isinstance(e, ValueError))
    ShapeError True
    """

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
    """A value of the wrong type or dtype (e.g. integer input to ``grad``).

    Examples
    --------
    >>> try:
    ...     fd.vmap(lambda x: x, in_axes="0")(np.ones(2))
    ... except fd.FuncdiffTypeError as e:
    ...     print(type(e).__name__, isinstance(e, TypeError))
    FuncdiffTypeError True
    """


class FuncdiffValueError(FuncdiffError, ValueError):
    """A value of the wrong shape or structure.

    Examples
    --------
    >>> try:
    ...     fd.grad(lambda x: x, argnums=2)(1.0)
    ... except fd.FuncdiffValueError as e:
    ...     print(type(e).__name__, isinstance(e, ValueError))
    FuncdiffValueError True
    """


class FuncdiffIndexError(FuncdiffError, IndexError):
    """An index out of bounds or of an unsupported kind.

    Examples
    --------
    >>> try:
    ...     fd.jit(lambda x: x[5])(np.ones(3))
    ... except fd.FuncdiffIndexError as e:
    ...     print(type(e).__name__, isinstance(e, IndexError))
    FuncdiffIndexError True
    """


class ShapeError(FuncdiffValueError):
    """Operand shapes that do not fit the operation.

    Examples
    --------
    >>> try:
    ...     fd.jit(lambda x, y: x @ y)(np.ones(3), np.ones(4))
    ... except fd.ShapeError as e:
    ...     print(type(e).__name__)
    ShapeError
    """


class ConcretizationError(FuncdiffTypeError):
    """The concrete value of a traced value was needed, inside ``jit``.

    Python control flow (``if``, ``while``, ``bool()``, ``float()``, ``int()``) on a value
    whose concrete value is unknown, i.e. inside ``jit``.  Use ``funcdiff.lax.cond`` /
    ``while_loop`` / ``fori_loop``, or mark the argument static with ``static_argnums``.

    Examples
    --------
    >>> try:
    ...     fd.jit(lambda x: x if x > 0 else -x)(1.0)
    ... except fd.ConcretizationError as e:
    ...     print(type(e).__name__)
    ConcretizationError
    >>> from funcdiff import lax
    >>> print(fd.jit(lambda x: lax.cond(x > 0, lambda v: v, lambda v: -v, x))(-2.0))
    2.0
    """


class TracerArrayConversionError(FuncdiffTypeError):
    """``numpy.asarray(traced)`` or similar: it would silently cut the derivative.

    Examples
    --------
    >>> try:
    ...     fd.grad(lambda x: np.asarray(x).sum())(np.ones(2))
    ... except fd.TracerArrayConversionError as e:
    ...     print(type(e).__name__)
    TracerArrayConversionError
    """


class TracerBufferWriteError(TracerArrayConversionError):
    """A traced value was written into a NumPy array.

    A traced value written into a NumPy array: ``buf[i] = x``, ``buf[:] = [x, y]``,
    ``buf.fill(x)``, ``numpy.copyto(buf, x)`` / ``put`` / ``place`` / ``putmask``,
    ``numpy.sin(x, out=buf)``, ``buf += x``.  The array would hold a plain number
    without the derivative (or, under ``jit``/``vmap``, no value is known to store).
    Build the array with ``funcdiff.numpy`` and update it functionally::

        buf = fnp.zeros(3).at[0].set(x[0] * 2)

    or collect the values in a list and ``np.stack`` them.  Writing values that carry
    no derivative (integers, ``stop_gradient(x)``) works outside ``jit``/``vmap``.

    Examples
    --------
    >>> buf = np.zeros(2)
    >>> def write(x):
    ...     buf[0] = x
    ...     return x
    >>> try:
    ...     fd.grad(write)(1.0)
    ... except fd.TracerBufferWriteError as e:
    ...     print(type(e).__name__)
    TracerBufferWriteError
    >>> print(fd.grad(lambda x: fnp.sum(fnp.zeros(2).at[0].set(x) * 3.0))(1.0))
    3.0
    """


class TracerLeakError(FuncdiffError, RuntimeError):
    """A traced value escaped the transform that created it and was used later.

    Examples
    --------
    >>> leaked = []
    >>> def f(x):
    ...     leaked.append(x)   # the traced x escapes
    ...     return x
    >>> _ = fd.grad(f)(1.0)
    >>> try:
    ...     fd.grad(lambda y: y * leaked[0])(2.0)
    ... except fd.TracerLeakError as e:
    ...     print(type(e).__name__)
    TracerLeakError
    """


class NonConcreteBooleanIndexError(FuncdiffIndexError):
    """Boolean-mask indexing needs the mask's value, which ``jit`` does not know.

    Examples
    --------
    >>> try:
    ...     fd.jit(lambda x: x[x > 0])(np.ones(3))
    ... except fd.NonConcreteBooleanIndexError as e:
    ...     print(type(e).__name__)
    NonConcreteBooleanIndexError
    >>> print(fd.jit(lambda x: fnp.where(x > 0, x, 0.0))(np.array([-1.0, 2.0])))
    [0. 2.]
    """


class UnsupportedNumpyFunctionError(FuncdiffTypeError):
    """A NumPy function funcdiff does not (yet) trace was applied to a traced value.

    Examples
    --------
    >>> try:
    ...     fd.jit(lambda x: np.busday_count(x, x))(np.ones(2))
    ... except fd.UnsupportedNumpyFunctionError as e:
    ...     print(type(e).__name__)
    UnsupportedNumpyFunctionError
    """


class ArrayLibraryError(FuncdiffTypeError):
    """A primitive met an array of another library (Dask, CuPy, array-API arrays such as
    PyTorch tensors) that it cannot run on, or such an array has no usable shape/dtype.

    The message names the primitive and the array type.  See docs/scaling.md for what
    runs on which library.

    Examples
    --------
    >>> print(issubclass(fd.ArrayLibraryError, TypeError))
    True
    """


class FuncdiffWarning(UserWarning):
    """Base class of funcdiff's warnings that are not about derivatives.

    Base class of funcdiff's own warnings that are not about derivatives (e.g.
    ``RetraceWarning``).

    Examples
    --------
    >>> print(issubclass(fd.RetraceWarning, fd.FuncdiffWarning))
    True
    """


class RetraceWarning(FuncdiffWarning):
    """A ``jit`` function retraced more often than a threshold.

    A ``jit`` function traced (and compiled) more often than
    ``funcdiff.config.retrace_warning_threshold``: an argument keeps changing shape,
    dtype or static value.  Issued once per function, naming the argument.

    Examples
    --------
    >>> import warnings
    >>> f = fd.jit(lambda x: x * 2.0)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     for n in range(1, 12):   # a new shape each call: a new trace each call
    ...         _ = f(np.ones(n))
    >>> print([w.category.__name__ for w in caught])
    ['RetraceWarning']
    """


class ArrayLibraryFallbackWarning(FuncdiffWarning):
    """A primitive on another library's array fell back to NumPy: its operands were
    converted (a Dask array computed, into memory).  Issued once per primitive and
    array type.

    Examples
    --------
    >>> print(issubclass(fd.ArrayLibraryFallbackWarning, fd.FuncdiffWarning))
    True
    """


class DerivativeCutWarning(UserWarning):
    """A traced value with a derivative was converted to a Python number.

    ``float(x)``, ``complex(x)``, ``x.item()``, ``x.tolist()`` (or a ``math.*``
    function, ``"%f" % x``: anything asking for a Python number) on a traced value that
    carries a derivative (under ``grad``/``jvp``/``vjp``): the Python number has none.
    Fine for control flow (``while abs(float(err)) > tol``); to compute with the value,
    keep it traced.  Convert ``funcdiff.stop_gradient(x)`` to say the cut is intended.
    Writing the value into a NumPy array is an error instead
    (``TracerBufferWriteError``); docs/sharp-edges.md lists every deliberate cut.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     g = fd.grad(lambda x: x * float(x))(2.0)   # float(x) has no derivative
    >>> print(g, caught[0].category.__name__)
    2.0 DerivativeCutWarning
    """


class ImplicitGradientWarning(UserWarning):
    """A derivative through a solver that did not converge.

    A derivative taken through the solution of a solver that did not converge
    (``scipy.optimize.minimize``, ``scipy.sparse.linalg.cg``/``gmres``/``bicgstab``):
    implicit differentiation assumes the solution is exact (the objective's gradient is
    zero, the residual is zero), so the derivative is unreliable.  Tighten the tolerance
    or raise ``maxiter``, and check the result's status.

    Examples
    --------
    Make it an error, to stop at an unreliable derivative:

    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", fd.ImplicitGradientWarning)
    ...     print(issubclass(fd.ImplicitGradientWarning, UserWarning))
    True
    """


class GradientError(FuncdiffTypeError):
    """A derivative asked for where none is defined (non-scalar ``grad`` output, integer
    inputs, a non-differentiable primitive on a differentiated path).

    Examples
    --------
    >>> try:
    ...     fd.grad(lambda x: x * 2.0)(np.ones(3))
    ... except fd.GradientError as e:
    ...     print(type(e).__name__)
    GradientError
    >>> print(fd.jacrev(lambda x: x * 2.0)(np.ones(2)))
    [[2. 0.]
     [0. 2.]]
    """


class StructureError(FuncdiffValueError):
    """Pytree structures that should match do not (primals vs tangents, cotangents).

    Examples
    --------
    >>> try:
    ...     fd.jvp(lambda x: x, (1.0,), (1.0, 2.0))
    ... except fd.StructureError as e:
    ...     print(type(e).__name__)
    StructureError
    """


def where_str(source_info):
    """Render an eqn's source info as ``file:line (function)`` for messages."""
    if source_info is None:
        return "<unknown location>"
    filename, lineno, func = source_info
    return f"{filename}:{lineno} ({func})"

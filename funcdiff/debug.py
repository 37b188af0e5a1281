"""``funcdiff.debug``: print and call back on values inside transformed functions, as
``jax.debug``.

``print(fmt, *args, **kwargs)`` is ``builtins.print(fmt.format(*args, **kwargs))`` run
when the program runs: at once outside transforms, on the actual NumPy values each
time a ``jit`` program runs (not on tracers at trace time), once per example under
``vmap``, on the forward pass (primal values) under ``grad``/``vjp``/``jvp``, with no
effect on derivatives.  ``callback(fn, *args, **kwargs)`` calls ``fn`` the same way.
Both bind the ``debug_callback`` primitive (``primitives/callback.py``).
"""
from __future__ import annotations

import builtins
import re
import string
from typing import Any, Callable

import numpy as np

from .core.errors import FuncdiffTypeError, FuncdiffValueError
from .core.trace import Tracer
from .primitives.callback import debug_callback_p
from .tree_util import tree_flatten, tree_unflatten

__all__ = ["print", "callback"]

_OPERAND = (Tracer, np.ndarray, np.generic, bool, int, float, complex)


class _Call:
    """The host function a ``debug_callback`` eqn holds: rebuilds the user's
    ``(args, kwargs)`` from the array operands and the static leaves (strings, None,
    ...) kept here, and calls ``fn``; ``label`` is what the IR printer shows."""

    __slots__ = ("fn", "treedef", "static", "label")

    def __init__(self, fn, treedef, static, label):
        self.fn, self.treedef, self.static, self.label = fn, treedef, static, label

    def __call__(self, *operands):
        it = iter(operands)
        leaves = [next(it) if s is _DYNAMIC else s for s in self.static]
        args, kwargs = tree_unflatten(self.treedef, leaves)
        self.fn(*args, **kwargs)

    def __repr__(self):
        return self.label


_DYNAMIC = object()   # marks the leaves passed as operands


def _bind(fn, args, kwargs, label):
    leaves, treedef = tree_flatten((tuple(args), dict(kwargs)))
    operands = [x for x in leaves if isinstance(x, _OPERAND)]
    static = [_DYNAMIC if isinstance(x, _OPERAND) else x for x in leaves]
    debug_callback_p.bind(*operands, callback=_Call(fn, treedef, static, label))


def _check_fields(fmt, nargs, kwargs):
    """Refuse, when ``print`` is called (not later, when a compiled program runs), a
    format string that is malformed or names a value that was not passed."""
    auto = 0
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(fmt) if f is not None]
    except ValueError as e:
        raise FuncdiffValueError(f"funcdiff.debug.print: the format string {fmt!r} is "
                                 f"malformed ({e}); write literal braces as '{{{{' and "
                                 "'}}}}'") from None
    heads = [re.match(r"[^.\[]*", field).group(0) for field in fields]
    if "" in heads and any(h.isdigit() for h in heads):
        raise FuncdiffValueError(f"funcdiff.debug.print: the format string {fmt!r} mixes "
                                 "automatic and manual field numbering ('{}' and '{0}'); "
                                 "use one of them")
    for head in heads:
        if head == "":
            auto += 1
            missing = auto > nargs and f"{auto} positional values"
        elif head.isdigit():
            missing = int(head) >= nargs and f"positional value {head}"
        else:
            missing = head not in kwargs and f"the keyword value {head!r}"
        if missing:
            raise FuncdiffValueError(
                f"funcdiff.debug.print: the format string {fmt!r} needs {missing}, but "
                f"{nargs} positional and {sorted(kwargs) or 'no'} keyword value(s) were "
                "passed; pass the values to print as arguments: "
                "funcdiff.debug.print('x = {}, y = {y}', x, y=y)")


def print(fmt: str, *args: Any, ordered: bool = False, **kwargs: Any) -> None:  # noqa: A001
    """Print ``fmt.format(*args, **kwargs)`` when the program runs, even under ``jit``.

    Semantically ``builtins.print(fmt.format(*args, **kwargs))``, but staged: under
    ``jit`` it prints the actual values every time the compiled program runs (not the
    tracers seen while tracing); under ``vmap`` it prints once per example; under
    ``grad``, ``vjp`` and ``jvp`` it prints the primal values of the forward pass and
    does not change any derivative.  No optimization removes it, even when its
    arguments are otherwise unused.

    Parameters
    ----------
    fmt : str
        A ``str.format`` format string (not an f-string: formatting happens when the
        program runs).
    *args, **kwargs : pytrees of arrays
        The values to format; arrays arrive as NumPy values.  Leaves that are not
        numbers or arrays (strings, None) are passed through as they are.
    ordered : bool, optional
        Accepted for JAX compatibility: funcdiff always runs callbacks in program order.

    Returns
    -------
    None

    See Also
    --------
    callback : call any Python function on the values.

    Examples
    --------
    >>> import numpy as np
    >>> import funcdiff as fd
    >>> @fd.jit
    ... def f(x):
    ...     fd.debug.print("x = {}", x)
    ...     y = np.sin(x)
    ...     fd.debug.print("y = {y:.3f}", y=y)
    ...     return y
    >>> _ = f(2.0)
    x = 2.0
    y = 0.909
    >>> _ = fd.vmap(lambda x: fd.debug.print("example {}", x))(np.arange(2.0))
    example 0.0
    example 1.0
    """
    if not isinstance(fmt, str):
        raise FuncdiffTypeError(f"funcdiff.debug.print: `fmt` must be a str, got "
                                f"{type(fmt).__name__}; call it as "
                                "funcdiff.debug.print('x = {}', x)")

    _check_fields(fmt, len(args), kwargs)

    def show(*a, **k):
        builtins.print(fmt.format(*a, **k))

    _bind(show, args, kwargs, f"print({fmt!r})")


def callback(callback: Callable[..., Any], *args: Any, ordered: bool = False,
             **kwargs: Any) -> None:
    """Call ``callback(*args, **kwargs)`` on the values when the program runs.

    The general form of :func:`print`: under ``jit`` the callback runs each time the
    compiled program runs, with NumPy values; under ``vmap`` once per example; under
    ``grad``/``vjp``/``jvp`` on the primal values of the forward pass.  Its return value
    is ignored and it has no effect on derivatives.  An exception it raises propagates
    to the caller.

    Parameters
    ----------
    callback : callable
        A Python function; its return value is ignored.
    *args, **kwargs : pytrees of arrays
        Its arguments; arrays arrive as NumPy values (leaves that are not numbers or
        arrays are passed as they are).
    ordered : bool, optional
        Accepted for JAX compatibility: funcdiff always runs callbacks in program order.

    Returns
    -------
    None

    See Also
    --------
    print : the common case, formatting values with ``str.format``.

    Examples
    --------
    >>> import numpy as np
    >>> import funcdiff as fd
    >>> seen = []
    >>> def f(x):
    ...     fd.debug.callback(lambda v: seen.append(v.copy()), x)
    ...     return np.sum(x ** 2)
    >>> fd.grad(f)(np.array([1.0, 2.0]))
    array([2., 4.])
    >>> seen
    [array([1., 2.])]
    """
    if not callable(callback):
        raise FuncdiffTypeError(f"funcdiff.debug.callback: `callback` must be callable, "
                                f"got {type(callback).__name__}; call it as "
                                "funcdiff.debug.callback(fn, *args)")
    name = getattr(callback, "__qualname__", None) or type(callback).__name__
    _bind(callback, args, kwargs, f"callback({name!r})")

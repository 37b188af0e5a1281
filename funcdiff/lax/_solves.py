"""``custom_root`` and ``custom_linear_solve``: solvers whose derivatives come from the
equations they solve (implicit differentiation), with JAX's semantics.

Each user function is traced once, abstractly, into a jaxpr held by one primitive
(``funcdiff/higher_order/solves.py``); values the functions close over become operands, so
derivatives with respect to them flow through the implicit rules.
"""
from __future__ import annotations

from typing import Any, Callable

from ..api._flat import flatten_fun, leaf_operand
from ..api.autodiff import linearize, vjp
from ..core.errors import FuncdiffTypeError, StructureError
from ..core.ir import closure_convert
from ..core.trace import get_aval, trace_flat
from ..higher_order import solves as _solves
from ..primitives.base import full
from ..tree_util import tree_flatten, tree_unflatten

__all__ = ["custom_root", "custom_linear_solve"]


def _flatten(tree, what):
    leaves, treedef = tree_flatten(tree)
    return [leaf_operand(x, what) for x in leaves], treedef


def _trace(fun, in_tree, avals, what):
    """``fun`` on arguments of tree ``in_tree`` (a tuple) and ``avals``, traced:
    ``(const-free jaxpr, consts, out_tree, out_avals)``; the consts are the values it
    closed over."""
    flat, store = flatten_fun(fun, in_tree)
    closed, _, _ = trace_flat(flat, list(avals), kind=what)
    j, consts = closure_convert(closed)
    return j, consts, store["out_tree"], [v.aval for v in j.outvars]


def _check_tree(what, fname, expected_name, out_tree, tree, has_aux):
    if has_aux:
        if out_tree.kind is not tuple or len(out_tree.children) != 2:
            raise StructureError(
                f"{what}: with has_aux=True, {fname} must return a pair (solution, aux), "
                f"but it returned {out_tree}")
        out_tree = out_tree.children[0]
    if out_tree != tree:
        raise StructureError(
            f"{what}: {fname} must return a pytree of the same structure as "
            f"{expected_name}, but it returned {out_tree} and {expected_name} is {tree}")


def _check_shapes(what, fname, expected_name, out_avals, in_avals):
    for i, (a, b) in enumerate(zip(out_avals, in_avals)):
        if a.shape != b.shape:
            raise FuncdiffTypeError(
                f"{what}: {fname} must return arrays shaped like {expected_name}, but its "
                f"leaf {i} has shape {a.shape} where {expected_name} has {b.shape}")


def custom_root(f: Callable[[Any], Any], initial_guess: Any,
                solve: Callable[[Callable[[Any], Any], Any], Any],
                tangent_solve: Callable[[Callable[[Any], Any], Any], Any],
                has_aux: bool = False) -> Any:
    """Differentiably solve for a root of ``f``, as ``jax.lax.custom_root``.

    The derivative with respect to values ``f`` closes over is defined by the implicit
    function theorem at the solution (``f(x*) = 0`` for all such values implies ``dx* =
    -(df/dx)^-1 df``), costing one ``tangent_solve``; the solver's own iterations are
    never differentiated.  It is valid when ``solve`` really returns a root and
    ``df/dx`` is nonsingular there.  The tangents of ``initial_guess`` and of whatever
    ``solve``/``tangent_solve`` close over are ignored.

    Parameters
    ----------
    f : callable
        The function whose root is sought: takes a pytree like ``initial_guess`` and
        returns one of the same structure and shapes.
    initial_guess : pytree
        The starting point.
    solve : callable
        ``solve(f, initial_guess) -> solution`` (``(solution, aux)`` with
        ``has_aux``), e.g. Newton's method written with ``funcdiff.lax.while_loop``.
    tangent_solve : callable
        ``tangent_solve(g, y) -> x`` with ``g(x) = y``, where ``g`` is ``f``
        linearized at the solution: ``lambda g, y: y / g(1.0)`` for a scalar, or
        ``lambda g, y: funcdiff.numpy.linalg.solve(funcdiff.jacobian(g)(y), y)``.
    has_aux : bool, default False
        ``solve`` returns ``(solution, aux)``; aux gets zero derivatives.

    Returns
    -------
    pytree
        ``solve(f, initial_guess)``, differentiable to any order (forward and
        reverse).

    Raises
    ------
    FuncdiffTypeError
        If ``f`` or ``solve`` returns a value of another structure, shape or dtype
        than ``initial_guess``.

    Examples
    --------
    The square root of ``a`` as the root of ``x**2 - a``, by Newton's method; its
    derivative ``1 / (2 sqrt(a))`` comes from the implicit function theorem:

    >>> from funcdiff import lax
    >>> def newton(f, x0):
    ...     step = lambda x: x - f(x) / fd.grad(f)(x)
    ...     return lax.fori_loop(0, 20, lambda i, x: step(x), x0)
    >>> def sqrt(a):
    ...     return lax.custom_root(lambda x: x ** 2 - a, 1.0, newton,
    ...                            lambda g, y: y / g(1.0))
    >>> print(round(float(sqrt(2.0)) ** 2, 9), round(float(fd.grad(sqrt)(4.0)), 9))
    2.0 0.25

    See Also
    --------
    custom_linear_solve : the same for linear systems.
    funcdiff.custom_vjp : any custom derivative rule.
    """
    what = "custom_root"
    guess, tree = _flatten(initial_guess, "custom_root initial_guess")
    args_tree = tree_flatten((initial_guess,))[1]
    avals = [get_aval(x) for x in guess]
    fj, f_c, f_tree, f_avals = _trace(f, args_tree, avals, what)
    _check_tree(what, "f", "initial_guess", f_tree, tree, False)
    _check_shapes(what, "f", "initial_guess", f_avals, avals)
    sj, s_c, s_tree, s_avals = _trace(lambda x: solve(f, x), args_tree, avals, what)
    _check_tree(what, "solve", "initial_guess", s_tree, tree, has_aux)
    n = len(guess)
    for i, (a, b) in enumerate(zip(s_avals[:n], avals)):
        if a.shape != b.shape or a.dtype != b.dtype:
            raise FuncdiffTypeError(
                f"{what}: solve must return a solution of initial_guess's shapes and "
                f"dtypes, but leaf {i} is {a.str_short()} where initial_guess has "
                f"{b.str_short()}")

    def linearize_and_solve(x, b):
        _, f_jvp = linearize(f, x)
        return tangent_solve(f_jvp, b)

    pair = tree_flatten((initial_guess, initial_guess))[1]
    lj, l_c, l_tree, l_avals = _trace(
        linearize_and_solve, pair, avals + [a.strengthen() for a in f_avals], what)
    _check_tree(what, "tangent_solve", "initial_guess", l_tree, tree, False)
    _check_shapes(what, "tangent_solve", "initial_guess", l_avals, avals)
    outs = _solves.custom_root_p.bind(*f_c, *s_c, *l_c, *guess, f_jaxpr=fj, solve_jaxpr=sj,
                                      ls_jaxpr=lj,
                                      const_lengths=(len(f_c), len(s_c), len(l_c)))
    return tree_unflatten(s_tree, outs)


def _transpose_linear(matvec, b_avals, tree):
    """``vecmat``: the transpose of the linear ``matvec`` (its vjp, taken at zero)."""
    def vecmat(y):
        zeros = tree_unflatten(tree, [full(a.shape, 0, a.dtype) for a in b_avals])
        _, pullback = vjp(matvec, zeros)
        return pullback(y)[0]
    return vecmat


def custom_linear_solve(matvec: Callable[[Any], Any], b: Any,
                        solve: Callable[[Callable[[Any], Any], Any], Any],
                        transpose_solve: Callable[[Callable[[Any], Any], Any], Any] | None = None,
                        symmetric: bool = False, has_aux: bool = False) -> Any:
    """Solve ``matvec(x) = b`` matrix-free, differentiating through the linear system.

    As ``jax.lax.custom_linear_solve``: ``x = solve(matvec, b)`` is differentiated
    through the linear system ``matvec(x) = b`` (``dx = solve(db - d(matvec)(x))``),
    never through ``solve``'s iterations.

    Parameters
    ----------
    matvec : callable
        The linear map ``x -> A x`` (differentiable in what it closes over).
    b : pytree
        The right-hand side, a pytree of arrays.
    solve : callable
        ``solve(matvec, b) -> x`` with ``matvec(x) == b`` (``(x, aux)`` with
        ``has_aux``); it need not be differentiable.
    transpose_solve : callable, optional
        ``transpose_solve(vecmat, b) -> x`` for the transposed map ``vecmat``
        (computed by autodiff).  Needed for reverse mode unless ``symmetric``.
    symmetric : bool, default False
        The map is symmetric (``matvec == vecmat``); ``solve`` then serves as
        ``transpose_solve`` by default.
    has_aux : bool, default False
        ``solve`` and ``transpose_solve`` return ``(x, aux)``; aux gets zero
        derivatives.

    Returns
    -------
    pytree
        ``solve(matvec, b)``, differentiable to any order.

    Raises
    ------
    FuncdiffTypeError
        If ``matvec`` or ``solve`` returns values of other structures, shapes or
        dtypes than ``b``.
    GradientError
        In reverse mode without ``transpose_solve`` or ``symmetric=True``.

    Examples
    --------
    >>> from funcdiff import lax
    >>> A = np.array([[4.0, 1.0], [1.0, 3.0]])
    >>> dense = lambda mv, b: fnp.linalg.solve(A, b)
    >>> x = lax.custom_linear_solve(lambda v: A @ v, np.array([1.0, 2.0]), dense,
    ...                             symmetric=True)
    >>> print(np.allclose(x, np.linalg.solve(A, [1.0, 2.0])))
    True
    >>> g = fd.grad(lambda b: fnp.sum(lax.custom_linear_solve(
    ...     lambda v: A @ v, b, dense, symmetric=True)))(np.ones(2))
    >>> print(np.allclose(g, np.linalg.solve(A.T, np.ones(2))))
    True

    See Also
    --------
    custom_root : the same for nonlinear equations.
    """
    what = "custom_linear_solve"
    if transpose_solve is None and symmetric:
        transpose_solve = solve
    leaves, tree = _flatten(b, "custom_linear_solve b")
    args_tree = tree_flatten((b,))[1]
    avals = [get_aval(x) for x in leaves]

    def operator(fun, fname):
        j, c, t, outs = _trace(fun, args_tree, avals, what)
        _check_tree(what, fname, "b", t, tree, fname.endswith("solve") and has_aux)
        _check_shapes(what, fname, "b", outs, avals)
        return j, c, t

    mj, m_c, _ = operator(matvec, "matvec")
    sj, s_c, s_tree = operator(lambda x: solve(matvec, x), "solve")
    if transpose_solve is None:
        vj = tj = None
        v_c, t_c = [], []
    else:
        if symmetric:
            vecmat, vj, v_c = matvec, mj, m_c
        else:
            vecmat = _transpose_linear(matvec, avals, tree)
            vj, v_c, _ = operator(vecmat, "vecmat")
        tj, t_c, _ = operator(lambda x: transpose_solve(vecmat, x), "transpose_solve")
    outs = _solves.linear_solve_p.bind(
        *m_c, *v_c, *s_c, *t_c, *leaves,
        const_lengths=(len(m_c), len(v_c), len(s_c), len(t_c)), matvec_jaxpr=mj,
        vecmat_jaxpr=vj, solve_jaxpr=sj, transpose_solve_jaxpr=tj)
    return tree_unflatten(s_tree, outs)

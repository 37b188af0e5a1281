"""``custom_jvp`` and ``custom_vjp``: user-defined derivative rules with JAX's decorator API.

Outside any transform the decorated function just runs.  Under a transform it is traced
to a jaxpr and bound as one ``custom_jvp_call`` / ``custom_vjp_call`` eqn that carries the
user's rule; see ``funcdiff/higher_order/custom.py`` for how the rules are applied.
"""
from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, TypeVar

from ._flat import flatten_args, flatten_fun, leaf_aval, leaf_operand
from ..core.errors import FuncdiffTypeError, GradientError, StructureError
from ..core.ir import closure_convert
from ..core.trace import Tracer, trace_active, trace_flat
from ..core.tracebacks import api_boundary
from ..higher_order.custom import custom_jvp_call_p, custom_vjp_call_p
from ..primitives.elementwise import stop_gradient_p
from ..tree_util import tree_flatten, tree_map, tree_unflatten

T = TypeVar("T")


def stop_gradient(x: T) -> T:
    """The identity, with derivative zero: gradients do not flow through ``x``.

    Parameters
    ----------
    x : pytree of arrays
        The value(s).

    Returns
    -------
    pytree
        ``x``'s values, treated as constants by every differentiation transform.

    Examples
    --------
    >>> f = lambda x: x * fd.stop_gradient(x)
    >>> print(f(3.0), fd.grad(f)(3.0))
    9.0 3.0

    See Also
    --------
    custom_jvp, custom_vjp : other derivative rules.
    """
    def leaf(v):
        v = leaf_operand(v)
        return stop_gradient_p.bind(v) if trace_active() else v
    return tree_map(leaf, x)


def _resolve(fun, args, kwargs):
    if not kwargs:
        return tuple(args)
    sig = inspect.signature(fun)
    bound = sig.bind(*args, **kwargs)
    bound.apply_defaults()
    return tuple(bound.arguments.values())


def _split(args, nondiff_argnums):
    nondiff = {i: args[i] for i in nondiff_argnums}
    diff = [a for i, a in enumerate(args) if i not in nondiff]
    return nondiff, diff


def _merge(nondiff, diff, n):
    it = iter(diff)
    return [nondiff[i] if i in nondiff else next(it) for i in range(n)]


def _trace_fun(fun, nondiff, diff, n):
    leaves, in_tree = flatten_args(diff, fun, [i for i in range(n) if i not in nondiff])

    def g(*d):
        return fun(*_merge(nondiff, d, n))

    flat_f, store = flatten_fun(g, in_tree)
    avals = [leaf_aval(x) for x in leaves]
    vals = [x._val if type(x) is Tracer else x for x in leaves]
    closed, _, _ = trace_flat(flat_f, avals, vals if all(v is not None for v in vals)
                              else None, kind="custom")
    jaxpr, consts = closure_convert(closed)
    return leaves, in_tree, store["out_tree"], jaxpr, consts


class custom_jvp:
    """Give a function a custom forward-mode derivative rule (JAX's decorator API).

    ``f = custom_jvp(f)``, then ``@f.defjvp`` a rule
    ``rule(primals, tangents) -> (primal_out, tangent_out)`` (or one rule per argument
    with ``f.defjvps``).  Reverse mode transposes the rule, so ``grad`` works too.
    Outside any transform ``f`` just runs.

    Parameters
    ----------
    fun : callable
        The function.
    nondiff_argnums : sequence of int, default ()
        Arguments that are not differentiated (Python values); the rule receives them
        first.

    Examples
    --------
    >>> @fd.custom_jvp
    ... def softplus(x):
    ...     return fnp.log1p(fnp.exp(x))
    >>> @softplus.defjvp
    ... def softplus_jvp(primals, tangents):
    ...     (x,), (t,) = primals, tangents
    ...     return softplus(x), t / (1.0 + fnp.exp(-x))
    >>> print(round(float(fd.grad(softplus)(0.0)), 6))
    0.5

    See Also
    --------
    custom_vjp : a custom reverse-mode rule.
    stop_gradient : a zero derivative.
    """

    def __init__(self, fun, nondiff_argnums=()):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.jvp = None

    def defjvp(self, jvp: Callable[..., Any]) -> Callable[..., Any]:
        """Define the rule ``jvp(primals, tangents) -> (primal_out, tangent_out)``.

        Parameters
        ----------
        jvp : callable
            The rule; ``primals`` and ``tangents`` are tuples of the differentiable
            arguments (after the ``nondiff_argnums`` ones, passed first).

        Returns
        -------
        callable
            ``jvp`` itself, so this works as a decorator.

        Examples
        --------
        >>> f = fd.custom_jvp(lambda x: x ** 2)
        >>> _ = f.defjvp(lambda p, t: (p[0] ** 2, 10.0 * t[0]))
        >>> print(fd.grad(f)(1.0))
        10.0
        """
        self.jvp = jvp
        return jvp

    def defjvps(self, *rules: Callable[..., Any] | None) -> None:
        """Define one rule per argument: ``rule(g, primal_out, *primals) -> tangent``.

        Parameters
        ----------
        *rules : callable or None
            For each differentiable argument, its tangent's contribution to the
            output tangent (``g`` is that argument's tangent); None for zero.

        Returns
        -------
        None

        Examples
        --------
        >>> f = fd.custom_jvp(lambda x, y: x * y)
        >>> f.defjvps(lambda g, out, x, y: g * y, lambda g, out, x, y: g * x)
        >>> dx, dy = fd.grad(f, argnums=(0, 1))(2.0, 3.0)
        >>> print(dx, dy)
        3.0 2.0
        """
        if self.nondiff_argnums:
            raise FuncdiffTypeError(
                f"custom_jvp function {self.__name__}: defjvps cannot be used with "
                f"nondiff_argnums={self.nondiff_argnums}.  Use defjvp, whose rule receives "
                "the non-differentiated arguments first: rule(*nondiff_args, primals, "
                "tangents).")

        def jvp(primals, tangents):
            # the output by the function itself, not its body: differentiating the rule
            # again (second derivatives) then goes through the user's rule, as in JAX
            out = self(*primals)
            total = None
            for rule, t in zip(rules, tangents):
                if rule is None:
                    continue
                c = rule(t, out, *primals)
                total = c if total is None else tree_map(lambda a, b: a + b, total, c)
            return out, total if total is not None else tree_map(lambda o: o * 0, out)
        self.jvp = jvp

    @api_boundary
    def __call__(self, *args, **kwargs):
        args = _resolve(self.fun, args, kwargs)
        if not trace_active():
            return self.fun(*args)
        if self.jvp is None:
            raise GradientError(f"custom_jvp function {self.__name__} has no rule: "
                                "define one with @f.defjvp")
        n = len(args)
        nondiff, diff = _split(args, self.nondiff_argnums)
        leaves, in_tree, out_tree, jaxpr, consts = _trace_fun(self.fun, nondiff, diff, n)
        user_rule, nd_vals = self.jvp, [nondiff[i] for i in sorted(nondiff)]

        def rule(p_leaves, t_leaves):
            primals = tuple(tree_unflatten(in_tree, p_leaves))
            tangents = tuple(tree_unflatten(in_tree, t_leaves))
            out, t_out = user_rule(*nd_vals, primals, tangents)
            o_leaves, o_tree = tree_flatten(out)
            t_leaves_out, t_tree = tree_flatten(t_out)
            if o_tree != out_tree or t_tree != out_tree:
                raise StructureError(
                    f"custom_jvp rule of {self.__name__} returned primal structure {o_tree} "
                    f"and tangent structure {t_tree}; the function returns {out_tree}")
            return ([leaf_operand(o) for o in o_leaves],
                    [leaf_operand(t) for t in t_leaves_out])

        outs = custom_jvp_call_p.bind(*consts, *leaves, call_jaxpr=jaxpr, jvp=rule,
                                      num_consts=len(consts))
        return tree_unflatten(out_tree, outs)


class custom_vjp:
    """Give a function a custom reverse-mode derivative rule (JAX's decorator API).

    ``f = custom_vjp(f)``, then ``f.defvjp(fwd, bwd)`` with
    ``fwd(*args) -> (out, residuals)`` and ``bwd(*nondiff_args, residuals, ct)``
    returning a tuple with one cotangent per differentiable argument.  Outside any
    transform ``f`` just runs.

    Parameters
    ----------
    fun : callable
        The function.
    nondiff_argnums : sequence of int, default ()
        Arguments that are not differentiated; ``bwd`` receives them first.

    Raises
    ------
    GradientError
        When differentiated before ``defvjp`` is called.

    Examples
    --------
    >>> @fd.custom_vjp
    ... def clip_grad(x):
    ...     return x
    >>> clip_grad.defvjp(lambda x: (x, None),
    ...                  lambda res, ct: (fnp.clip(ct, -1.0, 1.0),))
    >>> print(fd.grad(lambda x: 5.0 * clip_grad(x))(2.0))
    1.0

    See Also
    --------
    custom_jvp : a custom forward-mode rule.
    """

    def __init__(self, fun, nondiff_argnums=()):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.fwd = self.bwd = None

    def defvjp(self, fwd: Callable[..., Any], bwd: Callable[..., Any]) -> None:
        """Define the forward and backward halves of the rule.

        Parameters
        ----------
        fwd : callable
            ``fwd(*args) -> (out, residuals)``: the output and what ``bwd`` needs.
        bwd : callable
            ``bwd(*nondiff_args, residuals, ct)`` -> a tuple with one cotangent per
            differentiable argument.

        Returns
        -------
        None

        Examples
        --------
        >>> f = fd.custom_vjp(lambda x: x ** 2)
        >>> f.defvjp(lambda x: (x ** 2, x), lambda x, ct: (2.0 * x * ct,))
        >>> print(fd.grad(f)(3.0))
        6.0
        """
        self.fwd, self.bwd = fwd, bwd

    @api_boundary
    def __call__(self, *args, **kwargs):
        args = _resolve(self.fun, args, kwargs)
        if not trace_active():
            return self.fun(*args)
        if self.fwd is None:
            raise GradientError(f"custom_vjp function {self.__name__} has no rule: "
                                "define one with f.defvjp(fwd, bwd)")
        n = len(args)
        nondiff, diff = _split(args, self.nondiff_argnums)
        leaves, in_tree, out_tree, jaxpr, consts = _trace_fun(self.fun, nondiff, diff, n)
        user_fwd, user_bwd = self.fwd, self.bwd
        nd_vals = [nondiff[i] for i in sorted(nondiff)]
        name = self.__name__
        cell = {}

        def fwd(*p_leaves):
            primals = tree_unflatten(in_tree, p_leaves)
            res_out = user_fwd(*_merge(nondiff, primals, n))
            if not (isinstance(res_out, tuple) and len(res_out) == 2):
                raise StructureError(f"custom_vjp fwd of {name} must return a pair "
                                     "(output, residuals)")
            out, res = res_out
            o_leaves, o_tree = tree_flatten(out)
            if o_tree != out_tree:
                raise StructureError(f"custom_vjp fwd of {name} returned structure {o_tree}; "
                                     f"the function returns {out_tree}")
            r_leaves, cell["res_tree"] = tree_flatten(res)
            return [leaf_operand(o) for o in o_leaves], [leaf_operand(r) for r in r_leaves]

        def bwd(r_leaves, ct_leaves):
            res = tree_unflatten(cell["res_tree"], r_leaves)
            ct = tree_unflatten(out_tree, ct_leaves)
            cts = user_bwd(*nd_vals, res, ct)
            if not isinstance(cts, (tuple, list)) or len(cts) != len(diff):
                raise StructureError(
                    f"custom_vjp bwd of {name} must return a tuple with one cotangent per "
                    f"differentiable argument ({len(diff)}), got "
                    f"{type(cts).__name__}{'' if not isinstance(cts, (tuple, list)) else ' of length ' + str(len(cts))}")
            flat, tree = tree_flatten(tuple(cts), is_leaf=lambda x: x is None)
            if tree != in_tree:
                raise StructureError(
                    f"custom_vjp bwd of {name} returned cotangents with structure {tree}, "
                    f"but the differentiable arguments have structure {in_tree}")
            return [None if c is None else leaf_operand(c) for c in flat]

        outs = custom_vjp_call_p.bind(*consts, *leaves, call_jaxpr=jaxpr, fwd=fwd, bwd=bwd,
                                      num_consts=len(consts),
                                      out_avals=tuple(v.aval for v in jaxpr.outvars))
        return tree_unflatten(out_tree, outs)

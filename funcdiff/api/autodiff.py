"""The public transforms.  Each one flattens pytrees at the boundary, validates the user's
values there (clear errors, never deep in a pass), then works on IR:
trace -> transform the jaxpr -> evaluate."""
from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import numpy as np

from ._flat import (arg_names, call_leaf_paths, flatten_args, flatten_fun, leaf_aval,
                    leaf_operand, to_output)
from ..core import arraylib
from ..core.avals import float0, is_differentiable_dtype
from ..core.ir import ClosedJaxpr
from ..core.errors import GradientError, StructureError, FuncdiffTypeError, FuncdiffValueError
from ..core.trace import state, trace_flat
from ..core.tracebacks import api_boundary
from ..primitives.base import convert_element_type, full, reshape, transpose
from ..primitives.shape import slice_
from .executor import linearize_flat
from ..transforms.vmap import batch_eval, move_outputs
from ..tree_util import tree_flatten, tree_leaves, tree_map, tree_unflatten


def _argnums_tuple(argnums, nargs, fname):
    if type(argnums) is int and -nargs <= argnums < nargs:   # the common case, quickly
        return (argnums % nargs,), True
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    for a in nums:
        if not isinstance(a, int) or not -nargs <= a < nargs:
            raise FuncdiffValueError(
                f"{fname}: argnums={argnums!r} but the function was called with {nargs} "
                "positional argument(s).  argnums counts positional arguments from 0; "
                "pass the arguments to differentiate positionally (keyword arguments are "
                "never differentiated).")
    return tuple(a % nargs for a in nums), single


def _partial(f, args, kwargs, argnums):
    """``g(*diff_args)`` = ``f`` with the other positional args fixed."""
    def g(*diff):
        full = list(args)
        if not arraylib.state.active and any(arraylib.is_foreign(a) for a in full):
            arraylib.state.active = True   # (the first foreign array may be a constant)
        if arraylib.state.active:
            # (only arguments holding such arrays are rebuilt: any other keeps its
            # identity -- a list the function appends to stays the caller's list)
            full = [tree_map(_traced_const, a) if any(
                arraylib.is_foreign(x) for x in tree_leaves(a)) else a for a in full]
        for i, d in zip(argnums, diff):
            full[i] = d
        return f(*full, **kwargs)
    return g


def _traced_const(x):
    """An array-API array (array-api-strict, torch) that is not differentiated enters
    the trace as a constant tracer: their operators refuse a tracer on the right
    (``X @ w`` raises instead of deferring to ``w``), a tracer's operators take them."""
    if arraylib.is_foreign(x) and not arraylib.numpy_protocols(x) and state.stack:
        return state.stack[-1].const_tracer(x)
    return x


def _fun_name(f):
    return getattr(f, "__name__", type(f).__name__)


def _check_differentiable(leaves, tree, fname, allow_int=False, paths=None):
    # (paths: the leaves' pytree paths in the user's words, computed on the error path)
    for i, x in enumerate(leaves):
        a = leaf_aval(x)
        if not is_differentiable_dtype(a.dtype) and not allow_int:
            what = ("a boolean" if a.dtype.kind == "b" else "an integer") + (
                " array" if a.shape else " scalar")
            where = f"argument `{paths()[i]}`" if paths is not None else \
                f"input leaf {i} of {tree}"
            raise GradientError(
                f"{fname} requires real or complex floating-point inputs, but {where} is "
                f"{what} (dtype {a.dtype.name}, shape {a.shape}).  Pass floats "
                f"(e.g. x.astype(float) or 2.0 instead of 2), differentiate w.r.t. other "
                f"arguments with argnums=, or use allow_int=True to get float0 zeros.")


# --- complex numbers: JAX's dtype rules --------------------------------------------------

def _dtype_names(avals):
    return "/".join(dict.fromkeys(a.dtype.name for a in avals)) or "no"


def _check_complex(fname, mode, holomorphic, in_avals, in_tree, out_avals, out_tree):
    """JAX's dtype rules for the derivative wrappers.  A derivative is one complex number
    per (output, input) element pair only where ``f`` is holomorphic, so:

    - ``holomorphic=True`` (the user's promise) needs complex inputs and outputs;
    - otherwise forward mode (``mode`` "fwd": jacfwd; "hessian": its outer jacfwd) rejects
      complex inputs: a real basis direction sees the derivative along the real axis only;
    - and reverse mode ("rev": jacrev; "grad": grad, value_and_grad) rejects complex
      outputs: a real cotangent pulls back the real part only.  Reverse mode of a real-valued function of complex
      input is allowed and gives JAX's conjugate convention ``df/dx - i df/dy``.
    """
    sig = (f"{fname} has {_dtype_names(in_avals)} inputs" if mode == "hessian" else
           f"{fname} maps {_dtype_names(in_avals)} inputs to {_dtype_names(out_avals)} "
           "outputs")     # (hessian: the outputs here are the gradient's, not f's)
    if holomorphic:
        for side, avals, tree in (("input", in_avals, in_tree),
                                  ("output", out_avals, out_tree)):
            bad = next((i for i, a in enumerate(avals) if a.dtype.kind != "c"), None)
            if bad is None:
                continue
            fix = ("Cast the inputs to complex (x.astype(complex)) to differentiate f's "
                   "holomorphic extension, or drop holomorphic=True" if side == "input" else
                   "A real-valued function of a complex variable is holomorphic only if "
                   "it is constant: drop holomorphic=True (grad and jacrev then give the "
                   "conjugate convention df/dx - i df/dy)")
            raise GradientError(
                f"{fname} with holomorphic=True requires complex {side}s, but {side} leaf "
                f"{bad} of {tree} is {avals[bad].str_short()} ({sig}).  {fix}.")
        return
    side, avals, tree = (("output", out_avals, out_tree) if mode in ("rev", "grad") else
                         ("input", in_avals, in_tree))
    bad = next((i for i, a in enumerate(avals) if a.dtype.kind == "c"), None)
    if bad is None:
        return
    real_in = all(a.dtype.kind != "c" for a in in_avals)
    real_out = all(a.dtype.kind != "c" for a in out_avals)
    if mode in ("rev", "grad"):
        why = ("reverse mode pulls back one real cotangent per output element, which "
               "sees only the real part of a complex output")
        other = ("differentiate a real quantity (fnp.real(y), fnp.imag(y), "
                 "fnp.abs(y) ** 2), or use vjp with an explicit complex cotangent"
                 if mode == "grad" else
                 "return the real and imaginary parts as separate real outputs "
                 "(fnp.real(y), fnp.imag(y))"
                 + (", or use jacfwd, which gives the complex Jacobian of a function of "
                    "real inputs" if real_in else ""))
    elif mode == "hessian":
        why = ("the derivative of the gradient of a function of complex input is one "
               "complex number per element pair only if the function is holomorphic")
        other = ("split the input into real and imaginary parts: hessian(lambda x, y: "
                 "f(x + 1j * y), argnums=(0, 1)) with real x and y")
    else:
        why = ("forward mode pushes one real direction per input element, which sees only "
               "the derivative along the real axis")
        other = ("split the input into real and imaginary parts (f(x + 1j * y) with real "
                 "x and y)" + (", or, as f is real-valued, use jacrev or grad (the "
                               "conjugate convention df/dx - i df/dy)" if real_out else ""))
    raise GradientError(
        f"{fname}: {side} leaf {bad} of {tree} is {avals[bad].str_short()} ({sig}): "
        f"{why}.  Pass holomorphic=True if f is holomorphic (the complex derivative "
        f"df/dz); otherwise {other}.")


def _check_leaf(v, ref, i, fname, what, ref_what):
    """One tangent (jvp, linearize) or cotangent (vjp_fn) leaf ``v`` against the aval
    ``ref`` of the primal input or output it goes with, as JAX checks them: the same
    shape and dtype, except that a Python scalar (weak type) takes ``ref``'s dtype when
    its kind fits (never complex for a real ``ref``); for a non-differentiable ``ref``
    (ints, bools) a float0 or integer value, which is ignored.  Returns the operand."""
    v = leaf_operand(v, what)
    va = leaf_aval(v)
    if not is_differentiable_dtype(ref.dtype):
        if va.dtype != float0 and va.dtype.kind not in "iub":
            raise GradientError(
                f"{fname}: {ref_what} leaf {i} is {ref.str_short()} (not differentiable); "
                f"its {what} must have dtype float0, got {va.dtype.name}")
        return v
    if va.shape != ref.shape:
        raise StructureError(
            f"{fname}: {what} leaf {i} has shape {va.shape} but its {ref_what} has shape "
            f"{ref.shape}.  Pass one {what} per {ref_what}, of the {ref_what}'s shape and "
            f"dtype.")
    if va.dtype != ref.dtype:
        weak = va.weak_type or ref.weak_type
        if not weak or (va.dtype.kind == "c" and ref.dtype.kind != "c"):
            raise FuncdiffTypeError(
                f"{fname}: {what} leaf {i} has dtype {va.dtype.name} but its {ref_what} "
                f"has dtype {ref.dtype.name}; pass {what}s of the {ref_what}'s dtype "
                f"(e.g. {what}.astype(numpy.{ref.dtype.name})"
                + (", or split a complex value into real and imaginary parts" if
                   va.dtype.kind == "c" else "") + ")")
        if va.weak_type and not ref.weak_type:   # a Python scalar takes ref's dtype
            v = convert_element_type(v, dtype=ref.dtype)
    return v


# --- vjp / grad -------------------------------------------------------------------------

def _vjp_core(f, primals, has_aux, fname, user_f=None, positions=None):
    # (user_f, positions: whose parameters the primals are, for naming a rejected one)
    leaves, in_tree = flatten_args(primals, user_f or f, positions)
    flat_f, store = flatten_fun(f, in_tree)
    aux_store = {}
    if has_aux:
        def flat_main(*xs):
            out = flat_f(*xs)
            tree = store["out_tree"]
            if tree.kind is not tuple or len(tree.children) != 2:
                got = "None (is a `return` missing?)" if tree.kind == "none" else f"a {tree}"
                raise FuncdiffTypeError(
                    f"{fname} with has_aux=True needs the function to return a pair "
                    f"(output, aux); your function returned {got}")
            main, aux = tree_unflatten(tree, out)
            m_leaves, m_tree = tree_flatten(main)
            a_leaves, a_tree = tree_flatten(aux)
            aux_store.update(out_tree=m_tree, aux_tree=a_tree, n=len(m_leaves))
            return [leaf_operand(x, "output") for x in m_leaves] + list(a_leaves)
        fun = flat_main
    else:
        fun = flat_f
    avals = [leaf_aval(x) for x in leaves]
    lin = linearize_flat(fun, leaves, avals, n_tangent_outs=None if not has_aux else
                         (lambda: aux_store["n"]), user_fun=user_f or f)
    if has_aux:
        n = aux_store["n"]
        out_tree, aux = aux_store["out_tree"], tree_unflatten(
            aux_store["aux_tree"], [to_output(x) for x in lin.primal_outs[n:]])
        outs = lin.primal_outs[:n]
    else:
        out_tree, aux, outs = store["out_tree"], None, lin.primal_outs
    return lin, leaves, in_tree, out_tree, outs, aux


@api_boundary
def vjp(f: Callable[..., Any], *primals: Any,
        has_aux: bool = False) -> tuple[Any, ...]:
    """Evaluate ``f`` and return its vector-Jacobian product function (reverse mode).

    Parameters
    ----------
    f : callable
        The function, taking and returning pytrees of arrays.
    *primals : pytree
        The arguments to evaluate ``f`` at, one per positional parameter.
    has_aux : bool, default False
        ``f`` returns a pair ``(output, aux)``; ``aux`` is returned as is, not
        differentiated.

    Returns
    -------
    tuple
        ``(out, vjp_fn)``, or ``(out, vjp_fn, aux)`` with ``has_aux``.  ``vjp_fn(ct)``
        takes a cotangent shaped like ``out`` and returns a tuple with one cotangent
        per primal, ``ct @ J``; call it as often as you like.

    Raises
    ------
    StructureError
        If the cotangent's pytree structure or shapes differ from the output's.
    FuncdiffTypeError
        If the cotangent's dtype differs from the output's, or ``f`` rejects traced
        values.

    Examples
    --------
    >>> x = np.array([1.0, 2.0, 3.0])
    >>> y, f_vjp = fd.vjp(lambda x: x ** 2, x)
    >>> print(y)
    [1. 4. 9.]
    >>> (ct,) = f_vjp(np.ones(3))
    >>> print(ct)
    [2. 4. 6.]

    See Also
    --------
    grad : the gradient of a scalar function, a vjp with cotangent 1.
    jvp : forward mode, the Jacobian-vector product.
    jacrev : the whole Jacobian by reverse mode.
    """
    lin, leaves, in_tree, out_tree, outs, aux = _vjp_core(f, primals, has_aux, "vjp")
    # (vjp_fn holds ``lin``: without this the outputs would live as long as vjp_fn;
    # and it must not see later in-place updates of the caller's arrays)
    lin.primal_outs = None
    lin.detach()
    out_avals = [leaf_aval(o) for o in outs]

    def vjp_fn(ct):
        ct_leaves, ct_tree = tree_flatten(ct)
        if ct_tree != out_tree:
            raise StructureError(
                f"vjp_fn: the cotangent has structure {ct_tree} but the function's output "
                f"has structure {out_tree}.  Pass a cotangent shaped like the output.")
        cts = [_check_leaf(c, a, i, "vjp_fn", "cotangent", "output")
               for i, (c, a) in enumerate(zip(ct_leaves, out_avals))]
        g = lin.vjp(cts)
        return _assemble(g, lin.diff_mask, leaves, in_tree)

    result = (tree_unflatten(out_tree, [to_output(o) for o in outs]), api_boundary(vjp_fn))
    return result + (aux,) if has_aux else result


def _assemble(grads, diff_mask, leaves, in_tree):
    """Put gradient leaves back into the input structure (float0 zeros for ints)."""
    it = iter(grads)
    out = []
    for x, d in zip(leaves, diff_mask):
        if d:
            g = to_output(next(it))
            if type(g) is not type(x) and not hasattr(g, "_trace") and \
                    not arraylib.is_foreign(g):   # (lazy gradients stay lazy)
                a = leaf_aval(x)
                g = np.asarray(g, dtype=a.dtype) if np.ndim(g) or a.shape else \
                    a.dtype.type(g)
            out.append(g)
        else:
            out.append(np.zeros(np.shape(x), dtype=float0))
    return tuple(tree_unflatten(in_tree, out))


def _check_scalar_out(out_leaves, out_tree, fname):
    if out_tree.kind == "none":
        raise GradientError(
            f"{fname} requires a function with one scalar output, but your function "
            "returned None.  Is a `return` missing at its end?")
    if len(out_leaves) != 1:
        raise GradientError(
            f"{fname} requires a function with one scalar output, but it returned "
            f"{out_tree} with {len(out_leaves)} leaves.  Use funcdiff.jacrev or "
            "funcdiff.vjp for several outputs, or has_aux=True to return extra values.")
    a = leaf_aval(out_leaves[0])
    if a.size != 1:
        raise GradientError(
            f"{fname} requires a scalar (single-element) output, but the output has shape "
            f"{a.shape}.  To differentiate a vector output use funcdiff.jacrev (the "
            "Jacobian) or funcdiff.vjp with a cotangent; or reduce it first, e.g. "
            "f(x).sum().")
    if a.dtype.kind not in "fc":   # (complex outputs: _check_complex)
        raise GradientError(
            f"{fname} requires a floating-point output, got {a.dtype.name} (an integer "
            "or boolean output is piecewise constant).  Compute the output in floating "
            "point, e.g. with x.astype(float).")
    return a


def value_and_grad(f: Callable[..., Any], argnums: int | Sequence[int] = 0,
                   has_aux: bool = False, allow_int: bool = False,
                   holomorphic: bool = False) -> Callable[..., tuple[Any, Any]]:
    """Create a function that evaluates ``f`` and its gradient in one pass.

    One forward and one backward pass: cheaper than calling ``f`` and ``grad(f)``.

    Parameters
    ----------
    f : callable
        A function with a scalar (single-element) floating-point output.
    argnums : int or sequence of int, default 0
        Which positional argument(s) to differentiate with respect to.
    has_aux : bool, default False
        ``f`` returns ``(output, aux)``; ``aux`` is passed through.
    allow_int : bool, default False
        Allow integer inputs, whose gradient is a ``float0`` zero.
    holomorphic : bool, default False
        As in ``grad``.

    Returns
    -------
    callable
        A function with ``f``'s arguments returning ``(value, gradient)``, or
        ``((value, aux), gradient)`` with ``has_aux``; the gradient is shaped like the
        argument(s) ``argnums`` selects (a tuple for a sequence).

    Raises
    ------
    GradientError
        If the output is not a single floating-point element, or an input is an
        integer without ``allow_int``.
    FuncdiffValueError
        If ``argnums`` names an argument the call does not pass.

    Examples
    --------
    >>> f = lambda x: fnp.sum(x ** 2)
    >>> value, g = fd.value_and_grad(f)(np.array([1.0, 2.0]))
    >>> print(value, g)
    5.0 [2. 4.]

    See Also
    --------
    grad : the gradient alone.
    vjp : reverse mode for functions with several outputs.
    """
    return _value_and_grad(f, argnums, has_aux, allow_int, holomorphic, "value_and_grad")


def _value_and_grad(f, argnums, has_aux, allow_int, holomorphic, name, boundary=True):
    fname = f"{name}({_fun_name(f)})"      # errors name the transform the user called

    @functools.wraps(f)
    def vg(*args, **kwargs):
        nums, single = _argnums_tuple(argnums, len(args), fname)
        diff = [args[i] for i in nums]
        lin, leaves, in_tree, out_tree, outs, aux = _vjp_core(
            _partial(f, args, kwargs, nums), diff, has_aux, fname, f, nums)
        if not allow_int and not all(lin.diff_mask):   # (diff_mask: the leaves' dtypes)
            _check_differentiable(leaves, in_tree, fname, allow_int, lambda: call_leaf_paths(
                in_tree, arg_names(f, nums)))
        a = _check_scalar_out(outs, out_tree, fname)
        if holomorphic or a.dtype.kind == "c":
            _check_complex(fname, "grad", holomorphic, [leaf_aval(x) for x in leaves],
                           in_tree, [a], out_tree)
        # (np.array(1, dtype) is np.ones((), dtype), without np.ones' Python wrapper)
        one = np.array(1, a.dtype) if not a.shape else np.ones(a.shape, a.dtype)
        g = _assemble(lin.vjp_once([one]), lin.diff_mask, leaves, in_tree)
        g = g[0] if single else g
        value = tree_unflatten(out_tree, [to_output(o) for o in outs])
        return ((value, aux), g) if has_aux else (value, g)

    return api_boundary(vg) if boundary else vg


def grad(f: Callable[..., Any], argnums: int | Sequence[int] = 0,
         has_aux: bool = False, allow_int: bool = False,
         holomorphic: bool = False) -> Callable[..., Any]:
    """Create a function that evaluates the gradient of ``f`` (reverse mode).

    Complex numbers follow JAX: for a real-valued ``f`` of complex ``z = x + iy`` the
    result is ``df/dx - i df/dy`` (the conjugate of the steepest-ascent direction: step
    along ``conj(grad(f)(z))``); a complex output needs ``holomorphic=True``, a promise
    that ``f`` is holomorphic, and then the result is the complex derivative ``f'(z)``.

    Parameters
    ----------
    f : callable
        A function with a scalar (single-element) floating-point output; its arguments
        are pytrees of arrays.
    argnums : int or sequence of int, default 0
        Which positional argument(s) to differentiate with respect to.  Keyword
        arguments are never differentiated.
    has_aux : bool, default False
        ``f`` returns ``(output, aux)``; the result is then ``(gradient, aux)``.
    allow_int : bool, default False
        Allow integer inputs, whose gradient is a ``float0`` zero.
    holomorphic : bool, default False
        Promise that ``f`` is holomorphic (complex inputs and output).

    Returns
    -------
    callable
        A function with ``f``'s arguments returning the gradient, shaped like the
        argument ``argnums`` selects (a tuple of gradients for a sequence).

    Raises
    ------
    GradientError
        If the output is not a single floating-point element (use ``jacrev`` or
        ``vjp``), or an input is an integer without ``allow_int``.
    FuncdiffValueError
        If ``argnums`` names an argument the call does not pass.
    ConcretizationError
        If ``f`` branches in Python on a value that is only known inside ``jit``.

    Examples
    --------
    >>> f = lambda x: fnp.sum(fnp.sin(x))
    >>> print(np.round(fd.grad(f)(np.array([0.0, np.pi])), 6))
    [ 1. -1.]
    >>> g = fd.grad(lambda x, y: x * y ** 2, argnums=(0, 1))
    >>> dx, dy = g(3.0, 2.0)
    >>> print(dx, dy)
    4.0 12.0

    See Also
    --------
    value_and_grad : the value and the gradient in one pass.
    vjp : reverse mode for functions with several outputs.
    jacrev, jacfwd, hessian : Jacobians and second derivatives.
    """
    # (grad's own boundary filters errors: one boundary, not two, on this hot path)
    vg = _value_and_grad(f, argnums, has_aux, allow_int, holomorphic, "grad",
                         boundary=False)

    @functools.wraps(f)
    def g(*args, **kwargs):
        (value, grads) = vg(*args, **kwargs)
        if has_aux:
            return grads, value[1]
        return grads

    return api_boundary(g)


# --- jvp / linearize ----------------------------------------------------------------------

def _check_tangents(p_leaves, p_tree, t_leaves, t_tree, fname):
    if p_tree != t_tree:
        raise StructureError(
            f"{fname}: primals have structure {p_tree} but tangents have structure "
            f"{t_tree}; they must match.")
    out = []
    for i, (p, t) in enumerate(zip(p_leaves, t_leaves)):
        pa = leaf_aval(p)
        t = _check_leaf(t, pa, i, fname, "tangent", "primal")
        if is_differentiable_dtype(pa.dtype):   # integer primals take no tangent
            out.append(t)
    return out


@api_boundary
def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any],
        has_aux: bool = False) -> tuple[Any, ...]:
    """Evaluate ``f`` and its Jacobian-vector product (forward mode).

    Parameters
    ----------
    f : callable
        The function, taking and returning pytrees of arrays.
    primals : tuple or list
        The arguments to evaluate ``f`` at, one per positional parameter.
    tangents : tuple or list
        The directions, one per primal, of the same structure, shapes and dtypes.
    has_aux : bool, default False
        ``f`` returns ``(output, aux)``; ``aux`` is returned as is.

    Returns
    -------
    tuple
        ``(f(*primals), J @ tangents)``, or ``(out, tangent_out, aux)`` with
        ``has_aux``.

    Raises
    ------
    StructureError
        If ``primals`` or ``tangents`` is not a tuple or list, or their structures or
        shapes differ.
    FuncdiffTypeError
        If a tangent's dtype differs from its primal's.

    Examples
    --------
    >>> y, t = fd.jvp(fnp.sin, (0.0,), (2.0,))
    >>> print(y, t)
    0.0 2.0
    >>> y, t = fd.jvp(lambda x: x ** 3, (np.array([1.0, 2.0]),), (np.ones(2),))
    >>> print(t)
    [ 3. 12.]

    See Also
    --------
    linearize : evaluate once, then apply the Jacobian many times.
    vjp : reverse mode.
    jacfwd : the whole Jacobian by forward mode.
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise StructureError("jvp: primals and tangents must be tuples (or lists) of "
                             "arguments, e.g. jvp(f, (x,), (v,))")
    p_leaves, p_tree = flatten_args(primals, f)
    t_leaves, t_tree = tree_flatten(tuple(tangents))
    tans = _check_tangents(p_leaves, p_tree, t_leaves, t_tree, "jvp")
    if has_aux:
        lin, out_tree, outs, aux = _jvp_aux(f, primals, p_leaves, p_tree)
    else:
        flat_f, store = flatten_fun(f, p_tree)
        lin = linearize_flat(flat_f, p_leaves, [leaf_aval(x) for x in p_leaves],
                             user_fun=f)
        out_tree, outs, aux = store["out_tree"], lin.primal_outs, None
    t_out = lin.jvp(tans)
    res = (tree_unflatten(out_tree, [to_output(o) for o in outs]),
           tree_unflatten(out_tree, [to_output(t) for t in t_out[:len(outs)]]))
    return res + (aux,) if has_aux else res


def _jvp_aux(f, primals, p_leaves, p_tree):
    lin, _, _, out_tree, outs, aux = _vjp_core(f, primals, True, "jvp")
    return lin, out_tree, outs, aux


@api_boundary
def linearize(f: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[..., Any]]:
    """Evaluate ``f`` once and return the linear map ``v -> J @ v`` at that point.

    Parameters
    ----------
    f : callable
        The function, taking and returning pytrees of arrays.
    *primals : pytree
        The arguments to linearize at.

    Returns
    -------
    tuple
        ``(f(*primals), f_jvp)``, where ``f_jvp(*tangents)`` returns ``J @ tangents``
        without evaluating ``f`` again.

    Raises
    ------
    StructureError
        If ``f_jvp``'s tangents differ in structure or shape from the primals.
    FuncdiffTypeError
        If a tangent's dtype differs from its primal's.

    Examples
    --------
    >>> y, f_jvp = fd.linearize(lambda x: x ** 2, np.array([1.0, 3.0]))
    >>> print(y, f_jvp(np.array([1.0, 0.0])), f_jvp(np.array([0.0, 1.0])))
    [1. 9.] [2. 0.] [0. 6.]

    See Also
    --------
    jvp : one Jacobian-vector product.
    vjp : reverse mode.
    """
    p_leaves, p_tree = flatten_args(primals, f)
    flat_f, store = flatten_fun(f, p_tree)
    lin = linearize_flat(flat_f, p_leaves, [leaf_aval(x) for x in p_leaves], user_fun=f)
    out_tree = store["out_tree"]
    outs, lin.primal_outs = lin.primal_outs, None   # (as in vjp: f_jvp holds ``lin``)
    lin.detach()

    def f_jvp(*tangents):
        t_leaves, t_tree = tree_flatten(tuple(tangents))
        tans = _check_tangents(p_leaves, p_tree, t_leaves, t_tree, "linearize")
        return tree_unflatten(out_tree, [to_output(t) for t in lin.jvp(tans)])

    return (tree_unflatten(out_tree, [to_output(o) for o in outs]), api_boundary(f_jvp))


# --- Jacobians and Hessians -------------------------------------------------------------

def _std_basis(avals):
    """The standard basis of the concatenated leaves, one stacked array per leaf:
    leaf k gets shape ``(N,) + shape_k`` (N = total size) holding the identity in its
    rows ``offset_k : offset_k + size_k`` and zeros elsewhere.  Returns the arrays and
    the offsets."""
    sizes = [a.size for a in avals]
    n = sum(sizes)
    basis, offsets, off = [], [], 0
    for a, k in zip(avals, sizes):
        e = np.zeros((n, k), a.dtype)
        e[off:off + k] = np.eye(k, dtype=a.dtype)
        basis.append(e.reshape((n,) + a.shape))
        offsets.append(off)
        off += k
    return basis, offsets, n


def _jac_block(stacked, off, k, out_shape, in_shape, dtype, fwd):
    """One Jacobian block from a batched pass: rows ``off : off + k`` of ``stacked``
    (batch axis first).  ``fwd``: the rows are columns of the Jacobian (one per input
    element); otherwise rows of it (one per output element)."""
    if k == 0 or 0 in out_shape or 0 in in_shape:
        return full(out_shape + in_shape, 0, dtype)
    sa = leaf_aval(stacked)
    if sa.shape[0] != k:
        stacked = slice_(stacked, (off,) + (0,) * (sa.ndim - 1), (off + k,) + sa.shape[1:])
    if fwd:  # (n_in, *out_shape) -> (n_in, n_out) -> (n_out, n_in)
        m = transpose(reshape(stacked, (k, int(np.prod(out_shape, dtype=np.int64)))), (1, 0))
    else:
        m = stacked
    m = reshape(m, out_shape + in_shape)
    if leaf_aval(m).dtype != dtype:
        m = convert_element_type(m, dtype=dtype)
    return m


def _batched_linear(jaxpr, consts, residuals, basis, n):
    """Apply a linear jaxpr ``(residuals..., vectors...) -> outs`` to n stacked vectors in
    one batched pass (vmap over the basis, residuals shared): outputs batch axis first."""
    outs, dims = batch_eval(jaxpr, consts, list(residuals) + list(basis),
                            [None] * len(residuals) + [0] * len(basis), n)
    return move_outputs(outs, dims, 0, n)[0]


def _jac_setup(f, args, kwargs, argnums, has_aux, holomorphic, fname, mode):
    nums, single = _argnums_tuple(argnums, len(args), fname)
    diff = tuple(args[i] for i in nums)
    leaves, in_tree = flatten_args(diff, f, nums)
    _check_differentiable(leaves, in_tree, fname, paths=lambda: call_leaf_paths(
        in_tree, arg_names(f, nums)))
    lin, leaves, in_tree, out_tree, outs, aux = _vjp_core(
        _partial(f, args, kwargs, nums), diff, has_aux, fname)
    in_avals = [leaf_aval(x) for x in leaves]
    out_avals = [leaf_aval(o) for o in outs]
    _check_complex(fname, mode, holomorphic, in_avals, in_tree, out_avals, out_tree)
    return lin, single, in_tree, out_tree, in_avals, out_avals, aux


def jacfwd(f: Callable[..., Any], argnums: int | Sequence[int] = 0,
           has_aux: bool = False, holomorphic: bool = False) -> Callable[..., Any]:
    """Create a function that evaluates the Jacobian of ``f`` by forward mode.

    The linearized function is applied to the whole standard basis of the inputs in
    one batched (vmapped) pass: cheap when there are fewer inputs than outputs.

    Inputs must be real unless ``holomorphic=True``; a complex output of real inputs
    gives the complex Jacobian ``d(real f)/dx + i d(imag f)/dx``, as in JAX.

    Parameters
    ----------
    f : callable
        The function, taking and returning pytrees of arrays.
    argnums : int or sequence of int, default 0
        Which positional argument(s) to differentiate with respect to.
    has_aux : bool, default False
        ``f`` returns ``(output, aux)``; the result is then ``(jacobian, aux)``.
    holomorphic : bool, default False
        Promise that ``f`` is holomorphic (complex inputs and outputs; the result is
        the complex derivative).

    Returns
    -------
    callable
        A function with ``f``'s arguments returning the Jacobian: for an output of
        shape ``S`` and an input of shape ``T`` an array of shape ``S + T``; pytrees
        nest output structure outside, input structure inside.

    Raises
    ------
    GradientError
        If an input is an integer, or complex without ``holomorphic=True``.

    Examples
    --------
    >>> J = fd.jacfwd(lambda x: x ** 2)(np.array([1.0, 2.0]))
    >>> print(J)
    [[2. 0.]
     [0. 4.]]

    See Also
    --------
    jacrev : the same Jacobian by reverse mode.
    jacobian : picks the cheaper mode.
    hessian : second derivatives.
    """
    return _jacfwd(f, argnums, has_aux, holomorphic, f"jacfwd({_fun_name(f)})")


def _jacfwd(f, argnums, has_aux, holomorphic, fname, mode="fwd"):
    @functools.wraps(f)
    def jac(*args, **kwargs):
        lin, single, in_tree, out_tree, in_avals, out_avals, aux = _jac_setup(
            f, args, kwargs, argnums, has_aux, holomorphic, fname, mode)
        basis, offsets, n = _std_basis(in_avals)
        cols = _batched_linear(lin.lin_jaxpr, [], lin.residuals, basis, n) if n else \
            [None] * len(out_avals)
        blocks = [[_jac_block(cols[i], off, a.size, oa.shape, a.shape,
                              np.result_type(oa.dtype, a.dtype), fwd=True)
                   for a, off in zip(in_avals, offsets)]
                  for i, oa in enumerate(out_avals)]
        jac_ = _jac_tree(blocks, out_tree, in_tree, single)
        return (jac_, aux) if has_aux else jac_

    return api_boundary(jac)


def jacrev(f: Callable[..., Any], argnums: int | Sequence[int] = 0,
           has_aux: bool = False, holomorphic: bool = False) -> Callable[..., Any]:
    """Create a function that evaluates the Jacobian of ``f`` by reverse mode.

    The backward (transposed) program is applied to the whole standard basis of the
    outputs in one batched (vmapped) pass: cheap when there are fewer outputs than
    inputs.

    Outputs must be real unless ``holomorphic=True``; complex inputs of a real-valued
    ``f`` give ``df/dx - i df/dy`` per element, as ``grad`` and JAX do.

    Parameters
    ----------
    f : callable
        The function, taking and returning pytrees of arrays.
    argnums : int or sequence of int, default 0
        Which positional argument(s) to differentiate with respect to.
    has_aux : bool, default False
        ``f`` returns ``(output, aux)``; the result is then ``(jacobian, aux)``.
    holomorphic : bool, default False
        Promise that ``f`` is holomorphic (complex inputs and outputs).

    Returns
    -------
    callable
        A function with ``f``'s arguments returning the Jacobian, of shape
        ``output shape + input shape`` (pytrees: output structure outside).

    Raises
    ------
    GradientError
        If an input is an integer, or an output complex without ``holomorphic=True``.

    Examples
    --------
    >>> J = fd.jacrev(lambda x: fnp.stack([x[0] * x[1], x[1]]))(np.array([2.0, 3.0]))
    >>> print(J)
    [[3. 2.]
     [0. 1.]]

    See Also
    --------
    jacfwd : the same Jacobian by forward mode.
    jacobian : picks the cheaper mode.
    vjp : one row combination at a time.
    """
    return _jacrev(f, argnums, has_aux, holomorphic, f"jacrev({_fun_name(f)})")


def _jacrev(f, argnums, has_aux, holomorphic, fname):
    @functools.wraps(f)
    def jac(*args, **kwargs):
        lin, single, in_tree, out_tree, in_avals, out_avals, aux = _jac_setup(
            f, args, kwargs, argnums, has_aux, holomorphic, fname, "rev")
        basis, offsets, m = _std_basis(out_avals)
        if m:
            back = lin.backward()
            rows = _batched_linear(back.jaxpr, back.consts, lin.residuals, basis, m)
        else:
            rows = [None] * len(in_avals)
        blocks = [[_jac_block(rows[j], off, oa.size, oa.shape, a.shape,
                              np.result_type(oa.dtype, a.dtype), fwd=False)
                   for j, a in enumerate(in_avals)]
                  for oa, off in zip(out_avals, offsets)]
        jac_ = _jac_tree(blocks, out_tree, in_tree, single)
        return (jac_, aux) if has_aux else jac_

    return api_boundary(jac)


def _jac_tree(blocks, out_tree, in_tree, single):
    """Nest blocks as JAX does: output structure outside, input structure inside."""
    per_out = []
    for row in blocks:
        inner = tree_unflatten(in_tree, [to_output(b) for b in row])
        per_out.append(inner[0] if single else inner)
    return tree_unflatten(out_tree, per_out)


def dense_hessian(f: Callable[..., Any], argnums: int | Sequence[int] = 0,
                  has_aux: bool = False, holomorphic: bool = False) -> Callable[..., Any]:
    """``jacfwd(jacrev(f))`` with ``hessian``'s checks: the dense path of
    ``funcdiff.hessian`` (``api/jacobian.py``, which documents it)."""
    fname = f"hessian({_fun_name(f)})"
    return _jacfwd(_jacrev(f, argnums, has_aux, holomorphic, fname), argnums, has_aux,
                   holomorphic, fname, mode="hessian")


def hvp(f: Callable[..., Any]) -> Callable[[Any, Any], Any]:
    """Create a function that evaluates Hessian-vector products of ``f``.

    ``hvp(f)(x, v)`` is ``H(x) @ v`` computed forward-over-reverse (``jvp`` of
    ``grad``), at about the cost of two gradients, without forming ``H``.

    Parameters
    ----------
    f : callable
        A function of one argument with a scalar output.

    Returns
    -------
    callable
        ``h(x, v)`` returning the Hessian of ``f`` at ``x`` applied to ``v`` (shaped
        like ``x``).

    Raises
    ------
    GradientError
        As ``grad``: if ``f``'s output is not a single floating-point element.

    Examples
    --------
    >>> f = lambda x: fnp.sum(x ** 3)
    >>> print(fd.hvp(f)(np.array([1.0, 2.0]), np.array([1.0, 1.0])))
    [ 6. 12.]

    See Also
    --------
    hessian : the whole Hessian.
    grad, jvp : the two passes it composes.
    """
    def h(x, v):
        return jvp(grad(f), (x,), (v,))[1]
    return api_boundary(h)


__all__ = ["grad", "value_and_grad", "vjp", "jvp", "linearize", "jacfwd", "jacrev",
           "dense_hessian", "hvp", "float0", "make_jaxpr"]


def make_jaxpr(f: Callable[..., Any],
               static_argnums: int | Sequence[int] = ()) -> Callable[..., ClosedJaxpr]:
    """Create a function that returns the jaxpr (funcdiff's IR) of ``f``.

    ``f`` is traced abstractly, as under ``jit``: only shapes and dtypes are known.
    Print the result to read the program.

    Parameters
    ----------
    f : callable
        The function, taking and returning pytrees of arrays.
    static_argnums : int or sequence of int, default ()
        Positional arguments that are Python values, not traced.

    Returns
    -------
    callable
        A function with ``f``'s arguments returning the ``ClosedJaxpr`` of ``f`` at
        these argument shapes and dtypes.

    Raises
    ------
    ConcretizationError
        If ``f`` needs the value of a traced argument (Python ``if`` on it, ...).

    Examples
    --------
    >>> print(fd.make_jaxpr(lambda x: fnp.sin(x) * 2.0)(np.ones(3)))
    { lambda ; a:f64[3]. let
        b:f64[3] = sin a
        c:f64[3] = mul b 2.0
      in (c,) }

    See Also
    --------
    jit : compiles the same program to NumPy code.
    eval_jaxpr : runs a jaxpr.
    cost_analysis : what running it costs.
    """
    static_argnums = (static_argnums,) if isinstance(static_argnums, int) else \
        tuple(static_argnums)

    @functools.wraps(f)
    def wrapped(*args):
        static = {i: args[i] for i in static_argnums}
        dyn = [a for i, a in enumerate(args) if i not in static]

        def g(*dyn_args):
            it = iter(dyn_args)
            full = [static[i] if i in static else next(it) for i in range(len(args))]
            return f(*full)

        leaves, in_tree = flatten_args(
            dyn, f, [i for i in range(len(args)) if i not in static])
        flat_f, store = flatten_fun(g, in_tree)
        closed, _, _ = trace_flat(flat_f, [leaf_aval(x) for x in leaves], kind="make_jaxpr")
        return closed

    return api_boundary(wrapped)


"""``check_grads``: compare derivatives against finite differences (as autograd's and
JAX's ``check_grads`` do).

Forward mode: ``jvp(f)(x; v)`` vs the central difference ``(f(x + eps v) - f(x - eps v)) /
2 eps`` in a random direction ``v``.  Reverse mode: the dot-product identity
``<vjp(f)(x; u), v> == <u, jvp(f)(x; v)>`` for random ``u``, ``v`` (with forward mode
itself checked numerically, this checks reverse mode).  ``order > 1`` recurses on the
derivative functions.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .api.autodiff import jvp, vjp
from .core.errors import FuncdiffError
from .tree_util import tree_flatten, tree_map, tree_unflatten

__all__ = ["check_grads", "check_jvp", "check_vjp", "GradientCheckError"]

_DEFAULT_TOL = {np.dtype(np.float16): 1e-1, np.dtype(np.float32): 3e-2,
                np.dtype(np.float64): 1e-5, np.dtype(np.complex64): 3e-2,
                np.dtype(np.complex128): 1e-5}
_EPS = {np.dtype(np.float32): 1e-3, np.dtype(np.float64): 1e-4,
        np.dtype(np.complex64): 1e-3, np.dtype(np.complex128): 1e-4}


class GradientCheckError(FuncdiffError, AssertionError):
    """Derivatives disagree with finite differences (or with each other)."""


def _rand_like(rng, x):
    x = np.asarray(x)
    if np.iscomplexobj(x):
        return (rng.standard_normal(x.shape) + 1j * rng.standard_normal(x.shape)).astype(x.dtype)
    if np.issubdtype(x.dtype, np.floating):
        return rng.standard_normal(x.shape).astype(x.dtype)
    return np.zeros(x.shape, x.dtype)


def _vdot(a, b):
    """The real pairing ``Re(sum(a * b))`` under which JAX-convention cotangents are
    transposes (complex values count as pairs of reals: for a non-holomorphic map such
    as ``complex(x, y)`` or ``conj`` only the real part of ``sum(a * b)`` matches)."""
    la, _ = tree_flatten(a)
    lb, _ = tree_flatten(b)
    total = 0.0
    for x, y in zip(la, lb):
        x, y = np.asarray(x), np.asarray(y)
        if x.dtype.kind in "fc" and y.dtype.kind in "fc":
            total = total + np.real(np.sum(x * y))
    return total


def _add(a, b, scale):
    """``a + scale * b`` leaf by leaf, in each leaf's own dtype (NumPy 1.x would promote a
    0-d float32 leaf to float64 by value here)."""
    def add(x, y):
        x = np.asarray(x)
        return (x + scale * np.asarray(y)).astype(x.dtype, copy=False)
    return tree_map(lambda x, y: add(x, y) if np.asarray(x).dtype.kind in "fc" else x, a, b)


def _tol(args, atol, rtol):
    leaves, _ = tree_flatten(args)
    dts = [np.asarray(x).dtype for x in leaves if np.asarray(x).dtype.kind in "fc"]
    worst = max((_DEFAULT_TOL.get(d, 1e-5) for d in dts), default=1e-5)
    return (worst if atol is None else atol), (worst if rtol is None else rtol)


def _close(name, got, want, atol, rtol, detail):
    g_leaves, _ = tree_flatten(got)
    w_leaves, _ = tree_flatten(want)
    for i, (g, w) in enumerate(zip(g_leaves, w_leaves)):
        g, w = np.asarray(g), np.asarray(w)
        if g.dtype.kind not in "fcb" and g.dtype.kind not in "iu":
            continue
        if not np.allclose(g, w, atol=atol, rtol=rtol, equal_nan=False):
            err = np.max(np.abs(g - w)) if g.size else 0.0
            raise GradientCheckError(
                f"{name} check failed ({detail}) at output leaf {i}: max abs error {err:.3g} "
                f"(atol={atol}, rtol={rtol})\n  got:      {g!r}\n  expected: {w!r}")


def check_jvp(f, args, atol=None, rtol=None, eps=None, rng=None):
    rng = rng or np.random.default_rng(0)
    args = tuple(args)
    atol, rtol = _tol(args, atol, rtol)
    leaves, _ = tree_flatten(args)
    dt = max((np.asarray(x).dtype for x in leaves if np.asarray(x).dtype.kind in "fc"),
             default=np.dtype(np.float64), key=lambda d: d.itemsize)
    eps = eps or _EPS.get(dt, 1e-4)
    v = tree_map(lambda x: _rand_like(rng, x), args)
    _, t_out = jvp(f, args, v)

    def central(h):
        f_pos, f_neg = f(*_add(args, v, h)), f(*_add(args, v, -h))
        return tree_map(lambda a, b: (np.asarray(a, dtype=np.result_type(np.asarray(a), float))
                                      - np.asarray(b)) / (2 * h), f_pos, f_neg)

    # Richardson extrapolation of two central differences: truncation error O(eps^4)
    # instead of O(eps^2), so functions with large third derivatives (a second-order
    # check through a loop, tanh near a complex pole) are checked as tightly as others
    d_h, d_h2 = central(eps), central(eps / 2)
    fd = tree_map(lambda a, b: (4 * b - a) / 3, d_h, d_h2)
    _close("jvp", t_out, fd, atol, rtol, "jvp vs finite differences")


def check_vjp(f, args, atol=None, rtol=None, rng=None):
    rng = rng or np.random.default_rng(1)
    args = tuple(args)
    atol, rtol = _tol(args, atol, rtol)
    out, vjp_fn = vjp(f, *args)
    v = tree_map(lambda x: _rand_like(rng, x), args)
    u = tree_map(lambda x: _rand_like(rng, x), out)
    ct = vjp_fn(u)
    _, t_out = jvp(f, args, v)
    lhs = _vdot(ct, v)
    rhs = _vdot(u, t_out)
    scale = max(1.0, abs(lhs), abs(rhs))
    if not np.isclose(lhs, rhs, atol=atol * scale, rtol=rtol):
        raise GradientCheckError(
            f"vjp check failed (dot-product identity <vjp(u), v> == <u, jvp(v)>): "
            f"{lhs!r} != {rhs!r}")


def check_grads(f: Callable[..., Any], args: Sequence[Any], order: int = 1,
                modes: str | Sequence[str] = ("fwd", "rev"), atol: float | None = None,
                rtol: float | None = None, eps: float | None = None) -> None:
    """Check ``f``'s derivatives at ``args`` against finite differences, up to ``order``.

    Forward mode is compared with central differences in a random direction; reverse
    mode with forward mode through the dot-product identity
    ``<vjp(u), v> == <u, jvp(v)>``; ``order > 1`` checks the derivative functions
    recursively (as autograd's and JAX's ``check_grads``).

    Parameters
    ----------
    f : callable
        The function, taking and returning pytrees of arrays.
    args : sequence
        The positional arguments to check at.
    order : int, default 1
        The highest derivative order checked.
    modes : str or sequence of str, default ("fwd", "rev")
        Which modes to check.
    atol, rtol : float, optional
        Tolerances (default: by dtype, looser for float32).
    eps : float, optional
        The finite-difference step (default: by dtype).

    Returns
    -------
    None
        Returns quietly when the derivatives agree.

    Raises
    ------
    GradientCheckError
        With the discrepancy, when they disagree.
    ValueError
        For an unknown mode.

    Examples
    --------
    >>> fd.check_grads(lambda x: fnp.sum(fnp.sin(x) * x), (np.array([0.5, 1.5]),), order=2)
    >>> wrong = fd.custom_jvp(fnp.sin)
    >>> _ = wrong.defjvp(lambda p, t: (fnp.sin(p[0]), 2.0 * t[0]))
    >>> try:
    ...     fd.check_grads(wrong, (np.array([0.5]),), modes="fwd")
    ... except fd.test_util.GradientCheckError:
    ...     print("caught")
    caught

    See Also
    --------
    grad, jvp, vjp : the derivatives checked.
    """
    args = tuple(args)
    modes = (modes,) if isinstance(modes, str) else tuple(modes)
    for m in modes:
        if m not in ("fwd", "rev"):
            raise ValueError(f"check_grads: unknown mode {m!r} (use 'fwd' and/or 'rev')")

    def _check(fun, order_left, rng_seed):
        rng = np.random.default_rng(rng_seed)
        if "fwd" in modes:
            check_jvp(fun, args, atol, rtol, eps, rng)
            if order_left > 1:
                v = tree_map(lambda x: _rand_like(rng, x), args)

                def fwd_fun(*xs):
                    return jvp(fun, xs, v)[1]
                _check(fwd_fun, order_left - 1, rng_seed + 1)
        if "rev" in modes:
            check_vjp(fun, args, atol, rtol, rng)
            if order_left > 1:
                # the output as the transform sees it: its dtype can differ from an
                # eager call's (numpy's eig of a real matrix returns real eigenvalues when
                # they happen to be real, the traced eig always complex ones), and
                # vjp_fn requires cotangents of the traced output's dtype
                out = vjp(fun, *args)[0]
                u = tree_map(lambda x: _rand_like(rng, x), out)

                def rev_fun(*xs):
                    return vjp(fun, *xs)[1](u)
                _check(rev_fun, order_left - 1, rng_seed + 2)

    _check(f, order, 0)


tree_unflatten  # noqa: B018


def __dir__():
    return sorted(__all__)   # dir() shows the public names only

"""``minimize``: SciPy's optimizer, differentiable through its solution.

How it runs.  The objective is traced once into a value-and-gradient program (the
gradient by funcdiff's reverse mode, or the user's ``jac``), and SciPy's own
``scipy.optimize.minimize`` runs on it through ``host_call`` -- a Python call on NumPy
values -- so the iterates, ``nit``, ``nfev``, ``status`` and ``message`` are SciPy's.
Outside transforms and under ``grad`` it runs at once; under ``jit`` the compiled
program calls SciPy when it runs; under ``vmap`` SciPy runs once per example.

How it differentiates.  The solution ``x*`` of the optimality condition ``F(x*) = 0``
(``F`` the objective's gradient; for L-BFGS-B with bounds the projected-gradient
residual ``x - clip(x - grad, lb, ub)``, so components at an active bound stay there)
is a ``funcdiff.lax.custom_root``: derivatives with respect to anything the objective
closes over, and its ``args``, come from the implicit function theorem,
``dx* = -(dF/dx)^-1 dF``, costing one linear solve with the Hessian (built from
Hessian-vector products), never a differentiation of the iterations; to any order.  The
derivative is valid at a converged minimum with a nonsingular Hessian (on the free
components); when SciPy reports no success while a derivative is being taken,
``ImplicitGradientWarning`` says so.  ``x0`` gets no derivative (the minimum does not
depend on where the search starts).  ``fun`` and ``jac`` of the result are recomputed
at ``x*`` in traced code, so they differentiate too; ``hess_inv`` (the BFGS
approximation) and the counters carry no derivative.
"""
from __future__ import annotations

import threading

import numpy as np

from ... import lax
from ... import numpy as fnp
from ...api._flat import leaf_operand
from ...api.autodiff import value_and_grad
from ...core.avals import ShapedArray
from ...core.errors import ConcretizationError, FuncdiffTypeError, FuncdiffValueError
from ...core.trace import Tracer, get_aval, trace_flat
from ...jit import compiled
from ...core.ir import closure_convert
from ...higher_order.solves import host_call_p
from ...tree_util import register_pytree_node, tree_leaves
from ...api.vmap import vmap
from .._implicit import differentiating, warn_unconverged

try:
    import scipy.optimize as _spo
except ImportError:        # SciPy is optional for funcdiff, but minimize runs SciPy's code
    _spo = None

__all__ = ["OptimizeResults", "minimize"]

_METHODS = {"bfgs": "BFGS", "l-bfgs-b": "L-BFGS-B"}
_F64 = np.dtype(np.float64)
_I64 = np.dtype(np.int64)

# SciPy's messages, numbered as met: the result holds the number (an array, so results
# pass through jit and vmap), ``OptimizeResults.message`` the text
_MESSAGES: list = []
_MESSAGE_IDS: dict = {}
_lock = threading.Lock()


def _message_id(msg):
    with _lock:
        i = _MESSAGE_IDS.get(msg)
        if i is None:
            i = _MESSAGE_IDS[msg] = len(_MESSAGES)
            _MESSAGES.append(msg)
        return i


class OptimizeResults:
    """The result of ``minimize``, as SciPy's ``OptimizeResult`` (attributes and keys):
    ``x``, ``fun``, ``jac``, ``hess_inv`` (BFGS's inverse-Hessian approximation; None
    for L-BFGS-B, whose SciPy form is an operator), ``nit``, ``nfev``, ``njev``,
    ``status``, ``success``, ``message``.  A pytree, so it can be returned from ``jit``
    and ``vmap``; ``message`` is known once the values are (not inside ``jit``).
    Constructed by hand it takes JAX's nine fields (``message_id`` is ``minimize``'s
    own: without it there is no ``message``, as a SciPy result built without one)."""

    _FIELDS = ("x", "success", "status", "fun", "jac", "hess_inv", "nfev", "njev", "nit")

    def __init__(self, x, success, status, fun, jac, hess_inv, nfev, njev, nit,
                 message_id=None):
        self.x, self.success, self.status, self.fun, self.jac = x, success, status, fun, jac
        self.hess_inv, self.nfev, self.njev, self.nit = hess_inv, nfev, njev, nit
        self.message_id = message_id

    @property
    def message(self):
        mid = self.message_id
        if mid is None:
            raise AttributeError("message: this OptimizeResults was built without one "
                                 "(only minimize's results carry a message)")
        if type(mid) is Tracer:
            if mid._val is None:
                raise ConcretizationError(
                    "OptimizeResults.message is known only when the optimizer has run: "
                    "read it outside jit/vmap (return the result), or use .status and "
                    ".success inside.")
            mid = mid._val
        mid = np.asarray(mid)
        if mid.ndim == 0:
            return _MESSAGES[int(mid)]
        return np.array([_MESSAGES[int(i)] for i in mid.ravel()], dtype=object).reshape(
            mid.shape)

    def keys(self):
        return list(self._FIELDS) + ([] if self.message_id is None else ["message"])

    def __getitem__(self, key):
        if key not in self.keys():
            raise KeyError(key)
        return getattr(self, key)

    def __repr__(self):
        items = [(k, getattr(self, k)) for k in self._FIELDS]
        if self.message_id is not None:
            try:
                items.append(("message", self.message))
            except ConcretizationError:
                items.append(("message", "<known at run time>"))
        w = max(len(k) for k, _ in items)
        return "\n".join(f"{k.rjust(w)}: {v!r}" for k, v in items)


register_pytree_node(
    OptimizeResults,
    lambda r: ((r.x, r.success, r.status, r.fun, r.jac, r.hess_inv, r.nfev, r.njev, r.nit,
                r.message_id), None),
    lambda _, children: OptimizeResults(*children))


def _scalar(v, what):
    v = leaf_operand(v, what)
    a = get_aval(v)
    if a.size != 1:
        raise FuncdiffValueError(f"minimize: the objective must return a scalar, but "
                                 f"{what} has shape {a.shape}")
    if a.dtype.kind not in "fiub":
        raise FuncdiffTypeError(f"minimize: the objective must return a real number, got "
                                f"{a.dtype.name}")
    return fnp.reshape(v, ()).astype(_F64)


def _bounds(bounds, n):
    """``(lb, ub)`` NumPy arrays of length ``n`` (infinite where unbounded)."""
    if any(type(v) is Tracer for v in tree_leaves(bounds)) or (
            hasattr(bounds, "lb") and any(type(v) is Tracer for v in (bounds.lb, bounds.ub))):
        raise FuncdiffTypeError(
            "minimize: bounds must be concrete values (NumPy arrays or numbers): they "
            "are passed to SciPy as they are, and derivatives with respect to them are "
            "not supported")
    if hasattr(bounds, "lb") and hasattr(bounds, "ub"):
        lb, ub = bounds.lb, bounds.ub
    else:
        pairs = list(bounds)
        if len(pairs) != n:
            raise FuncdiffValueError(f"minimize: length of x0 ({n}) != length of bounds "
                                     f"({len(pairs)})")
        lb = [-np.inf if p[0] is None else p[0] for p in pairs]
        ub = [np.inf if p[1] is None else p[1] for p in pairs]
    return (np.broadcast_to(np.asarray(lb, _F64), (n,)),
            np.broadcast_to(np.asarray(ub, _F64), (n,)))


def minimize(fun, x0, args=(), method="BFGS", jac=None, hess=None, hessp=None,
             bounds=None, constraints=(), tol=None, callback=None, options=None):
    """Like ``scipy.optimize.minimize`` (methods ``'BFGS'`` and ``'L-BFGS-B'``), with a
    solution differentiable with respect to whatever ``fun`` closes over and ``args``
    (implicit differentiation: one linear solve with the Hessian, to any order).

    ``fun(x, *args)`` is traced (write it with ``funcdiff.numpy`` or NumPy functions,
    which dispatch); ``x0`` is one-dimensional and the solution is float64, as SciPy's.
    ``jac``: None (and SciPy's finite-difference spellings ``'2-point'``, ``'3-point'``,
    ``'cs'``, False) use funcdiff's exact gradient; ``True`` means ``fun`` returns
    ``(f, g)``; a callable ``jac(x, *args)`` is used as given.  ``bounds``, ``tol``,
    ``callback`` (called with NumPy values as SciPy calls it) and ``options`` are passed
    to SciPy; bounds must be concrete.  ``hess``, ``hessp`` and ``constraints`` are not
    used by these methods (SciPy warns).  Returns ``OptimizeResults``.
    """
    if _spo is None:
        raise FuncdiffTypeError("funcdiff.scipy.optimize.minimize runs SciPy's optimizer: "
                                "install SciPy (pip install scipy)")
    if not isinstance(method, str) or method.lower() not in _METHODS:
        raise FuncdiffValueError(
            f"minimize: method={method!r} is not supported; the supported methods are "
            f"{', '.join(repr(m) for m in _METHODS.values())}")
    name = _METHODS[method.lower()]
    args = args if isinstance(args, tuple) else (args,)
    x0 = leaf_operand(x0, "minimize x0")
    a0 = get_aval(x0)
    if a0.ndim > 1:
        raise FuncdiffValueError("minimize: 'x0' must only have one dimension, got shape "
                                 f"{a0.shape}")
    if a0.dtype.kind not in "fiub":
        raise FuncdiffTypeError(f"minimize: x0 must be real, got {a0.dtype.name}")
    x0 = fnp.atleast_1d(x0).astype(_F64)
    n = get_aval(x0).shape[0]
    lb_ub = _bounds(bounds, n) if bounds is not None and name == "L-BFGS-B" else None

    if jac is True:
        def value_grad(x):
            out = fun(x, *args)
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                raise FuncdiffValueError("minimize: with jac=True, fun must return a pair "
                                         "(value, gradient)")
            return _scalar(out[0], "fun(x)[0]"), _gradient(out[1], n)
    elif callable(jac):
        def value_grad(x):
            return _scalar(fun(x, *args), "fun(x)"), _gradient(jac(x, *args), n)
    elif jac is None or jac is False or jac in ("2-point", "3-point", "cs"):
        def value_grad(x):
            return value_and_grad(lambda y: _scalar(fun(y, *args), "fun(x)"))(x)
    else:
        raise FuncdiffValueError(f"minimize: jac must be None, True, False, a callable or "
                                 f"one of '2-point', '3-point', 'cs'; got {jac!r}")

    # the objective as a program of (consts, x): what SciPy evaluates, with NumPy values
    closed, _, _ = trace_flat(lambda x: list(value_grad(x)), [ShapedArray((n,), _F64)],
                              kind="minimize")
    vg_jaxpr, consts = closure_convert(closed)
    warn = differentiating()
    sp_kwargs = dict(method=name, jac=True, hess=hess, hessp=hessp, bounds=bounds,
                     constraints=constraints, tol=tol, callback=callback, options=options)

    def run(x_init, *const_vals):
        vg = compiled(vg_jaxpr, "minimize_objective")

        def fg(x):
            f, g = vg(*const_vals, np.asarray(x, _F64))
            return f, np.asarray(g, _F64)
        res = _spo.minimize(fg, np.asarray(x_init, _F64), **sp_kwargs)
        if warn and not res.success:
            warn_unconverged(f"scipy.optimize.minimize (method={name!r})",
                             f"status {res.status}: {res.message}", stacklevel=2)
        h = np.asarray(res.hess_inv, _F64) if name == "BFGS" else np.zeros((0, 0))
        return [res.x, res.status, res.success, res.nit, res.nfev, res.njev, h,
                _message_id(res.message)]

    out_avals = (ShapedArray((n,), _F64), ShapedArray((), _I64),
                 ShapedArray((), np.dtype(bool)), ShapedArray((), _I64),
                 ShapedArray((), _I64), ShapedArray((), _I64),
                 ShapedArray((n, n) if name == "BFGS" else (0, 0), _F64),
                 ShapedArray((), _I64))

    def optimality(x):
        g = value_grad(x)[1]
        if lb_ub is None:
            return g
        return x - fnp.clip(x - g, *lb_ub)

    def solve(_, x_init):
        outs = host_call_p.bind(x_init, *consts, fn=run, out_avals=out_avals)
        return outs[0], tuple(outs[1:])

    def tangent_solve(lin, y):
        # the Jacobian of the optimality condition (the Hessian, for BFGS) from n
        # Jacobian-vector products in one batched pass; then one dense solve
        rows = vmap(lin)(fnp.eye(n))
        return fnp.linalg.solve(fnp.transpose(rows), y)

    x, (status, success, nit, nfev, njev, hess_inv, msg) = lax.custom_root(
        optimality, x0, solve, tangent_solve, has_aux=True)
    f, g = value_grad(x)
    return OptimizeResults(x, success, status, f, g, hess_inv if name == "BFGS" else None,
                           nfev, njev, nit, msg)


def _gradient(g, n):
    g = fnp.asarray(leaf_operand(g, "the gradient"))
    if get_aval(g).size != n:
        raise FuncdiffValueError(f"minimize: the gradient must have {n} elements (x0's), got "
                                 f"shape {get_aval(g).shape}")
    return fnp.reshape(g, (n,)).astype(_F64)

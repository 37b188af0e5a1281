"""Sparse Jacobians and Hessians by coloring: ``jacobian(f, sparse=True)`` and
``hessian(f, sparse=True)``.

1. The sparsity pattern is found from ``f``'s IR (``analysis.sparsity``: structural
   dependency propagation, conservative); for a Hessian, from the IR of ``grad(f)``,
   made symmetric.
2. The columns are colored (``analysis.coloring``): columns of one color share no row,
   so one Jacobian-vector product with the sum of their unit vectors gives all their
   entries.  Rows are colored too, for vector-Jacobian products, and the cheaper
   orientation (fewer colors) is used; a Hessian gets a star coloring, read back using
   its symmetry.
3. One linearization of ``f``, then one batched (``vmap``) jvp or vjp pass over the
   color seeds.
4. The entries are gathered from the compressed product (one ``gather``, so the whole
   computation traces: ``jit`` and ``vmap`` of the sparse Jacobian work).

The result is a ``SparseJacobian``, a pytree whose one leaf is ``data`` (the entries in
CSR order).  The pattern, coloring and gather indices are cached per input signature
and program structure; constants the pattern was read from (a matrix in ``A @ x``,
known index arrays) are compared on every call, so a changed constant is not a stale
pattern.
"""
from __future__ import annotations

import functools
from collections import OrderedDict

import numpy as np

from ._flat import leaf_aval, leaf_operand
from .autodiff import _batched_linear, _fun_name, _jac_setup, _jacrev, make_jaxpr
from .executor import _structure_key
from ..analysis.coloring import color_columns, color_rows, hessian_coloring, \
    recovery_index, symmetrize
from ..analysis.sparsity import Pattern, jaxpr_sparsity
from ..core.errors import FuncdiffTypeError, FuncdiffValueError, GradientError
from ..core.trace import Tracer
from ..core.tracebacks import api_boundary
from ..primitives.base import convert_element_type, full, reshape
from ..primitives.indexing import gather, make_indexer
from ..tree_util import register_pytree_node, tree_flatten

__all__ = ["SparseJacobian", "sparse_jacobian", "sparse_hessian", "sparsity_plan"]

_CACHE_SIZE = 32
_GATHER = make_indexer([("array", 0)])


class SparseJacobian:
    """A Jacobian (or Hessian) as a sparse matrix: ``m x n`` for ``f`` mapping ``n``
    input elements to ``m`` output elements (both flattened in C order).

    Attributes
    ----------
    data : array
        The entries, in the CSR order of ``pattern`` (leading axes: batch axes, under
        ``vmap``).  The one pytree leaf: ``jit`` and ``vmap`` return a
        ``SparseJacobian`` whose ``data`` they computed.
    pattern : Pattern
        The detected sparsity pattern (``indptr``, ``indices``, ``toarray()``): a
        superset of the true nonzeros.
    shape : tuple
        ``(m, n)``.
    out_shape, in_shape : tuple
        The shapes of ``f``'s output and input (``toarray().reshape(out_shape +
        in_shape)`` is laid out as ``jacfwd``'s result).
    n_passes : int
        Jacobian-vector (or vector-Jacobian) products computed: the number of colors.
    mode : str
        ``"fwd"`` (columns colored, jvps), ``"rev"`` (rows colored, vjps) or
        ``"star"`` (a Hessian, star-colored, forward-over-reverse products).

    Examples
    --------
    >>> J = fd.jacobian(lambda x: x[1:] * x[:-1], sparse=True)(np.arange(1.0, 5.0))
    >>> print(J.shape, J.nnz, J.n_passes)
    (3, 4) 6 2
    >>> print(J.toarray())
    [[2. 1. 0. 0.]
     [0. 3. 2. 0.]
     [0. 0. 4. 3.]]

    See Also
    --------
    jacobian, hessian : ``sparse=True`` returns one.
    """

    # (vmap: batch axes lead this object's data, entries last; see api.vmap)
    __funcdiff_leading_batch__ = True

    def __init__(self, data, pattern, out_shape, in_shape, n_passes, mode):
        self.data = data
        self.pattern = pattern
        self.out_shape = tuple(out_shape)
        self.in_shape = tuple(in_shape)
        self.n_passes = int(n_passes)
        self.mode = mode

    @property
    def shape(self):
        return self.pattern.shape

    @property
    def nnz(self):
        return self.pattern.nnz

    @property
    def dtype(self):
        return np.asarray(self.data).dtype

    def toarray(self):
        """The dense matrix, ``batch + (m, n)``."""
        data = np.asarray(self.data)
        if data.ndim == 0 or data.shape[-1] != self.nnz:
            # vmap(..., out_axes=k) with k != 0 moves the batch axis behind the entries
            raise FuncdiffValueError(
                f"SparseJacobian.toarray(): data has shape {data.shape}, but its last "
                f"axis must hold the {self.nnz} entries (batch axes lead); under vmap "
                "use out_axes=0 and move the batch axis of the dense result instead")
        batch = data.shape[:-1]
        out = np.zeros(batch + self.shape, data.dtype)
        out[..., self.pattern.rows(), self.pattern.indices] = data
        return out

    def tocsr(self):
        """A ``scipy.sparse.csr_matrix`` (needs SciPy; one matrix, not a batch)."""
        try:
            import scipy.sparse as sps  # noqa: PLC0415  (why: SciPy is optional)
        except ImportError:
            raise FuncdiffValueError(
                "SparseJacobian.tocsr() needs SciPy, which is not installed "
                "(pip install scipy); toarray() gives the dense matrix without it, and "
                ".data/.pattern.indptr/.pattern.indices are the CSR arrays") from None
        data = np.asarray(self.data)
        if data.ndim != 1:
            raise FuncdiffValueError(
                f"SparseJacobian.tocsr(): this is a batch of {data.shape[:-1]} matrices "
                "(from vmap); take one first, e.g. SparseJacobian(J.data[0], J.pattern, "
                "J.out_shape, J.in_shape, J.n_passes, J.mode)")
        return sps.csr_matrix((data, self.pattern.indices.copy(),
                               self.pattern.indptr.copy()), shape=self.shape)

    def __repr__(self):
        return (f"SparseJacobian(shape={self.shape}, nnz={self.nnz}, "
                f"n_passes={self.n_passes}, mode={self.mode!r})")


register_pytree_node(
    SparseJacobian,
    lambda J: ((J.data,), (J.pattern, J.out_shape, J.in_shape, J.n_passes, J.mode)),
    lambda aux, children: SparseJacobian(children[0], *aux))


class _Plan:
    """What one input signature needs: the pattern, the orientation and colors, the
    seeds and the gather index into the compressed product."""

    def __init__(self, pattern, mode, colors, n_colors_fwd, n_colors_rev, read):
        self.pattern = pattern
        self.mode = mode
        self.colors = colors
        self.n_colors = int(colors.max()) + 1 if colors.size and pattern.nnz else 0
        self.n_colors_fwd = n_colors_fwd
        self.n_colors_rev = n_colors_rev
        self.read = read              # [(const position, value)] the pattern depends on
        m, n = pattern.shape
        rows, cols = pattern.rows(), pattern.indices
        if mode == "fwd":     # compressed (colors, m): entry (i, j) at [colors[j], i]
            self.index = colors[cols] * m + rows
            seed_len = n
        elif mode == "rev":   # compressed (colors, n): entry (i, j) at [colors[i], j]
            self.index = colors[rows] * n + cols
            seed_len = m
        else:                 # Hessian H @ S, (colors, n): at [color, row] of recovery
            r, c = recovery_index(pattern, colors) if pattern.nnz else (rows, cols)
            self.index = c * n + r
            seed_len = n
        self.seeds = np.zeros((self.n_colors, seed_len))
        if self.n_colors:
            self.seeds[colors, np.arange(seed_len)] = 1.0


def _check_input(x, fname, what):
    """The one argument sparse mode differentiates: a real floating-point array."""
    a = leaf_aval(leaf_operand(x))
    if a.dtype.kind == "c":
        raise FuncdiffTypeError(
            f"{fname}: sparse=True supports real inputs and outputs, but the {what} is "
            f"complex ({a.str_short()}); use the dense jacobian/hessian (sparse=False)")
    if a.dtype.kind != "f":
        raise GradientError(
            f"{fname}: the input must be a real floating-point array, got {a.str_short()}"
            ".  Pass floats (e.g. x.astype(float)).")
    return a


def _check_call(args, kwargs, argnums, fname):
    if kwargs:
        raise FuncdiffValueError(
            f"{fname}: sparse=True does not take keyword arguments ({', '.join(kwargs)}); "
            "pass them positionally or close over them (functools.partial)")
    if argnums != 0:
        raise FuncdiffValueError(
            f"{fname}: sparse=True differentiates the first argument only (argnums=0), "
            f"got argnums={argnums!r}; reorder the arguments or wrap f")
    if not args:
        raise FuncdiffValueError(f"{fname}: called without arguments; pass the array "
                                 "to differentiate")
    leaves, _ = tree_flatten(args[0])
    if len(leaves) != 1 or leaves[0] is not args[0]:
        raise FuncdiffValueError(
            f"{fname}: sparse=True needs the first argument to be one array, got a "
            f"pytree of {len(leaves)} leaves; concatenate them into one vector "
            "(funcdiff.flatten_util.ravel_pytree)")


def _abstract(x):
    """A stand-in of ``x``'s shape and dtype (tracing is abstract: values unused)."""
    a = leaf_aval(leaf_operand(x))
    return np.zeros(a.shape, a.dtype)


def sparsity_plan(f, args, mode, hessian, fname, cache):
    """The (cached) plan for ``f`` at arguments like ``args``."""
    x = args[0]
    a = _check_input(x, fname, "input")
    # trace f (a Hessian: its gradient) abstractly, as jit does
    g = _jacrev(f, 0, False, False, fname) if hessian else f
    closed = make_jaxpr(g)(*[_abstract(v) for v in args])
    jaxpr = closed.jaxpr
    if len(jaxpr.outvars) != 1:
        raise FuncdiffValueError(
            f"{fname}: sparse=True needs f to return one array, got {len(jaxpr.outvars)} "
            "outputs; concatenate them (e.g. fnp.concatenate([a.ravel(), b.ravel()]))")
    out_aval = jaxpr.outvars[0].aval
    if hessian and out_aval.shape != a.shape:   # grad(f) is shaped like x iff f is scalar
        raise FuncdiffValueError(
            f"{fname}: a Hessian needs f to return a single element, but its gradient "
            f"has shape {out_aval.shape} for an input of shape {a.shape}")
    if out_aval.dtype.kind == "c":
        raise FuncdiffTypeError(
            f"{fname}: sparse=True supports real outputs, got {out_aval.str_short()}; use "
            "sparse=False")
    skey = _structure_key(jaxpr, (mode, hessian))
    key = None if skey is None else (tuple(leaf_aval(leaf_operand(v)) for v in args), skey)
    plan = cache.get(key) if key is not None else None
    if plan is not None and all(
            _same(closed.consts[i], v) for i, v in plan.read):
        cache.move_to_end(key)
        return plan, out_aval
    outs, read = jaxpr_sparsity(jaxpr, [Pattern.identity(a.size)] + [
        Pattern.empty(leaf_aval(leaf_operand(v)).size, a.size) for v in args[1:]],
        closed.consts)
    P = outs[0]
    if hessian:
        P = symmetrize(P)
        colors = hessian_coloring(P)
        nf = nr = int(colors.max()) + 1 if colors.size else 0
        plan = _Plan(P, "star", colors, nf, nr, [])
    else:
        cf, cr = color_columns(P), color_rows(P)
        nf = int(cf.max()) + 1 if cf.size else 0
        nr = int(cr.max()) + 1 if cr.size else 0
        use = mode if mode in ("fwd", "rev") else ("fwd" if nf <= nr else "rev")
        plan = _Plan(P, use, cf if use == "fwd" else cr, nf, nr, [])
    plan.read = [(i, np.array(closed.consts[i], copy=True)) for i in read]
    # a plan made while a constant was traced (f closes over a value of an enclosing
    # jit or vmap) did not read it: it would serve later concrete calls too coarsely
    if key is not None and not any(isinstance(c, Tracer) for c in closed.consts):
        cache[key] = plan
        while len(cache) > _CACHE_SIZE:
            cache.popitem(last=False)
    return plan, out_aval


def _same(a, b):
    """Whether a constant still has the value the pattern was read from (a traced
    value, from an enclosing jit or vmap, has no value: not the same)."""
    if isinstance(a, Tracer):
        return False
    a = np.asarray(a)
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(
        a, b, equal_nan=a.dtype.kind in "fc")


def _evaluate(g, args, plan, out_aval, in_aval, fname):
    """One linearization of ``g`` at ``args``, one batched pass over the seeds, one
    gather of the entries."""
    dtype = np.result_type(out_aval.dtype, in_aval.dtype)
    c = plan.n_colors
    if c == 0:
        data = full((plan.pattern.nnz,), 0, dtype)
    else:
        lin, _, _, _, in_avals, out_avals, _ = _jac_setup(
            g, args, {}, 0, False, False, fname, "rev" if plan.mode == "rev" else "fwd")
        if plan.mode == "rev":
            seeds = plan.seeds.astype(out_avals[0].dtype).reshape((c,) + out_avals[0].shape)
            back = lin.backward()
            comp = _batched_linear(back.jaxpr, back.consts, lin.residuals, [seeds], c)[0]
        else:
            seeds = plan.seeds.astype(in_avals[0].dtype).reshape((c,) + in_avals[0].shape)
            comp = _batched_linear(lin.lin_jaxpr, [], lin.residuals, [seeds], c)[0]
        size = int(np.prod(leaf_aval(comp).shape, dtype=np.int64))
        data = gather(reshape(comp, (size,)), plan.index, indexer=_GATHER)
        if leaf_aval(data).dtype != dtype:
            data = convert_element_type(data, dtype=dtype)
    return SparseJacobian(data, plan.pattern, out_aval.shape, in_aval.shape, c, plan.mode)


def _sparse(f, argnums, mode, hessian, fname):
    cache: OrderedDict = OrderedDict()

    @functools.wraps(f)
    def jac(*args, **kwargs):
        _check_call(args, kwargs, argnums, fname)
        plan, out_aval = sparsity_plan(f, args, mode, hessian, fname, cache)
        g = _jacrev(f, 0, False, False, fname) if hessian else f
        return _evaluate(g, args, plan, out_aval, leaf_aval(leaf_operand(args[0])),
                         fname)

    jac = api_boundary(jac)
    jac.cache = cache
    return jac


def sparse_jacobian(f, argnums=0, mode="auto"):
    """``jacobian(f, sparse=True)``: see ``funcdiff.jacobian``."""
    return _sparse(f, argnums, mode, False, f"jacobian({_fun_name(f)}, sparse=True)")


def sparse_hessian(f, argnums=0):
    """``hessian(f, sparse=True)``: see ``funcdiff.hessian``."""
    return _sparse(f, argnums, "fwd", True, f"hessian({_fun_name(f)}, sparse=True)")

"""Two-valued constants: elementwise arithmetic on a constant that holds two values
(an identity matrix: batched seeds of ``jacfwd``/``jacrev``) is computed once per value.

A constant ``C`` of shape ``S`` whose elements take exactly two values ``c1`` (where the
boolean mask ``M`` holds) and ``c0`` is ``where(M, c1, c0)``.  An elementwise op of it
with operands that are small next to ``S`` (vectors broadcast against it) is then
``where(M, op(c1, w), op(c0, w))``, element for element the same computation, so the
same bits: the pass computes the two branches on the small shape and carries the value
as ``(M, branch1, branch0)`` through further elementwise arithmetic (with other values
on the same mask), reshapes that only add or drop unit axes, and transposes (which
move the mask along).  Where something else reads the value, or it is an output, one
``mask_select`` builds it (``MaskIndex.select``: the other branch broadcast into a new
array, then the positions of the rarer mask value written by index -- a third of
``np.where``'s time on broadcast operands).  A Hessian's ``jacfwd(jacrev(f))`` of an
elementwise ``f`` thus costs vector work and one ``where`` instead of a dozen full
``n x n`` passes; nothing is special-cased for diagonals.

Only exact arithmetic is carried (``+ - * /``, negation, ``abs``, ``square``, max, min:
IEEE 754 rounds each alike on arrays and scalars), every operand of the op's dtype, and
only while the branches stay under half the full size.
"""
from __future__ import annotations

import numpy as np

from ...core.ir import ClosedJaxpr, Eqn, Jaxpr, Literal, Var
from ...core.avals import ShapedArray
from ...primitives.base import reshape_p, transpose_p
from ...core.trace import Primitive

EXACT = {"add", "sub", "mul", "div", "neg", "abs", "square", "max", "min"}
MIN_SIZE = 64     # elements of a constant worth carrying as a mask


class MaskIndex:
    """A constant boolean mask as jit's generated code uses it: its shape and the flat
    positions of its rarer value, computed once at compile time (and, per branch
    shape, where those positions fall in the branch).  Compared by identity (a param
    of ``mask_select``)."""

    def __init__(self, mask):
        self.shape = mask.shape
        self.rare = bool(np.count_nonzero(mask) * 2 <= mask.size)   # the rarer value
        self.index = np.nonzero(mask == self.rare)
        self.flat = np.ravel_multi_index(self.index, mask.shape) if mask.ndim else \
            np.zeros(int(mask == self.rare), np.intp)
        self._gather: dict = {}

    def _gather_index(self, shape):
        """Where the rare positions fall in the flattened branch of ``shape`` (which
        broadcasts to the mask's shape)."""
        g = self._gather.get(shape)
        if g is None:
            padded = (1,) * (len(self.shape) - len(shape)) + shape
            g = np.ravel_multi_index(tuple(ix if d > 1 else np.zeros_like(ix) for ix, d in
                                           zip(self.index, padded)), padded) \
                if padded else np.zeros(len(self.flat), np.intp)
            self._gather[shape] = g
        return g

    def select(self, stack):
        """``np.where(mask, stack[1], stack[0])`` for a ``stack`` of shape ``(2,) + T``,
        ``T`` broadcasting to the mask's shape: a new array, filled with the common
        branch, then the rare positions written from the other."""
        stack = np.asarray(stack)
        out = np.empty(self.shape, stack.dtype)
        out[...] = stack[int(not self.rare)]
        rare = stack[int(self.rare)]
        out.reshape(-1)[self.flat] = np.take(rare, self._gather_index(rare.shape))
        return out

    def __repr__(self):
        return f"MaskIndex(shape={self.shape}, {len(self.flat)} x {self.rare})"


mask_select_p = Primitive("mask_select")
mask_select_p.impl = lambda stack, *, mask: mask.select(stack)
mask_select_p.abstract_eval = lambda stack, *, mask: ShapedArray(mask.shape, stack.dtype)
mask_select_p.returns_new_array = True
mask_select_p.owns_output = True
mask_select_p.cost = lambda avals_in, avals_out, **p: {"flops": avals_out[0].size,
                                                        "transcendentals": 0}
mask_select_p.emit = lambda args, params, gen: \
    f"{gen.param(params['mask'])}.select({args[0]})"


class _Lifted:
    """A value ``where(mask, stack[1], stack[0])``: ``mask`` a bool array of the value's
    shape ``S``, ``stack`` a var of shape ``(2,) + T`` holding both branches, ``T`` of
    ``S``'s rank and broadcasting to it (so one NumPy call computes both branches)."""
    __slots__ = ("mask", "stack")

    def __init__(self, mask, stack):
        self.mask, self.stack = mask, stack


def _two_values(c):
    """``(mask, c1, c0)`` for an array of exactly two distinct values (by bits), else
    None."""
    if not isinstance(c, np.ndarray) or c.dtype.kind not in "fiu" or c.size < MIN_SIZE:
        return None
    bits = c.view(f"u{c.dtype.itemsize}") if c.flags.c_contiguous else \
        np.ascontiguousarray(c).view(f"u{c.dtype.itemsize}")
    if len(np.unique(bits.reshape(-1)[:256])) > 2:   # (most constants: seen at once)
        return None
    first = bits.flat[0]
    other = bits != first
    if not other.any():
        return None
    second = bits[other].flat[0]
    if not np.all(other == (bits == second)):
        return None
    i1 = np.flatnonzero(other)[0]
    return other, c.flat[i1][()], c.flat[0][()]


def _size(shape):
    return int(np.prod(shape, dtype=np.int64))


def lift_two_valued(closed: ClosedJaxpr) -> ClosedJaxpr:
    """Carry elementwise arithmetic on two-valued constants as both branches at once
    (see the module docstring)."""
    j = closed.jaxpr
    constvars, consts = list(j.constvars), list(closed.consts)
    lifted = {}
    for v, c in zip(j.constvars, closed.consts):
        tv = _two_values(c)
        if tv is not None:
            mask, c1, c0 = tv
            sv = Var(ShapedArray((2,) + (1,) * c.ndim, c.dtype))
            constvars.append(sv)
            consts.append(np.array([c0, c1], c.dtype).reshape(sv.aval.shape))
            lifted[v] = _Lifted(mask, sv)
    if not lifted:
        return closed
    eqns = []
    built = set(j.constvars)      # lifted vars whose full value exists
    indexes = {}                  # id(mask array) -> its MaskIndex

    def build(v, src):
        """Make the full value of lifted ``v`` (once) before its first outside reader."""
        if v in built:
            return
        lv = lifted[v]
        index = indexes.get(id(lv.mask))
        if index is None:
            index = indexes[id(lv.mask)] = MaskIndex(lv.mask)
        eqns.append(Eqn(mask_select_p, [lv.stack], [v], {"mask": index}, src))
        built.add(v)

    def new_eqn(prim, ins, aval, params, src):
        out = Var(aval)
        eqns.append(Eqn(prim, ins, [out], params, src))
        return out

    changed = False
    for e in j.eqns:
        out = e.outvars[0] if len(e.outvars) == 1 else None
        got = None if out is None else _try(e, out, lifted, new_eqn)
        if got is not None:
            lifted[out] = got
            changed = True
            continue
        for a in e.invars:
            if type(a) is Var and a in lifted:
                build(a, e.source_info)
        eqns.append(e)
    if not changed:
        return closed
    for v in j.outvars:
        if type(v) is Var and v in lifted:
            build(v, None)
    return ClosedJaxpr(Jaxpr(constvars, j.invars, j.outvars, eqns), consts)


def _try(e, out, lifted, new_eqn):
    """The ``_Lifted`` form of ``e``'s result, emitting the eqn computing its stacked
    branches, or None."""
    name = e.primitive.name
    oa = out.aval
    src = e.source_info
    if name in ("reshape", "transpose"):
        x = e.invars[0]
        if type(x) is not Var or x not in lifted:
            return None
        lv = lifted[x]
        st = lv.stack.aval
        if name == "transpose":
            perm = tuple(e.params["perm"])
            sperm = (0,) + tuple(p + 1 for p in perm)
            stack = new_eqn(transpose_p, [lv.stack], ShapedArray(
                tuple(st.shape[p] for p in sperm), st.dtype), {"perm": sperm}, src)
            return _Lifted(np.ascontiguousarray(lv.mask.transpose(perm)), stack)
        # reshape: only adding or dropping unit axes (the other axes keep their order)
        shape = tuple(e.params["shape"])
        old = x.aval.shape
        if [d for d in old if d != 1] != [d for d in shape if d != 1]:
            return None
        it = iter([bd for d, bd in zip(old, st.shape[1:]) if d != 1])
        sshape = (2,) + tuple(1 if d == 1 else next(it) for d in shape)
        stack = new_eqn(reshape_p, [lv.stack], ShapedArray(sshape, st.dtype),
                        {"shape": sshape}, src)
        return _Lifted(lv.mask.reshape(shape), stack)
    if name not in EXACT or e.primitive.ufunc is None or oa.weak_type:
        return None
    ins = e.invars
    lvs = [lifted.get(a) if type(a) is Var else None for a in ins]
    if not any(lvs):
        return None
    mask = next(lv.mask for lv in lvs if lv is not None)
    if mask.shape != oa.shape:
        return None
    for a, lv in zip(ins, lvs):
        # (a Python scalar literal takes the other operand's dtype, in the branches too)
        if a.aval.dtype != oa.dtype and not (type(a) is Literal and a.aval.weak_type):
            return None
        if lv is not None and lv.mask is not mask and not np.array_equal(lv.mask, mask):
            return None
    args = [lv.stack if lv is not None else a for a, lv in zip(ins, lvs)]
    sshape = np.broadcast_shapes(*[a.aval.shape for a in args])
    if _size(sshape) > _size(oa.shape):     # (two branches: at most half the size each)
        return None
    stack = new_eqn(e.primitive, args, ShapedArray(sshape, oa.dtype), e.params, src)
    return _Lifted(mask, stack)

"""The memory and aliasing model of jit's generated code: which results are new buffers,
which are views of an operand, and which elementwise results are written ``out=`` into
a dying operand's buffer.  ``codegen`` follows it and ``cost_analysis`` predicts peak
memory from it, so the prediction is what ``tracemalloc`` measures for ``jit(f)``.

What it asks of a primitive is declared on the primitive (``funcdiff.core.trace.Primitive``):
``ufunc`` (a NumPy ufunc: results are new arrays, and can be written ``out=``),
``returns_new_array`` (a non-ufunc whose NumPy spelling always returns a new array),
``owns_output`` (that new array may later be overwritten in place), ``returns_view``
(the result is a view of an operand: no new buffer, no data moved) and
``read_only_result`` (a read-only view, e.g. a broadcast).  Any other primitive (a
runtime helper, slicing, ...) is assumed to return a view of its operands, which is
never written in place.
"""
from __future__ import annotations

from .._np_compat import LEGACY_PROMOTION, promotes_by_value
from ..core.ir import Var

# Below this many elements `out=` costs more (keyword parsing) than the allocation it
# saves, so small arrays use plain operators (and get a new buffer).
INPLACE_MIN_SIZE = 4096


def by_value(eqn):
    """NumPy 1.x would promote this elementwise eqn's operands by value: the code calls
    the primitive's impl, which promotes as NumPy 2 and the IR do (funcdiff/_np_compat.py),
    instead of writing it with the ufunc."""
    return LEGACY_PROMOTION and eqn.primitive.np_fn is not None and \
        promotes_by_value(eqn.invars)


def fresh(prim):
    """Whether ``prim``'s result is always a new array (never a view of an operand)."""
    return prim.ufunc is not None or prim.returns_new_array


def viewed_vars(jaxpr):
    """Vars some eqn reads that may return a view of them (any primitive whose result is
    not always a new array): their buffers are never written in place."""
    viewed = set()
    for eqn in jaxpr.eqns:
        if not fresh(eqn.primitive):
            viewed.update(v for v in eqn.invars if type(v) is Var)
    return viewed


def inplace_buffer(eqn, owned, viewed, dead, outputs):
    """The operand var whose buffer the (single) result of ``eqn`` is written into with
    ``out=``, or None: a ufunc result of at least ``INPLACE_MIN_SIZE`` elements, strongly
    typed, written into an operand of the same shape and dtype that this program
    allocated (``owned``), that dies at this eqn and that nothing views or returns."""
    prim = eqn.primitive
    if prim.ufunc is None or prim.multiple_results:
        return None
    out = eqn.outvars[0].aval
    if out.size < INPLACE_MIN_SIZE or out.weak_type or by_value(eqn):
        return None
    for a in eqn.invars:
        if (type(a) is Var and a in owned and a in dead and a not in viewed
                and a not in outputs and a.aval.shape == out.shape
                and a.aval.dtype == out.dtype):
            return a
    return None


def owns(eqn, out):
    """Whether ``out`` (a result of ``eqn``) is a new array this program allocated and may
    later write into (``owned``)."""
    prim = eqn.primitive
    return bool(out.aval.ndim) and (prim.ufunc is not None or prim.owns_output)


def alias_source(eqn, i, owned, viewed, dead, outputs):
    """The operand var whose buffer output ``i`` of ``eqn`` shares, or None (a new one)."""
    prim = eqn.primitive
    if prim.returns_view:
        if prim.multiple_results:
            a = eqn.invars[i]
            return a if type(a) is Var else None
        return next((a for a in eqn.invars if type(a) is Var), None)
    return inplace_buffer(eqn, owned, viewed, dead, outputs)


def shares_input_memory(jaxpr):
    """Vars that may be an input or constant, a view of one, or a read-only broadcast:
    returned as they are, the caller could write into its own argument (or hit a
    read-only array)."""
    shared = set(jaxpr.invars) | set(jaxpr.constvars)
    for eqn in jaxpr.eqns:
        prim = eqn.primitive
        if prim.read_only_result or (not fresh(prim) and any(
                type(a) is Var and a in shared for a in eqn.invars)):
            shared.update(eqn.outvars)
    return shared

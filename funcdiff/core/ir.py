"""The IR (a "jaxpr").

Grammar (what ``print(jaxpr)`` shows)::

    jaxpr ::= { lambda <constvar>* ; <invar>* . let <eqn>* in ( <atom>* ) }
    eqn   ::= <outvar>* = <primitive>[<param>=<value>, ...] <atom>*
    atom  ::= <var> | <literal>

Variables are assigned once.  A ``Var`` is identified by the object itself; names
(``a b c``) are given only when printing.  A ``Literal`` holds a scalar constant (a
Python scalar keeps its weak type).  An ``Eqn`` records where in user code it was made.
"""
from __future__ import annotations

import struct
from typing import NamedTuple

import numpy as np

from .avals import ShapedArray, aval_of_value


_new_object = object.__new__


class Var:
    """A single-assignment variable with an abstract value."""

    __slots__ = ("aval", "__weakref__")

    def __init__(self, aval: ShapedArray):
        self.aval = aval

    def __repr__(self):
        return f"Var({self.aval.str_short()})"


class Literal:
    """A scalar constant written inline in the IR."""

    __slots__ = ("val", "aval")

    def __init__(self, val, aval: ShapedArray | None = None):
        self.val = val
        self.aval = aval_of_value(val) if aval is None else aval

    def __repr__(self):
        return f"Literal({self.val!r})"


def new_literal(val, aval: ShapedArray) -> Literal:
    """``Literal(val, aval)`` without the constructor call (tracing's hot path)."""
    lit = _new_object(Literal)
    lit.val = val
    lit.aval = aval
    return lit


Atom = Var | Literal


class SourceInfo(NamedTuple):
    filename: str
    lineno: int
    function: str

    def __str__(self):
        return f"{self.filename}:{self.lineno} ({self.function})"


def new_source_info(filename, lineno, function) -> SourceInfo:
    """``SourceInfo(...)`` built directly as a tuple (no Python-level ``__new__``)."""
    return _new_tuple(SourceInfo, (filename, lineno, function))


_new_tuple = tuple.__new__


class Eqn:
    """``outvars = primitive[params](invars)`` plus the user line that made it."""

    __slots__ = ("primitive", "invars", "outvars", "params", "source_info")

    def __init__(self, primitive, invars, outvars, params, source_info=None):
        self.primitive = primitive
        self.invars = list(invars)
        self.outvars = list(outvars)
        self.params = dict(params)
        self.source_info = source_info

    @staticmethod
    def unsafe_new(primitive, invars, outvars, params, source_info=None) -> "Eqn":
        """An Eqn that takes ownership of ``invars``/``outvars``/``params`` as given (no
        defensive copies): for callers that just built them, e.g. tracing's hot path."""
        e = _new_object(Eqn)
        e.primitive = primitive
        e.invars = invars
        e.outvars = outvars
        e.params = params
        e.source_info = source_info
        return e

    def replace(self, **kw) -> "Eqn":
        d = dict(primitive=self.primitive, invars=self.invars, outvars=self.outvars,
                 params=self.params, source_info=self.source_info)
        d.update(kw)
        return Eqn(**d)

    def __repr__(self):
        from .pretty import pp_eqn
        return pp_eqn(self)


class Jaxpr:
    """A function in the IR: ``constvars`` and ``invars`` in, ``outvars`` out."""

    __slots__ = ("constvars", "invars", "outvars", "eqns", "_last_use", "__weakref__")

    def __init__(self, constvars, invars, outvars, eqns):
        self.constvars = list(constvars)
        self.invars = list(invars)
        self.outvars = list(outvars)
        self.eqns = list(eqns)
        self._last_use = None

    in_avals = property(lambda self: [v.aval for v in self.invars])
    out_avals = property(lambda self: [v.aval for v in self.outvars])

    def last_use(self):
        """Per eqn index, the vars that die after it (cached): the freeing schedule
        shared by the interpreter, the code generator and the memory model."""
        if self._last_use is None:
            self._last_use = compute_last_use(self)
        return self._last_use

    def __str__(self):
        from .pretty import pp_jaxpr
        return pp_jaxpr(self)

    __repr__ = __str__


def compute_last_use(jaxpr: Jaxpr):
    """List of lists: vars whose last read is eqn i (outputs and inputs excluded)."""
    last = {}
    for i, eqn in enumerate(jaxpr.eqns):
        for v in eqn.invars:
            if type(v) is Var:
                last[v] = i
    keep = {v for v in jaxpr.outvars if type(v) is Var}
    dying = [[] for _ in jaxpr.eqns]
    for v, i in last.items():
        if v not in keep:
            dying[i].append(v)
    # vars written but never read die right after they are written
    for i, eqn in enumerate(jaxpr.eqns):
        for v in eqn.outvars:
            if v not in last and v not in keep:
                dying[i].append(v)
    return dying


class ClosedJaxpr:
    """A jaxpr together with the values of its constvars."""

    __slots__ = ("jaxpr", "consts", "__weakref__")

    def __init__(self, jaxpr: Jaxpr, consts):
        assert len(jaxpr.constvars) == len(consts)
        self.jaxpr = jaxpr
        self.consts = list(consts)

    in_avals = property(lambda self: self.jaxpr.in_avals)
    out_avals = property(lambda self: self.jaxpr.out_avals)
    eqns = property(lambda self: self.jaxpr.eqns)

    def __str__(self):
        return str(self.jaxpr)

    __repr__ = __str__


def literal_or_none(x):
    """A Literal for scalars that may be written inline, else None."""
    t = type(x)
    if t in (bool, int, float, complex):
        return Literal(x)
    if isinstance(x, np.generic) or (isinstance(x, np.ndarray) and x.shape == ()
                                     and type(x) is np.ndarray):
        return Literal(x[()] if isinstance(x, np.ndarray) else x)
    return None


def value_key(v):
    """A hashable key equal for two values exactly when NumPy cannot tell them apart:
    the type and the exact value (``1``, ``1.0``, ``True`` and ``np.float64(1)`` all
    differ, as do ``0.0`` and ``-0.0`` and NaNs of different payloads), recursively
    through tuples, lists and frozensets.  The one keying function of every cache and
    comparison that must not merge such values: CSE and the eager-grad cache (params,
    literals), jit's static arguments, pytree dict keys and aux data.  Other hashable
    values are keyed by type and ``==``; unhashable ones (arrays) by identity."""
    t = type(v)
    if t is int or t is str or t is bool or v is None:
        return (t, v)
    if t is float:
        # == merges 0.0 with -0.0 and never matches a NaN: the bits tell them apart
        return (t, v) if v != 0 and v == v else (t, _F64_BITS(v))
    if t is tuple or t is list or t is frozenset or isinstance(v, tuple):
        items = [value_key(x) for x in v]
        return (t, frozenset(items) if t is frozenset else tuple(items))
    if t is complex:
        return (t, _F64_BITS(v.real), _F64_BITS(v.imag))
    if isinstance(v, np.generic):
        return (t, v.dtype.str, v.tobytes())
    if t is slice:      # (unhashable before Python 3.12)
        return (t, value_key(v.start), value_key(v.stop), value_key(v.step))
    try:
        hash(v)
    except TypeError:
        return ("id", id(v))
    return (t, v)


_F64_BITS = struct.Struct("<d").pack


class ExactKey:
    """``value`` wrapped so that ``==`` and ``hash`` follow ``value_key``: a cache key
    that still carries its value (jit's static arguments)."""

    __slots__ = ("value", "_key", "_hash")

    def __init__(self, value):
        self.value = value
        self._key = value_key(value)
        self._hash = hash(self._key)

    def __eq__(self, other):
        return type(other) is ExactKey and self._key == other._key

    def __hash__(self):
        return self._hash

    def __repr__(self):
        return repr(self.value)


def param_key(v):
    """A hashable stand-in for an eqn param (``value_key``; unhashable ones by
    identity): how passes and caches compare eqns."""
    return value_key(v)


def literal_key(lit: Literal):
    """A hashable key for a literal's value, type and aval (``-0.0`` differs from
    ``0.0``, ``1`` from ``True``)."""
    val = lit.val
    t = type(val)
    if t in _PLAIN_SCALARS and val != 0 and val == val:
        # a nonzero, non-NaN real: type and value identify it (the fast path)
        return ("lit", t, val, lit.aval.dtype, lit.aval.weak_type)
    return ("lit", value_key(val), lit.aval.dtype.str, lit.aval.weak_type)


# real scalar types whose == is exact value equality (zeros and NaNs aside)
_PLAIN_SCALARS = frozenset([int, float, bool, np.float64, np.float32, np.float16,
                            np.int64, np.int32, np.int16, np.int8, np.uint64, np.uint32,
                            np.uint16, np.uint8, np.bool_])


def jaxpr_as_fun(closed: ClosedJaxpr):
    from .interpret import eval_jaxpr
    return lambda *args: eval_jaxpr(closed.jaxpr, closed.consts, *args)


"""The IR (a "jaxpr").

Grammar (what ``print(jaxpr)`` shows)::

    jaxpr ::= { lambda <constvar>* ; <invar>* . let <eqn>* in ( <atom>* ) }
    eqn   ::= <outvar>* = <primitive>[<param>=<value>, ...] <atom>*
            | <primitive>[<param>=<value>, ...] <atom>*   (no outputs: an effect)
    atom  ::= <var> | <literal>

Variables are assigned once.  A ``Var`` is identified by the object itself; names
(``a b c``) are given only when printing.  A ``Literal`` holds a scalar constant (a
Python scalar keeps its weak type).  An ``Eqn`` records where in user code it was made.

Printing follows JAX's ``make_jaxpr``: names ``a b c ... z ba bb ...`` are given at
print time, binders nobody reads print as ``_``, params are sorted, and params holding
jaxprs print nested and indented (the printer is at the end of this module).
"""
from __future__ import annotations

import struct
import weakref

import numpy as np

from .avals import ShapedArray, aval_of_value, short_dtype


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


Atom = Var | Literal


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
        return pp_jaxpr(self)

    __repr__ = __str__


_effects_memo: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def has_effects(eqn: Eqn) -> bool:
    """Whether running ``eqn`` has an effect besides its outputs: its primitive is
    ``effectful`` (``debug_callback``) or a jaxpr in its params (a ``cond`` branch, a
    loop body, a call) holds such an eqn.  Passes that drop, merge, fold or replay
    eqns ask this; pure eqns (nearly all) answer at the first test."""
    if eqn.primitive.effectful:
        return True
    params = eqn.params
    if not params:
        return False
    for v in params.values():
        for j in (v if isinstance(v, (tuple, list)) else (v,)):
            if isinstance(j, ClosedJaxpr):
                j = j.jaxpr
            if isinstance(j, Jaxpr) and jaxpr_has_effects(j):
                return True
    return False


def jaxpr_has_effects(jaxpr: Jaxpr) -> bool:
    """Whether any eqn of ``jaxpr`` (or of its sub-jaxprs) has an effect (memoized: a
    jaxpr is not changed once built)."""
    hit = _effects_memo.get(jaxpr)
    if hit is None:
        hit = _effects_memo[jaxpr] = any(has_effects(e) for e in jaxpr.eqns)
    return hit


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


def eval_eqns(jaxpr, consts, args, apply, side_envs=()):
    """The interpreter loop.  ``apply(eqn, invals)`` computes an eqn's output (a list for
    ``multiple_results`` primitives); the outputs are written to the environment, and
    every var is deleted from it (and from each dict in ``side_envs``, e.g. a tangent
    environment ``apply`` keeps) right after its last use.  Returns the values of
    ``jaxpr.outvars``."""
    if len(args) != len(jaxpr.invars):
        raise TypeError(f"jaxpr takes {len(jaxpr.invars)} arguments, got {len(args)}")
    env = dict(zip(jaxpr.constvars, consts))
    env.update(zip(jaxpr.invars, args))
    for eqn, dead in zip(jaxpr.eqns, jaxpr.last_use()):
        out = apply(eqn, [env[v] if type(v) is Var else v.val for v in eqn.invars])
        if eqn.primitive.multiple_results:
            for v, x in zip(eqn.outvars, out):
                env[v] = x
        else:
            env[eqn.outvars[0]] = out
        for v in dead:
            del env[v]
            for side in side_envs:
                side.pop(v, None)
    return [env[v] if type(v) is Var else v.val for v in jaxpr.outvars]


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


def closure_convert(closed: ClosedJaxpr, pos: int = 0):
    """``(jaxpr, consts)``: a const-free ``Jaxpr`` whose invars take ``closed``'s
    constvars at position ``pos``, and the const values to pass there.  How jaxprs
    become params of call and control-flow eqns (params never hold tracers; sub-programs
    compare by identity).  Without constvars the jaxpr itself is returned."""
    j = closed.jaxpr
    if not j.constvars:
        return j, []
    invars = j.invars[:pos] + j.constvars + j.invars[pos:]
    return Jaxpr([], invars, j.outvars, j.eqns), list(closed.consts)


# --- printing (what ``print(jaxpr)`` shows) ------------------------------------------

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _name(i: int) -> str:
    s = ""
    while True:
        s = _LETTERS[i % 26] + s
        i //= 26
        if i == 0:
            return s


class _Namer:
    def __init__(self):
        self.names = {}

    def __call__(self, v) -> str:
        if isinstance(v, Literal):
            return pp_literal(v)
        n = self.names.get(v)
        if n is None:
            n = self.names[v] = _name(len(self.names))
        return n


def pp_literal(lit: Literal) -> str:
    val = lit.val
    if isinstance(val, np.generic):
        s = repr(val.item())
    else:
        s = repr(val)
    if lit.aval.weak_type:
        return s
    return f"{s}:{short_dtype(lit.aval.dtype)}"


class _Text:
    """A nested jaxpr param, printed on its own lines: kept as a list of lines (joined
    once at the top), so printing a deeply nested jaxpr costs its size, not size x depth
    (1,000 nested ``jit`` calls print in milliseconds)."""

    __slots__ = ("lines",)

    def __init__(self, lines):
        self.lines = lines


def _pp_param(v, indent, namer):
    if isinstance(v, ClosedJaxpr):
        v = v.jaxpr
    if isinstance(v, Jaxpr):
        out = [""]
        _pp_jaxpr_lines(v, indent + 4, _Namer(), False, out)
        return _Text(out)
    if isinstance(v, (tuple, list)) and v and all(isinstance(x, (Jaxpr, ClosedJaxpr)) for x in v):
        parts = [_pp_param(x, indent, namer) for x in v]
        out = ["("]
        for i, p in enumerate(parts):
            if i:
                out[-1] += ","
            out[-1] += p.lines[0]
            out.extend(p.lines[1:])
        out[-1] += ")"
        return _Text(out)
    if isinstance(v, np.dtype) or (isinstance(v, type) and issubclass(v, np.generic)):
        return np.dtype(v).name
    return str(v)


def _eqn_lines(eqn: Eqn, namer, indent, used, source):
    """The eqn as a list of lines (more than one when a param holds a jaxpr)."""

    def binder(v):
        if used is not None and v not in used:
            return f"_:{v.aval.str_short()}"
        return f"{namer(v)}:{v.aval.str_short()}"

    lhs = " ".join(binder(v) for v in eqn.outvars)
    lines = [f"{lhs} = {eqn.primitive.name}" if lhs else eqn.primitive.name]
    if eqn.params:
        lines[-1] += "["
        for i, k in enumerate(sorted(eqn.params)):
            p = _pp_param(eqn.params[k], indent, namer)
            lines[-1] += (", " if i else "") + f"{k}="
            if isinstance(p, _Text):
                lines[-1] += p.lines[0]
                lines.extend(p.lines[1:])
            else:
                lines[-1] += p
        lines[-1] += "]"
    rhs = " ".join(namer(v) for v in eqn.invars)
    lines[-1] = f"{lines[-1]} {rhs}".rstrip()
    if source and eqn.source_info is not None:
        lines[-1] += f"  # {eqn.source_info}"
    return lines


def pp_eqn(eqn: Eqn, namer=None, indent=0, used=None, source=False) -> str:
    return "\n".join(_eqn_lines(eqn, namer or _Namer(), indent, used, source))


def _pp_jaxpr_lines(jaxpr: Jaxpr, indent: int, namer: _Namer, source, out):
    used = {v for e in jaxpr.eqns for v in e.invars if isinstance(v, Var)}
    used |= {v for v in jaxpr.outvars if isinstance(v, Var)}
    pad = " " * indent

    def binder(v):
        return f"{namer(v)}:{v.aval.str_short()}"

    consts = " ".join(binder(v) for v in jaxpr.constvars)
    ins = " ".join(binder(v) for v in jaxpr.invars)
    out.append(f"{pad}{{ lambda {consts}; {ins}. let")
    for e in jaxpr.eqns:
        lines = _eqn_lines(e, namer, indent + 4, used, source)
        out.append(pad + "    " + lines[0])
        out.extend(lines[1:])
    outs = ", ".join(namer(v) for v in jaxpr.outvars)   # JAX: (a,) and (a, b)
    out.append(f"{pad}  in ({outs}{',' if len(jaxpr.outvars) == 1 else ''}) }}")
    return out


def _pp_jaxpr(jaxpr: Jaxpr, indent: int, namer: _Namer, source=False) -> str:
    return "\n".join(_pp_jaxpr_lines(jaxpr, indent, namer, source, []))


def pp_jaxpr(jaxpr, source: bool = False) -> str:
    """Text of a (closed) jaxpr; ``source=True`` appends each eqn's user line."""
    if isinstance(jaxpr, ClosedJaxpr):
        jaxpr = jaxpr.jaxpr
    return _pp_jaxpr(jaxpr, 0, _Namer(), source)

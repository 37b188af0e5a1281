"""Code generation: a jaxpr becomes the source of one Python function calling NumPy.

The source reads like hand-written NumPy: one statement per eqn, each with the user
line it came from as a comment, ``del`` after last use (peak memory follows liveness),
and large elementwise results written ``out=`` into a dead operand's buffer when it has
the right shape and dtype and nothing else views it (``memory.py``: the model
``cost_analysis`` predicts peak memory from).  Identifiers are generated (ASCII);
constants and non-trivial params are passed in as globals, never pasted as reprs; the
few strings that do reach the source (source locations in comments, names inside
identifiers) go through ``pysource``, which escapes them.  Operands are pasted through
``pysource.operand``, which brackets what is not a primary (``(-2.0) ** a0``), so every
template slot is safe.  The source is registered with ``linecache`` so tracebacks and
pdb show it.
"""
from __future__ import annotations

import itertools
import linecache
import math
import threading
import weakref

import numpy as np

from ..core import arraylib
from ..core.ir import ClosedJaxpr, Literal, Var
# (loaded for the array-API rules it sets on primitives: xp_name, xp_impl)
from ..primitives import arrayapi as _arrayapi  # noqa: F401
from . import runtime as _rt
from .memory import by_value, inplace_buffer, owns, shares_input_memory, viewed_vars
from .passes import lower
from .passes.block import REDUCERS, blocked_p, group_size, partial_dtype, plan_buffers
from .pysource import identifier, is_identifier, location_comment, operand

_counter = itertools.count()


def _float_literal(a, text):
    """A weak Python-int literal written as a float (the primitive's
    ``float_literal_ok``): NumPy converts the int to the array's dtype either way
    (exactly, for small ints), but converting a Python float is much faster (x * 2.0 vs
    x * 2)."""
    if type(a) is Literal and type(a.val) is int and a.aval.weak_type and \
            abs(a.val) <= 2048:   # exact in every float dtype, float16 included
        return repr(float(a.val))
    return text


def _tuple(items):
    """Source of a tuple of the source strings ``items``: ``(a, b)``, ``(a,)``, ``()``,
    and ``(np.float64,) * 3`` for repeats."""
    if len(items) > 1 and len(set(items)) == 1:
        return f"({items[0]},) * {len(items)}"
    return f"({', '.join(items)}{',' if len(items) == 1 else ''})"


# shape ops on arrays (rank >= 1, never a Python scalar) as ndarray methods: a third of
# the time of the np.* functions, which wrap them in Python
_METHODS = {"reshape": "{0}.reshape({shape})", "transpose": "{0}.transpose({perm})"}

_DTYPE_SOURCE: dict = {}   # builtin dtype -> "np.<name>" (dtype.name is slow to compute)


class _Gen:
    def __init__(self, jaxpr, consts, name, copy_inputs=True, consume_inputs=False,
                 array_kind=None):
        self.copy_inputs = copy_inputs
        self.consume_inputs = consume_inputs
        self.jaxpr = jaxpr
        self.globals = {"np": np, "_rt": _rt, "math": math}
        # Code for another library's arrays (``array_kind``, e.g. dask.array.Array):
        # nothing is written ``out=`` (their arrays are immutable or lazy); elementwise
        # ufuncs stay NumPy calls for libraries NumPy hands them to (Dask, CuPy) and
        # become ``xp.<name>`` calls on the arrays' namespace ``xp`` for the others
        # (array-api-strict, torch); every other primitive calls ``apply_<name>``, which
        # runs it as the eager interpreter does (core/arraylib.py).
        self.array_kind = array_kind
        self.xp = array_kind is not None and not arraylib.numpy_protocols(array_kind)
        if array_kind is not None:
            self.globals["_alib"] = arraylib
        self.names = {}
        self.lines = []
        self.name = name
        for i, (v, c) in enumerate(zip(jaxpr.constvars, consts)):
            self.names[v] = f"c{i}"
            self.globals[f"c{i}"] = c
        for i, v in enumerate(jaxpr.invars):
            self.names[v] = f"a{i}"
        # scalars that may arrive as Python numbers: weak-typed ones (Python scalar
        # arguments) and booleans (a loop carry or branch operand made by `==` on Python
        # ints is a Python bool)
        self.maybe_python = {v for v in jaxpr.invars if not v.aval.shape and (
            v.aval.weak_type or v.aval.dtype.kind == "b")}
        self._tmp = itertools.count()
        self._glob = itertools.count()

    # -- names and values -------------------------------------------------------------
    def new_name(self):
        return f"t{next(self._tmp)}"

    def const(self, value, hint="k"):
        """A new global of the generated function holding ``value``; ``hint`` (which may
        hold a primitive's or user's name) only flavours the generated identifier."""
        name = f"{identifier(hint, '_')}{next(self._glob)}"
        self.globals[name] = value
        return name

    def atom(self, a):
        if type(a) is Var:
            return self.names[a]
        v = a.val
        if type(v) in (bool, int) or (type(v) is float and math.isfinite(v)):
            return repr(v)
        return self.const(v, "lit")

    def subprogram(self, jaxpr, name, hint):
        """A new global holding the compiled function of the const-free sub-``jaxpr``
        (how control-flow and call primitives emit a call of their body)."""
        return self.const(compiled(jaxpr, name), hint)

    def param(self, v):
        """Inline only plain ints/bools/None/tuples of them and dtypes; else a global."""
        if v is None or type(v) in (bool, int):
            return repr(v)
        if type(v) is float and math.isfinite(v):
            return repr(v)
        if type(v) is tuple and all(self._plain(x) for x in v):
            return repr(v)
        if isinstance(v, np.dtype):
            src = _DTYPE_SOURCE.get(v)
            if src is None and v.isbuiltin and v.names is None:
                name = v.type.__name__     # float64, bool_ / bool, object_ ...
                if getattr(np, name, None) is v.type and np.dtype(v.type) == v:
                    src = _DTYPE_SOURCE[v] = f"np.{name}"
            if src is not None:
                return src
        return self.const(v, "p")

    def _plain(self, x):
        if x is None or type(x) in (bool, int):
            return True
        return type(x) is tuple and all(self._plain(y) for y in x)

    # -- emission ---------------------------------------------------------------------
    def args(self, eqn, names=None):
        """The operands of ``eqn`` as source, each safe in any template slot; ``names``
        (a dict) overrides the names of some vars (a block loop's block views)."""
        args = [names[a] if names and type(a) is Var and a in names else self.atom(a)
                for a in eqn.invars]
        if eqn.primitive.float_literal_ok and eqn.outvars and \
                eqn.outvars[0].aval.dtype.kind in "fc":
            args = [_float_literal(a, s) for a, s in zip(eqn.invars, args)]
        return [operand(s) for s in args]   # -2.0 -> (-2.0): safe in every slot

    def ufunc(self, uf, eqn):
        """Source naming the ufunc ``uf`` (``np.add``, or a global for SciPy's)."""
        if getattr(np, uf.__name__, None) is uf:
            return f"np.{uf.__name__}"
        return self.const(uf, f"u_{eqn.primitive.name}")

    def blocked(self, eqn):
        """The statements of a ``blocked`` eqn (``passes/block.py``): full-size results
        allocated, operands flattened, then one loop over blocks running the body's
        ufuncs ``out=`` into block-sized scratch buffers (``_rt.blocks`` allocates them
        per call and yields them cut to the last block's length), reductions into one
        partial result per block, combined after the loop."""
        body = eqn.params["jaxpr"]
        size = group_size(body)
        block = min(eqn.params["block"], size)   # (scratch no larger than the arrays)
        shape = next(e.outvars[0].aval.shape for e in body.eqns
                     if e.primitive not in REDUCERS)
        buffers, assign = plan_buffers(body)
        n_ops = sum(e.primitive not in REDUCERS for e in body.eqns)
        lines = [f"# blocked: {n_ops} elementwise ops over {size:,} elements in blocks "
                 f"of {block:,} (funcdiff.config.blocked_fusion)"]
        local, flat, temps = {}, {}, []
        partial = {e.outvars[0]: partial_dtype(e) for e in body.eqns
                   if e.primitive in REDUCERS}
        for v in body.outvars:
            name = self.names[v] = self.new_name()
            if v.aval.shape:
                lines.append(f"{name} = np.empty({shape!r}, {self.param(v.aval.dtype)})")
                flat[v] = f"{name}_flat"
                lines.append(f"{flat[v]} = {name}.reshape(-1)")
            else:
                flat[v] = f"{name}_blocks"
                lines.append(f"{flat[v]} = np.empty({-(-size // block)}, "
                             f"{self.param(partial[v])})")
            temps.append(flat[v])
        views = []
        for v in body.invars:
            src = self.names[v]
            if v.aval.shape == shape:
                flat[v] = f"{src}_flat"
                lines.append(f"{flat[v]} = {src}.reshape(-1)   # a view if C-contiguous")
                temps.append(flat[v])
                views.append(v)
            elif v.aval.ndim:
                # size 1: broadcasts against any block as a 1-element array (not 0-d,
                # which NumPy 1.x would promote by value: uint8 * int64[[1000]] in uint16)
                local[v] = f"{src}_1"
                lines.append(f"{local[v]} = {src}.reshape(1)")
                temps.append(local[v])
        scratch = [f"s{i}" for i in range(len(buffers))]
        dtypes = [self.param(d) for d in buffers]
        loop = [f"for k, b, {_tuple(scratch)} in _rt.blocks({size}, {block}, "
                f"{_tuple(dtypes)}):"]
        for v in views:
            local[v] = f"{self.names[v]}_b"
            loop.append(f"    {local[v]} = {flat[v]}[b]")
            temps.append(local[v])
        combine = []
        for e in body.eqns:
            v = e.outvars[0]
            comment = location_comment(e.source_info)
            if e.primitive in REDUCERS:
                uf = REDUCERS[e.primitive]
                dt = f", dtype={self.param(partial[v])}" if uf is np.add else ""
                loop.append(f"    {flat[v]}[k] = {self.ufunc(uf, e)}.reduce("
                            f"{local[e.invars[0]]}{dt}){comment}")
                total = f"{self.ufunc(uf, e)}.reduce({flat[v]}{dt})"
                if partial[v] != v.aval.dtype:    # (float16: rounded once, at the end)
                    total = f"{self.param(v.aval.dtype)}({total})"
                combine.append(f"{self.names[v]} = {total}"
                               f"   # pairwise over the blocks' partials")
                continue
            target = f"{flat[v]}[b]" if v in flat else scratch[assign[v]]
            local[v] = self.new_name()
            loop.append(f"    {local[v]} = {self.ufunc(e.primitive.ufunc, e)}("
                        f"{', '.join(self.args(e, local))}, out={target}){comment}")
            temps.append(local[v])
        lines += loop + combine
        lines.append(f"del {', '.join(dict.fromkeys(temps + scratch + ['k', 'b']))}")
        return lines

    def foreign_expr(self, eqn, args):
        """An eqn's expression in code for another library's arrays (see __init__)."""
        prim = eqn.primitive
        if self.xp and prim.xp_name is not None and any(
                type(a) is Var and a not in self.maybe_python for a in eqn.invars):
            # NumPy constants and literals join the namespace (Python scalars may stay)
            args = [s if type(a) is Var and a not in self.jaxpr.constvars or
                    type(a) is Literal and type(a.val) in (bool, int, float, complex)
                    else f"_alib.xp_array(xp, {s})" for a, s in zip(eqn.invars, args)]
            return f"xp.{prim.xp_name}({', '.join(args)})"
        if not self.xp and prim.ufunc is not None:
            return self.expr(eqn, args)
        call = self._call(self.const(arraylib.dispatcher(prim), f"apply_{prim.name}"),
                          args, eqn.params)
        if self.xp and not any(type(a) is Var and a not in self.jaxpr.constvars
                               for a in eqn.invars):
            return f"_alib.xp_array(xp, {call})"   # made from constants: a NumPy array
        return call

    def _call(self, fn, args, params):
        parts = list(args) + [f"{k}={self.param(v)}" for k, v in params.items()
                              if is_identifier(k)]
        odd = {k: v for k, v in params.items() if not is_identifier(k)}
        if odd:   # keyword names that are no identifiers: passed as a dict, not pasted
            parts.append(f"**{self.const(odd, 'params')}")
        return f"{fn}({', '.join(parts)})"

    def expr(self, eqn, args):
        prim = eqn.primitive
        emit = prim.emit
        method = _METHODS.get(prim.name)
        if method is not None and type(eqn.invars[0]) is Var and eqn.invars[0].aval.ndim:
            emit = method    # (an array: its method skips np.reshape's Python wrapper)
        weak_out = any(v.aval.weak_type for v in eqn.outvars) or by_value(eqn)
        self.eqn = eqn   # for emit callables that need avals
        if callable(emit) and not weak_out:
            return emit(args, eqn.params, self)
        if isinstance(emit, str) and not weak_out and self._python_safe(eqn):
            params = {k: self.param(v) for k, v in eqn.params.items()}
            params.setdefault("out_dtype", self.param(eqn.outvars[0].aval.dtype))
            try:
                return emit.format(*args, args=", ".join(args), **params)
            except (KeyError, IndexError):
                pass
        # generic fallback: the primitive's own NumPy impl
        return self._call(self.const(prim.impl, f"impl_{prim.name}"), args, eqn.params)

    def _python_safe(self, eqn):
        """Whether ``eqn``'s operator template gives NumPy's result.  Python scalars reach
        the generated code (weak-typed scalar arguments, literals, and what operators
        make of them: ``a0 == 0`` is a Python bool), and on them some operators differ
        from NumPy's ufuncs (``~True`` is -2, ``True + True`` is 2, ``1 / 0`` raises):
        those call the ufunc instead (the primitive's ``py_kinds``)."""
        if not all(type(a) is Literal or a in self.maybe_python for a in eqn.invars):
            return True
        kinds = eqn.primitive.py_kinds
        if kinds is not None and eqn.outvars[0].aval.dtype.kind not in kinds:
            return False
        self.maybe_python.update(eqn.outvars)    # the operator's result is Python too
        return True

    def generate(self):
        j = self.jaxpr
        dying = j.last_use()
        outputs = {v for v in j.outvars if type(v) is Var}
        owned = set()            # vars holding fresh buffers this function allocated
        viewed = viewed_vars(j)  # vars some view-producing (or unknown) eqn reads
        body = []
        expr = self.expr if self.array_kind is None else self.foreign_expr
        if self.xp:   # the arrays' namespace; NumPy arguments (a cotangent) join it
            names = [self.names[v] for v in [*j.constvars, *j.invars]]
            body.append(f"xp = _alib.namespace({', '.join(names)})")
            args = [self.names[v] for v in j.invars]
            if args:
                body.append(f"{', '.join(args)}, = _alib.to_namespace(xp, {', '.join(args)})")
        for eqn, dead in zip(j.eqns, dying):
            outs = eqn.outvars
            comment = location_comment(eqn.source_info)
            if eqn.primitive is blocked_p:
                body.extend(self.blocked(eqn))
                owned.update(v for v in outs if owns(eqn, v))
                args = None
            else:
                args = self.args(eqn)
            if args is None:
                pass
            elif not outs:     # an effect (debug_callback): a call statement
                body.append(f"{expr(eqn, args)}{comment}")
            elif eqn.primitive.multiple_results:
                names = [self.new_name() for _ in outs]
                for v, n in zip(outs, names):
                    self.names[v] = n
                lhs = ", ".join(names) + ("," if len(names) == 1 else "")
                body.append(f"{lhs} = {expr(eqn, args)}{comment}")
            else:
                out = outs[0]
                buf = None if self.array_kind is not None else \
                    inplace_buffer(eqn, owned, viewed, dead, outputs)
                name = self.new_name()
                self.names[out] = name
                if buf is not None:
                    body.append(f"{name} = {self.ufunc(eqn.primitive.ufunc, eqn)}"
                                f"({', '.join(args)}, out={self.names[buf]}){comment}")
                else:
                    body.append(f"{name} = {expr(eqn, args)}{comment}")
                if owns(eqn, out):
                    owned.add(out)
            gone = [self.names[v] for v in dead if v not in outputs and v in self.names
                    and not self.names[v].startswith("c")]
            if gone:
                body.append(f"del {', '.join(gone)}")
        rets = []
        shared = shares_input_memory(j) if self.copy_inputs else set()
        for v in j.outvars:
            a = self.atom(v)
            rets.append(f"_rt.copy_out({a})" if type(v) is Var and v in shared else a)
        params = ", ".join(self.names[v] for v in j.invars)
        if self.consume_inputs:
            # the caller hands over its only references: each input is freed at its
            # last use (eager grad's backward pass frees residuals as it goes)
            lines = [f"def {self.name}(_args):"]
            if j.invars:
                lines.append(f"    {params}{',' if len(j.invars) == 1 else ''} = _args")
            lines.append("    _args.clear()")
        else:
            lines = [f"def {self.name}({params}):"]
        lines += ["    " + b for b in body]
        lines.append(f"    return [{', '.join(rets)}]")
        return "\n".join(lines) + "\n"


def compile_jaxpr(closed, name="jitted", copy_inputs=True, consume_inputs=False,
                  array_kind=None):
    """``(python_function, source)`` for a closed jaxpr; the function takes the invars
    positionally and returns the list of outputs.  With ``copy_inputs`` outputs that are
    inputs or constants are copied (callers never share a buffer with the program);
    internal callers that own their values turn it off.  With ``consume_inputs`` the
    function takes one list of the inputs instead, and empties it: given the only
    references, it frees each input after its last use.  ``array_kind``: the type of
    another library's arrays the code runs on (``core.arraylib.array_kind``), None for
    NumPy."""
    ident = identifier(name, "jit_")
    gen = _Gen(closed.jaxpr, closed.consts, ident, copy_inputs, consume_inputs, array_kind)
    source = gen.generate()
    filename = f"<funcdiff-jit-{next(_counter)}-{ident}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    code = compile(source, filename, "exec")
    namespace = dict(gen.globals)
    exec(code, namespace)  # noqa: S102 - generated from IR; strings escaped by pysource
    fn = namespace[ident]
    fn.__funcdiff_filename__ = filename
    weakref.finalize(fn, linecache.cache.pop, filename, None)
    source = _with_subprograms(source, gen.globals)
    fn.__funcdiff_source__ = source
    return fn, source


def _with_subprograms(source, globals_):
    """For reading: the source followed by that of the compiled programs it calls
    (loop bodies and branches of control-flow primitives, which emit calls to them)."""
    subs = [f"\n# {name}:\n{value.__funcdiff_source__}" for name, value in globals_.items()
            if hasattr(value, "__funcdiff_source__")]
    return source + "".join(subs)


# compiled code for the sub-jaxprs of call and control-flow eqns (what their impl runs
# eagerly, through core.interpret.subprogram, and what their emitted code calls)
_call_cache: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_call_lock = threading.Lock()


def compiled(jaxpr, name="jit"):
    """The compiled NumPy function of a (const-free) ``Jaxpr``, cached weakly by the
    jaxpr object."""
    fn = _call_cache.get(jaxpr)
    if fn is None:
        fn, _ = compile_jaxpr(lower(ClosedJaxpr(jaxpr, [])), name)
        with _call_lock:
            _call_cache[jaxpr] = fn
    return fn

"""``Primitive``: one object holding an operation and all of its rules.

=================  =============================================================
``impl``           ``(*values, **params) -> value`` (NumPy)
``abstract_eval``  ``(*avals, **params) -> aval`` (shape/dtype rule)
``jvp``            ``(primals, tangents, **params) -> (primals_out, tangents_out)``;
                   tangents may be ``Zero``; written with funcdiff ops
``transpose``      ``(ct, *args, **params) -> [ct_arg ...]`` for linear primitives;
                   linear args arrive as ``UndefPrimal``; ``None`` for non-linear args
``batch``          ``(args, dims, **params) -> (out, out_dim)`` for ``vmap``
``cost``           ``(avals_in, avals_out, **params) -> {"flops": .., ...}``
``emit``           code generation for ``jit``
=================  =============================================================

Primitives with ``multiple_results`` take and return lists.
"""
from __future__ import annotations

registry: dict[str, "Primitive"] = {}
_bind: list = []   # core.trace.bind, installed by core.trace (which imports this module)


class Primitive:
    multiple_results = False

    def __init__(self, name: str, *, multiple_results: bool = False, linear: bool = False):
        if name in registry:
            raise ValueError(f"primitive {name!r} defined twice")
        self.name = name
        self.multiple_results = multiple_results
        self.linear = linear          # has a transpose rule in all linear args
        self.impl = None
        self.abstract_eval = None
        self.jvp = None
        self.transpose = None
        self.batch = None
        self.cost = None
        self.emit = None
        self.partial_eval = None      # for primitives holding jaxprs (calls, control flow)
        self.doc = ""
        registry[name] = self

    def bind(self, *args, **params):
        return _bind[0](self, args, params)

    def __repr__(self):
        return self.name

    def def_impl(self, f):
        self.impl = f
        return f

    def def_abstract_eval(self, f):
        self.abstract_eval = f
        return f

"""Higher-order primitives: primitives whose params hold jaxprs, one module per family.

=================  ============================================================
``call``           ``jit_call`` (and the call-primitive rules ``checkpoint`` shares)
``cond``           ``cond`` (``switch`` binds it too)
``while_loop``     ``while_loop``, and ``while_lin`` / ``while_lin_transpose`` for
                   reverse mode through it
``while_sweeps``   ``while_sweeps``: forward and backward sweeps over one loop's
                   iterations with stacks (reverse-over-reverse through ``while_loop``)
``scan``           ``scan`` (``fori_loop`` with static bounds lowers to it)
``custom``         ``custom_jvp_call``, ``custom_vjp_call``, ``custom_lin``
``checkpoint``     ``checkpoint`` with its saving policies, ``name``,
                   ``optimization_barrier``, ``save_cast`` (``save_in``)
``solves``         ``custom_root``, ``custom_linear_solve`` (implicit
                   differentiation) and ``host_call`` (Python on NumPy values)
=================  ============================================================

Conventions.  Every sub-function is a const-free ``Jaxpr`` held in params (closure
conversion, ``core.ir.closure_convert``: whatever the traced function captured is passed
as leading operands), so params never hold tracers and sub-programs compare by identity.
Every rule calls the generic transforms (``funcdiff.transforms``) on the sub-jaxprs.
These primitives sit below ``jit`` and ``analysis`` and never import them: an ``impl``
runs a sub-jaxpr through ``core.interpret.subprogram`` (compiled once jit is loaded), an
``emit`` rule asks the code generator for it (``gen.subprogram``), and a ``cost`` rule
receives ``sub_cost(jaxpr)`` from the cost analysis.
"""

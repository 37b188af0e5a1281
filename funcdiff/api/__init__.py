"""The public transforms, each flattening pytrees and validating the user's values at
the boundary before it works on IR: ``autodiff`` (grad, vjp, jvp, linearize, jacfwd,
jacrev, hessian, make_jaxpr) over the eager ``executor`` (linearization with its cache of
compiled programs), ``vmap``, ``jacobian``, ``custom_derivatives``, ``jit`` (with
``cost_analysis``) and ``checkpoint``.  ``funcdiff/__init__.py`` exports their names."""

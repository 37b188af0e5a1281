"""First-order primitives, one module per family, each primitive with all of its rules
and its declared facts on one screen.  Modules import only earlier ones: ``base`` (the
structural primitives the rule helpers bind, and those helpers) -> ``elementwise`` ->
``shape`` -> ``reduce`` -> ``dot`` -> ``indexing`` -> ``sort`` -> ``linalg`` -> ``fft``
-> ``special`` -> ``special_more`` -> ``decomp`` -> ``matfun``."""

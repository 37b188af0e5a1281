"""IR -> IR transforms, built on the primitives' rules: ``jvp``, ``partial_eval`` (with
checkpoint's remat variant), ``transpose``, ``vmap`` (batching), ``dce`` and
``linearize`` (jvp + partial evaluation).  No caches, no compilation: the eager executor
(``funcdiff.api.executor``) and ``jit`` do that above."""

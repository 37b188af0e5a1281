"""The compiler behind ``jit``: optimizing passes (``passes``), code generation
(``codegen``) with the helpers generated code calls (``runtime``), and the memory and
aliasing model (``memory``) that code generation follows and ``cost_analysis`` predicts
from.  The ``jit`` transform itself -- tracing once per signature, the cache, ``lower`` --
is ``funcdiff.api.jit``.

Importing this package installs the compiler as the way higher-order primitives run
their sub-programs (``core.interpret.subprogram``): compiled once per sub-jaxpr."""
from ..core.interpret import set_subprogram_compiler
from .codegen import compile_jaxpr, compiled  # noqa: F401
from .passes import lower, optimize  # noqa: F401

set_subprogram_compiler(compiled)

"""The bottom layer: abstract values, the IR and its printer, checking, tracing with
``Primitive`` and ``bind``, and evaluation.  Modules here import only each other, in
the order source -> errors -> avals -> ir -> check -> debug -> trace -> interpret."""
from .avals import ShapedArray, aval_of_value  # noqa: F401
from .check import JaxprTypeError, check_jaxpr  # noqa: F401
from .errors import *  # noqa: F401,F403
from .interpret import eval_closed, eval_jaxpr  # noqa: F401
from .ir import ClosedJaxpr, Eqn, Jaxpr, Literal, Var, pp_jaxpr  # noqa: F401
from .source import SourceInfo  # noqa: F401
from .trace import (Primitive, Tracer, bind, get_aval, is_tracer, new_trace,  # noqa: F401
                    registry, state, trace_active, trace_flat)

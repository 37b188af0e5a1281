"""The bottom layer: abstract values, the IR, printing, checking, tracing, evaluation."""
from .avals import ShapedArray, aval_of_value  # noqa: F401
from .check import JaxprTypeError, check_jaxpr  # noqa: F401
from .errors import *  # noqa: F401,F403
from .interpret import eval_closed, eval_jaxpr  # noqa: F401
from .ir import ClosedJaxpr, Eqn, Jaxpr, Literal, SourceInfo, Var  # noqa: F401
from .pretty import pp_jaxpr  # noqa: F401
from .primitive import Primitive, registry  # noqa: F401
from .trace import (Tracer, bind, get_aval, is_tracer, new_trace, state,  # noqa: F401
                    trace_active, trace_flat)

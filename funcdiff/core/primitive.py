"""``funcdiff.core.primitive``: the public name of ``Primitive`` and its ``registry``
(name -> primitive).  Both are defined in ``funcdiff.core.trace``, together with
``bind``, which applies a primitive."""
from .trace import Primitive, registry  # noqa: F401

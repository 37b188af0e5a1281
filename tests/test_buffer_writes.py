"""Writing a traced value into a NumPy array never cuts a derivative silently.

NumPy stores an object into an array through a conversion (``__float__``,
``__complex__``, ``__int__``, ``__bool__`` for one element, ``__array__`` for slices and
lists) or through its dispatch protocols (``out=``, in-place operators, ``copyto``,
``put``, ...).  Every such path raises ``TracerBufferWriteError`` naming the user's line
and the functional update to write instead, under every transform; values that carry no
derivative are stored (as ``np.asarray`` gives them), and the user's own ``float(x)``
stays a documented, warned cut (``DerivativeCutWarning``).
"""
from __future__ import annotations

import inspect
import math
import operator
import sys
import traceback
import warnings

import numpy as np
import pytest

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff import DerivativeCutWarning, TracerBufferWriteError

HERE = __file__
# Python 3.10 has no instruction positions: calls of storing methods (`buf.fill(x)`)
# are not told apart from other calls there, and messages name no source text
POSITIONS = sys.version_info >= (3, 11)


def _marked_line(fn):
    lines, first = inspect.getsourcelines(fn)
    (i,) = [i for i, text in enumerate(lines) if "# <-" in text]
    return f"{HERE}:{first + i}"


# name -> (f, a token of the fix the message must show, whether the path is a call of a
# storing method); each f takes a float64 vector of 3 and returns a float scalar
WRITES: dict = {}


def write(name, fix, call=False):
    def deco(fn):
        WRITES[name] = (fn, fix, call)
        return fn
    return deco


@write("item", "out = out.at[0].set(v)")
def _(x):
    out = np.zeros(3)
    out[0] = x[0] * 2  # <-
    return out.sum()


@write("item of a matrix", "out = out.at[0, 1].set(v)")
def _(x):
    out = np.zeros((2, 3))
    out[0, 1] = x[0]  # <-
    return out.sum()


@write("row of a matrix", "out = out.at[0].set(v)")
def _(x):
    out = np.zeros((2, 3))
    out[0] = x  # <-
    return out.sum()


@write("slice", "out = out.at[0:2].set(v)")
def _(x):
    out = np.zeros(3)
    out[0:2] = x[:2] * 2  # <-
    return out.sum()


@write("0-d value into a slice", "out = out.at[:].set(v)")
def _(x):
    out = np.zeros(3)
    out[:] = x[0]  # <-
    return out.sum()


@write("fancy index", "out = out.at[[0, 2]].set(v)")
def _(x):
    out = np.zeros(3)
    out[[0, 2]] = x[:2]  # <-
    return out.sum()


@write("boolean mask", ".set(v)")
def _(x):
    out = np.zeros(3)
    out[np.array([True, False, True])] = x[0]  # <-
    return out.sum()


@write("ellipsis", "out = out.at[...].set(v)")
def _(x):
    out = np.zeros(3)
    out[...] = x  # <-
    return out.sum()


@write("list of traced values", "out = out.at[:2].set(v)")
def _(x):
    out = np.zeros(3)
    out[:2] = [x[0], x[1]]  # <-
    return out.sum()


@write("augmented item", "out = out.at[0].set(v)")
def _(x):
    out = np.zeros(3)
    out[0] += x[0]  # <-
    return out.sum()


@write("flat", "out.flat = out.flat.at[1].set(v)")
def _(x):
    out = np.zeros(3)
    out.flat[1] = x[0]  # <-
    return out.sum()


@write("fill", "out = fnp.full_like(out, v)", call=True)
def _(x):
    out = np.zeros(3)
    out.fill(x[0])  # <-
    return out.sum()


@write("ndarray.put", ".at[i].set(v)", call=True)
def _(x):
    out = np.zeros(3)
    out.put([0], x[0])  # <-
    return out.sum()


if hasattr(np.ndarray, "itemset"):     # NumPy 1.x
    @write("ndarray.itemset", ".at[i].set(v)", call=True)
    def _(x):
        out = np.zeros(3)
        out.itemset(0, x[0])  # <-
        return out.sum()


@write("operator.setitem", ".at[i].set(v)", call=True)
def _(x):
    out = np.zeros(3)
    operator.setitem(out, 0, x[0])  # <-
    return out.sum()


@write("numpy.copyto", ".at[i].set(v)")
def _(x):
    out = np.zeros(3)
    np.copyto(out, x)  # <-
    return out.sum()


@write("numpy.copyto by keyword", ".at[i].set(v)")
def _(x):
    out = np.zeros(3)
    np.copyto(dst=out, src=x)  # <-
    return out.sum()


@write("numpy.put", ".at[i].set(v)")
def _(x):
    out = np.zeros(3)
    np.put(out, [0], x[0])  # <-
    return out.sum()


@write("numpy.place", ".at[i].set(v)")
def _(x):
    out = np.zeros(3)
    np.place(out, out == 0, x)  # <-
    return out.sum()


@write("numpy.putmask", ".at[i].set(v)")
def _(x):
    out = np.zeros(3)
    np.putmask(out, out == 0, x)  # <-
    return out.sum()


@write("numpy.put_along_axis", ".at[i].set(v)")
def _(x):
    out = np.zeros(3)
    np.put_along_axis(out, np.array([0]), x[:1], 0)  # <-
    return out.sum()


@write("numpy.fill_diagonal", ".at[i].set(v)")
def _(x):
    out = np.zeros((3, 3))
    np.fill_diagonal(out, x[0])  # <-
    return out.sum()


@write("ufunc out=", "y = numpy.add(...)")
def _(x):
    out = np.zeros(3)
    np.add(x, 1.0, out=out)  # <-
    return out.sum()


@write("unary ufunc out=", "y = numpy.sin(...)")
def _(x):
    out = np.zeros(3)
    np.sin(x, out=out)  # <-
    return out.sum()


@write("reduction out=", "y = numpy.sum(...)")
def _(x):
    out = np.zeros(())
    np.sum(x, out=out)  # <-
    return out.sum()


@write("in-place operator", "out = out * x")
def _(x):
    out = np.ones(3)
    out *= x  # <-
    return out.sum()


@write("ufunc.at", "fnp.asarray(a).at[idx].add(v)")
def _(x):
    out = np.zeros(3)
    np.add.at(out, [0, 0], x[0])  # <-
    return out.sum()


@write("complex buffer", "out = out.at[0].set(v)")
def _(x):
    out = np.zeros(3, complex)
    out[0] = x[0] * 2  # <-
    return out.real.sum()


@write("integer buffer", "out = out.at[0].set(v)")
def _(x):
    out = np.zeros(3, np.int64)
    out[0] = x[0] * 2  # <-
    return out.sum() * x[1]


@write("unsigned buffer", "out = out.at[0].set(v)")
def _(x):
    out = np.zeros(3, np.uint8)
    out[0] = x[0] * 2  # <-
    return out.sum() * x[1]


@write("boolean buffer", "out = out.at[0].set(v)")
def _(x):
    out = np.zeros(3, bool)
    out[0] = x[0] * 2  # <-
    return out.sum() * x[1]


@write("float32 buffer", "out = out.at[0].set(v)")
def _(x):
    out = np.zeros(3, np.float32)
    out[0] = x[0] * 2  # <-
    return out.sum()


@write("float16 buffer", "out = out.at[0].set(v)")
def _(x):
    out = np.zeros(3, np.float16)
    out[0] = x[0] * 2  # <-
    return out.sum()


@write("memoryview of an array", ".at[i].set(v)")
def _(x):
    out = np.zeros(3)
    memoryview(out)[0] = x[0]  # <-
    return out.sum()


@write("inside a Python __setitem__", "self.data = self.data.at[i].set(v)")
def _(x):
    class Buffer:
        def __init__(self):
            self.data = np.zeros(3)

        def __setitem__(self, i, v):
            self.data[i] = v  # <-

    out = Buffer()
    out[0] = x[0]
    return out.data.sum()


X = np.array([0.5, 1.0, 1.5])
TRANSFORMS = {
    "grad": lambda f: fd.grad(f)(X),
    "jvp": lambda f: fd.jvp(f, (X,), (X,)),
    "vjp": lambda f: fd.vjp(f, X),
    "jit": lambda f: fd.jit(f)(X),
    "vmap": lambda f: fd.vmap(f)(np.stack([X, X])),
    "jit(grad)": lambda f: fd.jit(fd.grad(f))(X),
    "grad(jit)": lambda f: fd.grad(fd.jit(f))(X),
    "vmap(grad)": lambda f: fd.vmap(fd.grad(f))(np.stack([X, X])),
}
KNOWN = ("grad", "jvp", "vjp")      # the values are known: eager tracing


@pytest.mark.parametrize("transform", sorted(TRANSFORMS))
@pytest.mark.parametrize("path", sorted(WRITES))
def test_buffer_write_raises(path, transform):
    f, fix, call = WRITES[path]
    if call and not POSITIONS:
        pytest.skip("storing method calls are recognized from Python 3.11 on")
    with pytest.raises(TracerBufferWriteError) as ei:
        TRANSFORMS[transform](f)
    e, msg = ei.value, str(ei.value)
    # the documented classes, never NumPy's "ValueError: setting an array element ..."
    assert isinstance(e, fd.TracerArrayConversionError) and isinstance(e, TypeError)
    assert not isinstance(e, ValueError)
    assert _marked_line(f) in msg                        # the user's line
    if POSITIONS:
        assert fix in msg                                # the functional update to write
    else:
        assert ".at[" in msg or "returned value" in msg or " = " in msg
    if transform in KNOWN:
        assert "derivative" in msg and "stop_gradient" in msg
    else:
        assert "jit or vmap" in msg


def test_traceback_ends_at_the_assignment():
    """Where NumPy replaced the error by its own ValueError, the error is ours again,
    with the traceback that ends at the user's line and no NumPy error chained."""
    f = WRITES["item"][0]
    with pytest.raises(TracerBufferWriteError) as ei:
        fd.grad(f)(X)
    last = traceback.extract_tb(ei.value.__traceback__)[-1]
    assert f"{last.filename}:{last.lineno}" == _marked_line(f)
    assert ei.value.__cause__ is None and ei.value.__suppress_context__


def test_message_shows_the_source_and_the_fix():
    def f(x):
        acc = np.zeros((2, 3))
        acc[1, 2] = x[0] * 2
        return acc.sum()

    with pytest.raises(TracerBufferWriteError) as ei:
        fd.grad(f)(X)
    msg = str(ei.value)
    assert "f64[]" in msg
    if POSITIONS:
        assert "`acc[1, 2] = ...`" in msg and "`acc = acc.at[1, 2].set(v)`" in msg


def test_values_without_a_derivative_are_stored():
    """Under grad, integers, booleans, stop_gradient(x) and constants are stored into
    NumPy arrays (nothing is lost, as np.asarray gives them), without a warning."""
    def f(x):
        frozen = np.zeros(3)
        frozen[0] = fd.stop_gradient(x[0])         # __float__ of a value without derivative
        frozen[1:] = fd.stop_gradient(x[1:])       # __array__
        idx = np.zeros(2, np.int64)
        idx[0] = fnp.argmax(x)                     # __int__ of an integer value
        idx.fill(fnp.argmax(x))
        onehot = np.zeros(3)
        onehot[fnp.argmax(x)] = 1.0                # a traced index into a NumPy array
        counts = np.zeros(3, np.int64)
        counts += x > 0.7                          # out= with a boolean traced value
        np.add.at(counts, fnp.argmax(x), 1)        # ufunc.at with a traced index
        mask = np.zeros(3, bool)
        np.copyto(mask, x > 0.7)
        assert idx.tolist() == [2, 2] and counts.tolist() == [0, 1, 2]
        return (fnp.sum(frozen * x) + x[idx[0]] + fnp.sum(onehot * x)
                + fnp.sum(counts * x) + fnp.sum(np.where(mask, x, 0.0)))

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = fd.grad(f)(X)
    # d/dx of sum(stop(x) * x) + x[2] + x[2] + (x[1] + 2 x[2]) + (x[1] + x[2])
    np.testing.assert_allclose(g, X + [0.0, 2.0, 5.0])


def test_traced_index_into_a_numpy_array_under_jit():
    def f(x):
        onehot = np.zeros(3)
        onehot[fnp.argmax(x)] = 1.0  # <-
        return fnp.sum(onehot * x)

    with pytest.raises(TracerBufferWriteError) as ei:
        fd.jit(f)(X)
    assert "i64[]" in str(ei.value) and _marked_line(f) in str(ei.value)


def test_python_containers_hold_traced_values():
    """A list (or dict) item assignment stores the traced value itself: no conversion,
    the derivative flows."""
    def f(x):
        items = [0.0, 0.0]
        items[0] = x[0] * 3
        table = {}
        table["y"] = x[1]
        return fnp.stack(items).sum() + table["y"] ** 2

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(fd.grad(f)(X), [3.0, 2.0, 0.0])


DELIBERATE = {
    "float": lambda x: float(x[0]),
    "complex": lambda x: complex(x[0]).real,
    "numpy scalar": lambda x: np.float64(x[0]) + 0.0,
    "math.exp": lambda x: math.log(math.exp(x[0])),
    "%-formatting": lambda x: float("%.17g" % x[0]),
    "item": lambda x: x[0].item(),
    "tolist": lambda x: x.tolist()[0],
    "float() then stored": lambda x: _store(float(x[0])),
}


def _store(v):
    buf = np.zeros(1)
    buf[0] = v                  # a Python float: nothing traced is stored
    return buf[0]


@pytest.mark.parametrize("path", sorted(DELIBERATE))
def test_deliberate_conversions_warn_and_work_under_grad(path):
    """float(x) and friends on a value with a derivative, under eager grad: the value
    (correct), a DerivativeCutWarning naming the line, and the derivative through the
    Python number is zero, as documented (docs/sharp-edges.md)."""
    call = DELIBERATE[path]

    def f(x):
        return call(x) * x[1]

    with pytest.warns(DerivativeCutWarning) as rec:
        g = fd.grad(f)(X)
    np.testing.assert_allclose(g, [0.0, X[0], 0.0])      # d/dx1 of (x0 as a number) * x1
    assert "stop_gradient" in str(rec[0].message) and HERE in str(rec[0].message)
    assert not any(issubclass(r.category, fd.FuncdiffError) for r in rec)


def test_user_catching_numpys_error_is_not_overridden():
    """A ValueError the user catches ends the matter; a later, different error leaving
    the trace is not replaced by the earlier buffer-write error."""
    def caught(x):
        out = np.zeros(3)
        try:
            out[0] = x[0]
        except ValueError:
            pass
        return fnp.sum(x * 2)

    np.testing.assert_allclose(fd.grad(caught)(X), 2.0)

    def other_error(x):
        out = np.zeros(3)
        try:
            out[0] = x[0]
        except ValueError:
            pass
        raise ValueError("the user's own error")

    with pytest.raises(ValueError, match="the user's own error"):
        fd.grad(other_error)(X)


def test_in_place_numpy_functions_on_traced_values_are_immutable():
    """copyto/put/... with a traced destination, ufunc.at on one: traced values are
    immutable (the .at[] update is the fix)."""
    for call in (lambda x: np.copyto(x, 1.0), lambda x: np.put(x, [0], 1.0),
                 lambda x: np.putmask(x, x > 1, 0.0), lambda x: np.add.at(x, [0], 1.0),
                 lambda x: np.fill_diagonal(fnp.reshape(x, (1, 3)), 0.0)):
        with pytest.raises(fd.FuncdiffTypeError, match=r"immutable.*\.at\[idx\]\.add"):
            fd.grad(lambda x: call(x) or fnp.sum(x))(X)
    with pytest.raises(fd.FuncdiffTypeError, match="returned value"):
        fd.grad(lambda x: np.sin(X, out=x) and fnp.sum(x))(X)


@pytest.mark.parametrize("path", ["item", "fill", "operator.setitem", "in-place operator",
                                  "numpy.copyto"])
def test_repeated_writes_are_caught_every_time(path):
    """The interpreter specializes hot code (Python 3.11 runs some calls from a
    specialized PRECALL instead of CALL): the 30th write is recognized like the first."""
    f, _, call = WRITES[path]
    if call and not POSITIONS:
        pytest.skip("storing method calls are recognized from Python 3.11 on")
    for _ in range(30):
        with pytest.raises(TracerBufferWriteError):
            fd.grad(f)(X)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        for _ in range(30):
            fd.grad(lambda x: float(x[0]) * x[1])(X)
    assert len(rec) == 30 and all(r.category is DerivativeCutWarning for r in rec)

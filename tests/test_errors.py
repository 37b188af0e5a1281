"""Every user-facing error, triggered for real (the error audit; docs/errors.md is
generated from this table, so its sample messages are true).

Each case is a small piece of user code that raises one funcdiff error.  The test asserts
that the error has the documented class (a ``FuncdiffError`` and, for the typed ones, the
matching built-in exception), and that its message names the operation, the shapes or
types involved, and the user's line -- the line of the case marked ``# <-``.

``python tests/test_errors.py`` rewrites docs/errors.md from this table;
``test_docs_are_current`` fails when the page and the table disagree.  In the page,
locations are shown relative to the example (``example.py:3``), so the page does not
change when this file grows.
"""
from __future__ import annotations

import dataclasses
import functools
import inspect
import os
import re
import sys
import textwrap
import warnings

import numpy as np
import pytest

import funcdiff as fd
import funcdiff.lax as lax
import funcdiff.numpy as fnp
from funcdiff.core.check import JaxprTypeError
from funcdiff.core.debug import FloatingPointNaNError
from funcdiff.test_util import GradientCheckError
from funcdiff.transforms.vmap import BatchingError, BatchRuleError

DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs",
                   "errors.md")
HERE = os.path.abspath(__file__)


@dataclasses.dataclass
class Case:
    name: str
    cls: type
    tokens: tuple          # substrings the message must contain (op, shapes, types)
    when: str
    fix: str
    fn: object
    section: str

    @property
    def source(self):
        """The body of the case's function (the example) and its first line number."""
        lines, first = inspect.getsourcelines(self.fn)
        start = next(i for i, text in enumerate(lines) if text.startswith("def ")) + 1
        return textwrap.dedent("".join(lines[start:])), first + start

    @property
    def user_line(self):
        lines, first = inspect.getsourcelines(self.fn)
        marked = [first + i for i, text in enumerate(lines) if "# <-" in text]
        assert len(marked) == 1, f"{self.name}: mark exactly one line with '# <-'"
        return marked[0]


CASES: list[Case] = []
_SECTION = ["?"]


def section(title):
    _SECTION[0] = title


def case(name, cls, *tokens, when, fix):
    def deco(fn):
        CASES.append(Case(name, cls, tokens, when, fix, fn, _SECTION[0]))
        return fn
    return deco


x3 = np.array([1.0, 2.0, 3.0])

# ---------------------------------------------------------------------------------------
section("Calling transforms")


@case("grad of a non-scalar output", fd.GradientError, "grad(f)", "(3,)", "jacrev",
      when="the function given to `grad` returns more than one element",
      fix="reduce the output (`f(x).sum()`), or use `jacrev`/`jacfwd` for the Jacobian, "
          "or `vjp` with a cotangent")
def example():
    def f(x):
        return x * 2.0
    fd.grad(f)(x3)  # <-


@case("grad of several outputs", fd.GradientError, "grad(f)", "2 leaves", "has_aux",
      when="the function given to `grad` returns a tuple/dict of outputs",
      fix="return one scalar, with the rest as auxiliary data (`has_aux=True`), or use "
          "`jacrev`/`vjp`")
def example():
    def f(x):
        return fnp.sum(x), fnp.max(x)
    fd.grad(f)(x3)  # <-


@case("grad of a complex output", fd.GradientError, "grad(f)", "complex128", "vjp",
      when="the scalar output of `grad`'s function is complex",
      fix="pass `holomorphic=True` if the function is holomorphic; otherwise take the "
          "real part or the absolute value, or use `vjp` with an explicit complex "
          "cotangent")
def example():
    def f(x):
        return fnp.sum(x * 1j)
    fd.grad(f)(x3)  # <-


@case("jacrev of a complex output", fd.GradientError, "jacrev(f)", "c128[3]", "float64",
      "complex128", "holomorphic=True", "jacfwd",
      when="`jacrev` (or `jacobian(mode='rev')`) of a function with a complex output, "
           "without `holomorphic=True`: one real cotangent per output element sees only "
           "the output's real part",
      fix="pass `holomorphic=True` if the function is holomorphic (inputs complex too); "
          "otherwise return real and imaginary parts as separate outputs, or use "
          "`jacfwd` for real inputs")
def example():
    def f(x):
        return fnp.exp(1j * x)
    fd.jacrev(f)(x3)  # <-


@case("jacfwd of a complex input", fd.GradientError, "jacfwd(f)", "c128[3]", "complex128",
      "float64", "holomorphic=True", "jacrev",
      when="`jacfwd` (or `jacobian(mode='fwd')`) of a function of a complex input, "
           "without `holomorphic=True`: one real direction per input element sees only "
           "the derivative along the real axis",
      fix="pass `holomorphic=True` if the function is holomorphic; otherwise split the "
          "input into real and imaginary parts, or (real-valued function) use `jacrev` "
          "or `grad`")
def example():
    def f(z):
        return fnp.abs(z) ** 2
    fd.jacfwd(f)(x3 + 1j)  # <-


@case("hessian of a complex input", fd.GradientError, "hessian(f)", "c128[3]",
      "holomorphic=True", "argnums=(0, 1)",
      when="`hessian` of a function of complex input without `holomorphic=True`: the "
           "gradient of a real function of complex input is not holomorphic",
      fix="split the input into real and imaginary parts "
          "(`hessian(lambda x, y: f(x + 1j * y), argnums=(0, 1))`), or pass "
          "`holomorphic=True` for a holomorphic function")
def example():
    def f(z):
        return fnp.sum(fnp.abs(z) ** 2)
    fd.hessian(f)(x3 + 1j)  # <-


@case("holomorphic=True with a real input or output", fd.GradientError,
      "jacfwd(f) with holomorphic=True", "f64[3]", "complex",
      when="`holomorphic=True` was passed but an input (or output) is real",
      fix="cast the inputs to complex (`x.astype(complex)`), or drop `holomorphic=True`")
def example():
    def f(x):
        return fnp.exp(1j * x)
    fd.jacfwd(f, holomorphic=True)(x3)  # <-


@case("integer input to grad", fd.GradientError, "grad(f)", "int64", "(3,)", "x.astype",
      when="a differentiated argument has an integer or boolean dtype",
      fix="pass floats (`x.astype(float)`, `2.0` not `2`), choose other arguments with "
          "`argnums`, or pass `allow_int=True` to get float0 zeros")
def example():
    def f(x):
        return fnp.sum(x * 2.0)
    fd.grad(f)(np.arange(3))  # <-


@case("a function without return under grad", fd.GradientError, "grad(f)",
      "returned None",
      when="the differentiated function returns nothing (a missing `return`)",
      fix="return the scalar to differentiate")
def example():
    def f(x):
        fnp.sum(x ** 2)
    fd.grad(f)(x3)  # <-


@case("argnums out of range", fd.FuncdiffValueError, "grad(f)", "argnums=2", "2 positional",
      when="`argnums` names an argument the call does not have",
      fix="count positional arguments from 0; pass the argument positionally")
def example():
    def f(x, y):
        return fnp.sum(x * y)
    fd.grad(f, argnums=2)(x3, x3)  # <-


@case("has_aux function does not return a pair", fd.FuncdiffTypeError, "has_aux=True",
      "pair", when="`has_aux=True` but the function does not return `(output, aux)`",
      fix="return a pair `(loss, aux)`, or drop `has_aux`")
def example():
    def f(x):
        return fnp.sum(x)
    fd.grad(f, has_aux=True)(x3)  # <-


@case("cotangent of the wrong shape", fd.StructureError, "vjp_fn", "(4,)", "(3,)",
      when="the cotangent passed to `vjp_fn` does not have the output's shape",
      fix="pass a cotangent shaped like the output (`np.ones_like(out)`)")
def example():
    out, vjp_fn = fd.vjp(fnp.sin, x3)
    vjp_fn(np.ones(4))  # <-


@case("cotangent of the wrong structure", fd.StructureError, "vjp_fn", "(*, *)",
      when="the cotangent's pytree structure differs from the output's",
      fix="pass a cotangent with the output's structure (one leaf per output leaf)")
def example():
    out, vjp_fn = fd.vjp(fnp.sin, x3)
    vjp_fn((np.ones(3), np.ones(3)))  # <-


@case("cotangent of the wrong dtype", fd.FuncdiffTypeError, "vjp_fn", "float64", "float32",
      when="the cotangent passed to `vjp_fn` has another dtype than the output (float64 "
           "for a float32 output, complex for a real one); Python scalars are accepted "
           "and take the output's dtype",
      fix="pass a cotangent of the output's dtype (`ct.astype(out.dtype)`, "
          "`np.ones_like(out)`)")
def example():
    out, vjp_fn = fd.vjp(fnp.sin, x3.astype(np.float32))
    vjp_fn(np.ones(3))  # <-


@case("primals and tangents not tuples", fd.StructureError, "jvp", "tuples",
      when="`jvp(f, x, v)` instead of `jvp(f, (x,), (v,))`",
      fix="pass tuples of arguments: `jvp(f, (x,), (v,))`")
def example():
    fd.jvp(fnp.sin, x3, x3)  # <-


@case("tangent of the wrong shape", fd.StructureError, "jvp", "(2,)", "(3,)",
      when="a tangent's shape differs from its primal's",
      fix="pass tangents shaped like the primals")
def example():
    fd.jvp(fnp.sin, (x3,), (np.ones(2),))  # <-


@case("tangent of the wrong dtype", fd.FuncdiffTypeError, "jvp", "float32", "float64",
      when="a tangent's dtype differs from its primal's",
      fix="cast the tangent: `v.astype(x.dtype)`")
def example():
    fd.jvp(fnp.sin, (x3,), (np.ones(3, np.float32),))  # <-


@case("float tangent for an integer primal", fd.GradientError, "jvp", "i64[3]", "float0",
      when="a primal is an integer array and its tangent is a float array",
      fix="pass a float0 (or integer) zero tangent for integer primals, or make the "
          "primal float")
def example():
    def f(x, n):
        return x * n
    fd.jvp(f, (x3, np.arange(3)), (x3, np.ones(3)))  # <-


@case("argument that is not an array", fd.FuncdiffTypeError, "str", "static_argnums",
      when="an argument (or pytree leaf) is not an array, a number or a pytree of them",
      fix="pass arrays; register custom classes with "
          "`funcdiff.tree_util.register_pytree_node`; mark configuration arguments "
          "static (`jit(f, static_argnums=...)`)")
def example():
    def f(x, mode):
        return fnp.sum(x)
    fd.jit(f)(x3, "fast")  # <-


@case("masked array argument", fd.FuncdiffTypeError, "argument x", "MaskedArray",
      "x.filled", "x.compressed()", "where",
      when="an argument or a constant the function uses is a `numpy.ma.MaskedArray`: "
           "funcdiff computes on plain arrays and would use the masked entries' data",
      fix="pass `x.filled(value)` or `x.compressed()`, or the data and the mask "
          "separately, selecting with `funcdiff.numpy.where(mask, 0.0, x)`")
def example():
    x = np.ma.array([1.0, 100.0, 2.0], mask=[False, True, False])
    fd.grad(lambda x: fnp.sum(x * x))(x)  # <-


@case("argument of a non-numeric dtype", fd.FuncdiffTypeError, "argument t",
      "datetime64[s]", "timedelta64",
      when="an argument or a constant has dtype object (Fraction, Decimal), a structured "
           "dtype, datetime64/timedelta64 or a string dtype",
      fix="convert to a numeric dtype first (`numpy.asarray(x, dtype=float)`; times "
          "as `(t - t0) / numpy.timedelta64(1, 's')`; fields of a structured array "
          "as separate arrays)")
def example():
    def f(t, rate):
        return fnp.sum(t * rate)
    t = np.array(["2024-01-01T00:00", "2024-01-01T00:05"], dtype="datetime64[s]")
    fd.jit(f)(t, 2.0)  # <-


@case("unknown jacobian mode", fd.FuncdiffValueError, "jacobian", "'sideways'",
      when="`funcdiff.jacobian(f, mode=...)` with an unknown mode",
      fix="use mode='auto', 'fwd', 'rev' or 'report'")
def example():
    fd.jacobian(fnp.sin, mode="sideways")(x3)  # <-


# ---------------------------------------------------------------------------------------
section("Tracing: values that are not known, or must not escape")


@case("Python `if` on a traced value under jit", fd.ConcretizationError, "bool()",
      "bool[]", "funcdiff.lax", "static_argnums",
      when="Python control flow (`if`, `while`, `and`, `assert`) on a value inside `jit`",
      fix="use `funcdiff.lax.cond`/`switch`/`while_loop`/`fori_loop`, `fnp.where` for "
          "elementwise choices, or mark the argument static")
def example():
    @fd.jit
    def f(x):
        if x > 0:  # <-
            return x
        return -x
    f(1.0)


@case("float() of a traced value under jit", fd.ConcretizationError, "float()", "f64[]",
      when="`float(x)`, `int(x)`, `x.item()` on a traced value inside `jit`",
      fix="keep computing with the traced value; if it is configuration, pass it "
          "static")
def example():
    @fd.jit
    def f(x):
        return x * float(x[0])  # <-
    f(x3)


@case("numpy.asarray of a traced value", fd.TracerArrayConversionError, "numpy.asarray",
      "f64[3]", "stop_gradient",
      when="`np.asarray(x)` / `np.array(x)` on a traced value (it would silently cut the "
           "derivative)",
      fix="use funcdiff.numpy (or NumPy functions, which dispatch to funcdiff) on traced "
          "values; `funcdiff.stop_gradient(x)` where no derivative is wanted")
def example():
    def f(x):
        return np.asarray(x).sum()  # <-
    fd.grad(f)(x3)


@case("in-place assignment to a traced value", fd.FuncdiffTypeError, "x[0] = v",
      ".at[0].set",
      when="`x[i] = v` on a traced value (traced values are immutable)",
      fix="`x = x.at[i].set(v)` (or `.add`, `.multiply`)")
def example():
    def f(x):
        x[0] = 0.0  # <-
        return fnp.sum(x)
    fd.grad(f)(x3)


@case("a traced value written into a NumPy array", fd.TracerBufferWriteError,
      "`out[0] = ...`", "f64[]", "out = out.at[0].set(v)",
      when="`buf[i] = x`, `buf[:] = x`, `buf.fill(x)`, `np.copyto(buf, x)` (or `put`, "
           "`place`, `putmask`) with a traced `x` that carries a derivative (under "
           "`grad`/`jvp`/`vjp`), or with any traced `x` under `jit`/`vmap`: the NumPy "
           "array would hold a plain number, silently cutting the derivative",
      fix="make the array with funcdiff.numpy and update it functionally, "
          "`out = fnp.zeros(3).at[0].set(x[0] * 2)`, or collect the values and `np.stack` "
          "them; `funcdiff.stop_gradient(v)` stores a value on purpose")
def example():
    def f(x):
        out = np.zeros(3)
        out[0] = x[0] * 2  # <-
        return out.sum()
    fd.grad(f)(x3)


@case("out= into a NumPy array", fd.TracerBufferWriteError, "numpy.add", "out=",
      when="a NumPy function with `out=` a NumPy array receives a traced value (an "
           "in-place operator `buf += x` on a NumPy array is one)",
      fix="use the returned value: `y = np.add(a, x)`, `buf = buf + x`")
def example():
    def f(x):
        buf = np.zeros(3)
        np.add(x, 1.0, out=buf)  # <-
        return fnp.sum(buf)
    fd.grad(f)(x3)


@case("a traced value escaped its transform", fd.TracerLeakError, "escaped",
      "f64[3]", "created by `sin`",
      when="a traced value stored in a global, attribute or closure during a transform "
           "is used after the transform returned",
      fix="return the value from the transformed function (or as `has_aux` data) "
          "instead of storing it")
def example():
    saved = []

    def f(x):
        y = fnp.sin(x)
        saved.append(y)
        return fnp.sum(y)
    fd.grad(f)(x3)
    saved[0] + 1.0  # <-


@case("boolean mask under jit", fd.NonConcreteBooleanIndexError, "boolean mask",
      "(3,)", "where",
      when="`x[mask]` with a traced boolean mask inside `jit` or `vmap` (the result's "
           "shape would depend on the values)",
      fix="`fnp.where(mask, x, 0.0)` keeps the shape; `x[fnp.nonzero(mask, size=n)]` "
          "selects n entries; or index outside jit")
def example():
    @fd.jit
    def f(x):
        return fnp.sum(x[x > 1.5])  # <-
    f(x3)


@case("value-dependent shape under jit", fd.ConcretizationError, "nonzero", "f64[3]",
      when="`nonzero`/`argwhere`/`flatnonzero`/`compress`/`extract` of a traced value "
           "inside `jit` or `vmap`",
      fix="pass `size=n` (and `fill_value=`) for a fixed-length result, compute the "
          "indices outside `jit`, or use a fixed-size formulation (`where`)")
def example():
    @fd.jit
    def f(x):
        return fnp.nonzero(x)  # <-
    f(x3)


@case("NumPy function funcdiff does not trace", fd.UnsupportedNumpyFunctionError,
      "numpy.array2string", "funcdiff",
      when="a NumPy function funcdiff does not implement receives a traced value",
      fix="use a funcdiff.numpy function that does the same, compute it outside the "
          "transform, or wrap it in `custom_jvp`/`custom_vjp`")
def example():
    def f(x):
        return np.array2string(x)  # <-
    fd.jit(f)(x3)


@case("a result whose length depends on values, under jit", fd.ConcretizationError,
      "`unique`", "size=",
      when="`unique`, the set operations (`intersect1d`, `union1d`, `setdiff1d`, "
           "`setxor1d`), `bincount` or `histogram(bins='auto')` under `jit`/`vmap`, where "
           "the values that decide the result's length are unknown",
      fix="pass JAX's static `size=` (and `fill_value=`) to `funcdiff.numpy.unique` and "
          "the set operations, or `length=` to `bincount`; or call it outside `jit` "
          "(under `grad`, values are known)")
def example():
    def f(x):
        return np.unique(x)  # <-
    fd.jit(f)(x3)


# ---------------------------------------------------------------------------------------
section("Shapes, dtypes and indices")


@case("shapes that do not broadcast", fd.ShapeError, "`add`", "(3,)", "(4,)",
      when="an elementwise operation on shapes NumPy cannot broadcast",
      fix="fix the shapes: NumPy broadcasting compares trailing dimensions (add an axis "
          "with `x[:, None]`)")
def example():
    def f(x):
        return fnp.sum(x + np.ones(4))  # <-
    fd.grad(f)(x3)


@case("dot of unaligned shapes", fd.ShapeError, "`dot`", "(3,)", "(4, 2)",
      when="`dot` of shapes whose contracted dimensions differ",
      fix="transpose or reshape an operand so the contracted dimensions match")
def example():
    def f(x):
        return fnp.sum(fnp.dot(x, np.ones((4, 2))))  # <-
    fd.grad(f)(x3)


@case("matmul of unaligned shapes", fd.ShapeError, "matmul", "(3,)", "(2, 2)",
      when="`a @ b` where `a`'s last dimension differs from `b`'s second-to-last",
      fix="check the operand order and shapes (`a @ b.T`?)")
def example():
    def f(x):
        return fnp.sum(x @ np.ones((2, 2)))  # <-
    fd.grad(f)(x3)


@case("reshape to a different size", fd.ShapeError, "`reshape`", "(3,)", "(2, 2)",
      when="`reshape` to a shape with a different number of elements",
      fix="keep the size (use -1 for one inferred dimension)")
def example():
    def f(x):
        return fnp.sum(fnp.reshape(x, (2, 2)))  # <-
    fd.grad(f)(x3)


@case("concatenate of mismatched shapes", fd.ShapeError, "concatenate", "(3,)", "(2, 2)",
      when="`concatenate`/`stack` of arrays whose other dimensions differ",
      fix="make the shapes agree except along the joined axis")
def example():
    def f(x):
        return fnp.sum(fnp.concatenate([x, np.ones((2, 2))]))  # <-
    fd.grad(f)(x3)


@case("broadcast_to an incompatible shape", fd.ShapeError, "broadcast_to", "(3,)", "(4,)",
      when="`broadcast_to(x, shape)` where x does not broadcast to `shape`",
      fix="the target must keep x's trailing dimensions (or have 1s there)")
def example():
    def f(x):
        return fnp.sum(fnp.broadcast_to(x, (4,)))  # <-
    fd.grad(f)(x3)


@case("argmax of an empty array", fd.FuncdiffValueError, "argmax", "empty",
      when="`argmax`/`argmin` (or `max`/`min`) over an empty axis",
      fix="check the size first; `max(x, initial=...)` for max/min")
def example():
    @fd.jit
    def f(x):
        return fnp.argmax(x)  # <-
    f(np.ones(0))


@case("index out of bounds", fd.FuncdiffIndexError, "out of bounds", "size 3", "(3,)",
      when="a static integer index outside the axis",
      fix="index within `-n .. n-1`")
def example():
    def f(x):
        return x[5]  # <-
    fd.grad(f)(x3)


@case("too many indices", fd.FuncdiffIndexError, "too many indices", "1-dimensional",
      when="more indices than the array has dimensions",
      fix="index with at most `x.ndim` entries (plus `None`/`...`)")
def example():
    def f(x):
        return x[0, 1]  # <-
    fd.grad(f)(x3)


@case("float index", fd.FuncdiffIndexError, "float", "1.0",
      when="indexing with a float (or a float array)",
      fix="use integers: `x[int(i)]`, `x[idx.astype(int)]`")
def example():
    def f(x):
        return x[1.0]  # <-
    fd.grad(f)(x3)


@case(".at[] update of the wrong shape", fd.ShapeError, ".at[].set", "(2,)", "(3,)",
      when="`x.at[idx].set(v)` where v does not broadcast to `x[idx]`",
      fix="give v the shape of `x[idx]` (or one that broadcasts to it)")
def example():
    def f(x):
        return fnp.sum(x.at[:].set(np.ones(2)))  # <-
    fd.grad(f)(x3)


@case("linalg of a non-square matrix", fd.ShapeError, "linalg.inv", "(2, 3)", "square",
      when="`linalg.inv`/`det`/`eigh`/`cholesky`/`slogdet` of a non-square matrix "
           "(also a `numpy.linalg.LinAlgError`)",
      fix="pass square matrices, shape `(..., n, n)`")
def example():
    def f(a):
        return fnp.sum(fnp.linalg.inv(a))  # <-
    fd.grad(f)(np.ones((2, 3)))


@case("linalg.solve with a mismatched right-hand side", fd.ShapeError, "linalg.solve",
      "(3,)", "(2, 2)",
      when="`linalg.solve(a, b)` where b's length differs from a's size",
      fix="b must have shape `(..., n)` or `(..., n, k)` for `a` of shape `(..., n, n)`")
def example():
    def f(a):
        return fnp.sum(fnp.linalg.solve(a, x3))  # <-
    fd.grad(f)(np.eye(2))


@case("unsupported pad mode", fd.FuncdiffValueError, "`pad`", "'median'",
      when="`pad` with a mode funcdiff does not trace",
      fix="use one of the supported modes listed in the message")
def example():
    def f(x):
        return fnp.sum(fnp.pad(x, 1, mode="median"))  # <-
    fd.grad(f)(x3)


@case("stack of different shapes", fd.ShapeError, "same shape", "(3,)", "(2,)",
      when="`stack` of arrays of different shapes",
      fix="give every array the same shape (pad or slice first)")
def example():
    def f(x):
        return fnp.sum(fnp.stack([x, x[:2]]))  # <-
    fd.grad(f)(x3)


@case("array from a ragged list", fd.FuncdiffValueError, "inhomogeneous", "(2,)", "(3,)",
      when="`fnp.array([...])` of traced values with different shapes",
      fix="give every element the same shape, or use `concatenate`")
def example():
    def f(x):
        return fnp.sum(fnp.array([x, [1.0, 2.0]]))  # <-
    fd.grad(f)(x3)


@case("determinant of a vector", fd.ShapeError, "linalg.det", "1-dimensional",
      "(..., n, n)",
      when="a `linalg` function that needs matrices gets fewer than two dimensions",
      fix="pass a matrix or a stack of matrices (`x.reshape(n, n)`, `x[None]`)")
def example():
    def f(x):
        return fnp.linalg.det(x)  # <-
    fd.grad(f)(x3)


@case("unsupported take mode", fd.FuncdiffValueError, "`take`", "'bogus'",
      when="`take(..., mode=...)` with a mode NumPy does not have",
      fix="use mode='raise', 'wrap' or 'clip'")
def example():
    def f(x):
        return fnp.sum(fnp.take(x, np.array([0]), mode="bogus"))  # <-
    fd.grad(f)(x3)


@case(".at[].get with fill_value", fd.FuncdiffValueError, ".at[].get", "fill_value",
      when="`x.at[idx].get(fill_value=...)` (JAX's out-of-bounds fill)",
      fix="index within bounds (funcdiff follows NumPy: out-of-bounds indices raise); "
          "clip the indices or use `fnp.where`")
def example():
    def f(x):
        return fnp.sum(x.at[0].get(fill_value=0.0))  # <-
    fd.grad(f)(x3)


@case("ufunc.at on a traced value", fd.FuncdiffTypeError, "numpy.add.at", ".at[idx].add",
      when="`np.add.at(x, idx, v)` (an in-place update) on a traced value",
      fix="`x = fnp.asarray(x).at[idx].add(v)`")
def example():
    def f(x):
        np.add.at(x, [0], 1.0)  # <-
        return fnp.sum(x)
    fd.grad(f)(x3)


@case("linspace with a negative count", fd.FuncdiffValueError, "-3", "non-negative",
      when="`linspace(start, stop, num)` with `num < 0` on traced values",
      fix="pass a non-negative number of samples")
def example():
    fd.jit(lambda a: fnp.linspace(a, 2.0, -3))(1.0)  # <-


@case("QR in raw mode", fd.FuncdiffValueError, "linalg.qr", "'raw'", "reduced",
      when="`linalg.qr(a, mode='raw')` on a traced matrix",
      fix="use mode='reduced', 'complete' or 'r'")
def example():
    def f(a):
        return fnp.sum(fnp.linalg.qr(a, mode="raw")[0])  # <-
    fd.grad(f)(np.eye(2))


@case("real sqrtm with a complex root", fd.FuncdiffValueError, "sqrtm", "negative real axis",
      "complex",
      when="`funcdiff.scipy.linalg.sqrtm` of a real matrix whose square root is complex, "
           "under a transform",
      fix="pass a complex matrix (`a.astype(complex)`) to get the complex root")
def example():
    import funcdiff.scipy.linalg as sl

    def f(a):
        return fnp.sum(sl.sqrtm(a))  # <-
    fd.grad(f)(np.array([[-1.0, 0.0], [0.0, 1.0]]))


# ---------------------------------------------------------------------------------------
section("Control flow (funcdiff.lax)")


@case("cond with a non-scalar predicate", fd.FuncdiffTypeError, "cond", "(3,)", "where",
      when="`lax.cond(pred, ...)` with an array predicate",
      fix="reduce it to one boolean (`fnp.all(...)`), or use `fnp.where` for "
          "elementwise choices")
def example():
    lax.cond(x3 > 0, fnp.sin, fnp.cos, x3)  # <-


@case("cond branches returning different types", fd.FuncdiffTypeError, "cond", "f64[3]",
      "f64[]",
      when="the branches of `cond`/`switch` return different shapes, dtypes or "
           "structures",
      fix="make every branch return the same structure of shapes and dtypes")
def example():
    lax.cond(True, lambda x: x, lambda x: fnp.sum(x), x3)  # <-


@case("switch with a float index", fd.FuncdiffTypeError, "switch", "f64[]",
      when="`lax.switch(index, ...)` with a non-integer index",
      fix="pass an integer index (`i.astype(int)`)")
def example():
    lax.switch(1.0, [fnp.sin, fnp.cos], x3)  # <-


@case("while_loop carry changes type", fd.FuncdiffTypeError, "while_loop", "f64[3]",
      "f64[]",
      when="the body of `while_loop`/`fori_loop`/`scan` returns a carry of another "
           "shape, dtype or structure than it received",
      fix="return a carry exactly like the input carry (cast with `.astype`, keep "
          "shapes)")
def example():
    lax.while_loop(lambda c: fnp.sum(c) < 10, lambda c: fnp.sum(c * 2.0), x3)  # <-


@case("while_loop condition not a boolean scalar", fd.FuncdiffTypeError, "while_loop",
      "cond_fun", "f64[3]",
      when="`cond_fun` returns an array or a non-boolean",
      fix="return one boolean: compare and reduce (`fnp.all(err > tol)`)")
def example():
    lax.while_loop(lambda c: c, lambda c: c * 0.5, x3)  # <-


@case("scan over arrays of different lengths", fd.FuncdiffValueError, "scan", "3", "2",
      when="the leaves of `xs` have different leading-axis lengths",
      fix="give every leaf of xs the same leading length")
def example():
    lax.scan(lambda c, xs: (c, xs[0] * xs[1]), 0.0, (x3, np.ones(2)))  # <-


@case("scan body not returning a pair", fd.FuncdiffTypeError, "scan", "pair",
      when="the body of `scan` does not return `(carry, y)`",
      fix="return a pair; use `None` for y if there is nothing to stack")
def example():
    lax.scan(lambda c, x: c + x, 0.0, x3)  # <-


@case("fori_loop with float bounds", fd.FuncdiffTypeError, "fori_loop", "float64",
      when="`fori_loop(lower, upper, ...)` with non-integer bounds",
      fix="pass integer bounds")
def example():
    lax.fori_loop(0.0, 3.0, lambda i, c: c * 2.0, x3)  # <-


@case("scan over a scalar", fd.FuncdiffValueError, "scan", "scalar", "leading axis",
      when="a leaf of `xs` given to `scan` has no leading axis",
      fix="pass arrays with a leading axis to scan over (or `length=` with `xs=None`)")
def example():
    lax.scan(lambda c, x: (c + x, c), 0.0, 1.0)  # <-


@case("a third derivative on top of reverse-over-reverse through while_loop",
      fd.GradientError, "while_loop", "reverse-over-reverse", "once more",
      "jacfwd(jacfwd(grad(f)))",
      when="`grad(grad(grad(f)))` or `jacfwd(grad(grad(f)))` where f has a `while_loop`",
      fix="make the second pass forward mode: `jacfwd(jacfwd(grad(f)))` or "
          "`grad(jacfwd(grad(f)))`")
def example():
    def body(c):
        return c[0] + 1, fnp.sin(c[1])

    def f(x):
        return fnp.sum(lax.while_loop(lambda c: c[0] < 3, body, (0, x))[1])  # <-
    fd.grad(fd.grad(lambda x: fnp.sum(fd.grad(f)(x))))(x3)


# ---------------------------------------------------------------------------------------
section("Custom derivatives")


@case("custom_jvp without a rule", fd.GradientError, "custom_jvp", "f", "defjvp",
      when="a `custom_jvp` function is differentiated before `@f.defjvp` gave it a rule",
      fix="define the rule with `@f.defjvp`")
def example():
    @fd.custom_jvp
    def f(x):
        return fnp.sin(x)
    fd.grad(lambda x: fnp.sum(f(x)))(x3)  # <-


@case("custom_jvp rule returning the wrong shape", fd.StructureError, "custom_jvp",
      "(2,)", "(3,)",
      when="a `custom_jvp` rule's tangent output does not have the primal output's shape",
      fix="return `(primal_out, tangent_out)` with matching shapes")
def example():
    @fd.custom_jvp
    def f(x):
        return fnp.sin(x)

    @f.defjvp
    def f_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return f(x), t[:2]
    fd.jvp(f, (x3,), (x3,))  # <-


@case("custom_vjp bwd returning the wrong number of cotangents", fd.StructureError,
      "custom_vjp", "2", "1",
      when="a `custom_vjp` bwd rule does not return one cotangent per argument",
      fix="return a tuple with one cotangent per differentiable argument")
def example():
    @fd.custom_vjp
    def f(x):
        return fnp.sin(x)

    def f_fwd(x):
        return f(x), x

    def f_bwd(x, ct):
        return ct * fnp.cos(x), ct
    f.defvjp(f_fwd, f_bwd)
    fd.grad(lambda x: fnp.sum(f(x)))(x3)  # <-


@case("forward mode of a custom_vjp function", fd.GradientError, "custom_vjp", "jvp",
      "custom_jvp",
      when="`jvp`/`jacfwd`/`linearize` of a function with a `custom_vjp` rule "
           "(forward mode over reverse mode, as in `hessian` and `hvp`, works)",
      fix="use reverse mode (`grad`, `jacrev`, `hessian`), or give the function a "
          "`custom_jvp` rule instead")
def example():
    @fd.custom_vjp
    def f(x):
        return fnp.sin(x)
    f.defvjp(lambda x: (f(x), x), lambda x, ct: (ct * fnp.cos(x),))
    fd.jvp(f, (x3,), (x3,))  # <-


@case("defjvps with nondiff_argnums", fd.FuncdiffTypeError, "defjvps", "nondiff_argnums",
      "defjvp",
      when="`defjvps` on a `custom_jvp` function declared with `nondiff_argnums`",
      fix="use `defjvp`, whose rule receives the non-differentiated arguments first")
def example():
    @functools.partial(fd.custom_jvp, nondiff_argnums=(0,))
    def scaled_exp(scale, x):
        return scale * fnp.exp(x)
    scaled_exp.defjvps(lambda t, out, x: out * t)  # <-


@case("custom rule closing over a differentiated value", fd.GradientError, "custom_jvp",
      "closes over", "explicit argument",
      when="a `custom_jvp`/`custom_vjp` function uses (closes over) a value being "
           "differentiated that is not one of its arguments",
      fix="pass the value as an explicit argument of the custom function")
def example():
    def f(y):
        h = fd.custom_jvp(lambda x: x * y)
        h.defjvp(lambda p, t: (h(p[0]), t[0] * y))
        return fnp.sum(h(x3))  # <-
    fd.grad(f)(2.0)


@case("differentiating a primitive without a jvp rule", fd.GradientError, "triple",
      "no jvp rule", "custom_jvp",
      when="a derivative reaches a primitive with no jvp rule (every built-in "
           "differentiable one has one; this is about primitives you define)",
      fix="give the primitive a `jvp` rule (or wrap the call in `custom_jvp`), or "
          "`stop_gradient` its input if no derivative is needed")
def example():
    from funcdiff.core.primitive import Primitive, registry
    triple_p = Primitive("triple")
    triple_p.impl = lambda x: 3.0 * x
    triple_p.abstract_eval = lambda a: a
    try:
        fd.grad(lambda x: fnp.sum(triple_p.bind(x)))(x3)  # <-
    finally:
        del registry["triple"]      # (so the example can run again)


@case("float16 residual overflow", fd.FuncdiffValueError, "save_in", "65504",
      "bfloat16", "output of exp",
      when="`checkpoint(f, policy=checkpoint_policies.save_in(numpy.float16))` and a "
           "saved value exceeds float16's largest value, 65504 (it would become inf and "
           "the gradient inf/nan)",
      fix="`save_in('bfloat16')` (float32's range; needs ml_dtypes), scale the values, "
          "or keep that value out of the policy's `base`")
def example():
    f = fd.checkpoint(lambda x: fnp.sum(fnp.log1p(fnp.exp(x))),
                      policy=fd.checkpoint_policies.save_in(np.float16))
    fd.grad(f)(np.array([1.0, 12.0], np.float32))  # <-


# ---------------------------------------------------------------------------------------
section("jit and vmap")


@case("unhashable static argument", fd.FuncdiffTypeError, "jit", "list", "tuple",
      when="a `static_argnums` argument is unhashable (a list, a dict, an array)",
      fix="pass a tuple (or a frozen dataclass), or make it a traced argument")
def example():
    f = fd.jit(lambda x, sizes: x * len(sizes), static_argnums=1)
    f(x3, [1, 2])  # <-


@case("a dict as a static argument", fd.FuncdiffTypeError, "jit", "dict", "regular (traced)",
      when="a static argument is a dict (unhashable)",
      fix="pass the dict as a regular argument (a pytree: its arrays are traced), or a "
          "tuple of (key, value) pairs")
def example():
    f = fd.jit(lambda x, opts: x * opts["scale"], static_argnums=1)
    f(x3, {"scale": 2.0})  # <-


@case("a string keyword argument under jit", fd.FuncdiffTypeError, "kwargs['mode']", "str",
      "static_argnames=('mode',)",
      when="a keyword argument that configures the function (a string) is passed to a "
           "jitted function without being static",
      fix="`jit(f, static_argnames=('mode',))`")
def example():
    f = fd.jit(lambda x, mode="sum": fnp.sum(x) if mode == "sum" else fnp.max(x))
    f(x3, mode="max")  # <-


@case("static_argnums out of range", fd.FuncdiffValueError, "jit", "static_argnums=(3,)",
      "2 positional",
      when="`static_argnums` names an argument the call does not have",
      fix="count positional arguments from 0; pass static arguments positionally")
def example():
    f = fd.jit(lambda x, n: x * n, static_argnums=3)
    f(x3, 2)  # <-


@case("vmap over axes of different sizes", BatchingError, "vmap", "3", "2",
      when="mapped arguments have different sizes along their mapped axes",
      fix="map arguments of one batch size, or `in_axes=None` for unmapped ones")
def example():
    fd.vmap(lambda a, b: a * b)(x3, np.ones(2))  # <-


@case("vmap in_axes out of range", BatchingError, "vmap", "in_axes", "1",
      when="an `in_axes` entry is not an axis of its argument",
      fix="use an axis in `-ndim .. ndim-1`, or None")
def example():
    fd.vmap(fnp.sin, in_axes=1)(x3)  # <-


@case("vmap in_axes of the wrong type", fd.FuncdiffTypeError, "vmap", "in_axes", "'0'",
      when="`in_axes`/`out_axes` holds something other than ints and None",
      fix="use ints, None, or containers of them matching the arguments")
def example():
    fd.vmap(fnp.sin, in_axes="0")(x3)  # <-


@case("vmap of a primitive without a batching rule", BatchRuleError, "vmap", "double",
      "batch",
      when="`vmap` reaches a primitive that has no batching rule (every built-in one has "
           "one; this is about primitives you define)",
      fix="give the primitive a `batch` rule, or apply it outside vmap (a Python loop "
          "over the examples)")
def example():
    from funcdiff.core.primitive import Primitive, registry
    double_p = Primitive("double")
    double_p.impl = lambda x: 2.0 * x
    double_p.abstract_eval = lambda a: a
    try:
        fd.vmap(lambda x: double_p.bind(x))(np.ones((2, 3)))  # <-
    finally:
        del registry["double"]      # (so the example can run again)


@case("vmap output mapped but out_axes=None", BatchingError, "vmap", "out_axes",
      "None",
      when="`out_axes=None` for an output that depends on the mapped inputs",
      fix="give an int (the axis to stack along); None is for outputs that do not vary")
def example():
    fd.vmap(fnp.sin, out_axes=None)(x3)  # <-


# ---------------------------------------------------------------------------------------
section("Debugging aids")


@case("a NaN with debug_nans on", FloatingPointNaNError, "`log`", "(3,)",
      "debug_nans",
      when="`funcdiff.config.debug_nans` is on and a primitive makes a NaN from inputs "
           "without NaNs (forward, forward-mode or backward pass; under `jit` the "
           "program is re-run op by op to find it)",
      fix="keep the operation in its domain (for a NaN only in a derivative of `where`, "
          "the double-`where` trick); turn `debug_nans` off to let NaNs through")
def example():
    def f(x):
        return fnp.sum(fnp.log(x - 2.0))  # <-
    with fd.config.debug_nans_enabled():
        fd.grad(f)(x3)


@case("a derivative that disagrees with finite differences", GradientCheckError, "jvp",
      "finite differences",
      when="`funcdiff.test_util.check_grads` finds a derivative (usually a custom rule) "
           "that disagrees with finite differences",
      fix="fix the rule the message points at; loosen atol/rtol only for genuinely "
          "ill-conditioned functions")
def example():
    @fd.custom_jvp
    def f(x):
        return fnp.sin(x)
    f.defjvp(lambda p, t: (f(p[0]), 2.0 * t[0]))
    fd.check_grads(f, (x3,), order=1)  # <-


@case("a jaxpr that is not well typed", JaxprTypeError, "eqn 0", "sin", "f32[3]",
      "f64[3]",
      when="`check_jaxpr` finds an eqn whose declared output does not match its rule "
           "(a bug in a hand-built jaxpr or in a transform)",
      fix="the message shows the eqns around the bad one; fix the producer of the jaxpr")
def example():
    from funcdiff.core.ir import ClosedJaxpr, Jaxpr, Var
    closed = fd.make_jaxpr(fnp.sin)(x3)
    eqn = closed.jaxpr.eqns[0]
    bad = eqn.replace(outvars=[Var(fd.core.avals.ShapedArray((3,), np.float32))])
    broken = ClosedJaxpr(Jaxpr([], closed.jaxpr.invars, bad.outvars, [bad]), [])
    fd.check_jaxpr(broken)  # <-


# --- the test ---------------------------------------------------------------------------

def _trigger(c):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as info:
            c.fn()
    return info.value


_BUILTIN = {fd.FuncdiffTypeError: TypeError, fd.FuncdiffValueError: ValueError,
            fd.FuncdiffIndexError: IndexError}


@pytest.mark.parametrize("c", CASES, ids=[c.name for c in CASES])
def test_error(c):
    e = _trigger(c)
    msg = str(e)
    assert isinstance(e, c.cls), f"{type(e).__name__}: {msg}"
    assert isinstance(e, fd.FuncdiffError)
    for base, builtin in _BUILTIN.items():
        if isinstance(e, base):
            assert isinstance(e, builtin)
    for t in c.tokens:
        assert t in msg, f"{t!r} not in message:\n{msg}"
    assert f"{HERE}:{c.user_line}" in msg, f"user line {c.user_line} not in:\n{msg}"


def test_every_error_class_is_covered():
    """Each public error class has at least one case (so a new class gets documented)."""
    public = {fd.ConcretizationError, fd.TracerLeakError, fd.TracerArrayConversionError,
              fd.TracerBufferWriteError,
              fd.NonConcreteBooleanIndexError, fd.UnsupportedNumpyFunctionError,
              fd.GradientError, fd.StructureError, fd.ShapeError, fd.FuncdiffTypeError,
              fd.FuncdiffValueError, fd.FuncdiffIndexError, BatchingError, BatchRuleError,
              FloatingPointNaNError, GradientCheckError, JaxprTypeError}
    covered = {c.cls for c in CASES}
    assert public <= covered, public - covered


# --- docs/errors.md ------------------------------------------------------------------------

def _relative(msg, c):
    """Locations in this file as lines of the example (``example.py:N``); other files
    by their path inside the repository."""
    body, first = c.source

    def sub(m):
        return f"example.py:{int(m.group(1)) - first + 1}"
    msg = re.sub(re.escape(HERE) + r":(\d+)", sub, msg)
    root = os.path.dirname(os.path.dirname(HERE)) + os.sep
    return msg.replace(root, "")


def render():
    out = [
        "# Errors",
        "",
        "Every error funcdiff raises on purpose, what causes it and what to do.  All are",
        "subclasses of `funcdiff.FuncdiffError`; the typed ones are also the matching",
        "built-in exception (`FuncdiffTypeError` is a `TypeError`, `FuncdiffValueError` and",
        "`ShapeError`/`StructureError`/`BatchingError` are `ValueError`s, "
        "`FuncdiffIndexError` is",
        "an `IndexError`), so `except TypeError:` code keeps working.  Messages name the",
        "operation, the shapes or types involved and the line of your code that made the",
        "call.",
        "",
        "Each sample message below was produced by running the example next to it",
        "(`tests/test_errors.py` runs them all and regenerates this page: `python",
        "tests/test_errors.py`); `example.py:N` is line N of the example.  The examples",
        "start from",
        "",
        "```python",
        "import numpy as np",
        "import funcdiff as fd",
        "import funcdiff.lax as lax",
        "import funcdiff.numpy as fnp",
        "",
        "x3 = np.array([1.0, 2.0, 3.0])",
        "```",
        "",
        "Where NumPy itself raises for a bad argument (an `axis` out of range gives NumPy's",
        "`AxisError`, a bad keyword a `TypeError`), funcdiff raises the same NumPy error, as",
        "NumPy code expects.",
        "",
        "An error raised through a transform (`grad`, `jit`, `vmap`, `lax.scan`, ...) reaches",
        "you with funcdiff's internal frames removed from its traceback, as in JAX: you see",
        "your own frames, the message, and a note saying frames were hidden.  To see every",
        "frame, run with `FUNCDIFF_TRACEBACK_FILTERING=off` or call",
        "`fd.config.update(\"traceback_filtering\", \"off\")`.",
        "",
    ]
    sections = []
    for c in CASES:
        if c.section not in sections:
            sections.append(c.section)
    out.append("| error | class |")
    out.append("| --- | --- |")
    for c in CASES:
        # the anchor Python-Markdown's toc extension gives the heading
        anchor = re.sub(r"[-\s]+", "-", re.sub(r"[^\w\s-]", "", c.name).strip().lower())
        out.append(f"| [{c.name.replace('|', '/')}](#{anchor}) | `{c.cls.__name__}` |")
    out.append("")
    for s in sections:
        out += [f"## {s}", ""]
        for c in CASES:
            if c.section != s:
                continue
            body, _ = c.source
            body = body.replace("  # <-", "").rstrip() + "\n"
            msg = _relative(str(_trigger(c)), c)
            out += [f"### {c.name}", "",
                    f"`{_qualname(c.cls)}` -- when {c.when}.", "",
                    f"**Fix:** {c.fix}.", "",
                    "```py", body.rstrip(), "```", "",
                    "```text", f"{_shown_name(_trigger(c), c)}: {msg}", "```", ""]
    return "\n".join(out).rstrip() + "\n"


def _shown_name(e, c):
    name = type(e).__name__
    return c.cls.__name__ if name.startswith("_") else name


def _qualname(cls):
    mod = cls.__module__
    if getattr(fd, cls.__name__, None) is cls:
        return f"funcdiff.{cls.__name__}"
    return f"{mod}.{cls.__name__}"


def test_docs_are_current():
    want = render()
    with open(DOC) as f:
        have = f.read()
    assert have == want, ("docs/errors.md is out of date: regenerate it with "
                          "`python tests/test_errors.py`")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(HERE))
    with open(DOC, "w") as f:
        f.write(render())
    print(f"wrote {DOC} ({len(CASES)} errors)")

"""Hypothesis strategies for random funcdiff programs (used by tests/test_random_programs.py).

A ``Program`` is a straight-line list of steps over a pool of values: the inputs come
first, and every step applies one *op* (an entry of ``OPS``) to values already in the
pool and appends its result.  Its outputs are one or two pool values.  Running it
(``program(*xs)``) calls funcdiff.numpy / funcdiff.lax / funcdiff transforms, so the same
program runs eagerly (where funcdiff.numpy *is* NumPy) and under every transform.

The ops cover the primitive families: elementwise math (each on a safe domain, e.g.
``log(1 + x*x)``, ``arcsin(0.9 * tanh(x))``), broadcasting binary ops, reductions (axis /
keepdims), ``dot_general`` (tensordot, matmul with batch dims, products with captured
constant matrices, einsum), indexing (ints, slices, ``None``, fancy indices with
duplicates, ``take``, ``.at[].set/add/multiply``), shape ops, concatenate/stack/pad,
``where``/select, control flow (``lax.cond``/``switch``/``fori_loop``/``while_loop``/
``scan``) and calls (``jit``, ``checkpoint`` and a ``custom_jvp`` function inside the
program).

``programs()`` draws a seed with hypothesis and builds the program from it with a NumPy
generator.  (Letting hypothesis make every choice gave poor variety for the small,
derandomized ``ci`` budget: mostly mutations of a few 0-d programs.)  Each candidate step
is *run* eagerly on the example inputs and kept only if it is valid there (shapes fit,
values finite), so every program is well typed.  Values that grow large are rescaled by
an exact power of two (a ``scale`` step), so 30-op compositions stay well conditioned.
Non-smooth ops (``abs``, ``maximum``, ``where``, ``max``, ``floor``, ``cond`` on data...)
record how far the example is from their kink; ``program.smooth`` says whether finite
differences are meaningful there (every kink at least ``KINK_MARGIN`` away, and no
``stop_gradient``, whose derivative finite differences cannot see).
"""
from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Callable

import numpy as np
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.lax as lax
import funcdiff.numpy as fnp
from funcdiff.scipy import special as fsp

KINK_MARGIN = 0.05      # distance from a kink needed for finite differences to be valid
MAX_ABS = 64.0          # values beyond this are rescaled by a power of two


class Draw:
    """The choices a program is built from (a seeded NumPy generator)."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def int(self, lo, hi):
        """An int in ``[lo, hi]`` (inclusive, as hypothesis' ``integers``)."""
        return int(self.rng.integers(lo, hi + 1))

    def choice(self, seq):
        seq = list(seq)
        return seq[int(self.rng.integers(len(seq)))]

    def bool(self):
        return bool(self.rng.integers(2))

    def perm(self, n):
        return tuple(int(i) for i in self.rng.permutation(n))

    def ints(self, lo, hi, min_size, max_size):
        return [self.int(lo, hi) for _ in range(self.int(min_size, max_size))]


# --- a custom_jvp function and nested transforms used inside programs -----------------

@fd.custom_jvp
def softplus(x):
    return fnp.logaddexp(x, 0.0)


@softplus.defjvp
def _softplus_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return softplus(x), t * fsp.expit(x)


def _body(x):
    return fnp.sin(x) * x + 0.5


_jit_body = fd.jit(_body)
_ckpt_body = fd.checkpoint(lambda x: fnp.cos(_body(x)) * fnp.tanh(x))
_ckpt_dots = fd.checkpoint(lambda x: fnp.tanh(fnp.sum(x * x) * x),
                           policy=fd.checkpoint_policies.dots_saveable)


def _cast(c, like):
    """A constant in the operand's dtype (float32 programs stay float32)."""
    return np.asarray(c, dtype=like.dtype)


# --- the op table ---------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Op:
    """One kind of step.  ``params(d, shapes)`` draws static parameters for the operand
    shapes (or returns None: not applicable); ``apply(args, p)`` computes it with
    funcdiff.numpy; ``margin(args, p)`` (non-smooth ops only) is the distance of the
    example from the nearest kink."""
    name: str
    arity: int
    apply: Callable
    params: Callable
    margin: Callable | None = None


OPS: dict[str, Op] = {}


def op(name, arity=1, params=None, margin=None):
    def deco(fn):
        OPS[name] = Op(name, arity, fn, params or (lambda d, s: {}), margin)
        return fn
    return deco


def _consts(*values):
    return lambda d, s: {"c": d.choice(values)}


# elementwise, smooth everywhere (or made so by the argument's transformation)
op("sin")(lambda a, p: fnp.sin(a[0]))
op("cos")(lambda a, p: fnp.cos(a[0]))
op("tanh")(lambda a, p: fnp.tanh(a[0]))
op("arctan")(lambda a, p: fnp.arctan(a[0]))
op("arcsinh")(lambda a, p: fnp.arcsinh(a[0]))
op("neg")(lambda a, p: -a[0])
op("square")(lambda a, p: fnp.square(a[0]))
op("exp_sin")(lambda a, p: fnp.exp(fnp.sin(a[0])))
op("exp2_sin")(lambda a, p: fnp.exp2(fnp.sin(a[0])))
op("expm1_tanh")(lambda a, p: fnp.expm1(fnp.tanh(a[0])))
op("log_sq")(lambda a, p: fnp.log(1.0 + a[0] * a[0]))
op("log1p_sq")(lambda a, p: fnp.log1p(a[0] * a[0]))
op("log2_sq")(lambda a, p: fnp.log2(a[0] * a[0] + 2.0))
op("log10_sq")(lambda a, p: fnp.log10(a[0] * a[0] + 0.5))
op("sqrt_sq")(lambda a, p: fnp.sqrt(a[0] * a[0] + 1.0))
op("cbrt_sq")(lambda a, p: fnp.cbrt(a[0] * a[0] + 1.0))
op("rational")(lambda a, p: a[0] / (1.0 + a[0] * a[0]))
op("reciprocal")(lambda a, p: fnp.reciprocal(a[0] * a[0] + 1.0))
op("arcsin_t")(lambda a, p: fnp.arcsin(0.9 * fnp.tanh(a[0])))
op("arccos_t")(lambda a, p: fnp.arccos(0.9 * fnp.tanh(a[0])))
op("arctanh_t")(lambda a, p: fnp.arctanh(0.5 * fnp.tanh(a[0])))
op("arccosh_sq")(lambda a, p: fnp.arccosh(a[0] * a[0] + 1.5))
op("sinh_t")(lambda a, p: fnp.sinh(fnp.tanh(a[0])))
op("cosh_t")(lambda a, p: fnp.cosh(fnp.tanh(a[0])))
op("tan_t")(lambda a, p: fnp.tan(0.7 * fnp.tanh(a[0])))
op("expit")(lambda a, p: fsp.expit(a[0]))
op("erf")(lambda a, p: fsp.erf(a[0]))
op("sinc")(lambda a, p: fnp.sinc(a[0]))
op("softplus_custom_jvp")(lambda a, p: softplus(a[0]))
# finite differences see through stop_gradient: margin 0 keeps such programs out of the
# finite-difference check (every other check holds for them)
op("stop_gradient_mix", margin=lambda a, p: 0.0)(
    lambda a, p: a[0] * fd.stop_gradient(fnp.cos(a[0])))
op("pow_const", params=_consts(0.5, 1.5, -1.0, 2.0, 3.0, -0.5))(
    lambda a, p: fnp.power(a[0] * a[0] + 1.0, p["c"]))
op("int_pow", params=_consts(2, 3, 4))(lambda a, p: a[0] ** p["c"])
op("mul_const", params=_consts(0.5, 2.0, -1.5, 3.0))(lambda a, p: a[0] * p["c"])
op("add_const", params=_consts(1.0, -0.5, 2.0))(lambda a, p: p["c"] + a[0])
op("rsub_const", params=_consts(1.0, 0.0))(lambda a, p: p["c"] - a[0])
op("rdiv_const", params=_consts(1.0, -2.0))(lambda a, p: p["c"] / (a[0] * a[0] + 1.0))


# elementwise, non-smooth: margin = distance of the example from the kink
def _min_abs(x):
    x = np.asarray(x, dtype=np.float64)
    return float(np.min(np.abs(x))) if x.size else math.inf


def _dist_int(x):
    x = np.asarray(x, dtype=np.float64)
    return _min_abs(x - np.round(x))


def _gap(a, p):
    return _min_abs(np.asarray(a[0], np.float64) - np.asarray(a[1], np.float64))


op("abs", margin=lambda a, p: _min_abs(a[0]))(lambda a, p: fnp.abs(a[0]))
op("relu", margin=lambda a, p: _min_abs(a[0]))(lambda a, p: fnp.maximum(a[0], 0.0))
op("clip", margin=lambda a, p: min(_min_abs(np.asarray(a[0], np.float64) - 0.5),
                                   _min_abs(np.asarray(a[0], np.float64) + 0.5)))(
    lambda a, p: fnp.clip(a[0], -0.5, 0.5))
op("floor_plus", margin=lambda a, p: _dist_int(a[0]))(lambda a, p: fnp.floor(a[0]) + a[0])
op("sign_mul", margin=lambda a, p: _min_abs(a[0]))(
    lambda a, p: fnp.sign(a[0]) * a[0] * a[0])

# binary, broadcasting
op("add", 2)(lambda a, p: a[0] + a[1])
op("sub", 2)(lambda a, p: a[0] - a[1])
op("mul", 2)(lambda a, p: a[0] * a[1])
op("div", 2)(lambda a, p: a[0] / (1.0 + a[1] * a[1]))
op("pow", 2)(lambda a, p: (1.0 + a[0] * a[0]) ** fnp.tanh(a[1]))
op("logaddexp", 2)(lambda a, p: fnp.logaddexp(a[0], a[1]))
op("hypot", 2)(lambda a, p: fnp.hypot(a[0], a[1] * a[1] + 0.5))
op("arctan2", 2)(lambda a, p: fnp.arctan2(a[0], a[1] * a[1] + 0.5))
op("maximum", 2, margin=_gap)(lambda a, p: fnp.maximum(a[0], a[1]))
op("minimum", 2, margin=_gap)(lambda a, p: fnp.minimum(a[0], a[1]))
op("where", 2, margin=_gap)(lambda a, p: fnp.where(a[0] > a[1], fnp.sin(a[0]), a[1] * 2.0))


# reductions
def _axis_params(d, shapes, nonempty=False):
    s = shapes[0]
    axis = d.choice(list(range(-len(s), len(s))) + [None])
    if nonempty and (math.prod(s) if axis is None else s[axis]) == 0:
        return None
    return {"axis": axis, "keepdims": d.bool()}


def _top2_gap(x, axis, sign):
    x = sign * np.asarray(x, dtype=np.float64)
    if axis is None:
        x, axis = x.reshape(-1), 0
    if x.shape[axis] < 2:
        return math.inf
    s = np.sort(x, axis=axis)
    return _min_abs(np.take(s, -1, axis=axis) - np.take(s, -2, axis=axis))


def _reduction(name, fn, margin=None, nonempty=False):
    op(name, params=lambda d, s: _axis_params(d, s, nonempty), margin=margin)(
        lambda a, p: fn(a[0], axis=p["axis"], keepdims=p["keepdims"]))


_reduction("sum", fnp.sum)
_reduction("mean", fnp.mean, nonempty=True)
_reduction("prod", fnp.prod)
_reduction("var", fnp.var, nonempty=True)
_reduction("max", fnp.max, lambda a, p: _top2_gap(a[0], p["axis"], 1), nonempty=True)
_reduction("min", fnp.min, lambda a, p: _top2_gap(a[0], p["axis"], -1), nonempty=True)
_reduction("logsumexp", fsp.logsumexp)
op("method_sum", params=_axis_params)(
    lambda a, p: a[0].sum(axis=p["axis"], keepdims=p["keepdims"]))


def _one_axis(d, shapes, nonempty=False):
    s = shapes[0]
    if not s:
        return None
    axis = d.int(-len(s), len(s) - 1)
    if nonempty and s[axis] == 0:
        return None
    return {"axis": axis}


op("cumsum", params=_one_axis)(lambda a, p: fnp.cumsum(a[0], axis=p["axis"]))
op("cumprod", params=_one_axis)(
    lambda a, p: fnp.cumprod(fnp.tanh(a[0]) * 0.5 + 1.0, axis=p["axis"]))
op("take_argmax", params=lambda d, s: _one_axis(d, s, nonempty=True),
   margin=lambda a, p: _top2_gap(a[0], p["axis"], 1))(
    lambda a, p: fnp.take_along_axis(
        a[0], fnp.expand_dims(fnp.argmax(a[0], axis=p["axis"]), p["axis"]), axis=p["axis"]))


# products (dot_general)
def _tensordot_params(d, shapes):
    sa, sb = shapes
    pairs = [(i, j) for i in range(len(sa)) for j in range(len(sb)) if sa[i] == sb[j]]
    if not pairs or len(sa) + len(sb) - 2 > 4:
        return None
    return {"axes": d.choice(pairs)}


def _matmul_params(d, shapes):
    sa, sb = shapes
    if not sa or not sb or sa[-1] != (sb[-2] if len(sb) >= 2 else sb[0]):
        return None
    try:
        np.broadcast_shapes(sa[:-2], sb[:-2])
    except ValueError:
        return None
    return {}


def _const_matrix(d, shapes):
    sa = shapes[0]
    if not sa:
        return None
    w = d.rng.standard_normal((sa[-1], d.int(1, 4))) / max(1, sa[-1]) ** 0.5
    return {"w": w}


op("tensordot", 2, params=_tensordot_params)(
    lambda a, p: fnp.tensordot(a[0], a[1], axes=([p["axes"][0]], [p["axes"][1]])))
op("matmul", 2, params=_matmul_params)(lambda a, p: a[0] @ a[1])
op("matmul_const", params=_const_matrix)(lambda a, p: fnp.matmul(a[0], _cast(p["w"], a[0])))
op("dot_const", params=_const_matrix)(lambda a, p: fnp.dot(a[0], _cast(p["w"], a[0])))
op("outer", 2, params=lambda d, s: {} if len(s[0]) + len(s[1]) <= 4 else None)(
    lambda a, p: fnp.reshape(a[0], fnp.shape(a[0]) + (1,) * fnp.ndim(a[1])) * a[1])
op("einsum_trace", params=lambda d, s: {} if len(s[0]) >= 2 and s[0][-1] == s[0][-2]
   else None)(lambda a, p: fnp.einsum("...ii->...", a[0]))
op("einsum_contract", 2, params=lambda d, s: {} if len(s[0]) == 2 and len(s[1]) == 2
   and s[0][1] == s[1][1] else None)(lambda a, p: fnp.einsum("ij,kj->ik", a[0], a[1]))


# indexing
def _lead(d, s):
    return None if not s or s[0] == 0 else s[0]


op("index_int", params=lambda d, s: None if not _lead(d, s[0]) else
   {"i": d.int(-s[0][0], s[0][0] - 1)})(lambda a, p: a[0][p["i"]])


def _slice_params(d, shapes):
    s = shapes[0]
    if not s:
        return None
    axis = d.int(0, len(s) - 1)
    n = s[axis]
    stop = d.choice([None, d.int(-n - 1, n + 1)])
    return {"axis": axis, "slice": (d.int(-n - 1, n), stop, d.choice([1, 1, 2, -1]))}


op("index_slice", params=_slice_params)(
    lambda a, p: a[0][(slice(None),) * p["axis"] + (slice(*p["slice"]),)])
op("index_newaxis")(lambda a, p: a[0][None, ...])
op("index_ellipsis_none", params=lambda d, s: {} if s[0] else None)(
    lambda a, p: a[0][..., None, :])


def _fancy_params(d, shapes):
    n = _lead(d, shapes[0])
    return None if not n else {"idx": d.ints(-n, n - 1, 1, 5)}


op("index_fancy", params=_fancy_params)(lambda a, p: a[0][p["idx"]])
op("index_fancy_array", params=_fancy_params)(lambda a, p: a[0][np.asarray(p["idx"])])


def _take_params(d, shapes):
    s = shapes[0]
    if not s:
        return None
    axis = d.int(-len(s), len(s) - 1)
    if s[axis] == 0:
        return None
    return {"axis": axis, "idx": d.ints(0, s[axis] - 1, 1, 4)}


op("take", params=_take_params)(
    lambda a, p: fnp.take(a[0], np.asarray(p["idx"]), axis=p["axis"]))


def _at_params(d, shapes):
    n = _lead(d, shapes[0])
    if not n:
        return None
    idx = d.int(-n, n - 1) if d.bool() else d.ints(0, n - 1, 1, 3)
    return {"idx": idx, "how": d.choice(["set", "add", "multiply"])}


def _at_apply(a, p):
    upd = fnp.mean(fnp.sin(a[1]))          # a traced scalar: broadcasts into any index
    return getattr(fnp.asarray(a[0]).at[p["idx"]], p["how"])(upd)


op("at_update", 2, params=_at_params)(_at_apply)


# shape ops
def _reshape_params(d, shapes):
    s = shapes[0]
    n = math.prod(s)
    cands = [(n,), (1, n), (n, 1), (-1,)]
    if len(s) >= 2:
        cands.append((s[0] * s[1],) + tuple(s[2:]))
    if n and n % 2 == 0:
        cands.append((2, n // 2))
    return {"shape": d.choice(cands)}


def _two_axes(d, s, neg_second=False):
    if len(s[0]) < 2:
        return None
    n = len(s[0])
    return {"ax": (d.int(0, n - 1), d.int(-n, -1) if neg_second else d.int(0, n - 1))}


op("reshape", params=_reshape_params)(lambda a, p: fnp.reshape(a[0], p["shape"]))
op("ravel")(lambda a, p: a[0].ravel())
op("transpose", params=lambda d, s: {"perm": d.perm(len(s[0]))})(
    lambda a, p: fnp.transpose(a[0], p["perm"]))
op("T")(lambda a, p: a[0].T)
op("swapaxes", params=lambda d, s: _two_axes(d, s, True))(
    lambda a, p: fnp.swapaxes(a[0], *p["ax"]))
op("moveaxis", params=_two_axes)(lambda a, p: fnp.moveaxis(a[0], *p["ax"]))
op("expand_dims", params=lambda d, s: {"axis": d.int(-len(s[0]) - 1, len(s[0]))})(
    lambda a, p: fnp.expand_dims(a[0], p["axis"]))
op("squeeze", params=lambda d, s: None if 1 not in s[0] else
   {"axis": d.choice([i for i, n in enumerate(s[0]) if n == 1])})(
    lambda a, p: fnp.squeeze(a[0], axis=p["axis"]))
op("flip", params=lambda d, s: {"axis": d.choice([None] + list(range(len(s[0]))))})(
    lambda a, p: fnp.flip(a[0], axis=p["axis"]))
op("roll", params=lambda d, s: None if not s[0] else
   {"shift": d.int(-3, 3), "axis": d.int(0, len(s[0]) - 1)})(
    lambda a, p: fnp.roll(a[0], p["shift"], axis=p["axis"]))
op("broadcast_to", params=lambda d, s: {"lead": d.int(1, 3)} if len(s[0]) < 4 else None)(
    lambda a, p: fnp.broadcast_to(a[0], (p["lead"],) + fnp.shape(a[0])))
op("tile", params=lambda d, s: {"reps": d.choice([2, (2, 1), (1, 2)])}
   if len(s[0]) < 3 else None)(lambda a, p: fnp.tile(a[0], p["reps"]))
op("repeat", params=lambda d, s: None if not s[0] else
   {"r": d.int(1, 3), "axis": d.int(0, len(s[0]) - 1)})(
    lambda a, p: fnp.repeat(a[0], p["r"], axis=p["axis"]))
op("pad", params=lambda d, s: None if not s[0] else
   {"w": tuple((d.int(0, 2), d.int(1, 2)) for _ in s[0])})(
    lambda a, p: fnp.pad(a[0], p["w"]))


def _concat_params(d, shapes):
    sa, sb = shapes
    if len(sa) != len(sb) or not sa:
        return None
    axes = [i for i in range(len(sa))
            if all(sa[j] == sb[j] for j in range(len(sa)) if j != i)]
    return {"axis": d.choice(axes)} if axes else None


op("concatenate", 2, params=_concat_params)(
    lambda a, p: fnp.concatenate([a[0], fnp.tanh(a[1])], axis=p["axis"]))
op("stack", 2, params=lambda d, s: {"axis": d.int(0, len(s[0]))}
   if s[0] == s[1] and len(s[0]) < 4 else None)(
    lambda a, p: fnp.stack([a[0], a[1] * 0.5], axis=p["axis"]))
op("split_take", params=lambda d, s: None if not s[0] or s[0][0] < 2 else {})(
    lambda a, p: fnp.split(a[0], [1], axis=0)[1])


# control flow and calls
def _scan_apply(a, p):
    xs = a[0]

    def step(c, x):
        c = fnp.tanh(c * 0.8 + x)
        return c, c * x
    init = xs[0] * 0.0 + 0.1 if p["zero_init"] else xs[0]
    c, ys = lax.scan(step, init, xs, reverse=p["reverse"])
    return ys if p["ys"] else c


op("cond", margin=lambda a, p: abs(float(np.sum(np.asarray(a[0], np.float64)))))(
    lambda a, p: lax.cond(fnp.sum(a[0]) > 0, lambda x: fnp.sin(x) * 2.0,
                          lambda x: fnp.cos(x) - x, a[0]))
op("switch", margin=lambda a, p: _dist_int(np.clip(np.sum(np.asarray(a[0], np.float64)),
                                                   -5, 5)))(
    lambda a, p: lax.switch(fnp.floor(fnp.clip(fnp.sum(a[0]), -5.0, 5.0)).astype(np.int32),
                            [lambda x: x * 3.0, fnp.sin, lambda x: fnp.tanh(x) * x], a[0]))
op("fori_loop", params=lambda d, s: {"n": d.int(0, 4)})(
    lambda a, p: lax.fori_loop(0, p["n"], lambda i, c: fnp.sin(c) * 0.7 + a[0] * 0.2, a[0]))
op("while_loop", params=lambda d, s: {"n": d.int(0, 3)})(
    lambda a, p: lax.while_loop(lambda s: s[0] < p["n"],
                                lambda s: (s[0] + 1, fnp.tanh(s[1]) * 1.5 + s[2], s[2]),
                                (0, a[0], fnp.cos(a[0])))[1])
op("scan", params=lambda d, s: None if not s[0] or s[0][0] == 0 else
   {"reverse": d.bool(), "ys": d.bool(), "zero_init": d.bool()})(_scan_apply)
op("jit_call")(lambda a, p: _jit_body(a[0]))
op("checkpoint_call")(lambda a, p: _ckpt_body(a[0]))
op("checkpoint_dots")(lambda a, p: _ckpt_dots(a[0]))

# more NumPy ufuncs (issue 14)
op("logaddexp2", 2)(lambda a, p: fnp.logaddexp2(a[0], a[1]))
op("deg2rad")(lambda a, p: fnp.rad2deg(fnp.deg2rad(a[0])) * fnp.deg2rad(a[0]))
op("i0_t")(lambda a, p: fnp.i0(fnp.tanh(a[0])))
op("fmax", 2, margin=_gap)(lambda a, p: fnp.fmax(a[0], a[1]))
op("copysign", 2, margin=lambda a, p: min(_min_abs(a[0]), _min_abs(a[1])))(
    lambda a, p: fnp.copysign(a[0], a[1]))


# selection (issue 14): static masks/indices or size=, so every transform applies
def _static_pick(d, shapes, k):
    n = math.prod(shapes[0])
    return {"idx": np.asarray(d.ints(0, k - 1, n, n), np.intp).reshape(shapes[0])}


def _compress_params(d, shapes):
    s = shapes[0]
    axis = d.choice([None] + list(range(len(s))))
    n = math.prod(s) if axis is None else s[axis]
    return {"axis": axis, "mask": np.asarray([d.bool() for _ in range(n)], bool)}


op("select", margin=lambda a, p: min(_min_abs(a[0]), _min_abs(np.asarray(a[0]) + 0.5)))(
    lambda a, p: fnp.select([a[0] > 0, a[0] < -0.5], [fnp.sin(a[0]), a[0] * 2.0],
                            a[0] * a[0]))
op("choose", 2, params=lambda d, s: _static_pick(d, s, 2) if s[0] == s[1] else None)(
    lambda a, p: fnp.choose(p["idx"], [a[0], fnp.tanh(a[1])]))
op("piecewise", margin=lambda a, p: _min_abs(a[0]))(
    lambda a, p: fnp.piecewise(a[0], [a[0] < 0], [fnp.sin, lambda v: v * v + v]))
op("compress", params=_compress_params)(
    lambda a, p: fnp.compress(p["mask"], a[0], axis=p["axis"]))
op("extract_sized", params=lambda d, s: {"size": d.int(0, math.prod(s[0]))},
   margin=lambda a, p: _min_abs(a[0]))(
    lambda a, p: fnp.extract(a[0] > 0, a[0] * 2.0, size=p["size"], fill_value=0.5))
op("r_", 2)(lambda a, p: fnp.r_[fnp.ravel(a[0]), 1.0, fnp.tanh(fnp.ravel(a[1]))])


# differences, integrals, triangles, statistics and editing (issue 14)
def _unwrap_margin(x, axis):
    """Distance of the neighbour differences from the odd multiples of pi, where
    unwrap's correction jumps."""
    dd = np.diff(np.asarray(x, np.float64), axis=axis) / np.pi
    h = (dd - 1.0) / 2.0
    return _min_abs((h - np.round(h)) * 2.0 * np.pi)


op("diff", params=lambda d, s: None if not s[0] else
   {"n": d.int(1, 2), "axis": d.int(-len(s[0]), len(s[0]) - 1)})(
    lambda a, p: fnp.diff(a[0], p["n"], axis=p["axis"]))
op("gradient", params=lambda d, s: None if not s[0] else
   {"axis": d.int(-len(s[0]), len(s[0]) - 1), "edge": d.int(1, 2)})(
    lambda a, p: fnp.gradient(a[0], 0.5, axis=p["axis"], edge_order=p["edge"]))
op("trapezoid", params=_one_axis)(lambda a, p: fnp.trapezoid(a[0], dx=0.5, axis=p["axis"]))
op("cumulative_sum", params=_one_axis)(
    lambda a, p: fnp.cumulative_sum(a[0], axis=p["axis"], include_initial=True))
op("unwrap", params=_one_axis, margin=lambda a, p: _unwrap_margin(a[0], p["axis"]))(
    lambda a, p: fnp.unwrap(a[0], axis=p["axis"]))
op("tril_triu", params=lambda d, s: None if len(s[0]) < 2 else
   {"k": d.int(-1, 1), "upper": d.bool()})(
    lambda a, p: (fnp.triu if p["upper"] else fnp.tril)(a[0], p["k"]))
op("insert_delete", params=lambda d, s: None if not s[0] or s[0][-1] < 2 else
   {"pos": d.int(0, s[0][-1])})(
    lambda a, p: fnp.delete(fnp.insert(a[0], p["pos"], 0.5, axis=-1), 0, axis=-1))
op("ptp", params=lambda d, s: _axis_params(d, s, nonempty=True),
   margin=lambda a, p: min(_top2_gap(a[0], p["axis"], 1), _top2_gap(a[0], p["axis"], -1)))(
    lambda a, p: fnp.ptp(a[0], axis=p["axis"], keepdims=p["keepdims"]))
op("average", 2, params=lambda d, s: _axis_params(d, s, nonempty=True)
   if s[0] == s[1] else None)(
    lambda a, p: fnp.average(a[0], axis=p["axis"], weights=1.0 + a[1] * a[1],
                             keepdims=p["keepdims"]))

# the step the builder inserts to keep values bounded (exact: a power of two)
op("scale", params=lambda d, s: None)(lambda a, p: a[0] * p["c"])


# sorting and order statistics: kinks where two values tie (or cross a knot)
def _sorted_gap(x, axis):
    x = np.asarray(x, dtype=np.float64)
    if axis is None:
        x, axis = x.reshape(-1), 0
    if x.shape[axis] < 2:
        return math.inf
    return _min_abs(np.diff(np.sort(x, axis=axis), axis=axis))


_KNOTS = np.array([-1.0, -0.25, 0.5, 1.5])


def _knot_gap(a, p):
    return _min_abs(np.asarray(a[0], np.float64)[..., None] - _KNOTS)


op("sort", params=_one_axis, margin=lambda a, p: _sorted_gap(a[0], p["axis"]))(
    lambda a, p: fnp.sort(a[0], axis=p["axis"]))
op("median", params=lambda d, s: _axis_params(d, s, nonempty=True),
   margin=lambda a, p: _sorted_gap(a[0], p["axis"]))(
    lambda a, p: fnp.median(a[0], axis=p["axis"], keepdims=p["keepdims"]))
op("quantile", params=lambda d, s: _axis_params(d, s, nonempty=True),
   margin=lambda a, p: _sorted_gap(a[0], p["axis"]))(
    lambda a, p: fnp.quantile(a[0], 0.3, axis=p["axis"], keepdims=p["keepdims"]))
op("interp", margin=_knot_gap)(
    lambda a, p: fnp.interp(a[0], _cast(_KNOTS, a[0]), _cast([0.5, -1.0, 2.0, 0.0], a[0])))
op("searchsorted_mul", margin=_knot_gap)(
    lambda a, p: a[0] * fnp.searchsorted(_cast(_KNOTS, a[0]), a[0]))



# Python functions mapped over arrays, and NumPy's ufunc methods (issue 14)
def _running_max_gap(x, axis):
    """Distance of each element from the running maximum before it (where the running
    maximum switches to it: a kink)."""
    x = np.moveaxis(np.asarray(x, np.float64), axis, 0)
    if x.shape[0] < 2:
        return math.inf
    return _min_abs(x[1:] - np.maximum.accumulate(x, axis=0)[:-1])


_PYFUNC = fnp.frompyfunc(lambda u, v: u * fnp.tanh(v) + 0.5 * fnp.sin(u), 2, 1)
op("frompyfunc", 2)(lambda a, p: _PYFUNC(a[0], a[1]))
op("vectorize_rows", params=lambda d, s: None if not s[0] else {})(
    lambda a, p: fnp.vectorize(lambda r: fnp.sum(fnp.sin(r) * r), signature="(n)->()")(a[0]))
op("running_max", params=_one_axis, margin=lambda a, p: _running_max_gap(a[0], p["axis"]))(
    lambda a, p: fnp.maximum.accumulate(a[0], axis=p["axis"]))

NONSMOOTH_OPS = sorted(n for n, o in OPS.items() if o.margin is not None)
CONTROL_FLOW_OPS = ["cond", "switch", "fori_loop", "while_loop", "scan"]


# --- programs -------------------------------------------------------------------------

@dataclasses.dataclass
class Step:
    op: str
    args: tuple
    params: dict

    def __repr__(self):
        ps = ", ".join(f"{k}={_short(v)}" for k, v in self.params.items())
        return f"{self.op}({', '.join(f'v{i}' for i in self.args)}{'; ' + ps if ps else ''})"


def _short(v):
    return f"<const {v.shape}>" if isinstance(v, np.ndarray) else repr(v)


@dataclasses.dataclass
class Program:
    """A random straight-line program; call it like a function of its inputs."""
    in_shapes: tuple
    dtype: np.dtype
    steps: list
    outputs: tuple
    seed: int
    margin: float = math.inf       # distance of the example inputs from any kink

    @property
    def smooth(self):
        return self.margin >= KINK_MARGIN

    @property
    def ops(self):
        return [s.op for s in self.steps]

    def __call__(self, *xs):
        pool = list(xs)
        for s in self.steps:
            pool.append(OPS[s.op].apply([pool[i] for i in s.args], s.params))
        outs = tuple(pool[i] for i in self.outputs)
        return outs[0] if len(outs) == 1 else outs

    def inputs(self, seed=None, dtype=None, batch=None):
        """Example inputs (``batch``: a leading axis of that size on each)."""
        rng = np.random.default_rng(self.seed if seed is None else seed)
        dt = self.dtype if dtype is None else dtype
        lead = () if batch is None else (batch,)
        return tuple(rng.standard_normal(lead + s).astype(dt) for s in self.in_shapes)

    def __repr__(self):
        lines = [f"Program(dtype={np.dtype(self.dtype).name}, seed={self.seed}, "
                 f"margin={self.margin:.3g}):"]
        n = len(self.in_shapes)
        lines += [f"  v{i}: input {s}" for i, s in enumerate(self.in_shapes)]
        lines += [f"  v{n + k} = {s!r}" for k, s in enumerate(self.steps)]
        lines.append(f"  return {', '.join(f'v{i}' for i in self.outputs)}")
        return "\n".join(lines)


def _shapes(d: Draw, n, allow_zero):
    """n shapes that broadcast together (leading dims dropped, some dims set to 1)."""
    lo = 0 if allow_zero and d.int(0, 9) == 0 else 1
    base = tuple(d.int(lo, 4) for _ in range(d.int(0, 3)))
    out = []
    for _ in range(n):
        s = list(base[d.choice([0, 0, 0, d.int(0, len(base))]):])
        for i in range(len(s)):
            if d.int(0, 4) == 0:
                s[i] = 1
        out.append(tuple(s))
    return out


def _compatible(name, a, b):
    if name in ("tensordot", "matmul", "concatenate", "stack", "outer", "at_update",
                "einsum_contract"):
        return True      # their params rule checks (and may reject) the pair
    try:
        return len(np.broadcast_shapes(np.shape(a), np.shape(b))) <= 4
    except ValueError:
        return False


def _pick(d: Draw, usable):
    """An operand index, biased towards the newest values (deep compositions)."""
    k = d.int(0, 3)
    return usable[-1 - min(k, len(usable) - 1)] if k < 3 else d.choice(usable)


def build_program(seed, min_ops=1, max_ops=30, dtypes=(np.float64, np.float32),
                  op_names=None, allow_zero_size=True):
    """The program of this seed: ``min_ops..max_ops`` steps (plus rescaling steps), each
    valid and finite on the example inputs."""
    d = Draw(seed)
    names = [n for n in (sorted(OPS) if op_names is None else op_names) if n != "scale"]
    dtype = np.dtype(d.choice(dtypes))
    in_shapes = _shapes(d, d.int(1, 3), allow_zero_size)
    prog = Program(tuple(in_shapes), dtype, [], (), seed)
    pool = list(prog.inputs())
    usable = list(range(len(pool)))     # pool values later steps may read
    n_ops = d.int(min_ops, max_ops)
    margin, n_real, attempts = math.inf, 0, 0
    while n_real < n_ops and attempts < 6 * n_ops + 10:
        attempts += 1
        o = OPS[d.choice(names)]
        idx = [_pick(d, usable) for _ in range(o.arity)]
        if o.arity == 2:   # the second operand: one that fits the first
            ok = [j for j in usable if _compatible(o.name, pool[idx[0]], pool[j])]
            if not ok:
                continue
            idx[1] = d.choice(ok)
        args = [pool[i] for i in idx]
        params = o.params(d, [np.shape(a) for a in args])
        if params is None:
            continue
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = np.asarray(o.apply(args, params))
        except (ValueError, IndexError, TypeError):
            continue
        if out.dtype != dtype or out.ndim > 5 or out.size > 256 or \
                not np.all(np.isfinite(out)):
            continue
        if o.margin is not None:
            margin = min(margin, o.margin(args, params))
        prog.steps.append(Step(o.name, tuple(idx), params))
        pool.append(out)
        n_real += 1
        big = float(np.max(np.abs(out))) if out.size else 0.0
        if big > MAX_ABS:   # later steps read only the rescaled value
            c = 2.0 ** -math.ceil(math.log2(big))
            prog.steps.append(Step("scale", (len(pool) - 1,), {"c": c}))
            pool.append(out * dtype.type(c))
        usable.append(len(pool) - 1)
    if not prog.steps:
        prog.steps.append(Step("sin", (0,), {}))
        pool.append(np.sin(pool[0]))
    last = len(pool) - 1
    prog.outputs = (last,) if d.int(0, 2) or last == 0 else (last, d.int(0, last - 1))
    prog.margin = margin
    return prog


def programs(**kw):
    """Hypothesis strategy: random ``Program``s (see ``build_program`` for options)."""
    return st.integers(0, 2**32 - 1).map(lambda seed: build_program(seed, **kw))

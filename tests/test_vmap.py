"""vmap (funcdiff/vmap_api.py, funcdiff/transforms/vmap.py, the primitives' batch rules).

The oracle is the definition: ``vmap(f, in_axes, out_axes)(*args)`` equals a Python loop
over the examples (each computed eagerly, i.e. by NumPy itself) stacked along
``out_axes``.  Table-driven over funcdiff.numpy, with hypothesis choosing the
per-example shapes, the batch size, which arguments are mapped and along which axis
(negative axes included), and out_axes.  Functions whose primitives have no batching
rule yet must fail with the clear ``BatchRuleError`` naming that primitive (and a test
lists them, so the list shrinks as rules are added).  Then: jit(vmap) equals vmap and
its jaxpr passes check_jaxpr; nested vmap; vmap(grad) equals stacked grads, grad(vmap),
vmap(jit), custom_jvp/custom_vjp under vmap; pytree in_axes/out_axes; the errors; and
jacfwd/jacrev as one batched pass.
"""
from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff._np_compat import NUMPY2
from funcdiff.core.primitive import Primitive, registry
from funcdiff.transforms.vmap import BatchingError, BatchRuleError
from funcdiff.tree_util import tree_flatten, tree_map

from _helpers import DEFAULT, assert_same, nep50

TABLE = settings(max_examples=10, deadline=None)
FEW = settings(max_examples=4, deadline=None)
seeds = st.integers(0, 2**31 - 1)

# --- per-example value generators ------------------------------------------------------


def U(lo=-2.0, hi=2.0):
    return lambda rng, shape, dt: rng.uniform(lo, hi, shape).astype(dt)


def AWAY(lo=0.3, hi=2.0):
    return lambda rng, shape, dt: (rng.uniform(lo, hi, shape) *
                                   rng.choice([-1.0, 1.0], shape)).astype(dt)


def INTS(lo=-5, hi=6):
    return lambda rng, shape, dt: rng.integers(lo, hi, shape).astype(dt)


def BOOLS():
    return lambda rng, shape, dt: rng.random(shape) < 0.5


def SPD():
    def gen(rng, shape, dt):
        n = shape[-1]
        a = rng.standard_normal(shape)
        return (a @ np.swapaxes(a, -1, -2) + n * np.eye(n)).astype(dt)
    return gen


R, POS, UNIT = U(), U(0.2, 3.0), U(-0.9, 0.9)
F64, F32 = np.float64, np.float32

shapes = st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple)
shapes_nd = lambda lo, hi: st.lists(st.integers(1, 3), min_size=lo, max_size=hi).map(tuple)  # noqa: E731


class Arg:
    """One argument of a case: a value generator, its per-example shape and dtype."""

    def __init__(self, gen, shape, dtype=F64):
        self.gen, self.shape, self.dtype = gen, tuple(shape), dtype

    def sample(self, rng):
        v = self.gen(rng, self.shape, self.dtype)
        return np.asarray(v) if self.shape else np.asarray(v).reshape(())


# Each case: name -> draw(data) -> (f, [Arg, ...]).  ``f`` takes arrays positionally.
CASES = {}


def case(name):
    def deco(draw):
        CASES[name] = draw
        return draw
    return deco


# elementwise ---------------------------------------------------------------------------
UNARY = {
    "negative": R, "positive": R, "absolute": AWAY(), "sign": R, "floor": U(-3, 3),
    "ceil": U(-3, 3), "rint": U(-3, 3), "round": U(-3, 3), "trunc": U(-3, 3),
    "sqrt": POS, "square": R, "reciprocal": AWAY(), "exp": R, "exp2": R, "expm1": R,
    "log": POS, "log2": POS, "log10": POS, "log1p": U(-0.8, 3), "sin": R, "cos": R,
    "tan": U(-1.2, 1.2), "arcsin": UNIT, "arccos": UNIT, "arctan": R, "sinh": R,
    "cosh": R, "tanh": R, "arcsinh": R, "arccosh": U(1.2, 4), "arctanh": UNIT,
    "cbrt": AWAY(), "sinc": R, "isfinite": R, "isnan": R, "isinf": R,
    "conjugate": R, "real": R, "imag": R,
}
for _n, _g in UNARY.items():
    def _draw(data, _n=_n, _g=_g):
        dt = data.draw(st.sampled_from([F64, F32]))
        return getattr(fnp, _n), [Arg(_g, data.draw(shapes), dt)]
    case(_n)(_draw)


@case("logical_not")
def _(data):
    return fnp.logical_not, [Arg(BOOLS(), data.draw(shapes), np.bool_)]


@case("invert")
def _(data):
    return fnp.invert, [Arg(INTS(), data.draw(shapes), np.int64)]


BINARY = {
    "add": (R, R), "subtract": (R, R), "multiply": (R, R), "divide": (R, AWAY()),
    "power": (POS, R), "maximum": (R, R), "minimum": (R, R), "arctan2": (R, AWAY()),
    "remainder": (R, AWAY()), "fmod": (R, AWAY()), "floor_divide": (R, AWAY()),
    "logaddexp": (R, R), "hypot": (R, R), "equal": (INTS(), INTS()),
    "not_equal": (INTS(), INTS()), "less": (R, R), "less_equal": (INTS(), INTS()),
    "greater": (R, R), "greater_equal": (R, R),
}


def _bshapes(data, n):
    from hypothesis.extra.numpy import mutually_broadcastable_shapes
    return data.draw(mutually_broadcastable_shapes(num_shapes=n, min_dims=0, max_dims=3,
                                                   max_side=3)).input_shapes


for _n, (_g1, _g2) in BINARY.items():
    def _draw(data, _n=_n, _g1=_g1, _g2=_g2):
        s1, s2 = _bshapes(data, 2)
        d1, d2 = data.draw(st.sampled_from([(F64, F64), (F32, F32), (F32, F64)]))
        return getattr(fnp, _n), [Arg(_g1, s1, d1), Arg(_g2, s2, d2)]
    case(_n)(_draw)

for _n in ("logical_and", "logical_or", "logical_xor"):
    def _draw(data, _n=_n):
        s1, s2 = _bshapes(data, 2)
        return getattr(fnp, _n), [Arg(BOOLS(), s1, np.bool_), Arg(BOOLS(), s2, np.bool_)]
    case(_n)(_draw)

for _n in ("bitwise_and", "bitwise_or", "bitwise_xor"):
    def _draw(data, _n=_n):
        s1, s2 = _bshapes(data, 2)
        return getattr(fnp, _n), [Arg(INTS(0, 9), s1, np.int64), Arg(INTS(0, 9), s2, np.int32)]
    case(_n)(_draw)


@case("where")
def _(data):
    s1, s2, s3 = _bshapes(data, 3)
    return fnp.where, [Arg(BOOLS(), s1, np.bool_), Arg(R, s2), Arg(R, s3, F32)]


@case("clip")
def _(data):
    s1, s2, s3 = _bshapes(data, 3)
    return fnp.clip, [Arg(U(-3, 3), s1), Arg(U(-2, -0.5), s2), Arg(U(0.5, 2), s3)]


@case("scalar_mix")  # Python scalars (weak types) next to mapped float32 values
def _(data):
    return (lambda x: 2.0 * x + 1 - fnp.sin(x) / 3.0), [Arg(R, data.draw(shapes), F32)]


@case("astype")
def _(data):
    dt = data.draw(st.sampled_from([np.int32, np.float32, np.bool_, np.complex128]))
    return (lambda x: x.astype(dt)), [Arg(U(-3, 3), data.draw(shapes))]


# reductions ------------------------------------------------------------------------------

def _axis(data, ndim, allow_tuple=True, allow_none=True):
    opts = []
    if allow_none:
        opts.append(st.none())
    if ndim:
        opts.append(st.integers(-ndim, ndim - 1))
        if allow_tuple:
            opts.append(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim,
                                 unique=True).map(tuple))
    return data.draw(st.one_of(*opts)) if opts else None


for _n, _g in {"sum": R, "mean": R, "prod": R, "max": R, "min": R, "var": R, "std": R,
               "nansum": R, "nanmean": R}.items():
    def _draw(data, _n=_n, _g=_g):
        shape = data.draw(shapes)
        axis = _axis(data, len(shape))
        keep = data.draw(st.booleans())
        fn = getattr(fnp, _n)
        dt = data.draw(st.sampled_from([F64, F32]))
        return (lambda x: fn(x, axis=axis, keepdims=keep)), [Arg(_g, shape, dt)]
    case(_n)(_draw)

for _n in ("all", "any"):
    def _draw(data, _n=_n):
        shape = data.draw(shapes)
        axis = _axis(data, len(shape))
        fn = getattr(fnp, _n)
        return (lambda x: fn(x, axis=axis)), [Arg(BOOLS(), shape, np.bool_)]
    case(_n)(_draw)

for _n in ("argmax", "argmin"):
    def _draw(data, _n=_n):
        shape = data.draw(shapes)
        axis = _axis(data, len(shape), allow_tuple=False)
        fn = getattr(fnp, _n)
        return (lambda x: fn(x, axis=axis)), [Arg(INTS(0, 3), shape)]
    case(_n)(_draw)

for _n in ("cumsum", "cumprod"):
    def _draw(data, _n=_n):
        shape = data.draw(shapes)
        axis = _axis(data, len(shape), allow_tuple=False)
        fn = getattr(fnp, _n)
        return (lambda x: fn(x, axis=axis)), [Arg(R, shape)]
    case(_n)(_draw)


# shape functions -------------------------------------------------------------------------

@case("reshape")
def _(data):
    shape = data.draw(shapes_nd(1, 3))
    return (lambda x: fnp.reshape(x, (-1,) + shape[:1])), [Arg(R, shape)]


@case("method_reshape_ravel")
def _(data):
    shape = data.draw(shapes)
    return (lambda x: (x.ravel(), x.reshape(shape[::-1]), x.flatten())), [Arg(R, shape)]


@case("transpose")
def _(data):
    shape = data.draw(shapes)
    perm = tuple(data.draw(st.permutations(range(len(shape)))))
    return (lambda x: (fnp.transpose(x, perm), x.T)), [Arg(R, shape)]


@case("swapaxes_moveaxis")
def _(data):
    shape = data.draw(shapes_nd(1, 3))
    n = len(shape)
    a, b = data.draw(st.integers(-n, n - 1)), data.draw(st.integers(-n, n - 1))
    return (lambda x: (fnp.swapaxes(x, a, b), fnp.moveaxis(x, a, b))), [Arg(R, shape)]


@case("expand_dims_squeeze")
def _(data):
    shape = data.draw(shapes)
    a = data.draw(st.integers(-len(shape) - 1, len(shape)))
    return (lambda x: (fnp.expand_dims(x, a), fnp.squeeze(fnp.expand_dims(x, a), a))), \
        [Arg(R, shape)]


@case("squeeze")
def _(data):
    shape = data.draw(shapes) + (1,)
    return (lambda x: (fnp.squeeze(x), fnp.squeeze(x, -1))), [Arg(R, shape)]


@case("flip_roll")
def _(data):
    shape = data.draw(shapes_nd(1, 3))
    ax = data.draw(st.integers(-len(shape), len(shape) - 1))
    sh = data.draw(st.integers(-4, 4))
    return (lambda x: (fnp.flip(x, ax), fnp.flip(x), fnp.roll(x, sh, ax), fnp.roll(x, sh))), \
        [Arg(R, shape)]


@case("fliplr_flipud_rot90")
def _(data):
    shape = data.draw(shapes_nd(2, 3))
    k = data.draw(st.integers(-2, 3))
    return (lambda x: (fnp.fliplr(x), fnp.flipud(x), fnp.rot90(x, k))), [Arg(R, shape)]


@case("tile_repeat")
def _(data):
    shape = data.draw(shapes_nd(1, 2))
    reps = data.draw(st.integers(1, 3))
    ax = data.draw(st.integers(-len(shape), len(shape) - 1))
    return (lambda x: (fnp.tile(x, (reps, 1)), fnp.repeat(x, reps, ax), fnp.repeat(x, reps))), \
        [Arg(R, shape)]


@case("broadcast_to")
def _(data):
    shape = data.draw(shapes)
    target = (2,) + tuple(1 if d == 1 and data.draw(st.booleans()) else d for d in shape)
    target = tuple(max(t, s) for t, s in zip(target[-len(shape):], shape)) if shape else ()
    target = (2,) + target
    return (lambda x: fnp.broadcast_to(x, target)), [Arg(R, shape)]


@case("broadcast_arrays")
def _(data):
    s1, s2 = _bshapes(data, 2)
    return (lambda x, y: tuple(fnp.broadcast_arrays(x, y))), [Arg(R, s1), Arg(R, s2)]


@case("atleast")
def _(data):
    shape = data.draw(shapes)
    return (lambda x: (fnp.atleast_1d(x), fnp.atleast_2d(x), fnp.atleast_3d(x))), \
        [Arg(R, shape)]


@case("concatenate")
def _(data):
    shape = data.draw(shapes_nd(1, 3))
    ax = data.draw(st.integers(-len(shape), len(shape) - 1))
    s2 = list(shape)
    s2[ax] = data.draw(st.integers(1, 3))
    return (lambda x, y: fnp.concatenate([x, y, x], axis=ax)), \
        [Arg(R, shape), Arg(R, tuple(s2), F32)]


@case("stack")
def _(data):
    shape = data.draw(shapes)
    ax = data.draw(st.integers(-len(shape) - 1, len(shape)))
    return (lambda x, y: (fnp.stack([x, y], axis=ax), fnp.array([x, y, x]))), \
        [Arg(R, shape), Arg(R, shape)]


@case("hvd_stack")
def _(data):
    shape = data.draw(shapes_nd(1, 3))
    return (lambda x, y: (fnp.hstack([x, y]), fnp.vstack([x, y]), fnp.dstack([x, y]),
                          fnp.column_stack([x, y]), fnp.append(x, y))), \
        [Arg(R, shape), Arg(R, shape)]


@case("split")
def _(data):
    shape = data.draw(shapes_nd(1, 3))
    ax = data.draw(st.integers(0, len(shape) - 1))
    n = shape[ax]
    return (lambda x: tuple(fnp.split(x, [1], axis=ax)) + tuple(fnp.array_split(x, 2, ax)) +
            tuple(fnp.split(x, n, ax))), [Arg(R, shape)]


@case("hvd_split")
def _(data):
    shape = (2, 2, 2)
    return (lambda x: tuple(fnp.hsplit(x, 2)) + tuple(fnp.vsplit(x, 2)) +
            tuple(fnp.dsplit(x, 2))), [Arg(R, shape)]


@case("pad")
def _(data):
    shape = data.draw(shapes_nd(1, 2))
    widths = [(data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))) for _ in shape]
    mode = data.draw(st.sampled_from(["constant", "edge", "reflect", "wrap"]))
    if mode == "reflect":
        widths = [(min(a, d - 1), min(b, d - 1)) for (a, b), d in zip(widths, shape)]
    return (lambda x: fnp.pad(x, widths, mode=mode)), [Arg(R, shape)]


@case("pad_mapped_value")  # the padding value itself is mapped
def _(data):
    shape = data.draw(shapes_nd(1, 2))
    return (lambda x, v: fnp.pad(x, 1, constant_values=v)), [Arg(R, shape), Arg(R, ())]


@case("like")
def _(data):
    shape = data.draw(shapes)
    return (lambda x: (fnp.zeros_like(x) + x, fnp.ones_like(x), fnp.full_like(x, 3.0),
                       fnp.copy(x), fnp.asarray(x))), [Arg(R, shape)]


@case("creation")   # creation functions fed a mapped value
def _(data):
    shape = data.draw(shapes)
    return (lambda v, x: (fnp.linspace(0.0, v, 4), fnp.full((2,), v), fnp.zeros(3) + v,
                          fnp.eye(2) * v, fnp.arange(3) * v, fnp.ones_like(x) * v,
                          fnp.identity(2) + v, fnp.tri(2) * v, fnp.array([v, 2.0 * v]))), \
        [Arg(R, ()), Arg(R, shape)]


@case("cumulative_sum_prod")
def _(data):
    shape = data.draw(shapes_nd(1, 3))
    ax = data.draw(st.integers(-len(shape), len(shape) - 1))
    return (lambda x: (fnp.cumulative_sum(x, axis=ax), fnp.cumulative_prod(x, axis=ax))), \
        [Arg(R, shape)]


@case("take_along_axis")
def _(data):
    return (lambda x, i: fnp.take_along_axis(x, i, axis=1)), \
        [Arg(R, (2, 3)), Arg(INTS(0, 3), (2, 2), np.int64)]


@case("diag_trace")
def _(data):
    n, m = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    k = data.draw(st.integers(-1, 1))
    return (lambda x, v: (fnp.diag(x, k), fnp.diagonal(x, k), fnp.trace(x, k), fnp.diag(v))), \
        [Arg(R, (n, m)), Arg(R, (n,))]


@case("basic_indexing")
def _(data):
    shape = data.draw(shapes_nd(2, 3))
    return (lambda x: (x[0], x[-1, ::2], x[:, None], x[..., 1:], x[None, 1:, ...])), \
        [Arg(R, shape)]


@case("iterate")
def _(data):
    shape = data.draw(shapes_nd(1, 2))
    return (lambda x: sum(r * (i + 1) for i, r in enumerate(x))), [Arg(R, shape)]


# products ------------------------------------------------------------------------------

@case("dot")
def _(data):
    kind = data.draw(st.sampled_from(["vv", "mv", "vm", "mm", "sm", "3m"]))
    n, k, m = (data.draw(st.integers(1, 3)) for _ in range(3))
    sh = {"vv": ((k,), (k,)), "mv": ((n, k), (k,)), "vm": ((k,), (k, m)),
          "mm": ((n, k), (k, m)), "sm": ((), (k, m)), "3m": ((2, n, k), (k, m))}[kind]
    return (lambda a, b: (fnp.dot(a, b), a @ b if kind != "sm" else a * b)), \
        [Arg(R, sh[0]), Arg(R, sh[1], data.draw(st.sampled_from([F64, F32])))]


@case("matmul_batched")
def _(data):
    n, k, m = (data.draw(st.integers(1, 3)) for _ in range(3))
    b1, b2 = data.draw(st.sampled_from([((), ()), ((2,), (2,)), ((2,), ()), ((), (3,)),
                                        ((1,), (3,)), ((2, 1), (3,))]))
    return fnp.matmul, [Arg(R, b1 + (n, k)), Arg(R, b2 + (k, m))]


@case("vdot_inner_outer_kron")
def _(data):
    k = data.draw(st.integers(1, 3))
    return (lambda a, b: (fnp.vdot(a, b), fnp.inner(a, b), fnp.outer(a, b),
                          fnp.kron(a, b))), [Arg(R, (k,)), Arg(R, (k,))]


@case("tensordot")
def _(data):
    return (lambda a, b: (fnp.tensordot(a, b, axes=1), fnp.tensordot(a, b, ((0, 2), (1, 0))))), \
        [Arg(R, (2, 3, 4)), Arg(R, (4, 2, 3))]


@case("einsum")
def _(data):
    spec = data.draw(st.sampled_from(["ij,jk->ik", "ij,ij->", "ij,kj->jik", "ii->i",
                                      "ij->", "ij,j->i"]))
    ins = spec.split("->")[0].split(",")
    size = {"i": 2, "j": 3, "k": 2}
    if spec == "ii->i":
        size["j"] = 2
    args = [Arg(R, tuple(size[c] for c in s)) for s in ins]
    return (lambda *xs: fnp.einsum(spec, *xs)), args


@case("cross")
def _(data):
    return fnp.cross, [Arg(R, (3,)), Arg(R, (data.draw(st.integers(1, 2)), 3))]


@case("multi_dot_matrix_power")
def _(data):
    return (lambda a, b, c: (fnp.linalg.multi_dot([a, b, c]),
                             fnp.linalg.matrix_power(a @ b, 3))), \
        [Arg(R, (2, 3)), Arg(R, (3, 2)), Arg(R, (2, 2))]


# linalg and indexing (primitives owned by other files; rules may be missing) --------------

@case("norm")
def _(data):
    ord_ = data.draw(st.sampled_from([None, 1, 2, np.inf, "fro"]))
    shape = (2, 3) if ord_ == "fro" else (3,)
    return (lambda x: fnp.linalg.norm(x, ord_)), [Arg(R, shape)]


@case("linalg")
def _(data):
    name = data.draw(st.sampled_from(["det", "inv", "slogdet", "cholesky", "eigh",
                                      "eigvalsh"]))
    fn = getattr(fnp.linalg, name)
    return (lambda a: tuple(fn(a)) if name in ("slogdet", "eigh") else fn(a)), \
        [Arg(SPD(), (3, 3))]


@case("solve")
def _(data):
    return fnp.linalg.solve, [Arg(SPD(), (3, 3)), Arg(R, (3,))]


@case("fft")
def _(data):
    shape = data.draw(shapes_nd(1, 3))
    ax = data.draw(st.integers(-len(shape), len(shape) - 1))
    return (lambda x: (fnp.fft.fft(x, axis=ax), fnp.fft.rfft(x, axis=ax),
                       fnp.fft.ifft(x, axis=ax), fnp.fft.fftn(x))), [Arg(R, shape)]


@case("scipy_special")
def _(data):
    import funcdiff.scipy.special as fsp
    name = data.draw(st.sampled_from(["logsumexp", "expit", "softmax", "log_softmax", "erf",
                                      "gammaln", "erfc", "digamma", "xlogy"]))
    shape = data.draw(shapes_nd(1, 2))
    fn = getattr(fsp, name)
    if name == "xlogy":
        return fn, [Arg(R, shape), Arg(POS, shape)]
    if name in ("logsumexp", "softmax", "log_softmax"):
        return (lambda x: fn(x, axis=-1)), [Arg(R, shape)]
    return fn, [Arg(POS if name in ("gammaln", "digamma") else R, shape)]


@case("fancy_indexing")
def _(data):
    return (lambda x: (x[np.array([0, 0, 2])], fnp.take(x, np.array([1, 0]), axis=0))), \
        [Arg(R, (3, 2))]


@case("mapped_index")
def _(data):
    # fnp.asarray: an unmapped x is a NumPy array, which cannot be indexed by a tracer
    return (lambda x, i: fnp.asarray(x)[i]), [Arg(R, (4,)), Arg(INTS(0, 4), (), np.int64)]


@case("at_set")
def _(data):
    return (lambda x, v: fnp.asarray(x).at[1].set(v)), [Arg(R, (3,)), Arg(R, ())]


# --- the harness -----------------------------------------------------------------------

def _take(x, i, d):
    return x if d is None else np.take(x, i, axis=d)


def _stack(outs, axis):
    def st_(*xs):
        nd = np.ndim(xs[0]) + 1
        return np.stack([np.asarray(x) for x in xs], axis=axis % nd)
    return tree_map(st_, *outs)


def _draw_batch(data, f, args, rng):
    """Batch size, per-argument mapped axes (at least one mapped), batched values."""
    size = data.draw(st.integers(1, 3))
    dims = []
    for a in args:
        nd = len(a.shape)
        dims.append(data.draw(st.one_of(st.none(), st.integers(-nd - 1, nd))))
    if all(d is None for d in dims):
        dims[data.draw(st.integers(0, len(args) - 1))] = 0
    examples = [[a.sample(rng) for a in args] for _ in range(size)]
    batched = []
    for j, (a, d) in enumerate(zip(args, dims)):
        if d is None:
            batched.append(examples[0][j])
        else:
            batched.append(np.stack([ex[j] for ex in examples], axis=d % (len(a.shape) + 1)))
    per_example = [[_take(b, i, None if d is None else d % (len(a.shape) + 1))
                    for b, d, a in zip(batched, dims, args)] for i in range(size)]
    return size, tuple(dims), batched, per_example


def _assert_same(got, want, dtype_tol=None):
    assert not any(type(g) is fd.core.trace.Tracer for g in tree_flatten(got)[0])
    assert_same(got, want, pytree=True, exact_kinds="biuSUVMmO",
                tols={np.float32: 1e-5, np.complex64: 1e-5, DEFAULT: 1e-10})


def _missing_rule_ok(err):
    """A BatchRuleError must name a registered primitive that really has no rule."""
    msg = str(err)
    names = [n for n, p in registry.items() if f"`{n}`" in msg]
    assert names, msg
    assert all(registry[n].batch is None for n in names), msg
    return names


MISSING = {}   # case name -> primitives without rules that it met (for the report test)


@pytest.mark.parametrize("name", sorted(CASES))
@TABLE
@given(data=st.data(), seed=seeds)
def test_vmap_matches_loop(name, data, seed):
    rng = np.random.default_rng(seed)
    f, args = CASES[name](data)
    size, dims, batched, per_example = _draw_batch(data, f, args, rng)
    out_axes = data.draw(st.sampled_from([0, -1, 1]))
    with nep50():   # per example, as NumPy 2 promotes (and vmap does on every NumPy)
        eager = [f(*ex) for ex in per_example]
    if name == "sinc" and not NUMPY2:   # NumPy 1.x's sinc of a 0-d float32 is float64
        eager = [np.asarray(e, np.asarray(ex[0]).dtype) for e, ex in zip(eager, per_example)]
    if out_axes == 1 and any(np.ndim(o) == 0 for o in tree_flatten(eager[0])[0]):
        out_axes = -1
    want = _stack(eager, out_axes)
    try:
        got = fd.vmap(f, in_axes=dims, out_axes=out_axes)(*batched)
    except BatchRuleError as e:
        MISSING.setdefault(name, set()).update(_missing_rule_ok(e))
        return
    _assert_same(got, want)


@pytest.mark.parametrize("name", sorted(CASES))
@FEW
@given(data=st.data(), seed=seeds)
def test_jit_of_vmap_and_jaxpr_checks(name, data, seed):
    """jit(vmap(f)) equals vmap(f), and the batched jaxpr passes the checker."""
    rng = np.random.default_rng(seed)
    f, args = CASES[name](data)
    size, dims, batched, per_example = _draw_batch(data, f, args, rng)
    vf = fd.vmap(f, in_axes=dims)
    try:
        want = vf(*batched)
        # traced, unmapped arguments are abstract too (e.g. an index becomes a gather)
        closed = fd.make_jaxpr(vf)(*batched)
    except BatchRuleError as e:
        _missing_rule_ok(e)
        return
    fd.check_jaxpr(closed)
    _assert_same(fd.eval_jaxpr(closed.jaxpr, closed.consts, *batched),
                 tree_flatten(want)[0])
    _assert_same(fd.jit(vf)(*batched), want)


def test_missing_rules_are_only_in_other_families():
    """Which primitives have no batching rule: only those of the files written by other
    modules (indexing, linalg, special, control flow: this list is their to-do), the
    jit-internal ones that exist only in optimized jaxprs (never batched: vmap works on
    the unoptimized IR), and full/iota (no operands, so never mapped)."""
    others = ("funcdiff.primitives.indexing", "funcdiff.primitives.linalg",
              "funcdiff.primitives.special", "funcdiff.higher_order.",
              "funcdiff.jit.")
    unexpected = sorted(
        n for n, p in registry.items()
        if p.batch is None and n not in ("full", "iota", "test_vmap_nobatch")
        and not getattr(p.impl, "__module__", "").startswith(others))
    assert not unexpected, f"primitives without a batch rule: {unexpected}"


# --- in_axes / out_axes specs and pytrees -------------------------------------------------

Pair = namedtuple("Pair", "a b")


def test_pytree_in_axes_prefixes_and_kwargs(rng):
    def f(d, p, scale, *, shift):
        return {"s": d["w"] @ p.a + p.b * scale + shift, "c": d["c"] * 1.0}

    B = 4
    d = {"w": rng.standard_normal((3, B, 2)), "c": rng.standard_normal(5)}
    p = Pair(rng.standard_normal((B, 2)), rng.standard_normal(3))
    scale = 2.5
    shift = rng.standard_normal((B, 1))
    out = fd.vmap(f, in_axes=({"w": 1, "c": None}, Pair(0, None), None))(
        d, p, scale, shift=shift)
    for i in range(B):
        ref = f({"w": d["w"][:, i], "c": d["c"]}, Pair(p.a[i], p.b), scale, shift=shift[i])
        np.testing.assert_allclose(out["s"][i], ref["s"])
        np.testing.assert_allclose(out["c"][i], ref["c"])   # unmapped output broadcast
    assert out["c"].shape == (B, 5)


def test_list_in_axes_and_negative_axes(rng):
    x, y = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    out = fd.vmap(lambda a, b: fnp.outer(a, b), in_axes=[-1, 0], out_axes=-1)(x, y)
    want = np.stack([np.outer(x[:, i], y[i]) for i in range(3)], axis=-1)
    np.testing.assert_allclose(out, want)


def test_out_axes_tree_with_none_and_unmapped_broadcast(rng):
    x = rng.standard_normal((3, 2))
    w = rng.standard_normal(2)

    def f(x, w):
        return x * w, w * 2.0, (fnp.sum(x), w)

    a, b, (c, d) = fd.vmap(f, in_axes=(0, None), out_axes=(1, None, (0, 0)))(x, w)
    np.testing.assert_allclose(a, (x * w).T)
    np.testing.assert_allclose(b, w * 2.0)            # out_axes None: left unmapped
    np.testing.assert_allclose(c, x.sum(1))
    np.testing.assert_allclose(d, np.broadcast_to(w, (3, 2)))  # int: broadcast


def test_axis_size_without_mapped_inputs():
    out = fd.vmap(lambda: fnp.ones(2), in_axes=(), axis_size=3)()
    np.testing.assert_array_equal(out, np.ones((3, 2)))
    out = fd.vmap(lambda x: x + 1.0, in_axes=None, axis_size=2)(np.arange(3.0))
    np.testing.assert_array_equal(out, np.arange(3.0)[None].repeat(2, 0) + 1.0)


def test_unmapped_args_stay_concrete():
    """As in JAX, in_axes=None values are passed unchanged: Python control flow on them
    works under vmap."""
    def f(x, n):
        return x ** 2 if n > 0 else -x
    x = np.arange(3.0)
    np.testing.assert_array_equal(fd.vmap(f, (0, None))(x, 1), x ** 2)
    np.testing.assert_array_equal(fd.vmap(f, (0, None))(x, np.array(-1)), -x)


def test_python_scalars_and_int_and_bool_inputs():
    xi = np.arange(6, dtype=np.int32).reshape(3, 2)
    out = fd.vmap(lambda v: v * 2 + v.sum())(xi)
    with nep50():   # int32 sums to int64, which promotes v * 2, as in NumPy 2
        want = np.stack([v * 2 + v.sum() for v in xi])
    np.testing.assert_array_equal(out, want)
    assert out.dtype == want.dtype
    assert fd.vmap(lambda v: v * 2)(xi).dtype == np.int32
    xb = np.array([[True, False], [False, False]])
    np.testing.assert_array_equal(fd.vmap(fnp.any)(xb), xb.any(1))
    x32 = np.ones((2, 3), np.float32)
    assert fd.vmap(lambda v: v * 2.0 + 1)(x32).dtype == np.float32


def test_size_zero_batch():
    x = np.zeros((0, 3))
    out = fd.vmap(lambda v: fnp.sin(v) * 2)(x)
    assert out.shape == (0, 3)


# --- nesting and composition with the other transforms -----------------------------------

def test_nested_vmap_all_pairs(rng):
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((5, 3))
    dist = lambda a, b: fnp.sqrt(fnp.sum((a - b) ** 2))  # noqa: E731
    pair = fd.vmap(fd.vmap(dist, in_axes=(None, 0)), in_axes=(0, None))(x, y)
    want = np.array([[np.sqrt(((a - b) ** 2).sum()) for b in y] for a in x])
    np.testing.assert_allclose(pair, want)
    # the same with the inner map along axis 1 and the outer output transposed
    pair_t = fd.vmap(fd.vmap(dist, in_axes=(None, 1)), in_axes=(0, None), out_axes=1)(
        x, y.T)
    np.testing.assert_allclose(pair_t, want.T)


@FEW
@given(seed=seeds, d1=st.integers(0, 2), d2=st.integers(0, 1))
def test_triple_nested_vmap_matmul(seed, d1, d2):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((2, 3, 4, 5))
    b = rng.standard_normal((5, 2))
    f = fd.vmap(fd.vmap(fd.vmap(lambda r, m: r @ m, (0, None)), (d2, None)), (d1, None))
    a_moved = np.moveaxis(np.moveaxis(a, 0, d1), 1 if d1 != 1 else 0, d2)
    # reference: loop over the same axes the maps take
    outs = []
    for i in range(a_moved.shape[d1]):
        ai = np.take(a_moved, i, axis=d1)
        outs.append(np.stack([np.take(ai, j, axis=d2) @ b
                              for j in range(ai.shape[d2])]))
    np.testing.assert_allclose(f(a_moved, b), np.stack(outs))


def _mlp_loss(params, x, y):
    w1, b1, w2, b2 = params
    h = fnp.tanh(x @ w1 + b1)
    logits = h @ w2 + b2
    return fnp.sum((logits - y) ** 2) / 2


def _mlp_setup(rng, n=5):
    params = (rng.standard_normal((4, 6)) * 0.5, rng.standard_normal(6) * 0.1,
              rng.standard_normal((6, 3)) * 0.5, rng.standard_normal(3) * 0.1)
    return params, rng.standard_normal((n, 4)), rng.standard_normal((n, 3))


def test_per_example_gradients_vmap_of_grad(rng):
    params, xs, ys = _mlp_setup(rng)
    g = fd.grad(_mlp_loss)
    want = _stack([g(params, xs[i], ys[i]) for i in range(len(xs))], 0)
    got = fd.vmap(g, in_axes=(None, 0, 0))(params, xs, ys)
    _assert_same(got, want)
    _assert_same(fd.jit(fd.vmap(g, in_axes=(None, 0, 0)))(params, xs, ys), want)
    _assert_same(fd.vmap(fd.jit(g), in_axes=(None, 0, 0))(params, xs, ys), want)
    # their mean is the gradient of the mean loss
    mean_loss = lambda p, X, Y: fnp.mean(fd.vmap(_mlp_loss, (None, 0, 0))(p, X, Y))  # noqa
    gm = fd.grad(mean_loss)(params, xs, ys)
    for a, b in zip(gm, want):
        np.testing.assert_allclose(a, b.mean(0), rtol=1e-10, atol=1e-12)


def test_grad_of_vmap_and_higher_order(rng):
    x = rng.standard_normal((4, 3))
    f = lambda v: fnp.sum(fnp.sin(v) * v)  # noqa: E731
    total = lambda X: fnp.sum(fd.vmap(f)(X))  # noqa: E731
    np.testing.assert_allclose(fd.grad(total)(x), np.cos(x) * x + np.sin(x))
    fd.check_grads(total, (x,), order=2, modes=("fwd", "rev"))
    # jit around both
    np.testing.assert_allclose(fd.jit(fd.grad(total))(x), np.cos(x) * x + np.sin(x))


def test_vmap_of_jvp_vjp_hessian(rng):
    x = rng.standard_normal((3, 4))
    t = rng.standard_normal((3, 4))
    f = lambda v: fnp.tanh(v) * fnp.sum(v ** 2)  # noqa: E731
    out, tan = fd.vmap(lambda a, b: fd.jvp(f, (a,), (b,)))(x, t)
    for i in range(3):
        o, ti = fd.jvp(f, (x[i],), (t[i],))
        np.testing.assert_allclose(out[i], o)
        np.testing.assert_allclose(tan[i], ti)
    h = fd.vmap(fd.hessian(lambda v: fnp.sum(fnp.sin(v) * v[::-1])))(x)
    for i in range(3):
        np.testing.assert_allclose(h[i], fd.hessian(lambda v: fnp.sum(fnp.sin(v) * v[::-1]))(
            x[i]), rtol=1e-10, atol=1e-12)
    jr = fd.vmap(fd.jacrev(f))(x)
    jf = fd.vmap(fd.jacfwd(f))(x)
    for i in range(3):
        np.testing.assert_allclose(jr[i], fd.jacrev(f)(x[i]), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(jf[i], fd.jacrev(f)(x[i]), rtol=1e-10, atol=1e-12)


def test_vmap_of_jit_with_static_args_and_cache(rng):
    @fd.jit
    def f(x, w):
        return fnp.tanh(x @ w)

    x, w = rng.standard_normal((5, 3)), rng.standard_normal((3, 2))
    want = np.tanh(x @ w)
    for _ in range(2):
        np.testing.assert_allclose(fd.vmap(f, (0, None))(x, w), want)
    # mapping the weights instead: per-example weight matrices
    ws = rng.standard_normal((5, 3, 2))
    np.testing.assert_allclose(fd.vmap(f)(x, ws), np.tanh(np.einsum("bi,bij->bj", x, ws)))
    g = fd.jit(lambda x, n: x * n, static_argnums=1)
    np.testing.assert_allclose(fd.vmap(lambda v: g(v, 3))(x), x * 3)


def test_batched_jaxpr_uses_batched_primitives(rng):
    """A per-example matrix-vector product batches into one dot_general (no loop: the
    jaxpr does not grow with the batch size)."""
    w = rng.standard_normal((3, 2))
    f = fd.vmap(lambda v: fnp.tanh(v @ w))
    small = fd.make_jaxpr(f)(np.ones((2, 3)))
    large = fd.make_jaxpr(f)(np.ones((50, 3)))
    assert len(small.eqns) == len(large.eqns) <= 3
    assert [e.primitive.name for e in large.eqns] == ["dot_general", "tanh"]
    both = fd.make_jaxpr(fd.vmap(lambda a, b: a @ b))(np.ones((4, 2, 3)), np.ones((4, 3, 5)))
    (eqn,) = both.eqns
    assert eqn.params["dimension_numbers"][1] == ((0,), (0,))   # a batch dimension


def test_control_flow_under_vmap(rng):
    """Integration with funcdiff.lax (whose batch rules live in control_flow.py): a mapped
    predicate, trip count or carry gives the per-example results."""
    from funcdiff import lax
    x = rng.standard_normal(5) * 3
    cond = fd.vmap(lambda v: lax.cond(v > 0, lambda a: a * 2, lambda a: -a, v))
    np.testing.assert_allclose(cond(x), np.where(x > 0, 2 * x, -x))
    starts = np.abs(x) + 0.5

    def doubling(c):
        while c < 10:
            c = c * 2
        return c
    loop = fd.vmap(lambda v: lax.while_loop(lambda c: c < 10, lambda c: c * 2, v))
    np.testing.assert_allclose(loop(starts), [doubling(s) for s in starts])
    xs = rng.standard_normal((3, 4))
    carry, ys = fd.vmap(lambda v: lax.scan(lambda c, a: (c + a, c * a), 0.0, v))(xs)
    np.testing.assert_allclose(carry, xs.sum(1))
    np.testing.assert_allclose(ys, np.concatenate([np.zeros((3, 1)), np.cumsum(xs, 1)[:, :-1]],
                                                  1) * xs)
    g = fd.vmap(fd.grad(lambda v: lax.fori_loop(0, 3, lambda i, c: c * v, 1.0)))(x)
    np.testing.assert_allclose(g, 3 * x ** 2)


# --- custom rules under vmap -------------------------------------------------------------

@fd.custom_jvp
def _clipped(x):
    return fnp.sin(x)


@_clipped.defjvp
def _clipped_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return fnp.sin(x), 3.0 * t      # deliberately not cos(x): shows the rule is used


@fd.custom_vjp
def _scaled(x, y):
    return x * y


def _scaled_fwd(x, y):
    return x * y, (x, y)


def _scaled_bwd(res, ct):
    x, y = res
    return (10.0 * ct * y, None)    # deliberately 10x; y gets no cotangent


_scaled.defvjp(_scaled_fwd, _scaled_bwd)


def test_custom_jvp_under_vmap(rng):
    x = rng.standard_normal((4, 3))
    np.testing.assert_allclose(fd.vmap(_clipped)(x), np.sin(x))
    g = fd.grad(lambda X: fnp.sum(fd.vmap(_clipped)(X)))(x)
    np.testing.assert_allclose(g, np.full_like(x, 3.0))
    _, t = fd.jvp(fd.vmap(_clipped), (x,), (np.ones_like(x),))
    np.testing.assert_allclose(t, np.full_like(x, 3.0))
    np.testing.assert_allclose(fd.vmap(fd.grad(lambda v: fnp.sum(_clipped(v))))(x),
                               np.full_like(x, 3.0))


def test_custom_vjp_under_vmap(rng):
    x, y = rng.standard_normal((4, 3)), rng.standard_normal(3)
    np.testing.assert_allclose(fd.vmap(_scaled, (0, None))(x, y), x * y)
    gx, gy = fd.grad(lambda a, b: fnp.sum(fd.vmap(_scaled, (0, None))(a, b)),
                     argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, 10.0 * np.broadcast_to(y, x.shape))
    np.testing.assert_allclose(gy, np.zeros(3))
    per = fd.vmap(fd.grad(lambda a: fnp.sum(_scaled(a, y))))(x)
    np.testing.assert_allclose(per, 10.0 * np.broadcast_to(y, x.shape))
    # an unmapped argument that does receive a cotangent: summed over the batch
    gy2 = fd.grad(lambda b: fnp.sum(fd.vmap(_scaled, (None, 0))(b, x)))(y)
    np.testing.assert_allclose(gy2, 10.0 * x.sum(0))


def test_closures_over_outer_tracers(rng):
    """The mapped function closes over values of enclosing transforms (grad, jit)."""
    xs, w = rng.standard_normal((5, 3)), rng.standard_normal(3)

    def loss(w):
        return fnp.sum(fd.vmap(lambda x: fnp.sin(x * w))(xs))
    want = (np.cos(xs * w) * xs).sum(0)
    np.testing.assert_allclose(fd.grad(loss)(w), want)
    np.testing.assert_allclose(fd.jit(fd.grad(loss))(w), want)
    out = fd.vmap(lambda x: 1.0)(xs)          # a literal output is broadcast
    np.testing.assert_array_equal(out, np.ones(5))


def test_checkpoint_under_vmap(rng):
    x = rng.standard_normal((4, 3))
    f = fd.checkpoint(lambda v: fnp.sin(fnp.cos(v)) * v)
    g = fd.vmap(fd.grad(lambda v: fnp.sum(f(v))))(x)
    want = np.cos(np.cos(x)) * -np.sin(x) * x + np.sin(np.cos(x))
    np.testing.assert_allclose(g, want)
    np.testing.assert_allclose(fd.grad(lambda X: fnp.sum(fd.vmap(f)(X)))(x), want)


def test_leading_and_loop_batchers_on_linalg_and_gather(rng, monkeypatch):
    """The generic rule factories of primitives/batching.py, tried on primitives whose
    files are not this module's to edit: ``leading_batcher`` for numpy.linalg-style
    primitives (leading axes are batch axes), ``loop_batcher`` for anything."""
    from funcdiff.primitives import base, indexing, linalg, shape
    for p in (linalg.cholesky_p, linalg.solve_p, linalg.inv_p, linalg.eigh_p,
              linalg.slogdet_p, linalg.triangular_solve_p):
        monkeypatch.setattr(p, "batch", base.leading_batcher(p))
    monkeypatch.setattr(indexing.gather_p, "batch", shape.loop_batcher(indexing.gather_p))
    a = rng.standard_normal((4, 3, 3))
    a = a @ a.transpose(0, 2, 1) + 3 * np.eye(3)
    b = rng.standard_normal((4, 3))
    np.testing.assert_allclose(fd.vmap(fnp.linalg.solve)(a, b),
                               np.linalg.solve(a, b[..., None])[..., 0])
    np.testing.assert_allclose(fd.vmap(fnp.linalg.solve, (None, 0))(a[0], b),
                               np.linalg.solve(a[0], b.T).T)
    np.testing.assert_allclose(fd.vmap(fnp.linalg.det)(a), np.linalg.det(a))
    np.testing.assert_allclose(fd.vmap(fnp.linalg.cholesky, 1, 1)(a.transpose(1, 0, 2)),
                               np.linalg.cholesky(a).transpose(1, 0, 2))
    np.testing.assert_allclose(
        fd.vmap(fd.grad(lambda m: fnp.linalg.slogdet(m)[1]))(a),
        np.linalg.inv(a).transpose(0, 2, 1), rtol=1e-10)
    x, i = rng.standard_normal((4, 5)), np.array([1, 0, 3, 4])
    take = fd.vmap(lambda r, j: fnp.asarray(r)[j])
    np.testing.assert_array_equal(take(x, i), x[np.arange(4), i])
    np.testing.assert_array_equal(fd.jit(take)(x, i), x[np.arange(4), i])


# --- Jacobians as one batched pass --------------------------------------------------------

def test_jacobians_are_one_batched_pass(rng):
    """The jaxpr of jacfwd / jacrev does not grow with the number of basis vectors."""
    A = rng.standard_normal((4, 30))

    def tanh_map(M):
        return lambda x: fnp.tanh(M @ x)

    # jacfwd: as many basis vectors as inputs (3 or 30)
    n_small = len(fd.make_jaxpr(fd.jacfwd(tanh_map(A[:, :3])))(np.ones(3)).eqns)
    n_large = len(fd.make_jaxpr(fd.jacfwd(tanh_map(A)))(np.ones(30)).eqns)
    assert n_small == n_large
    # jacrev: as many basis vectors as outputs (4 or 30)
    n_small = len(fd.make_jaxpr(fd.jacrev(tanh_map(A[:, :4].T)))(np.ones(4)).eqns)
    n_large = len(fd.make_jaxpr(fd.jacrev(tanh_map(A.T)))(np.ones(4)).eqns)
    assert n_small == n_large
    f = tanh_map(A)
    x = rng.standard_normal(30)
    y = np.tanh(A @ x)
    want = (1 - y ** 2)[:, None] * A
    np.testing.assert_allclose(fd.jacfwd(f)(x), want, rtol=1e-12)
    np.testing.assert_allclose(fd.jacrev(f)(x), want, rtol=1e-12)
    np.testing.assert_allclose(fd.jit(fd.jacrev(f))(x), want, rtol=1e-12)


def test_jacobian_pytrees_and_hessian(rng):
    def f(p, x):
        return {"y": fnp.tanh(p["w"] @ x) * p["b"], "n": fnp.sum(x ** 2)}
    p = {"w": rng.standard_normal((2, 3)), "b": rng.standard_normal(2)}
    x = rng.standard_normal(3)
    jf = fd.jacfwd(f, argnums=(0, 1))(p, x)
    jr = fd.jacrev(f, argnums=(0, 1))(p, x)
    for a, b in zip(tree_flatten(jf)[0], tree_flatten(jr)[0]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert jf["y"][0]["w"].shape == (2, 2, 3) and jf["n"][1].shape == (3,)
    h = fd.hessian(lambda v: fnp.sum(v[:, None] * v[None, :] * fnp.sin(v)))(x)
    eps = 1e-5
    gr = fd.grad(lambda v: fnp.sum(v[:, None] * v[None, :] * fnp.sin(v)))
    fd_h = np.stack([(gr(x + eps * e) - gr(x - eps * e)) / (2 * eps) for e in np.eye(3)], 1)
    np.testing.assert_allclose(h, fd_h, rtol=1e-6, atol=1e-8)


# --- errors ------------------------------------------------------------------------------

def test_error_inconsistent_sizes_names_arguments():
    def f(x, y):
        return x + y
    with pytest.raises(BatchingError) as e:
        fd.vmap(f)(np.ones((3, 2)), np.ones((4, 2)))
    msg = str(e.value)
    assert "inconsistent sizes" in msg and " x " in msg and " y " in msg
    assert "size 3" in msg and "size 4" in msg
    assert isinstance(e.value, ValueError) and isinstance(e.value, fd.FuncdiffError)
    with pytest.raises(BatchingError, match="axis_size=5"):
        fd.vmap(f, axis_size=5)(np.ones(3), np.ones(3))
    with pytest.raises(BatchingError, match=r"d\['b'\]"):
        fd.vmap(lambda d: d["a"] + d["b"])({"a": np.ones(2), "b": np.ones(3)})


def test_error_in_axes_structure():
    with pytest.raises(fd.StructureError, match="one entry per positional argument"):
        fd.vmap(lambda x, y: x + y, in_axes=(0,))(np.ones(2), np.ones(2))
    with pytest.raises(fd.StructureError, match="tree prefix"):
        fd.vmap(lambda d: d["a"], in_axes=({"a": 0, "c": 0},))({"a": np.ones(2),
                                                                 "b": np.ones(2)})
    with pytest.raises(fd.StructureError, match="tree prefix"):
        fd.vmap(lambda x: x, in_axes=((0, 0),))(np.ones(2))
    with pytest.raises(fd.FuncdiffTypeError, match="int, None"):
        fd.vmap(lambda x: x, in_axes=1.0)
    with pytest.raises(fd.FuncdiffTypeError, match="int, None"):
        fd.vmap(lambda x: x, in_axes=({"a": "0"},))


def test_error_axis_out_of_range():
    with pytest.raises(BatchingError, match="at least 1 dimension") as e:
        fd.vmap(lambda x: x)(np.float64(1.0))
    assert "in_axes=None" in str(e.value)
    with pytest.raises(BatchingError, match="axis 2"):
        fd.vmap(lambda x: x, in_axes=2)(np.ones((2, 2)))
    with pytest.raises(BatchingError, match="axis -3"):
        fd.vmap(lambda x: x, in_axes=-3)(np.ones((2, 2)))
    with pytest.raises(BatchingError, match="out_axes=3"):
        fd.vmap(lambda x: x, out_axes=3)(np.ones((2, 2)))


def test_error_out_axes_none_for_mapped_output():
    with pytest.raises(BatchingError, match="out_axes is None"):
        fd.vmap(lambda x: x * 2, out_axes=None)(np.ones(3))
    with pytest.raises(BatchingError, match="at least one non-None"):
        fd.vmap(lambda x: x, in_axes=None)(np.ones(3))


def test_error_python_control_flow_on_mapped_value():
    with pytest.raises(fd.ConcretizationError, match="vmap"):
        fd.vmap(lambda x: x if x > 0 else -x)(np.ones(3))


@pytest.fixture
def nobatch_p():
    """A primitive without a batching rule, unregistered afterwards (the generated
    docs list the registry)."""
    from funcdiff.core.primitive import registry
    p = Primitive("test_vmap_nobatch")
    p.impl = lambda x: x * 2
    p.abstract_eval = lambda a: a
    yield p
    del registry[p.name]


def test_error_missing_rule_names_primitive(nobatch_p):
    _nobatch_p = nobatch_p
    with pytest.raises(BatchRuleError, match="`test_vmap_nobatch`") as e:
        fd.vmap(lambda x: _nobatch_p.bind(x) + 1)(np.ones(3))
    assert "test_vmap.py" in str(e.value)          # the user's line
    assert isinstance(e.value, NotImplementedError)
    # not mapped: no rule needed
    out = fd.vmap(lambda x, c: x + _nobatch_p.bind(c), (0, None))(np.ones(3), np.ones(()))
    np.testing.assert_array_equal(out, np.full(3, 3.0))


def test_trace_stack_clean_after_errors(nobatch_p):
    from funcdiff.core.trace import state
    _nobatch_p = nobatch_p
    for bad in (lambda: fd.vmap(lambda x: x if x > 0 else x)(np.ones(2)),
                lambda: fd.vmap(lambda x: _nobatch_p.bind(x))(np.ones(2))):
        with pytest.raises(fd.FuncdiffError):
            bad()
        assert not state.stack


math  # used by cases through fnp

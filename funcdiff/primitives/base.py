"""The base of the primitives: the structural primitives every rule helper binds, and
those helpers.

The generic rule helpers (``fit_to``, ``unbroadcast``, ``cast_ct``, ``instantiate``,
``add_tangents``; the batching helpers ``moveaxis``, ``matchaxis``, ...) bind ``add``,
``neg``, ``real``/``imag``/``complex``, ``convert_element_type``, ``broadcast_to``,
``reshape``, ``transpose``, ``full`` and ``reduce_sum``, whose own rules are built with
those same helpers: they call each other, so they live in one module.  Every other
primitive module imports from here (elementwise -> shape -> reduce -> dot -> indexing ->
linalg -> fft -> special -> matfun, each only from earlier ones).  Helpers are written
with primitives' ``bind``, so the rules they build differentiate again (as JAX's
``ad.defjvp``, ``deflinear``; autograd's ``unbroadcast``).

Batching (``vmap``) rules have one-line helpers too, as JAX's
``batching.defvectorized`` / ``defbroadcasting`` / ``defreducer``.  A batch rule is
``batch(args, dims, **params) -> (out, out_dim)`` (lists of outputs and dims for
``multiple_results`` primitives).  ``dims[i]`` is the axis of ``args[i]`` that is being
mapped over, or ``not_mapped`` (``None``) when ``args[i]`` is the same for every
example.  A rule is only called when at least one argument is mapped, so the batch size
is ``axis_size(args, dims)``.  Rules bind primitives (never NumPy on traced values), so
they run eagerly, record under an enclosing trace, and differentiate.

Convention: move the batch axis as little as possible.  Elementwise ops keep it where it
is when the operands agree; reductions, slices and cumulative ops shift their axis
params around it; only ops that need a fixed layout (reshape, broadcast_to) move it to
the front.
"""
from __future__ import annotations

import functools
import warnings

import numpy as np

from .._np_compat import LEGACY_PROMOTION, nep50_operands
from ..core.ad_types import UndefPrimal, Zero, is_undefined  # noqa: F401
from ..core.arraylib import asarray
from ..core.avals import ShapedArray, is_python_scalar, weak_sample
from ..core.errors import FuncdiffTypeError, ShapeError
from ..core.trace import Primitive, get_aval


def aval(x) -> ShapedArray:
    return x.aval if isinstance(x, (Zero, UndefPrimal)) else get_aval(x)


# --- dtype and shape rules -------------------------------------------------------------

@functools.lru_cache(maxsize=4096)
def numpy_result_dtype(np_fn, key):
    """The dtype NumPy gives ``np_fn`` on operands of these (dtype, weak) kinds."""
    samples = [weak_sample(dt) if weak else np.ones((1,), dt) for dt, weak in key]
    if all(weak for _, weak in key):
        samples[0] = np.ones((1,), np.result_type(samples[0]))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        out = np_fn(*samples)
    if isinstance(out, tuple):
        return tuple(np.asarray(o).dtype for o in out)
    return np.asarray(out).dtype


_RESULT_DTYPES: dict = {}


def result_dtype(np_fn, *avals):
    key = (np_fn,) + tuple((a.dtype, a.weak_type) for a in avals)
    dt = _RESULT_DTYPES.get(key)
    if dt is None:
        dt = _RESULT_DTYPES[key] = numpy_result_dtype(np_fn, key[1:])
    return dt


def broadcast_shapes(opname, *shapes):
    first = shapes[0]
    if all(s == first or s == () for s in shapes[1:]):
        return first
    if first == () and all(s == shapes[1] or s == () for s in shapes[2:]):
        return shapes[1]
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ShapeError(
            f"`{opname}`: operand shapes {', '.join(map(str, shapes))} do not broadcast "
            "together (NumPy broadcasting compares trailing dimensions, which must be "
            "equal or 1).  Reshape or transpose an operand, e.g. with x[:, None].") from None


# --- jvp and transpose helpers ------------------------------------------------------

def zeros_like_aval(a: ShapedArray):
    return full(a.shape, 0, a.dtype)


def instantiate(t, a=None):
    """A symbolic Zero becomes a real zeros array; anything else is returned as is."""
    if type(t) is Zero:
        return zeros_like_aval(t.aval)
    return t


def add_tangents(x, y):
    if type(x) is Zero:
        return y
    if type(y) is Zero:
        return x
    return add(x, y)


def defjvp(prim, *rules):
    """jvp from one rule per argument: ``rule(t_i, *primals, **params) -> contribution``
    (``None`` for a non-differentiable argument).  Zero tangents are skipped, the
    contributions summed, and the primal output computed with ``prim.bind``."""

    def jvp(primals, tangents, **params):
        out = prim.bind(*primals, **params)
        out_aval = aval(out)
        total = Zero(out_aval.strengthen())
        for rule, t in zip(rules, tangents):
            if rule is None or type(t) is Zero:
                continue
            total = add_tangents(total, rule(t, *primals, **params))
        if type(total) is not Zero:
            total = fit_to(total, out_aval)
        return out, total

    prim.jvp = jvp
    return jvp


def defjvp_out(prim, rule):
    """jvp for unary ops whose derivative is cheapest from the output:
    ``rule(t, out, x, **params)``."""

    def jvp(primals, tangents, **params):
        (x,), (t,) = primals, tangents
        out = prim.bind(x, **params)
        if type(t) is Zero:
            return out, Zero(aval(out).strengthen())
        return out, fit_to(rule(t, out, x, **params), aval(out))

    prim.jvp = jvp
    return jvp


def defjvp_zero(prim):
    """Piecewise-constant or integer-valued primitives: derivative zero everywhere."""

    def jvp(primals, tangents, **params):
        out = prim.bind(*primals, **params)
        if prim.multiple_results:
            return out, [Zero(aval(o).strengthen()) for o in out]
        return out, Zero(aval(out).strengthen())

    prim.jvp = jvp
    prim.sparsity = "zero"
    return jvp


def deflinear(prim, transpose_rule):
    """A primitive linear in all its (array) arguments: jvp applies it to the tangents."""

    def jvp(primals, tangents, **params):
        out = prim.bind(*primals, **params)
        if all(type(t) is Zero for t in tangents):
            return out, Zero(aval(out).strengthen())
        tans = [instantiate(t) for t in tangents]
        return out, prim.bind(*tans, **params)

    prim.jvp = jvp
    prim.transpose = transpose_rule
    prim.linear = True
    return jvp


def fit_to(t, a: ShapedArray):
    """Make a tangent have exactly aval ``a``'s shape and dtype (broadcast, cast)."""
    ta = aval(t)
    if ta.shape != a.shape:
        t = broadcast_to(t, a.shape)
    if ta.dtype != a.dtype:
        t = convert_element_type(t, dtype=a.dtype)
    return t


# --- transpose helpers ----------------------------------------------------------------

def unbroadcast(ct, a: ShapedArray):
    """Sum ``ct`` down to aval ``a``'s shape (undoing broadcasting) and cast it to
    ``a``'s dtype: the one cotangent-fitting rule for every broadcasting primitive."""
    if type(ct) is Zero:
        return Zero(a.strengthen())
    cta = aval(ct)
    if cta.shape != a.shape:
        lead = len(cta.shape) - len(a.shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, d in enumerate(a.shape) if d == 1 and cta.shape[lead + i] != 1)
        if axes:
            ct = reduce_sum(ct, axes=axes)
        if aval(ct).shape != a.shape:
            ct = reshape(ct, shape=a.shape)
    return cast_ct(ct, a)


def cast_ct(ct, a: ShapedArray):
    """Cotangents take their primal's dtype (complex->real takes the real part)."""
    cta = aval(ct)
    if cta.dtype == a.dtype:
        return ct
    if np.issubdtype(cta.dtype, np.complexfloating) and not np.issubdtype(
            a.dtype, np.complexfloating):
        ct = real(ct)
    if not np.issubdtype(a.dtype, np.inexact):
        return Zero(a.strengthen())
    return convert_element_type(ct, dtype=a.dtype)


# --- batching (vmap) helpers ----------------------------------------------------------

not_mapped = None
"""The ``dims`` entry of an argument that is not mapped over (JAX's ``not_mapped``)."""


def axis_size(args, dims) -> int:
    """The batch size: the length of the mapped axis of any mapped argument."""
    for x, d in zip(args, dims):
        if d is not None:
            return aval(x).shape[d]
    raise ValueError("axis_size: no argument is mapped")


def shift_axis(a: int, bdim) -> int:
    """Where a per-example axis ``a`` sits in an array whose batch axis is ``bdim``."""
    return a if bdim is None or a < bdim else a + 1


def shift_axes(axes, bdim) -> tuple:
    return tuple(shift_axis(a, bdim) for a in axes)


def moveaxis(x, src: int, dst: int):
    """``numpy.moveaxis`` with the ``transpose`` primitive (a no-op when src == dst)."""
    nd = aval(x).ndim
    src, dst = src % nd, dst % nd
    if src == dst:
        return x
    perm = [i for i in range(nd) if i != src]
    perm.insert(dst, src)
    return transpose(x, tuple(perm))


def expand_dims(x, axis: int):
    """Insert a length-1 axis at ``axis`` (a reshape: a view, no copy)."""
    shape = list(aval(x).shape)
    shape.insert(axis, 1)
    return reshape(x, tuple(shape))


def broadcast_batch(x, size: int, axis: int):
    """An unmapped ``x`` made mapped: ``size`` copies along a new axis ``axis``
    (``broadcast_to``: a view in NumPy, no copy)."""
    shape = list(aval(x).shape)
    shape.insert(axis, size)
    return broadcast_to(expand_dims(x, axis), tuple(shape))


def matchaxis(x, src, dst: int, size: int):
    """``x`` with its batch axis at ``dst``: moved from ``src``, or broadcast if
    ``src`` is ``not_mapped``."""
    if src is None:
        return broadcast_batch(x, size, dst)
    return moveaxis(x, src, dst)


def bdim_at_front(x, bdim, size: int):
    """``x`` with its batch axis first (broadcast when not mapped)."""
    return matchaxis(x, bdim, 0, size)


def batch_at_front_padded(x, bdim, rank: int):
    """A mapped ``x`` with its batch axis first and length-1 axes inserted after it so
    that its per-example part has ``rank`` axes (NumPy broadcasting aligns the rest)."""
    x = moveaxis(x, bdim, 0)
    shape = aval(x).shape
    missing = rank - (len(shape) - 1)
    if missing > 0:
        x = reshape(x, shape[:1] + (1,) * missing + shape[1:])
    return x


# --- rule factories ----------------------------------------------------------------------

def vectorized_batcher(prim):
    """For primitives acting independently on each element of one operand, whose params
    name no axis: apply as is, the batch axis stays put."""
    def batch(args, dims, **params):
        (x,), (d,) = args, dims
        return prim.bind(x, **params), d
    return batch


def defvectorized(prim):
    prim.batch = vectorized_batcher(prim)
    return prim.batch


def align_broadcasting(args, dims):
    """Operands of an n-ary NumPy-broadcasting op, arranged so that the batch axes line
    up and NumPy broadcasting does the rest.  Returns ``(new_args, out_dim)``.

    If every mapped operand has the same batch axis and the full per-example rank, that
    axis is kept (unmapped operands that reach past it get a length-1 axis there);
    otherwise mapped operands move their batch axis to the front and get length-1 axes
    so they line up on the right, as NumPy broadcasting requires."""
    ranks = [aval(x).ndim - (d is not None) for x, d in zip(args, dims)]
    rank = max(ranks)
    mapped = [(d, r) for d, r in zip(dims, ranks) if d is not None]
    d0 = mapped[0][0]
    if all(d == d0 and r == rank for d, r in mapped):
        new = []
        for x, d, r in zip(args, dims, ranks):
            # an unmapped operand covers the last r per-example axes; if those include
            # positions at or before the batch axis it needs a 1 at the batch axis
            if d is None and r > rank - d0:
                x = expand_dims(x, d0 - (rank - r))
            new.append(x)
        return new, d0
    new = [x if d is None else batch_at_front_padded(x, d, rank)
           for x, d, r in zip(args, dims, ranks)]
    return new, 0


def broadcasting_batcher(prim):
    """For elementwise primitives with NumPy broadcasting (any number of operands)."""
    def batch(args, dims, **params):
        if len(args) == 1:
            return prim.bind(args[0], **params), dims[0]
        new, d = align_broadcasting(args, dims)
        return prim.bind(*new, **params), d
    return batch


def defbroadcasting(prim):
    prim.batch = broadcasting_batcher(prim)
    return prim.batch


def defreducer(prim, param: str = "axes"):
    """For reductions over the axes in ``params[param]`` (a tuple, or an int for
    single-axis ones such as argmax): the axes shift past the batch axis, and the
    batch axis moves left by the number of reduced axes before it."""
    def batch(args, dims, **params):
        (x,), (d,) = args, dims
        if aval(x).ndim == 1 and params[param] != ():
            # a 0-d example reduced over "axis 0" (NumPy allows it): give it that axis
            x = expand_dims(x, 1)
        axes = params[param]
        if isinstance(axes, int):
            new_axes = shift_axis(axes, d)
            removed = int(axes < d)
        else:
            new_axes = shift_axes(axes, d)
            removed = sum(1 for a in axes if a < d)
        params[param] = new_axes
        return prim.bind(x, **params), d - removed
    prim.batch = batch
    return batch


def defaxis(prim, param: str = "axis"):
    """For shape-preserving ops along one axis (cumsum, cumprod): shift the axis."""
    def batch(args, dims, **params):
        (x,), (d,) = args, dims
        if aval(x).ndim == 1:   # a 0-d example (NumPy allows axis 0): give it that axis
            out = prim.bind(expand_dims(x, 1), **dict(params, **{param: 1}))
            return reshape(out, aval(x).shape), 0
        params[param] = shift_axis(params[param], d)
        return prim.bind(x, **params), d
    prim.batch = batch
    return batch


def defaxes(prim, param: str = "axes"):
    """For shape-preserving ops over a tuple of axes (rev): shift the axes."""
    def batch(args, dims, **params):
        (x,), (d,) = args, dims
        params[param] = shift_axes(params[param], d)
        return prim.bind(x, **params), d
    prim.batch = batch
    return batch


def leading_batcher(prim):
    """For primitives that already treat leading axes as batch axes and want *equal*
    batch shapes across their array operands (``numpy.linalg``-style ``(..., n, n)``):
    mapped operands get their batch axis first, unmapped ones are broadcast along it
    (a view), and every output comes back with the batch axis first."""
    def batch(args, dims, **params):
        size = axis_size(args, dims)
        new = [bdim_at_front(x, d, size) for x, d in zip(args, dims)]
        out = prim.bind(*new, **params)
        if prim.multiple_results:
            return list(out), [0] * len(out)
        return out, 0
    return batch


# --- elementwise primitives -----------------------------------------------------------

_PY = (bool, int, float, complex)


def _impl(np_fn):
    """NumPy's function, keeping results of all-Python-scalar operands Python scalars
    (weakly typed), so promotion at run time matches the abstract rule."""

    def impl(*args):
        out = np_fn(*args)
        if isinstance(out, np.generic) and all(type(a) in _PY for a in args):
            return out.item()
        return out

    if LEGACY_PROMOTION:
        impl = _legacy_impl(np_fn, impl)
    impl.__name__ = getattr(np_fn, "__name__", "impl")
    return impl


def _legacy_impl(np_fn, impl):
    """NumPy 1.x: ``impl`` computing in the dtype NumPy 2 (and the abstract rule) gives.
    Strong 0-d operands are promoted by dtype, not by value (``nep50_operands``), and a
    Python scalar too large for the other operand's dtype, which NumPy 1.x promotes by
    value, is cast back to the abstract rule's dtype, as NumPy 2 would compute it (an
    integer out of the integer dtype's range raises OverflowError, as in NumPy 2)."""
    ufunc = isinstance(np_fn, np.ufunc)

    def legacy_impl(*args):
        fixed = nep50_operands(args)
        if fixed is None:
            out = impl(*args)
            if type(out) in _PY or not any(type(a) in _PY for a in args):
                return out
        else:
            ops, all_0d = fixed
            out = np_fn(*ops)
            if all_0d:
                out = out[0] if ufunc else out.reshape(())
        want = result_dtype(np_fn, *[get_aval(a) for a in args])   # (Dask arrays too)
        if out.dtype != want:
            if want.kind in "iu":   # as NumPy 2: no silent wrap-around
                for a in args:
                    if type(a) is int and not np.iinfo(want).min <= a <= np.iinfo(want).max:
                        raise OverflowError(f"Python integer {a} out of bounds for {want}")
            out = want.type(out) if isinstance(out, np.generic) else out.astype(want)
        return out

    return legacy_impl


def _elementwise_abstract(name, np_fn, out_dtype=None):
    # Hot in tracing, so one- and two-operand calls take fast paths: the output dtype is
    # memoized per (dtype, weak) combination, and when the output aval equals an
    # operand's (sin(x), x * 2.0, x + y on equal avals) that (immutable) aval is reused.
    dtypes: dict = {}

    def abstract_eval(*avals):
        n = len(avals)
        if n == 1:
            a = avals[0]
            if out_dtype is not None:
                return ShapedArray(a.shape, out_dtype)
            key = (a.dtype, a.weak_type)
            dtype = dtypes.get(key)
            if dtype is None:
                dtype = dtypes[key] = result_dtype(np_fn, a)
            return a if dtype == a.dtype else ShapedArray(a.shape, dtype, a.weak_type)
        if n == 2:
            a, b = avals
            sa, sb = a.shape, b.shape
            shape = sa if (sa == sb or sb == ()) else sb if sa == () else broadcast_shapes(
                name, sa, sb)
            if out_dtype is not None:
                return ShapedArray(shape, out_dtype)
            key = (a.dtype, a.weak_type, b.dtype, b.weak_type)
            dtype = dtypes.get(key)
            if dtype is None:
                dtype = dtypes[key] = result_dtype(np_fn, a, b)
            weak = a.weak_type and b.weak_type
            if shape is sa and dtype == a.dtype and weak == a.weak_type:
                return a
            if shape is sb and dtype == b.dtype and weak == b.weak_type:
                return b
            return ShapedArray(shape, dtype, weak)
        shape = broadcast_shapes(name, *[a.shape for a in avals])
        dtype = out_dtype if out_dtype is not None else result_dtype(np_fn, *avals)
        weak = all(a.weak_type for a in avals) and out_dtype is None
        return ShapedArray(shape, dtype, weak)
    return abstract_eval


def _elementwise_cost(transcendental):
    def cost(avals_in, avals_out, **params):
        n = avals_out[0].size
        return {"flops": n, "transcendentals": n if transcendental else 0}
    return cost


def elementwise(name, np_fn, *, transcendental=False, out_dtype=None, float_only=False,
                emit=None, numexpr=None, float_literal_ok=False, py_kinds=None):
    """A new elementwise primitive wrapping ``np_fn``; ``numexpr``,
    ``float_literal_ok`` and ``py_kinds`` are facts jit asks (see ``Primitive``)."""
    prim = Primitive(name)
    prim.np_fn = np_fn
    prim.py_kinds = py_kinds
    prim.numexpr = numexpr
    prim.float_literal_ok = float_literal_ok
    prim.sparsity = "elementwise"
    prim.impl = _impl(np_fn)
    abstract = _elementwise_abstract(name, np_fn, out_dtype)
    if float_only:
        def abstract_checked(*avals):
            for a in avals:
                if a.dtype.kind not in "fc":
                    raise FuncdiffTypeError(f"`{name}` needs floating-point operands, "
                                            f"got {a.str_short()}")
            return abstract(*avals)
        prim.abstract_eval = abstract_checked
    else:
        prim.abstract_eval = abstract
    prim.cost = _elementwise_cost(transcendental)
    prim.batch = broadcasting_batcher(prim)   # vmap: align batch axes, NumPy broadcasts
    nargs = getattr(np_fn, "nin", 1)
    prim.emit = emit or ("np." + np_fn.__name__ + "(" +
                         ", ".join("{%d}" % i for i in range(nargs)) + ")")
    return prim


# binders: user-level functions of the primitives (used by rules and funcdiff.numpy)

def _binder(prim):
    def f(*args):
        return prim.bind(*args)
    f.__name__ = prim.name
    f.__doc__ = f"Bind the `{prim.name}` primitive."
    f.primitive = prim   # lets hot callers (funcdiff.numpy) call prim.bind directly
    return f


# --- add and neg ---------------------------------------------------------------------

add_p = elementwise("add", np.add, emit="{0} + {1}", numexpr="({0}+{1})",
                    float_literal_ok=True, py_kinds="iufc")
neg_p = elementwise("neg", np.negative, emit="-{0}", numexpr="(-{0})", py_kinds="iufc")
add, neg = _binder(add_p), _binder(neg_p)


def _linear_binop_transpose(sign_y):
    def transpose(ct, x, y):
        cx = unbroadcast(ct, aval(x)) if is_undefined(x) else None
        cy = None
        if is_undefined(y):
            cy = unbroadcast(ct if (sign_y > 0 or type(ct) is Zero) else neg(ct), aval(y))
        return [cx, cy]
    return transpose


def _add_jvp(primals, tangents):
    x, y = primals
    tx, ty = tangents
    out = add(x, y)
    oa = aval(out)
    if type(tx) is Zero and type(ty) is Zero:
        return out, Zero(oa.strengthen())
    if type(tx) is Zero:
        return out, fit_to(ty, oa)
    if type(ty) is Zero:
        return out, fit_to(tx, oa)
    return out, fit_to(add(tx, ty), oa)


add_p.jvp = _add_jvp
add_p.transpose = _linear_binop_transpose(+1)
add_p.linear = True

defjvp(neg_p, lambda t, x: neg(t))
neg_p.transpose = lambda ct, x: [Zero(aval(x).strengthen()) if type(ct) is Zero else
                                  cast_ct(neg(ct), aval(x))]
neg_p.linear = True

# --- complex parts ----------------------------------------------------------------------

real_p = elementwise("real", np.real)
imag_p = elementwise("imag", np.imag)
conj_p = elementwise("conj", np.conjugate)


def _complex_np(x, y):
    """``x + iy`` with exactly these parts: ``x + 1j * y`` has the real part ``x + 0 * y``,
    NaN for an infinite ``y`` (so ``complex(0, inf)`` would be ``nan+infj``)."""
    z = np.add(x, np.multiply(y, 1j))
    if np.any(np.isinf(y)):
        z = np.array(z)
        z.real, z.imag = x, y
        z = z if z.ndim else z[()]
    return z


complex_p = elementwise("complex", _complex_np, emit=lambda args, params, gen: (
    f"{gen.const(_complex_np, 'complex')}({args[0]}, {args[1]})"))
real, imag, conj, make_complex = map(_binder, (real_p, imag_p, conj_p, complex_p))


def _real_abstract(a):
    dt = np.empty(0, a.dtype).real.dtype
    return ShapedArray(a.shape, dt, a.weak_type)


real_p.abstract_eval = imag_p.abstract_eval = _real_abstract
real_p.returns_view = True   # (of a complex array; of a real one, the array itself)
real_p.impl = lambda x: np.real(x) if not is_python_scalar(x) else complex(x).real
imag_p.impl = lambda x: np.imag(x) if not is_python_scalar(x) else complex(x).imag


def _complex_transpose(ct, x, y):
    return [unbroadcast(real(ct), aval(x)) if is_undefined(x) else None,
            unbroadcast(neg(imag(ct)), aval(y)) if is_undefined(y) else None]


defjvp(real_p, lambda t, x: real(t))
defjvp(imag_p, lambda t, x: imag(t))
defjvp(conj_p, lambda t, x: conj(t))
defjvp(complex_p, lambda t, x, y: make_complex(t, 0.0),
       lambda t, x, y: make_complex(0.0, t))
for _p in (real_p, imag_p, conj_p, complex_p):
    _p.linear = True
real_p.transpose = lambda ct, x: [
    Zero(aval(x).strengthen()) if type(ct) is Zero else
    cast_ct(make_complex(ct, 0.0), aval(x))]
imag_p.transpose = lambda ct, x: [
    Zero(aval(x).strengthen()) if type(ct) is Zero else
    cast_ct(make_complex(0.0, neg(ct)), aval(x))]
conj_p.transpose = lambda ct, x: [
    Zero(aval(x).strengthen()) if type(ct) is Zero else cast_ct(conj(ct), aval(x))]
complex_p.transpose = lambda ct, x, y: (
    [Zero(aval(x).strengthen()) if is_undefined(x) else None,
     Zero(aval(y).strengthen()) if is_undefined(y) else None]
    if type(ct) is Zero else _complex_transpose(ct, x, y))

# --- dtype conversion -------------------------------------------------------------------

convert_element_type_p = Primitive("convert_element_type")
convert_element_type_p.sparsity = "elementwise"


def convert_element_type(x, *, dtype, weak_type=False):
    return convert_element_type_p.bind(x, dtype=np.dtype(dtype), weak_type=weak_type)


def _convert_impl(x, *, dtype, weak_type=False):
    if weak_type and np.ndim(x) == 0:
        return np.asarray(x).astype(dtype).item()
    if np.ndim(x) == 0 and (type(x) in _PY or isinstance(x, np.generic)):
        return dtype.type(x)
    x = asarray(x)   # (another library's array stays one)
    return x if x.dtype == dtype else x.astype(dtype)


def _convert_abstract(x, *, dtype, weak_type=False):
    return ShapedArray(x.shape, dtype, weak_type)


def _convert_jvp(primals, tangents, *, dtype, weak_type=False):
    (x,), (t,) = primals, tangents
    out = convert_element_type(x, dtype=dtype, weak_type=weak_type)
    oa = aval(out)
    if type(t) is Zero or dtype.kind not in "fc":
        return out, Zero(oa.strengthen())
    if aval(t).dtype.kind == "c" and dtype.kind != "c":
        t = real(t)
    return out, convert_element_type(t, dtype=dtype)


def _convert_transpose(ct, x, *, dtype, weak_type=False):
    if type(ct) is Zero:
        return [Zero(aval(x).strengthen())]
    return [cast_ct(ct, aval(x))]


convert_element_type_p.impl = _convert_impl
convert_element_type_p.abstract_eval = _convert_abstract
convert_element_type_p.jvp = _convert_jvp
convert_element_type_p.transpose = _convert_transpose
convert_element_type_p.linear = True
convert_element_type_p.cost = lambda ai, ao, **p: {"flops": 0, "transcendentals": 0}
convert_element_type_p.emit = "np.asarray({0}).astype({dtype})"
defvectorized(convert_element_type_p)


# --- structural shape primitives (the rest are in shape.py) -------------------------------

def _no_flops(avals_in, avals_out, **params):
    return {"flops": 0, "transcendentals": 0}


def _shape_prim(name):
    """A primitive moving elements without computing (its output elements are copies
    of operand elements: the ``"copy"`` sparsity family)."""
    p = Primitive(name)
    p.cost = _no_flops
    p.sparsity = "copy"
    return p


def _zero_ct(x):
    return Zero(aval(x).strengthen())


# --- broadcast_to --------------------------------------------------------------------

broadcast_to_p = _shape_prim("broadcast_to")


def broadcast_to(x, shape):
    shape = tuple(int(d) for d in shape)
    if aval(x).shape == shape:
        return x
    return broadcast_to_p.bind(x, shape=shape)


broadcast_to_p.impl = lambda x, *, shape: np.broadcast_to(x, shape)


def _broadcast_to_abstract(x, *, shape):
    try:
        if np.broadcast_shapes(x.shape, shape) != shape:
            raise ValueError
    except ValueError:
        raise ShapeError(f"`broadcast_to`: cannot broadcast shape {x.shape} to {shape}") \
            from None
    return ShapedArray(shape, x.dtype)


broadcast_to_p.abstract_eval = _broadcast_to_abstract
deflinear(broadcast_to_p, lambda ct, x, *, shape: [unbroadcast(ct, aval(x))])
broadcast_to_p.emit = "np.broadcast_to({0}, {shape})"
broadcast_to_p.returns_view = True
broadcast_to_p.read_only_result = True   # NumPy's broadcasts are read-only views
broadcast_to_p.foldable = False   # a view at run time: folding would allocate its memory


def _broadcast_to_batch(args, dims, *, shape):
    # batch axis first, then 1s so the per-example part lines up on the right
    (x,), (d,) = args, dims
    x = batch_at_front_padded(x, d, len(shape))
    return broadcast_to(x, (aval(x).shape[0],) + shape), 0


broadcast_to_p.batch = _broadcast_to_batch

# --- reshape ---------------------------------------------------------------------------

reshape_p = _shape_prim("reshape")


def reshape(x, shape):
    shape = tuple(int(d) for d in shape)
    if aval(x).shape == shape:
        return x
    return reshape_p.bind(x, shape=shape)


reshape_p.impl = lambda x, *, shape: np.reshape(x, shape)


def _reshape_abstract(x, *, shape):
    if int(np.prod(shape, dtype=np.int64)) != x.size:
        raise ShapeError(f"`reshape`: cannot reshape an array of shape {x.shape} "
                         f"(size {x.size}) into shape {shape}")
    return ShapedArray(shape, x.dtype, x.weak_type)


reshape_p.abstract_eval = _reshape_abstract
deflinear(reshape_p, lambda ct, x, *, shape: [
    _zero_ct(x) if type(ct) is Zero else reshape(ct, aval(x).shape)])
reshape_p.emit = "np.reshape({0}, {shape})"
reshape_p.returns_view = True


def _reshape_batch(args, dims, *, shape):
    (x,), (d,) = args, dims
    x = moveaxis(x, d, 0)
    return reshape(x, (aval(x).shape[0],) + shape), 0


reshape_p.batch = _reshape_batch

# --- transpose -------------------------------------------------------------------------

transpose_p = _shape_prim("transpose")


def transpose(x, perm):
    perm = tuple(int(p) for p in perm)
    if perm == tuple(range(len(perm))):
        return x
    return transpose_p.bind(x, perm=perm)


transpose_p.impl = lambda x, *, perm: np.transpose(x, perm)


def _transpose_abstract(x, *, perm):
    if sorted(perm) != list(range(x.ndim)):
        raise ShapeError(f"`transpose`: axes {perm} are not a permutation of the "
                         f"{x.ndim} axes of shape {x.shape}")
    return ShapedArray(tuple(x.shape[p] for p in perm), x.dtype, x.weak_type)


transpose_p.abstract_eval = _transpose_abstract
deflinear(transpose_p, lambda ct, x, *, perm: [
    _zero_ct(x) if type(ct) is Zero else transpose(ct, tuple(np.argsort(perm)))])
transpose_p.emit = "np.transpose({0}, {perm})"
transpose_p.returns_view = True


def _transpose_batch(args, dims, *, perm):
    # one transpose that also keeps the batch axis where it was
    (x,), (d,) = args, dims
    new = [shift_axis(p, d) for p in perm]
    new.insert(d, d)
    return transpose(x, tuple(new)), d


transpose_p.batch = _transpose_batch

# --- full -------------------------------------------------------------------------------

full_p = _shape_prim("full")


def full(shape, value, dtype):
    """A constant array, recorded as an eqn under a trace (so ``.at[]`` works on it)."""
    return full_p.bind(shape=tuple(int(d) for d in shape), value=value, dtype=np.dtype(dtype))


full_p.impl = lambda *, shape, value, dtype: np.full(shape, value, dtype)
full_p.abstract_eval = lambda *, shape, value, dtype: ShapedArray(shape, dtype)
full_p.jvp = lambda primals, tangents, **p: (full(**p), Zero(ShapedArray(p["shape"], p["dtype"])))
full_p.emit = "np.full({shape}, {value}, {dtype})"

# --- reductions (the reducer factory and reduce_sum; the rest are in reduce.py) -----------

def _check_axes(name, x, axes):
    if any(not 0 <= a < max(x.ndim, 1) for a in axes) or len(set(axes)) != len(axes):
        raise ShapeError(f"`{name}`: axes {axes} invalid for shape {x.shape}")


def _reduce_shape(x, axes):
    return tuple(d for i, d in enumerate(x.shape) if i not in axes)


def _keepdims_shape(shape, axes):
    return tuple(1 if i in axes else d for i, d in enumerate(shape))


def _reduce_cost(avals_in, avals_out, **params):
    return {"flops": avals_in[0].size, "transcendentals": 0}


def _reducer(name, np_fn, keep_dtype=True):
    p = Primitive(name)
    p.sparsity = "reduce"

    # the ufunc's own reduce: what np.sum/np.max/... call, without their Python wrapper
    ufunc = {np.sum: np.add, np.prod: np.multiply, np.max: np.maximum,
             np.min: np.minimum}.get(np_fn)

    def impl(x, *, axes):
        x = asarray(x)
        if type(x) is not np.ndarray:   # another library's array: no ufunc.reduce (Dask)
            return np_fn(x, axis=axes, dtype=x.dtype) if keep_dtype and \
                np_fn in (np.sum, np.prod) else np_fn(x, axis=axes)
        if ufunc is not None:
            return ufunc.reduce(x, axis=axes, dtype=x.dtype) if keep_dtype and \
                np_fn in (np.sum, np.prod) else ufunc.reduce(x, axis=axes)
        return np_fn(x, axis=axes)

    def abstract_eval(x, *, axes):
        _check_axes(name, x, axes)
        if not keep_dtype:
            return ShapedArray(_reduce_shape(x, axes), np.dtype(bool))
        return ShapedArray(_reduce_shape(x, axes), x.dtype)

    p.impl = impl
    p.abstract_eval = abstract_eval
    p.cost = _reduce_cost
    p.emit = (f"np.{np_fn.__name__}({{0}}, axis={{axes}}, dtype={{out_dtype}})"
              if np_fn in (np.sum, np.prod) else f"np.{np_fn.__name__}({{0}}, axis={{axes}})")
    defreducer(p, "axes")
    return p


def expand_reduced(y, shape, axes):
    """Broadcast a reduction's result back to the operand's shape."""
    return broadcast_to(reshape(y, _keepdims_shape(shape, axes)), shape)


# --- sum ---------------------------------------------------------------------------------

reduce_sum_p = _reducer("reduce_sum", np.sum)
reduce_sum_p.returns_new_array = True


def reduce_sum(x, axes):
    axes = tuple(sorted(int(a) for a in axes))
    if not axes:
        return x
    return reduce_sum_p.bind(x, axes=axes)


deflinear(reduce_sum_p, lambda ct, x, *, axes: [
    Zero(aval(x).strengthen()) if type(ct) is Zero else
    expand_reduced(ct, aval(x).shape, axes)])


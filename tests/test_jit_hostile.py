"""jit codegen and cache defects of issue 16, each compared with the same call without
jit: operator precedence in generated code, cache and CSE keys that merge values NumPy
tells apart, numexpr fusion (size, literals, accuracy), names that are not ASCII
identifiers, and hostile strings (file and function names, checkpoint and primitive
names) through every path that generates Python source."""
from __future__ import annotations

import math
import struct
import sys
from unittest import mock

import numpy as np
import pytest

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff import lax
from funcdiff.checkpoint import checkpoint_name, save_only_these_names
from funcdiff.core.ir import ExactKey, Literal, literal_key, param_key, value_key
from funcdiff.core.primitive import Primitive, registry
from funcdiff.jit import pysource
from funcdiff.jit.passes import fuse
from funcdiff.tree_util import tree_flatten, tree_map, tree_structure

from _helpers import nep50

try:
    import numexpr  # noqa: F401
    HAS_NUMEXPR = True
except ImportError:
    HAS_NUMEXPR = False

needs_numexpr = pytest.mark.skipif(not HAS_NUMEXPR, reason="numexpr not installed")
BIG = 1 << 17          # elements: above fuse.FUSE_MIN_SIZE, so numexpr fusion applies


@pytest.fixture(autouse=True)
def _numexpr_or_numpy_code():
    """This module tests numexpr fusion and plain NumPy code: blocked fusion, which
    would take the large chains first, is off here (tests/test_jit_blocked.py runs the
    literal, chain and hostile-name cases of this module through it)."""
    with mock.patch.object(fd.config, "blocked_fusion", False):
        yield


def bits(a):
    """The exact bit patterns of a float (or complex) array: compares signs of zero and
    NaN payloads, which == and assert_array_equal do not."""
    a = np.asarray(a)
    return a.dtype, a.shape, a.tobytes()


def nan_with_payload(p):
    return struct.unpack("<d", struct.pack("<Q", 0x7FF8000000000000 | p))[0]


def assert_ulps(got, want, ulps):
    """``got`` within ``ulps`` units in the last place of ``want`` (same NaNs, infs)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    ok = np.isfinite(want)
    np.testing.assert_array_equal(got[~ok & ~np.isnan(want)], want[~ok & ~np.isnan(want)])
    err = np.abs(got[ok] - want[ok]) / np.spacing(np.abs(want[ok]))
    assert err.max(initial=0) <= ulps, err.max()


# --- 1. operator precedence ---------------------------------------------------------------

def test_negative_literal_base_of_pow():
    x = np.array([2.0, 3.0])
    f = lambda x: (-2.0) ** x       # noqa: E731
    np.testing.assert_array_equal(fd.jit(f)(x), [4.0, -8.0])
    np.testing.assert_array_equal(fd.jit(f)(x), f(x))


_BINARY_OPS = [np.power, np.add, np.subtract, np.multiply, np.true_divide,
               np.floor_divide, np.remainder, np.maximum, np.minimum, np.less,
               np.greater_equal, np.equal, np.arctan2, np.hypot, np.logaddexp]


@pytest.mark.parametrize("op", _BINARY_OPS, ids=lambda op: op.__name__)
@pytest.mark.parametrize("lit", [-2.0, -3, -0.0, -1e-300, -2.5e+30])
def test_negative_literals_in_every_operand_slot(op, lit):
    """A negative literal on either side of every operator template: jit == NumPy."""
    x = np.array([2.0, 3.0, -1.5, 0.5])
    for f in (lambda x: op(lit, x), lambda x: op(x, lit), lambda x: op(lit, -x)):
        with np.errstate(all="ignore"):
            want = f(x)
            got = fd.jit(f)(x)
        assert bits(got) == bits(want), (got, want)


@pytest.mark.parametrize("op", [np.bitwise_and, np.bitwise_or, np.bitwise_xor, np.power,
                                np.floor_divide, np.remainder, np.subtract], ids=str)
def test_negative_int_literals_in_integer_templates(op):
    x = np.array([1, 2, 3], np.int64)
    fs = [lambda x: op(-3, x), lambda x: ~op(-2, x), lambda x: -op(-3, x)]
    if op is not np.power:     # (NumPy refuses negative integer powers)
        fs.append(lambda x: op(x, -3))
    for f in fs:
        got, want = fd.jit(f)(x), f(x)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_operand_brackets_whatever_is_not_a_primary():
    for text in ("a0", "_lit3", "np.pi", "2.5", "1e-05", "3j", "(a + b)", "(-2.0)", "[a, b]",
                 "True", "None"):
        assert pysource.operand(text) == text
    for text in ("-2.0", "-a", "a + b", "(a) + (b)", "a ** b", "not a", "-1e-05", "1+2j",
                 "a if b else a", "lambda: a", "f(a)[b] + 1", "2 * 3"):
        assert pysource.operand(text) == f"({text})"
        if "lambda" not in text:   # (brackets keep the value, whatever the slot)
            ns = {"a": 2, "b": 3, "f": lambda a: [1, 2, 3, 4]}
            assert eval(pysource.operand(text) + " ** 2", ns) == eval(f"({text}) ** 2", ns)


# --- 2. keys: type and exact value ---------------------------------------------------------

def test_cse_keeps_signed_zero_params_apart():
    f = lambda x: (x / fnp.zeros(3), x / fnp.full(3, -0.0))     # noqa: E731
    x = np.ones(3)
    with np.errstate(divide="ignore"):
        got, want = fd.jit(f)(x), f(x)
    np.testing.assert_array_equal(got[1], [-np.inf] * 3)
    assert bits(got[0]) == bits(want[0]) and bits(got[1]) == bits(want[1])


def test_cse_keeps_nan_payloads_and_scalar_types_apart():
    na, nb = nan_with_payload(1), nan_with_payload(2)
    x = np.linspace(0.0, 1.0, 4)
    for f in (lambda x: (x + na, x + nb), lambda x: (fnp.full(4, na) + x, fnp.full(4, nb) + x),
              lambda x: (x * fnp.full(4, 1.0), x * fnp.full(4, True, float),
                         x * fnp.full(4, 1, float))):
        got, want = fd.jit(f)(x), f(x)
        assert [bits(g) for g in got] == [bits(w) for w in want]


def test_value_key_distinguishes_what_numpy_distinguishes():
    same_by_eq = [1, 1.0, True, np.float64(1), np.float32(1), np.int64(1), 1 + 0j]
    assert len({value_key(v) for v in same_by_eq}) == len(same_by_eq)
    assert value_key(0.0) != value_key(-0.0)
    assert value_key(complex(0, 0.0)) != value_key(complex(0, -0.0))
    assert value_key(np.float64(0.0)) != value_key(np.float64(-0.0))
    na, nb = nan_with_payload(1), nan_with_payload(2)
    assert value_key(na) != value_key(nb) and value_key(na) == value_key(nan_with_payload(1))
    assert value_key((1, (0.0,))) != value_key((1, (-0.0,)))
    assert value_key((1, 2)) != value_key((True, 2)) and value_key((1, 2)) == value_key((1, 2))
    assert value_key(slice(0, 1)) == value_key(slice(0, 1)) != value_key(slice(0, True))
    assert param_key(0.0) != param_key(-0.0)
    assert literal_key(Literal(na)) != literal_key(Literal(nb))
    assert ExactKey(1) != ExactKey(True) and ExactKey(2.5) == ExactKey(2.5)
    assert {ExactKey(0.0), ExactKey(-0.0)} == {ExactKey(-0.0), ExactKey(0.0)}
    a = np.ones(2)
    assert param_key(a) == param_key(a) != param_key(np.ones(2))   # arrays: by identity


def test_static_argument_type_retraces():
    k = fd.jit(lambda x, s: fnp.full(2, s), static_argnums=1)
    x = np.ones(2)
    for s in (1, True, 1.0, np.float32(1), 1, True):
        got, want = k(x, s), np.full(2, s)
        assert got.dtype == want.dtype, (s, got.dtype, want.dtype)
        np.testing.assert_array_equal(got, want)
    assert k.cache_info().misses == 4


@pytest.mark.parametrize("how", ["argnums", "argnames"])
def test_static_signed_zero_and_nan_payload_retrace(how):
    def f(x, s):
        return x * np.copysign(1.0, s) + np.float64(s) * 0.0
    k = fd.jit(f, static_argnums=1) if how == "argnums" else fd.jit(f, static_argnames="s")
    x = np.array([1.0, 2.0])
    for s in (0.0, -0.0, 0.0, nan_with_payload(3), -nan_with_payload(3), (-0.0, 1)[0]):
        got = k(x, s) if how == "argnums" else k(x, s=s)
        assert bits(got) == bits(f(x, s)), s


def test_static_tuples_keyed_element_by_element():
    k = fd.jit(lambda x, t: x / fnp.array(t[0]), static_argnums=1)
    x = np.ones(2)
    with np.errstate(divide="ignore"):
        assert np.all(k(x, (0.0, 1)) == np.inf) and np.all(k(x, (-0.0, 1)) == -np.inf)


def test_retrace_log_names_the_static_value(caplog):
    k = fd.jit(lambda x, s: x * s, static_argnums=1)
    k(np.ones(2), 1)
    with fd.config.logging_compiles(), caplog.at_level("WARNING", logger="funcdiff"):
        k(np.ones(2), True)
    assert "changed from 1 to True" in caplog.text


def test_dict_keys_true_and_one_are_different_trees():
    x = np.ones(2)
    ident = fd.jit(lambda d: d)
    assert list(ident({1: x})) == [1] and type(next(iter(ident({1: x})))) is int
    out = ident({True: x})
    assert type(next(iter(out))) is bool
    out = ident({1.0: x})
    assert type(next(iter(out))) is float
    assert tree_structure({1: 0}) != tree_structure({True: 0})
    assert tree_structure({0.0: 0}) != tree_structure({-0.0: 0})
    assert tree_structure({1: 0}) == tree_structure({1: 5})
    with pytest.raises(ValueError, match="structures differ"):
        tree_map(lambda a, b: a + b, {1: 1.0}, {True: 2.0})
    k = fd.jit(lambda d: {key: v * 2 for key, v in d.items()})
    for d in ({0.0: x}, {-0.0: x}):
        assert math.copysign(1, next(iter(k(d)))) == math.copysign(1, next(iter(d)))


class _Scaled:
    """A registered pytree node whose aux data is a static float."""

    def __init__(self, value, scale):
        self.value, self.scale = value, scale


fd.tree_util.register_pytree_node(_Scaled, lambda s: ((s.value,), s.scale),
                                  lambda scale, children: _Scaled(children[0], scale))


def test_registered_node_aux_keyed_exactly():
    assert tree_structure(_Scaled(1.0, 0.0)) == tree_structure(_Scaled(2.0, 0.0))
    assert tree_structure(_Scaled(1.0, 0.0)) != tree_structure(_Scaled(1.0, -0.0))
    assert tree_structure(_Scaled(1.0, 1)) != tree_structure(_Scaled(1.0, True))
    k = fd.jit(lambda s: s.value / s.scale)
    x = np.ones(2)
    with np.errstate(divide="ignore"):
        for scale in (0.0, -0.0, 0.0):
            assert bits(k(_Scaled(x, scale))) == bits(x / scale)
    leaves, _ = tree_flatten(_Scaled(x, 2.0))
    assert leaves[0] is x


# --- 3, 4. numexpr fusion: size, literals ------------------------------------------------

def _chain(n, op):
    def f(x):
        for _ in range(n):
            x = op(x)
        return x
    return f


@pytest.mark.parametrize("n", [8, 32, 64])
@pytest.mark.parametrize("op", [fnp.square, lambda x: fnp.sin(fnp.square(x)),
                                lambda x: fnp.square(x) * fnp.square(x)],
                         ids=["square", "sin_square", "square_times_square"])
def test_chained_duplicating_ops_stay_small(n, op):
    x = np.linspace(0.999, 1.001, BIG)
    f = _chain(n, op)
    j = fd.jit(f)
    with np.errstate(all="ignore"):
        got, want = j(x), f(x)
    assert_ulps(got, want, 4 * n)
    source = j.lower(x).source
    # linear in n: each step is a bounded number of characters, no doubling
    assert len(source) < 400 * n, len(source)
    for line in source.splitlines():
        assert len(line) < 40 * fuse.MAX_OPS, len(line)


@needs_numexpr
def test_square_chain_fuses_exactly():
    x = np.linspace(0.999, 1.001, BIG)
    f = _chain(40, fnp.square)
    j = fd.jit(f)
    assert "evaluate(" in j.lower(x).source
    with np.errstate(over="ignore"):
        assert bits(j(x)) == bits(f(x))


def test_long_chain_of_non_duplicating_ops():
    x = np.linspace(0.5, 1.5, BIG)
    f = _chain(300, lambda x: x * 1.0001 + 0.5)
    j = fd.jit(f)
    assert bits(j(x)) == bits(f(x))
    assert len(j.lower(x).source) < 200 * 300


@pytest.mark.parametrize("lit", [2 ** 100, -2 ** 70, 2 ** 53 + 1, 10 ** 300, 3, -0.0,
                                 np.float64(-2.5), np.inf, -np.inf, np.nan,
                                 nan_with_payload(5), 1 + 2j, -1j, True, np.float32(0.5)],
                         ids=repr)
def test_fusion_literals(lit):
    """Huge Python ints, infinities, NaNs, complex and bool literals through the fusion
    pass: jit equals NumPy bit for bit (only exact arithmetic around them)."""
    x = np.linspace(-1.5, 1.5, BIG)
    for f in (lambda x: (x * lit + 1.0) * 0.5, lambda x: (lit - x) / 3.0 - x,
              lambda x: -(x / lit) + x * x):
        with np.errstate(all="ignore"):
            with nep50():   # NumPy 1.x makes a huge Python int an object array
                want = f(x)
            got = fd.jit(f)(x)
        assert bits(got) == bits(want), (lit, got[:3], want[:3])


def test_fusion_of_a_function_with_a_huge_int():
    x = np.linspace(.5, 1.5, BIG)
    f = lambda x: fnp.sin(x) * 2 ** 100 + 1.0      # noqa: E731
    with nep50():   # NumPy 1.x makes a huge Python int an object array
        want = f(x)
    assert_ulps(fd.jit(f)(x), want, 4)


def test_int_too_large_for_float_raises_as_numpy_does():
    x = np.ones(BIG)
    with pytest.raises(OverflowError):
        x * 10 ** 400
    with pytest.raises(OverflowError):
        fd.jit(lambda x: fnp.sin(x) * 10 ** 400 + 1.0)(x)


# --- 6. numexpr accuracy ----------------------------------------------------------------

_DOMAINS = {"sin": (-10, 10), "cos": (-10, 10), "tan": (-1.5, 1.5), "asin": (-1, 1),
            "acos": (-1, 1), "atan": (-10, 10), "sinh": (-20, 20), "cosh": (-20, 20),
            "tanh": (-5, 5), "asinh": (-10, 10), "acosh": (1, 10), "atanh": (-0.999, 0.999),
            "exp": (-50, 50), "expm1": (-5, 5), "log": (1e-3, 10), "log1p": (-0.9, 10),
            "log10": (1e-3, 10), "sqrt": (0, 10)}
_FNP = {"asin": "arcsin", "acos": "arccos", "atan": "arctan", "asinh": "arcsinh",
        "acosh": "arccosh", "atanh": "arctanh"}


def test_accuracy_table_covers_every_fused_function():
    """Every primitive with a numexpr template is in the accuracy table, except the
    arithmetic, which IEEE 754 rounds alike in numexpr and NumPy."""
    from funcdiff.core.trace import registry
    exact = {"add", "sub", "mul", "div", "neg", "abs", "square", "reciprocal"}
    fused = {p.name for p in registry.values() if p.numexpr is not None}
    assert exact <= fused
    assert set(_DOMAINS) | {"atan2"} == fused - exact


@needs_numexpr
@pytest.mark.parametrize("name", sorted(_DOMAINS))
def test_fused_functions_within_documented_ulps(name):
    """The bound docs/jit.md states: a fused function is within 4 ulp of NumPy's."""
    lo, hi = _DOMAINS[name]
    x = np.random.default_rng(0).uniform(lo, hi, 1 << 18) * 2.0
    fn = getattr(fnp, _FNP.get(name, name))
    f = lambda x: fn(x * 0.5)     # noqa: E731 - (x*0.5 is exact: a chain that fuses)
    j = fd.jit(f)
    assert "evaluate(" in j.lower(x).source
    assert_ulps(j(x), f(x), 4)


@needs_numexpr
def test_fused_atan2_within_documented_ulps():
    rng = np.random.default_rng(1)
    x, y = rng.uniform(-10, 10, BIG), rng.uniform(-10, 10, BIG)
    f = lambda x, y: fnp.arctan2(x * 0.5, y * 0.5)   # noqa: E731
    assert_ulps(fd.jit(f)(x, y), f(x, y), 4)


@needs_numexpr
def test_fused_arithmetic_is_bit_for_bit():
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal(BIG), rng.standard_normal(BIG)
    x[:4] = [-0.0, 0.0, np.inf, np.nan]

    def f(x, y):
        return fnp.abs(-(x * y + 1.5) / (y - 0.25)) - fnp.square(x) * fnp.reciprocal(y + 3.0)
    j = fd.jit(f)
    assert "evaluate(" in j.lower(x, y).source
    with np.errstate(all="ignore"):
        assert bits(j(x, y)) == bits(f(x, y))


def test_fusion_off_gives_numpy_bit_for_bit():
    x = np.random.default_rng(3).uniform(-5, 5, BIG)
    f = lambda x: fnp.tanh(x * 0.5) * 2.0      # noqa: E731
    with mock.patch.object(fd.config, "numexpr_fusion", False):
        j = fd.jit(f)
        assert "evaluate(" not in j.lower(x).source
        assert bits(j(x)) == bits(f(x))


# --- 5. names that are not ASCII identifiers -------------------------------------------------

@pytest.mark.parametrize("name", ["ℌ", "ﬁ", "𝔣", "x²", "ℌ_and_H", "for", "1st", "a-b",
                                  "", "λ", "名前"])
def test_function_names_that_python_would_normalize(name):
    def f(x):
        return fnp.sin(x) * 2
    f.__name__ = f.__qualname__ = name
    x = np.linspace(0, 1, 3)
    j = fd.jit(f)
    np.testing.assert_array_equal(j(x), f(x))
    src = j.lower(x).source
    header = src.splitlines()[0]
    assert header.isascii() and header.startswith("def jit_")


# --- 7. hostile strings through every codegen path --------------------------------------------

_PAYLOAD = "raise RuntimeError('injected')"
HOSTILE = [
    f"x\n    {_PAYLOAD} #",                 # newline + code (the issue's repro)
    f"x\r    {_PAYLOAD}\r#",               # carriage returns
    f"x\r\n{_PAYLOAD}\n",
    f"a\x0c\x0b\x1c\x1d\x1e\x85\u2028\u2029{_PAYLOAD}",   # what str.splitlines splits on
    "quote ' \" ''' \"\"\" end",
    "back\\slash\\", "trailing\\", "\\n\\x00",
    "# hash ## ",
    "ℌ ﬁ 𝔣 x² λ 名前 \u202e evil \u202c",  # NFKC-changing, bidi override
    "nul\x00byte",
    "lone\udc80surrogate",
    "dir/sub\n" + _PAYLOAD,
    "x" * 100_000,
    "",
]


def _hostile_function(src, filename, name):
    """The function ``f`` of ``src``, compiled as if from file ``filename`` and with
    ``name`` as its code object's ``co_name`` and its ``__name__``."""
    ns = {"fnp": fnp, "fd": fd, "lax": lax, "np": np, "checkpoint_name": checkpoint_name}
    exec(_renamed(compile(src, "<hostile>", "exec"), filename), ns)   # noqa: S102
    f = ns["f"]
    repl = dict(co_name=name)
    if sys.version_info >= (3, 11):
        repl["co_qualname"] = name
    f.__code__ = f.__code__.replace(**repl)
    f.__name__ = f.__qualname__ = name
    return f


def _renamed(code, filename):
    """``code`` and the code objects nested in it (lambdas) with ``co_filename`` set
    (``compile`` itself refuses some names, e.g. with NUL)."""
    consts = tuple(_renamed(c, filename) if isinstance(c, type(code)) else c
                   for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


def _assert_clean(source):
    """No line of the generated source is the payload, and linecache's split into lines
    (str.splitlines) is the compiler's (newlines only)."""
    lines = source.split("\n")
    assert source.splitlines() == (lines[:-1] if source.endswith("\n") else lines)
    for line in lines:
        assert not line.lstrip().startswith(_PAYLOAD)
    assert len(source) < 20_000


_SRC = {
    "plain": "def f(x):\n    return fnp.sin(x) * 2 + x\n",
    "cond": ("def f(x):\n    return lax.cond(fnp.sum(x) > 0, lambda y: fnp.sin(y) * 2,\n"
             "                    lambda y: fnp.cos(y) - 1.0, x)\n"),
    "while": ("def f(x):\n    return lax.while_loop(lambda c: fnp.sum(c) < 10.0,\n"
              "                          lambda c: c * 1.5 + 0.25, x)\n"),
    "fori": ("def f(x):\n    return lax.fori_loop(0, 3, lambda i, c: fnp.sin(c) + x, x)\n"),
    "scan": ("def f(x):\n    c, ys = lax.scan(lambda c, y: (c * y + 1.0, fnp.sin(c)), x[0], x)\n"
             "    return ys * c\n"),
}


@pytest.mark.parametrize("kind", sorted(_SRC))
@pytest.mark.parametrize("hostile", HOSTILE, ids=lambda h: ascii(h[:12]))
def test_hostile_names_in_jit_grad_and_control_flow(kind, hostile):
    f = _hostile_function(_SRC[kind], hostile, hostile)
    x = np.linspace(0.1, 0.9, 4)
    want = f(x)
    j = fd.jit(f)
    np.testing.assert_allclose(j(x), want, rtol=1e-13)
    _assert_clean(j.lower(x).source)
    # eager grad runs compiled forward/backward programs; jit(grad) one more program
    loss = lambda x: fnp.sum(f(x) ** 2)      # noqa: E731
    g = fd.grad(loss)(x)
    np.testing.assert_allclose(fd.grad(loss)(x), g, rtol=1e-13)  # (the cached recipe)
    np.testing.assert_allclose(fd.jit(fd.grad(loss))(x), g, rtol=1e-12)
    _assert_clean(fd.jit(fd.grad(loss)).lower(x).source)
    np.testing.assert_allclose(fd.jvp(f, (x,), (np.ones(4),))[1],
                               fd.jit(lambda t: fd.jvp(f, (x,), (t,))[1])(np.ones(4)),
                               rtol=1e-12)


@pytest.mark.parametrize("hostile", HOSTILE, ids=lambda h: ascii(h[:12]))
def test_hostile_names_through_numexpr_fusion(hostile):
    f = _hostile_function("def f(x):\n    return fnp.sin(x) * 2.0 + x * x\n", hostile, hostile)
    x = np.linspace(0.1, 0.9, BIG)
    j = fd.jit(f)
    assert_ulps(j(x), f(x), 4)
    source = j.lower(x).source
    _assert_clean(source)
    assert ("evaluate(" in source) == HAS_NUMEXPR


@pytest.mark.parametrize("hostile", HOSTILE, ids=lambda h: ascii(h[:12]))
def test_hostile_checkpoint_names(hostile):
    src = ("def f(x):\n"
           "    y = checkpoint_name(fnp.sin(x) * 2.0, NAME)\n"
           "    return fnp.sum(fnp.cos(y) * y)\n")
    src = src.replace("NAME", repr(hostile))
    f = _hostile_function(src, hostile, hostile)
    saved = fd.checkpoint(f, policy=save_only_these_names(hostile))
    x = np.linspace(0.1, 0.9, 5)
    want = fd.grad(f)(x)
    np.testing.assert_allclose(fd.grad(saved)(x), want, rtol=1e-13)
    j = fd.jit(fd.grad(saved))
    np.testing.assert_allclose(j(x), want, rtol=1e-12)
    _assert_clean(j.lower(x).source)
    j = fd.jit(saved)
    np.testing.assert_allclose(j(x), f(x), rtol=1e-13)
    _assert_clean(j.lower(x).source)


@pytest.mark.parametrize("hostile", HOSTILE, ids=lambda h: ascii(h[:12]))
def test_hostile_primitive_names_and_param_keys(hostile):
    name = "hostile " + hostile[:200]
    p = Primitive(name)
    try:
        p.impl = lambda x, **params: x * 3.0 + len(params)
        p.abstract_eval = lambda a, **params: a
        params = {hostile: 1, "ok": 2.0} if hostile else {"ok": 2.0}
        f = lambda x: p.bind(fnp.sin(x), **params) + 1.0    # noqa: E731
        x = np.linspace(0, 1, 3)
        want = np.sin(x) * 3.0 + len(params) + 1.0
        j = fd.jit(f)
        np.testing.assert_allclose(j(x), want, rtol=1e-15)
        _assert_clean(j.lower(x).source)
    finally:
        del registry[name]


def test_the_issue_repro_runs_no_injected_code(capsys):
    ns = {"fnp": fnp}
    exec(compile("def f(x):\n    return fnp.sin(x) * 2\n", "x\n    print('ran') #", "exec"),
         ns)
    out = fd.jit(ns["f"])(np.ones(2))
    np.testing.assert_array_equal(out, np.sin(np.ones(2)) * 2)
    assert "ran" not in capsys.readouterr().out


def test_comment_and_identifier_helpers():
    for h in HOSTILE:
        c = pysource.comment(h)
        assert c.isprintable() and "\n" not in c and len(c) <= pysource.MAX_COMMENT * 10
        compile(f"x = 1  # {c}\ny = 2\n", "<test>", "exec")
        ident = pysource.identifier(h, "jit_")
        assert ident.isidentifier() and ident.isascii() and len(ident) <= 4 + pysource.MAX_NAME
        lit = pysource.string_literal(h)
        assert lit.isascii() and eval(lit) == h
    assert pysource.comment("a\\x0ab") != pysource.comment("a\nb")   # escapes unambiguous
    assert pysource.is_identifier("ok_1") and not pysource.is_identifier("ℌ")
    assert not pysource.is_identifier("class") and not pysource.is_identifier("a b")


# --- Python scalars through operator templates --------------------------------------------
# Python scalar arguments (and what `==` makes of them: Python bools) reach the generated
# code as Python numbers, on which some operators differ from NumPy's ufuncs.

@pytest.mark.parametrize("f, args", [
    (lambda x: ~(x == 0), (0,)),                     # ~True is -2 in Python
    (lambda x: (x == 0) + (x == 0), (0,)),           # True + True is 2
    (lambda x: (x == 0) * (x == 1), (0,)),
    (lambda x, y: x / y, (1, 0)),                    # ZeroDivisionError in Python
    (lambda x, y: x / y, (1.0, 0.0)),
    (lambda x, y: x // y, (1, 0)),
    (lambda x, y: x % y, (1.0, 0.0)),
    (lambda x: (-8.0) ** x, (1 / 3,)),               # complex in Python, NaN in NumPy
])
def test_python_scalar_operands_follow_numpy(f, args):
    with np.errstate(all="ignore"):
        closed = fd.make_jaxpr(f)(*args)       # the interpreter runs NumPy's ufuncs
        want = fd.eval_jaxpr(closed.jaxpr, closed.consts, *args)[0]
        got = fd.jit(f)(*args)
    assert np.asarray(got).dtype == np.asarray(want).dtype
    np.testing.assert_array_equal(got, want)


def test_while_loop_with_a_python_bool_carry_inverts_as_numpy():
    """A found bug: a counter starting as a Python int made `c[0] == 0` a Python bool
    and `~` of it -2 (true), so the loop took the wrong branch, eagerly and under jit."""
    def f():
        return lax.while_loop(
            lambda c: c[0] < 3,
            lambda c: (c[0] + 1, fnp.where(~(c[0] == 0), c[1] + 1.0, c[1] + 10.0)),
            (0, 0.0))
    assert float(f()[1]) == 12.0
    assert float(fd.jit(f)()[1]) == 12.0

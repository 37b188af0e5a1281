"""Resources (issue 16, item 7): caches stay bounded however many shapes a program
meets, and tracing leaves Python's cyclic garbage collector running, so user code that
makes reference cycles under a transform uses about the memory it uses plainly."""
from __future__ import annotations

import gc
import linecache
import threading
import tracemalloc

import numpy as np
import pytest

import funcdiff as fd
import funcdiff.numpy as fnp
import funcdiff.tree_util as tree_util
from funcdiff.config import config
from funcdiff.transforms import vmap as vmap_mod


@pytest.fixture
def small_jit_cache():
    prev = config.jit_cache_size
    config.jit_cache_size = 8
    try:
        yield 8
    finally:
        config.jit_cache_size = prev


def _jit_lines():
    return sum(1 for k in list(linecache.cache) if k.startswith("<funcdiff-jit-"))


def test_vmap_of_jit_keeps_a_bounded_number_of_batch_sizes(small_jit_cache):
    """vmap of a jitted function compiled a batched program per batch size and kept it
    (with its linecache source) as long as the jit cache kept the jaxpr: 20,000 batch
    sizes left 20,000 linecache entries and +90 MB."""
    g = fd.jit(lambda x: fnp.sin(x) * 2.0 + x)
    h = fd.vmap(g)
    h(np.ones(1))
    gc.collect()
    lines0 = _jit_lines()
    n_sizes = 10 * small_jit_cache
    for n in range(1, n_sizes + 1):
        x = np.linspace(0.0, 1.0, n)
        np.testing.assert_allclose(h(x), np.sin(x) * 2.0 + x)
    gc.collect()
    (entry,) = g._cache.values()
    per = vmap_mod._sub_cache[entry.call[0]]
    assert len(per) == small_jit_cache
    # the most recent batch sizes are the ones kept (least recently used dropped)
    assert {k[1] for k in per} == set(range(n_sizes - small_jit_cache + 1, n_sizes + 1))
    # compiled programs (and their linecache sources) of dropped entries are freed
    assert _jit_lines() - lines0 <= 2 * small_jit_cache + 4
    # an evicted batch size is simply batched and compiled again
    np.testing.assert_allclose(h(np.ones(1)), np.sin(1.0) * 2.0 + 1.0)


def test_flattening_lists_of_many_lengths_keeps_memory_bounded():
    """The shared treedef per (list, length) was memoized for every length met: lists
    of 5,000 different lengths kept 100 MB of treedefs."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for n in range(1, 3001):
            leaves, tree = tree_util.tree_flatten([0.0] * n)
            assert tree.num_leaves == n
        grown = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert len(tree_util._FLAT_DEFS) <= 2 * (tree_util._FLAT_DEFS_MAX_LEN + 1)
    assert grown < 2_000_000, grown   # was 36 MB for these 3,000 lengths

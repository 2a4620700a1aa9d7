"""glmkit.design.assemble: the one assembler of formula designs.

Expected values: the design written out by hand with numpy (indicator columns from
``np.eye``, constant columns from ``np.ones``), and the invariant that a SplitDesign equals
its dense form."""
from __future__ import annotations

import numpy as np
import pytest

from glmkit.design import CategoricalDesign, DenseDesign, SplitDesign
from glmkit.design.assemble import Gather, assemble, indicator_positions


def _codes(n, L, seed):
    return np.random.default_rng(seed).integers(0, L, n)


def test_dense_parts_make_one_c_ordered_array():
    n = 50
    x = np.random.default_rng(0).normal(size=n)
    B = np.random.default_rng(1).normal(size=(n, 2))
    g = _codes(n, 4, 2).astype(np.int8)              # pandas' narrow codes
    treat = np.vstack([np.zeros(3), np.eye(3)])       # treatment contrasts, 4 levels
    contr_sum = np.vstack([np.eye(3), -np.ones(3)])  # sum contrasts: not unit rows
    x_before, B_before = x.copy(), B.copy()
    X = assemble([1.0, x, Gather(treat, g), B, Gather(contr_sum, g)], n)
    expect = np.column_stack([np.ones(n), x, treat[g], B, contr_sum[g]])
    assert isinstance(X, np.ndarray) and X.dtype == np.float64 and X.flags.c_contiguous
    np.testing.assert_array_equal(X, expect)
    np.testing.assert_array_equal(x, x_before)       # parts are never modified
    np.testing.assert_array_equal(B, B_before)


def test_a_single_float64_block_is_used_as_it_is():
    A = np.arange(12.0).reshape(6, 2)
    assert assemble([A], 6) is A
    F = np.asfortranarray(A)
    X = assemble([F], 6)
    assert X is not F and X.flags.c_contiguous
    np.testing.assert_array_equal(X, A)


def test_categorical_parts_split_the_dense_runs():
    n, L = 80, 25
    g = _codes(n, L, 3)
    x = np.linspace(-1, 1, n)
    cat = CategoricalDesign(g.astype(np.int32), L, drop_first=True)
    names = ["Intercept", *[f"g{j}" for j in range(1, L)], "x", "x2"]
    X = assemble([1.0, cat, x, x ** 2], n, names)
    assert isinstance(X, SplitDesign)
    assert [type(b) for b in X.blocks] == [DenseDesign, CategoricalDesign, DenseDesign]
    assert [b.shape[1] for b in X.blocks] == [1, L - 1, 2]
    assert X.column_names == names
    expect = np.column_stack([np.ones(n), np.eye(L)[g][:, 1:], x, x ** 2])
    np.testing.assert_array_equal(X.to_dense(), expect)


def test_caller_column_sources_fill_their_slice():
    class Twice:
        width = 2

        def __init__(self, v):
            self.v = v

        def fill(self, out):
            assert out.shape == (self.v.size, 2) and not out.any()   # zero-filled slice
            out[:, 0] = self.v
            out[:, 1] = 2 * self.v

    v = np.arange(5.0)
    X = assemble([Twice(v), 3.0], 5)
    np.testing.assert_array_equal(X, np.column_stack([v, 2 * v, np.full(5, 3.0)]))


@pytest.mark.parametrize("table, expect", [
    (np.vstack([np.zeros(2), np.eye(2)]), [-1, 0, 1]),
    (np.eye(3), [0, 1, 2]),
    (np.array([[1.0, 1.0], [0.0, 1.0]]), None),          # two ones in a row
    (np.array([[0.5, 0.0], [0.0, 1.0]]), None),          # not 0/1
])
def test_indicator_positions(table, expect):
    got = indicator_positions(table)
    assert (got is None) if expect is None else got.tolist() == expect

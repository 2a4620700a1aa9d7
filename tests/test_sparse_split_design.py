"""Sparse and split designs: X'WX from pairs of nonzeros, the dense/sparse column split, and
the row-wise statistics (x_i' B x_i, group sums) equal the dense products (invariant: every
DesignMatrix equals the dense one), without a dense copy of a sparse or categorical block."""
import numpy as np
import pytest
from scipy import sparse

from glmkit.design import (
    CategoricalDesign,
    DenseDesign,
    SparseDesign,
    SplitDesign,
    _pairs,
    as_design,
)


def _random_sparse(rng, n, p, fmt):
    k = int(0.04 * n * p)   # 4 % of the cells (below the 10 % of a dense column), repeats
    rows, cols = rng.integers(0, n, k), rng.integers(0, p, k)
    S = sparse.coo_matrix((rng.normal(size=k), (rows, cols)), shape=(n, p))  # duplicates
    dense_cols = sparse.csr_matrix(np.column_stack([np.ones(n), rng.normal(size=(n, 2))]))
    return sparse.hstack([dense_cols, S]).asformat(fmt)


def _rel(a, b):
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-300)


def _no_dense(*args, **kwargs):
    raise AssertionError("a sparse or categorical block was made dense")


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
@pytest.mark.parametrize("seed", range(3))
def test_sparse_gram_and_row_statistics_equal_the_dense_ones(fmt, seed):
    rng = np.random.default_rng(seed)
    n, p = int(rng.integers(50, 400)), int(rng.integers(1, 40))
    S = _random_sparse(rng, n, p, fmt)
    A = S.toarray()
    D = SparseDesign(S)
    np.testing.assert_array_equal(D.dense_columns, [0, 1, 2])   # denser than 10 %
    D.to_dense = _no_dense
    d = rng.uniform(-0.5, 2.0, n)   # observed weights can be negative
    assert _rel(D.sandwich(d), A.T @ (A * d[:, None])) < 1e-12
    B = rng.normal(size=(p + 3, p + 3))
    B = B + B.T
    assert _rel(D.row_quadratic(B), np.einsum("ij,ij->i", A @ B, A)) < 1e-12
    g = rng.integers(0, 7, n)
    v = rng.normal(size=n)
    sums = np.zeros((7, p + 3))
    np.add.at(sums, g, A * v[:, None])
    assert _rel(D.group_sums(g, 7, v), sums) < 1e-12
    b = rng.normal(size=p + 3)
    np.testing.assert_allclose(D.matvec(b), A @ b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(D.rmatvec(d), A.T @ d, rtol=1e-12, atol=1e-12)


def test_the_input_matrix_is_not_modified_and_the_split_can_be_turned_off():
    rng = np.random.default_rng(3)
    S = _random_sparse(rng, 200, 10, "coo").tocsr()
    before = S.copy()
    D = SparseDesign(S, dense_threshold=None)
    assert D.dense_columns.size == 0
    assert (S != before).nnz == 0 and S.nnz == before.nnz
    A = S.toarray()
    d = rng.uniform(0.1, 2.0, 200)
    assert _rel(D.sandwich(d), A.T @ (A * d[:, None])) < 1e-12
    with pytest.raises(ValueError, match="dense_threshold"):
        SparseDesign(S, dense_threshold=2.0)


@pytest.mark.parametrize("sort_after", [1, 2, 100])
def test_pair_blocks_and_the_compressed_key_space_give_the_same_gram(monkeypatch, sort_after):
    """Many row blocks (threads), the reduced key space of wide designs, pairs in row order
    and sorted by key (from the pass ``sort_after`` on)."""
    monkeypatch.setattr(_pairs, "_SORT_AFTER_PASSES", sort_after)
    rng = np.random.default_rng(4)
    S = _random_sparse(rng, 300, 30, "csr")
    A = S.toarray()
    d = rng.uniform(0.1, 2.0, 300)
    want = A.T @ (A * d[:, None])
    B = rng.normal(size=(33, 33))
    B = B + B.T
    monkeypatch.setattr(_pairs, "_BLOCK_PAIRS", 64)
    D = SparseDesign(S, dense_threshold=None)
    for _ in range(3):
        assert _rel(D.sandwich(d), want) < 1e-12
        assert _rel(D.row_quadratic(B), np.einsum("ij,ij->i", A @ B, A)) < 1e-12
    monkeypatch.setattr(_pairs, "_DIRECT_KEYS", 10)
    D = SparseDesign(S)
    for _ in range(3):
        assert _rel(D.sandwich(d), want) < 1e-12
        assert _rel(D.row_quadratic(B), np.einsum("ij,ij->i", A @ B, A)) < 1e-12


def test_empty_rows_and_all_zero_designs():
    S = sparse.csr_matrix((5, 3))
    D = SparseDesign(S)
    np.testing.assert_array_equal(D.sandwich(np.ones(5)), np.zeros((3, 3)))
    np.testing.assert_array_equal(D.row_quadratic(np.eye(3)), np.zeros(5))


@pytest.mark.parametrize("seed", range(4))
def test_split_designs_of_dense_sparse_and_categorical_blocks(seed):
    rng = np.random.default_rng(seed)
    n = 500
    S = _random_sparse(rng, n, 12, "csr")
    c1 = CategoricalDesign(rng.integers(0, 5, n), 5)
    c2 = CategoricalDesign(rng.integers(0, 9, n), 9, drop_first=False)
    X = SplitDesign([DenseDesign(rng.normal(size=(n, 3))), c1, SparseDesign(S), c2])
    F = X.to_dense()
    for blk in X.blocks[1:]:
        blk.to_dense = _no_dense
    d = rng.uniform(-0.5, 2.0, n)
    P = F.shape[1]
    assert _rel(X.sandwich(d), F.T @ (F * d[:, None])) < 1e-12
    for sl, blk in X.row_blocks():
        blk.sandwich(d[sl])
    B = rng.normal(size=(P, P))
    B = B + B.T
    assert _rel(X.row_quadratic(B), np.einsum("ij,ij->i", F @ B, F)) < 1e-10
    g = rng.integers(0, 11, n)
    sums = np.zeros((11, P))
    np.add.at(sums, g, F * d[:, None])
    assert _rel(X.group_sums(g, 11, d), sums) < 1e-12
    M = rng.normal(size=(P, 4))
    assert _rel(X.matmat(M), F @ M) < 1e-12
    Y = rng.normal(size=(n, P))
    assert _rel(X.row_dot(Y), np.einsum("ij,ij->i", F, Y)) < 1e-12


def test_as_design_splits_a_scipy_matrix_by_column_density():
    rng = np.random.default_rng(5)
    S = _random_sparse(rng, 400, 20, "csc")
    D = as_design(S)
    assert isinstance(D, SparseDesign)
    np.testing.assert_array_equal(D.dense_columns, [0, 1, 2])

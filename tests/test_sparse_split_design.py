"""Sparse and split designs: X'WX from pairs of nonzeros, the dense/sparse column split, and
the row-wise statistics (x_i' B x_i, group sums) equal the dense products (invariant: every
DesignMatrix equals the dense one), without a dense copy of a sparse or categorical block."""
import numpy as np
import pytest
from _irls_checks import assert_float32_steps_match_float64
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


# ---------------------------------------------------------------- pairs formed per pass
def _stream(monkeypatch, block_pairs=64):
    """Force the pairs to be formed anew on every pass (no store), in small blocks."""
    from glmkit.design import _pairs_stream
    from glmkit.design import sparse as sparse_module

    monkeypatch.setattr(sparse_module, "STORE_MIN_BYTES", 0)
    monkeypatch.setattr(sparse_module, "STORE_BUDGET", 0.0)
    monkeypatch.setattr(_pairs_stream, "_BLOCK_PAIRS", block_pairs)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_streamed_pairs_equal_the_dense_products(monkeypatch, fmt):
    """Invariant (every DesignMatrix equals the dense one): X'WX and x_i' B x_i from pairs
    formed per pass, in many row blocks, with rows of 0 to many nonzeros."""
    from glmkit.design._pairs_stream import StreamGram

    _stream(monkeypatch)
    rng = np.random.default_rng(6)
    S = _random_sparse(rng, 400, 25, fmt).tolil()
    S[7, 3:] = rng.normal(size=25)    # one row with every column
    S[8, :] = 0.0                     # and an empty one
    S = S.asformat(fmt)
    A = S.toarray()
    D = SparseDesign(S)
    assert isinstance(D._pair_gram(), StreamGram) and len(D._pair_gram().blocks) > 3
    D.to_dense = _no_dense
    d = rng.uniform(-0.5, 2.0, 400)
    B = rng.normal(size=(28, 28))
    B = B + B.T
    for _ in range(2):   # nothing is consumed by a pass
        assert _rel(D.sandwich(d), A.T @ (A * d[:, None])) < 1e-12
        assert _rel(D.row_quadratic(B), np.einsum("ij,ij->i", A @ B, A)) < 1e-12


def test_streamed_pairs_in_float32_round_only_the_off_diagonal_pairs(monkeypatch):
    """``low`` (IRLS's float32 steps) sums the streamed off-diagonal pairs in float32:
    within float32 rounding of the float64 Gram (closed form A' D A), not equal to it,
    and the diagonal, summed in float64, equal to it."""
    from glmkit.design._pairs_stream import StreamGram

    _stream(monkeypatch)
    rng = np.random.default_rng(16)
    S = _random_sparse(rng, 3000, 30, "csr")
    A = S.toarray()
    D = SparseDesign(S)
    assert isinstance(D._pair_gram(), StreamGram)
    d = rng.uniform(0.1, 2.0, 3000)
    exact = A.T @ (A * d[:, None])
    low = np.zeros_like(exact)
    D.add_sandwich(d, low, low=True)
    sp = D._sparse_cols
    off = ~np.eye(sp.size, dtype=bool)
    err = np.abs(low - exact)[np.ix_(sp, sp)][off] / np.abs(exact).max()
    assert 0 < err.max() < 1e-6
    np.testing.assert_allclose(np.diagonal(low)[sp], np.diagonal(exact)[sp], rtol=1e-13)
    assert _rel(low, low.T) == 0.0


def test_the_pair_store_is_kept_only_within_its_budget(monkeypatch):
    """Small designs keep the store (fastest per pass); above the budget, or when the
    sparse part is too wide for per-thread triangles, the other one."""
    from glmkit.design import sparse as sparse_module
    from glmkit.design._pairs import PairGram
    from glmkit.design._pairs_stream import StreamGram

    rng = np.random.default_rng(7)
    S = _random_sparse(rng, 300, 20, "csr")
    assert isinstance(SparseDesign(S)._pair_gram(), PairGram)
    _stream(monkeypatch)
    assert isinstance(SparseDesign(S)._pair_gram(), StreamGram)
    monkeypatch.setattr(sparse_module, "STREAM_MAX_KEYS", 10)
    assert isinstance(SparseDesign(S)._pair_gram(), PairGram)


def _poisson_on_sparse(seed, n=3000, p=60):
    rng = np.random.default_rng(seed)
    S = _random_sparse(rng, n, p, "csr")
    beta = np.concatenate([[0.2, 0.1, -0.1], rng.normal(scale=0.2, size=p)])
    y = rng.poisson(np.exp(S @ beta)).astype(float)
    return S, y


def test_a_fit_on_streamed_pairs_equals_the_fit_on_stored_pairs_and_on_dense(monkeypatch):
    import glmkit

    S, y = _poisson_on_sparse(8)
    fam = glmkit.families.Poisson()
    dense = glmkit.GLM(y, S.toarray(), family=fam).fit()
    stored = glmkit.GLM(y, S, family=fam).fit()
    _stream(monkeypatch, block_pairs=4096)
    streamed = glmkit.GLM(y, S, family=fam).fit()
    for res in (stored, streamed):
        np.testing.assert_allclose(res.params, dense.params, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(res.bse, dense.bse, rtol=1e-9)
        assert res.deviance == pytest.approx(dense.deviance, rel=1e-12)


def _arrays_of(M):
    M = M if M.format in ("csr", "csc", "coo") else M.tocsr()
    names = ("data", "indices", "indptr") if M.format != "coo" else ("data", "row", "col")
    return {k: getattr(M, k).copy() for k in names}


@pytest.mark.parametrize("form", ["csr", "csc", "coo", "csr_unsorted", "csr_duplicates",
                                  "csr_explicit_zeros", "csr_array"])
def test_every_sparse_input_form_fits_alike_and_is_never_modified(monkeypatch, form):
    """CSR and CSC inputs (and non-canonical ones: unsorted indices, repeated entries,
    stored zeros) give the dense fit, and the user's matrix is left as it was: its arrays
    bit for bit and its attributes (scipy's cached format flags included), through the
    fit and the statistics that read X (robust covariance, hat values, predictions)."""
    import glmkit

    _stream(monkeypatch, block_pairs=2048)
    S, y = _poisson_on_sparse(9, n=1500, p=30)
    A = S.toarray()
    if form == "csc":
        M = S.tocsc()
    elif form == "coo":
        M = S.tocoo()
    elif form == "csr_array":
        M = sparse.csr_array(S)
    else:
        M = S.copy()
        if form == "csr_unsorted":   # reverse the column order within each row
            for i in range(M.shape[0]):
                a, b = M.indptr[i], M.indptr[i + 1]
                M.indices[a:b] = M.indices[a:b][::-1].copy()
                M.data[a:b] = M.data[a:b][::-1].copy()
            M.has_sorted_indices = False
        elif form == "csr_duplicates":   # each value split in two halves
            M = sparse.csr_matrix((np.repeat(S.data / 2, 2), np.repeat(S.indices, 2),
                                   2 * S.indptr), shape=S.shape)
            assert M.nnz == 2 * S.nnz   # the repeats are stored
        elif form == "csr_explicit_zeros":
            M.data[::7] = 0.0
            A = M.toarray()
    assert np.array_equal(M.toarray(), A)
    before, attrs = _arrays_of(M), dict(vars(M))
    fam = glmkit.families.Poisson()
    res = glmkit.GLM(y, M, family=fam).fit()
    want = glmkit.GLM(y, A, family=fam).fit()
    np.testing.assert_allclose(res.params, want.params, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res.get_robustcov_results("HC1").bse,
                               want.get_robustcov_results("HC1").bse, rtol=1e-9)
    np.testing.assert_allclose(res.get_hat_matrix_diag(), want.get_hat_matrix_diag(),
                               rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(res.get_prediction().se, want.get_prediction().se, rtol=1e-9)
    after = _arrays_of(M)
    for k in before:
        assert after[k].dtype == before[k].dtype
        np.testing.assert_array_equal(after[k], before[k])
    assert set(vars(M)) == set(attrs)
    for k, v in attrs.items():
        if not isinstance(v, np.ndarray):
            assert vars(M)[k] == v, k


@pytest.mark.parametrize("streamed", [False, True])
def test_float32_steps_on_a_sparse_design_change_the_path_not_the_answer(monkeypatch,
                                                                         streamed):
    """Invariant: the sparse design's dense block takes float32 products in the early
    sweeps, as a dense design does; the float64 score fixes the maximum and the certifying
    sweep and the covariance are float64, so params, deviance, X'WX and bse equal those of
    an all-float64 fit to 1e-10."""
    import importlib

    import glmkit
    from glmkit.design import sparse as sparse_module

    irls_module = importlib.import_module("glmkit.solvers.irls")
    monkeypatch.setattr(irls_module, "LOW_PRECISION_MIN_ELEMENTS", 1000)
    if streamed:
        _stream(monkeypatch, block_pairs=8192)
    lows = []
    original = sparse_module.SparseDesign.add_sandwich

    def spy(self, d, out, low=False):
        lows.append(low)
        return original(self, d, out, low=low)

    monkeypatch.setattr(sparse_module.SparseDesign, "add_sandwich", spy)
    rng = np.random.default_rng(10)
    n, p = 20000, 40
    S = _random_sparse(rng, n, p, "csr")
    S = sparse.hstack([S, sparse.csr_matrix(rng.normal(size=(n, 3)) * [1.0, 10.0, 0.1])]).tocsr()
    beta = np.concatenate([[0.1, 0.2, -0.1], rng.normal(scale=0.2, size=p), [0.1, 0.01, 1.0]])
    y = rng.poisson(np.exp(S @ beta)).astype(float)
    problem = glmkit.GLM(y, S, family=glmkit.families.Poisson()).problem
    assert problem.X.dense_columns.size == 6
    assert_float32_steps_match_float64(problem, lows)

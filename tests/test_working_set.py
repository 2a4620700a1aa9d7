"""Penalized fits on working sets: X'WX formed only over the columns that may be non-zero.

Sources: the KKT conditions of the penalized objective from the model's own score
(glmkit.likelihood, not the solver's); R glmnet 4.1.6 (tests/reference/penalized/, written
by make_reference.R there) for the paths with the working set forced on; the path with the
full X'WX (the code before working sets, kept for sets that hold most columns) as the
reference of the path on working sets; the full X'WX at the chosen columns for each
design's ``add_column_sandwich`` (an invariant).
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from test_penalized import CASES, load_case, model_kkt

import glmkit.api as sm
from glmkit.design.categorical import CategoricalDesign
from glmkit.design.dense import DenseDesign
from glmkit.design.sparse import SparseDesign
from glmkit.design.split import SplitDesign
from glmkit.solvers import penalized


@pytest.fixture
def always_working_set(monkeypatch):
    """Every penalized fit on working sets, however narrow the design."""
    monkeypatch.setattr(penalized, "WORKING_SET_MIN_COLUMNS", 1)
    monkeypatch.setattr(penalized, "WORKING_SET_SHARE", 1.0)


@pytest.fixture
def never_working_set(monkeypatch):
    monkeypatch.setattr(penalized, "WORKING_SET_MIN_COLUMNS", 10 ** 9)


def _designs():
    rng = np.random.default_rng(0)
    n = 3000
    Xd = rng.standard_normal((n, 7))
    S = sp.random(n, 30, density=0.05, format="csr", random_state=1)
    S = sp.hstack([S, sp.csr_matrix(rng.standard_normal((n, 2)))]).tocsr()   # 2 held dense
    cat = CategoricalDesign(rng.integers(0, 6, n))
    return {"dense": DenseDesign(Xd),
            "dense_blocks": DenseDesign(rng.standard_normal((150_000, 5))),
            "dense_float32": DenseDesign(rng.standard_normal((150_000, 5)).astype(np.float32)),
            "sparse": SparseDesign(S), "categorical": cat,
            "split": SplitDesign([DenseDesign(Xd), cat, SparseDesign(S)])}


@pytest.mark.parametrize("name", list(_designs()))
def test_column_sandwich_is_the_full_gram_at_those_columns(name):
    X = _designs()[name]
    n, p = X.shape
    rng = np.random.default_rng(1)
    d = rng.random(n)
    G = X.sandwich(d)
    for cols in (np.arange(p), np.sort(rng.choice(p, max(1, p // 3), replace=False)),
                 np.array([p - 1]), np.array([0, p - 1])):
        out = np.zeros((cols.size, cols.size))
        X.add_column_sandwich(d, cols, out)
        tol = 1e-6 if name == "dense_float32" else 1e-12   # float32 products: other blocks
        np.testing.assert_allclose(out, G[np.ix_(cols, cols)], rtol=tol,
                                   atol=tol * np.abs(G).max())


@pytest.mark.parametrize("case", CASES)
def test_working_set_path_equals_glmnet(case, always_working_set):
    ref, model, kw = load_case(case)
    path = model.fit_path(alphas=ref["lambda"], **kw)
    B, P = np.array(ref["coef"]), path.params.to_numpy()
    rel = (np.abs(P - B) / np.abs(B).max(axis=1, keepdims=True)).max(axis=1)
    # as test_penalized.test_path_equals_glmnet: binomial_wide is ill-conditioned
    assert rel.max() <= (1e-5 if case == "binomial_wide" else 1e-6), rel.max()
    np.testing.assert_array_equal(path.df, ref["df"])
    assert path.converged.all() and path.kkt.max() <= 1e-10


def test_working_set_fit_regularized_equals_full_gram(monkeypatch):
    _ref, model, _kw = load_case("binomial_enet_bounds")
    full = model.fit_regularized(alpha=0.02, L1_wt=0.5)
    monkeypatch.setattr(penalized, "WORKING_SET_MIN_COLUMNS", 1)
    monkeypatch.setattr(penalized, "WORKING_SET_SHARE", 1.0)
    ws = model.fit_regularized(alpha=0.02, L1_wt=0.5)
    np.testing.assert_allclose(np.asarray(ws.params), np.asarray(full.params), atol=1e-9)


def test_dask_working_set_path_equals_in_memory(always_working_set):
    """The Dask sweeper forms the working set's X'WX per partition: same path to 1e-10."""
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(7)
    X = sm.add_constant(rng.standard_normal((800, 12)))
    y = (rng.random(800) < 1 / (1 + np.exp(-X[:, 1] + 0.5 * X[:, 2]))).astype(float)
    mem = sm.GLM(y, X, family=sm.families.Binomial())
    dsk = sm.GLM(da.from_array(y, chunks=200), da.from_array(X, chunks=(200, X.shape[1])),
                 family=sm.families.Binomial())
    a, b = mem.fit_path(n_alphas=10), dsk.fit_path(n_alphas=10)
    np.testing.assert_allclose(b.alphas, a.alphas, rtol=1e-12)
    np.testing.assert_allclose(b.params.to_numpy(), a.params.to_numpy(), atol=1e-10)
    assert a.converged.all() and b.converged.all()


def _wide(p: int, n: int = 2000, seed: int = 3):
    """A binomial problem on an n x p CSR design (4 non-zeros per column on average) with
    an intercept column; 10 true non-zero coefficients."""
    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=0.002, format="csr", random_state=rng,
                  data_rvs=rng.standard_normal)
    beta = np.zeros(p)
    beta[:10] = 1.5
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ beta)))).astype(float)
    return sp.hstack([sp.csr_matrix(np.ones((n, 1))), X], format="csr"), y


def _path_kkt(model, path):
    n = float(model.nobs)
    p = path.params.shape[1]
    pf = np.r_[0.0, np.ones(p - 1)]
    inf = np.full(p, np.inf)
    return max(float(model_kkt(model, b, a, 1.0, pf, -inf, inf, n).max())
               for a, b in zip(path.alphas, path.params.to_numpy()))


def test_50000_column_sparse_path_meets_kkt():
    """Wider than any X'WX glmkit forms (20,000 columns): the path runs on working sets
    and every alpha meets the KKT conditions, checked with the model's own score."""
    X, y = _wide(50_000)
    model = sm.GLM(y, X, family=sm.families.Binomial())
    path = model.fit_path(n_alphas=6, alpha_min_ratio=0.5)
    assert path.df[-1] > 100   # the working sets grew along the path
    assert path.converged.all() and path.kkt.max() <= 1e-10
    assert _path_kkt(model, path) <= 1e-9


def test_working_set_path_equals_full_gram_path(never_working_set, monkeypatch):
    """On 3,000 columns both fit: the path on working sets (the default there) equals the
    one with the full X'WX at every step."""
    X, y = _wide(3000, seed=5)
    model = sm.GLM(y, X, family=sm.families.Binomial())
    full = model.fit_path(n_alphas=8, alpha_min_ratio=0.3)
    monkeypatch.setattr(penalized, "WORKING_SET_MIN_COLUMNS", 256)
    ws = model.fit_path(n_alphas=8, alpha_min_ratio=0.3)
    assert full.df[-1] > 50 and full.converged.all() and ws.converged.all()
    np.testing.assert_allclose(ws.alphas, full.alphas, rtol=1e-12)
    np.testing.assert_array_equal(ws.df, full.df)
    np.testing.assert_allclose(ws.params.to_numpy(), full.params.to_numpy(), atol=1e-7)
    np.testing.assert_allclose(ws.deviance, full.deviance, rtol=1e-10)
    assert ws.kkt.max() <= 1e-10 and _path_kkt(model, ws) <= 1e-9


def test_working_set_is_the_allowed_and_non_zero_columns():
    allowed = np.zeros(1000, dtype=bool)
    allowed[[3, 7]] = True
    beta = np.zeros(1000)
    beta[500] = 0.1
    np.testing.assert_array_equal(penalized.working_set(allowed, beta), [3, 7, 500])
    assert penalized.working_set(np.ones(1000, dtype=bool), beta) is None   # most columns
    assert penalized.working_set(np.ones(10, dtype=bool), np.zeros(10)) is None   # narrow


def test_gaussian_identity_path_keeps_one_sweep_on_wide_designs():
    """An exactly quadratic deviance needs one X'WX over every column for the whole path
    (no pass after it): working sets, which would need a score pass per step, are not
    used for it below 20,000 columns. Checked: no pass after the first sweep, KKT from
    the model's score (which also shows that X'WX is float64 there: the float32 one of
    the other families' steps gave 2e-7 on this design before)."""
    rng = np.random.default_rng(4)
    X = sm.add_constant(rng.standard_normal((400, 300)))
    y = X[:, 1] - 2 * X[:, 2] + rng.standard_normal(400)
    model = sm.GLM(y, X, family=sm.families.Gaussian())
    path = model.fit_path(n_alphas=10, alpha_min_ratio=0.05)
    assert path.df[-1] > 10   # the strong sets are far smaller than p: no working sets
    assert path.n_passes.sum() == 0 and path.converged.all()
    assert _path_kkt(model, path) <= 1e-9

"""HAC (Newey-West) covariance on sparse, categorical and split designs.

The lagged cross products X[l:]' diag(d) X[:-l] of every design equal the dense products
(invariant: every DesignMatrix equals the dense one), and cov_type='hac' on a structured
design equals the dense HAC formula (glmkit.inference.hac_meat on the n x p scores, itself
checked against R's sandwich::NeweyWest in tests/test_fit_options.py) to 1e-10, without a
dense copy of a sparse or categorical block.
"""
import numpy as np
import pytest
from scipy import sparse

import glmkit.api as sm
from glmkit.design import CategoricalDesign, DenseDesign, SparseDesign, SplitDesign
from glmkit.exceptions import AliasedColumnsWarning
from glmkit.inference import hac_meat, score_weights


def _rel(a, b):
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-300)


def _no_dense(*args, **kwargs):
    raise AssertionError("a sparse or categorical block was made dense")


def _random_sparse(rng, n, p):
    """n x (3 + p): an intercept and two dense covariates (held dense, > 10 % nonzero),
    then p sparse columns at 4 % with repeated entries."""
    k = int(0.04 * n * p)
    S = sparse.coo_matrix((rng.normal(size=k), (rng.integers(0, n, k), rng.integers(0, p, k))),
                          shape=(n, p))
    dense = sparse.csr_matrix(np.column_stack([np.ones(n), rng.normal(size=(n, 2))]))
    return sparse.hstack([dense, S]).tocsr()


def _designs(rng, n):
    """(name, design, its dense array) for every design kind; the structured designs'
    non-dense parts raise if made dense."""
    S = _random_sparse(rng, n, 9)
    out = [("dense", DenseDesign(rng.normal(size=(n, 4))), None),
           ("dense_float32", DenseDesign(rng.normal(size=(n, 3)).astype(np.float32)), None),
           ("categorical", CategoricalDesign(rng.integers(0, 6, n), 6), None),
           ("categorical_full", CategoricalDesign(rng.integers(0, 4, n), 5, drop_first=False),
            None),
           ("sparse", SparseDesign(S), None),
           ("sparse_only", SparseDesign(S[:, 3:], dense_threshold=None), None)]
    split = SplitDesign([DenseDesign(np.column_stack([np.ones(n), rng.normal(size=n)])),
                         CategoricalDesign(rng.integers(0, 5, n), 5),
                         SparseDesign(_random_sparse(rng, n, 7)),
                         CategoricalDesign(rng.integers(0, 8, n), 8, drop_first=False)])
    out.append(("split", split, None))
    result = []
    for name, X, _ in out:
        F = X.to_dense().astype(np.float64)
        _forbid_dense(X)
        result.append((name, X, F))
    return result


def _forbid_dense(X):
    if isinstance(X, (CategoricalDesign, SparseDesign)):
        X.to_dense = _no_dense
    elif isinstance(X, SplitDesign):
        X.to_dense = _no_dense
        for b in X.blocks:
            _forbid_dense(b)


@pytest.mark.parametrize("seed", range(3))
def test_lagged_cross_of_every_design_equals_the_dense_product(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(40, 300))
    for name, X, F in _designs(rng, n):
        for lag in (0, 1, 2, 5, n - 1, n, n + 3):
            m = max(n - lag, 0)
            d = rng.uniform(-0.5, 2.0, m)
            expected = F[lag:].T @ (F[:m] * d[:, None])
            got = X.lagged_cross(d, lag)
            assert got.shape == (F.shape[1], F.shape[1]), (name, lag)
            if m == 0:
                np.testing.assert_array_equal(got, 0.0)
            else:
                assert _rel(got, expected) < 1e-12, (name, lag)


def _time_series(rng, n):
    """An AR(1) driven Poisson response on an intercept, a numeric covariate, a factor of
    6 levels and 5 sparse columns; the same columns as a dense array, a scipy CSR matrix
    and a split design."""
    f = rng.integers(0, 6, n)
    x = rng.normal(size=n)
    S = sparse.random(n, 5, density=0.05, random_state=rng, format="csr")
    e = np.zeros(n)
    for t in range(1, n):
        e[t] = 0.6 * e[t - 1] + rng.normal(scale=0.4)
    eta = 0.3 + 0.3 * x + 0.2 * (f - 2.5) / 2.5 + S @ np.full(5, 0.5) + e
    y = rng.poisson(np.exp(eta)).astype(float)
    onehot = (f[:, None] == np.arange(1, 6)).astype(float)
    F = np.column_stack([np.ones(n), x, onehot, S.toarray()])
    designs = {
        "sparse": sparse.csr_matrix(F),
        "split": SplitDesign([DenseDesign(F[:, :2]), CategoricalDesign(f, 6),
                              SparseDesign(S, dense_threshold=None)]),
        "categorical": SplitDesign([DenseDesign(F[:, :2]), CategoricalDesign(f, 6),
                                    DenseDesign(F[:, 7:])]),
    }
    return y, F, designs


def _dense_hac(res, F, maxlags, kernel, correction):
    """bread (X'WX)^-1, meat from the dense n x p scores (hac_meat), over the kept columns."""
    keep = res._keep
    u = score_weights(res)
    meat = hac_meat(F[:, keep] * u[:, None], maxlags, kernel)
    if correction:
        n = F.shape[0]
        meat *= n / (n - keep.sum())
    bread = res._normalized_cov[np.ix_(keep, keep)]
    return bread @ meat @ bread


@pytest.mark.parametrize("kind", ["sparse", "split", "categorical"])
@pytest.mark.parametrize("kernel", ["bartlett", "uniform"])
@pytest.mark.parametrize("weights", [False, True])
def test_hac_on_structured_designs_equals_the_dense_hac(kind, kernel, weights):
    rng = np.random.default_rng(17)
    n = 400
    y, F, designs = _time_series(rng, n)
    vw = rng.uniform(0.5, 2.0, n) if weights else None
    dense = sm.GLM(y, F, family=sm.families.Poisson(), var_weights=vw).fit()
    model = sm.GLM(y, designs[kind], family=sm.families.Poisson(), var_weights=vw)
    _forbid_dense(model.problem.X)
    res = model.fit()
    np.testing.assert_allclose(res.params, dense.params, rtol=1e-9, atol=1e-12)
    for maxlags in (0, 1, 3, 8):
        for correction in (False, True):
            kw = {"maxlags": maxlags, "kernel": kernel, "use_correction": correction}
            hac = res.get_robustcov_results("hac", **kw)
            expected = _dense_hac(res, F, maxlags, kernel, correction)
            got = np.asarray(hac.cov_params())
            assert _rel(got, expected) < 1e-10, (maxlags, correction)
            # and the dense design's own HAC (its fit rounds differently: 1e-8)
            ref = np.asarray(dense.get_robustcov_results("hac", **kw).cov_params())
            assert _rel(got, ref) < 1e-8
            assert _rel(got, np.asarray(res.cov_params())) > 1e-3   # not the model-based one


def test_hac_with_an_aliased_level_and_through_fit_and_formula():
    """A factor with all its levels beside an intercept (one column aliased) gives the kept
    columns' HAC; fit(cov_type='hac') and a formula fit (a split design) give the same."""
    rng = np.random.default_rng(3)
    n = 300
    y, F, _ = _time_series(rng, n)
    f = np.argmax(np.column_stack([1 - F[:, 2:7].sum(1), F[:, 2:7]]), axis=1)
    X = SplitDesign([DenseDesign(F[:, :2]), CategoricalDesign(f, 6, drop_first=False)])
    Fd = np.column_stack([F[:, :2], (f[:, None] == np.arange(6)).astype(float)])
    model = sm.GLM(y, X, family=sm.families.Poisson())
    _forbid_dense(model.problem.X)
    with pytest.warns(AliasedColumnsWarning, match="cat"):
        res = model.fit(cov_type="hac", cov_kwds={"maxlags": 4})
    assert res._keep.sum() == 7
    expected = _dense_hac(res, Fd, 4, "bartlett", False)
    keep = res._keep
    assert _rel(np.asarray(res.cov_params())[np.ix_(keep, keep)], expected) < 1e-10
    import pandas as pd

    import glmkit

    g = rng.integers(0, 25, n)   # 25 levels: the formula makes it a categorical block
    data = pd.DataFrame({"y": y, "x": F[:, 1], "f": pd.Categorical(f), "g": pd.Categorical(g)})
    fres = glmkit.glm("y ~ x + C(f) + C(g)", data, family=glmkit.families.Poisson()).fit(
        cov_type="hac", cov_kwds={"maxlags": 4, "kernel": "uniform"})
    Xf = fres.model.problem.X
    assert any(isinstance(b, CategoricalDesign) for b in Xf.blocks)
    expected = _dense_hac(fres, Xf.to_dense(), 4, "uniform", False)
    assert _rel(np.asarray(fres.cov_params()), expected) < 1e-10


def test_hac_on_a_structured_design_refuses_freq_weights():
    rng = np.random.default_rng(5)
    y, F, designs = _time_series(rng, 100)
    model = sm.GLM(y, designs["split"], family=sm.families.Poisson(),
                   freq_weights=np.full(100, 2.0))
    with pytest.raises(ValueError, match="freq_weights"):
        model.fit(cov_type="hac", cov_kwds={"maxlags": 2}).bse

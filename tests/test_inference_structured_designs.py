"""Robust covariances, hat values and prediction standard errors on categorical, split and
sparse designs equal those of the same model fitted on the dense array (invariant: every
design gives the dense answer), and are computed without a dense copy of the design."""
import numpy as np
import pytest
from scipy import sparse

import glmkit
from glmkit.design import CategoricalDesign, DenseDesign, SparseDesign, SplitDesign

COV_TYPES = ["HC0", "HC1", "HC2", "HC3", "cluster", "cluster2"]


def _no_dense(*args, **kwargs):
    raise AssertionError("the design was made dense")


def _structured(kind, rng, n):
    num = np.column_stack([np.ones(n), rng.normal(size=(n, 2))])
    if kind == "split":
        c1 = CategoricalDesign(rng.integers(0, 6, n), 6, drop_first=True, name="a")
        c2 = CategoricalDesign(rng.integers(0, 15, n), 15, drop_first=True, name="b")
        return SplitDesign([DenseDesign(num), c1, DenseDesign(rng.normal(size=(n, 1))), c2])
    k = int(0.03 * n * 25)
    S = sparse.coo_matrix((rng.uniform(0.5, 1.5, k), (rng.integers(0, n, k),
                                                       rng.integers(0, 25, k))), shape=(n, 25))
    return SparseDesign(sparse.hstack([sparse.csr_matrix(num), S]).tocsc())


@pytest.mark.parametrize("kind", ["split", "sparse"])
def test_robust_covariances_hat_values_and_prediction_se_equal_the_dense_fit(kind):
    rng = np.random.default_rng(7)
    n = 1500
    X = _structured(kind, rng, n)
    F = np.array(X.to_dense())
    eta = 0.3 + F[:, 1:] @ rng.normal(scale=0.2, size=F.shape[1] - 1)
    y = rng.poisson(np.exp(eta))
    g1, g2 = rng.integers(0, 40, n), rng.integers(0, 7, n)
    fam = glmkit.families.Poisson()
    for cov in COV_TYPES:
        kw = {}
        if cov.startswith("cluster"):
            kw = {"cov_type": "cluster",
                  "cov_kwds": {"groups": g1 if cov == "cluster" else np.column_stack([g1, g2])}}
        else:
            kw = {"cov_type": cov}
        dense = glmkit.GLM(y, F, family=fam).fit(**kw)
        res = glmkit.GLM(y, X, family=fam).fit(**kw)
        X.to_dense = _no_dense   # statistics from here on: no dense copy
        try:
            np.testing.assert_allclose(res.params, dense.params, rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(res.cov_params(), dense.cov_params(), rtol=1e-10,
                                       atol=1e-14)
        finally:
            del X.to_dense
    res = glmkit.GLM(y, X, family=fam).fit()
    dense = glmkit.GLM(y, F, family=fam).fit()
    X.to_dense = _no_dense
    try:
        np.testing.assert_allclose(res.get_hat_matrix_diag(), dense.get_hat_matrix_diag(),
                                   rtol=1e-10)
        infl, dinfl = res.get_influence(), dense.get_influence()
        np.testing.assert_allclose(infl.hat_matrix_diag, dinfl.hat_matrix_diag, rtol=1e-10)
        np.testing.assert_allclose(np.asarray(infl.hatvalues), np.asarray(dinfl.hatvalues),
                                   rtol=1e-10)
        se, dse = res.get_prediction().se, dense.get_prediction().se
        np.testing.assert_allclose(se, dse, rtol=1e-10)
    finally:
        del X.to_dense

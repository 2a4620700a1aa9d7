"""Influence measures and analysis-of-deviance tables on categorical, split and sparse designs
equal those of the same model fitted on the dense array to 1e-10 (invariant: every design
gives the dense answer), and are computed without a dense copy of the design (``to_dense``
raises while they are computed). The dense answers themselves are checked against R and
statsmodels in test_reference_r_inference.py and test_influence_names.py."""
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import glmkit
from glmkit.design import CategoricalDesign, DenseDesign, SparseDesign, SplitDesign


class _NoDense:
    """Make ``to_dense`` raise on every categorical, sparse and split design, those derived
    from X (column subsets for refits) included. Dense blocks are exempt: their to_dense is
    their own array, no copy. ``rows`` allows a few rows (the solver reads row 0)."""

    def __init__(self, X=None):
        self.classes = (CategoricalDesign, SparseDesign, SplitDesign)

    def __enter__(self):
        def fail(self, *a, **k):
            if self.shape[0] <= 1:   # one row: the solver's look at row 0
                return self._saved_to_dense()
            raise AssertionError("the design was made dense")
        for c in self.classes:
            c._saved_to_dense = c.to_dense
            c.to_dense = fail

    def __exit__(self, *exc):
        for c in self.classes:
            c.to_dense = c._saved_to_dense
            del c._saved_to_dense


def _design(kind, rng, n, aliased=False):
    x = rng.normal(size=(n, 2))
    num = np.column_stack([np.ones(n), x])
    if kind == "split":
        c1 = CategoricalDesign(rng.integers(0, 5, n), 5, drop_first=True, name="a")
        c2 = CategoricalDesign(rng.integers(0, 12, n), 12, drop_first=True, name="b")
        extra = rng.normal(size=(n, 1))
        if aliased:   # a column equal to x1 + x2: one coefficient aliased
            extra = (x[:, 0] + x[:, 1])[:, None]
        return SplitDesign([DenseDesign(num), c1, DenseDesign(extra), c2])
    k = int(0.04 * n * 12)
    S = sparse.coo_matrix((rng.uniform(0.5, 1.5, k), (rng.integers(0, n, k),
                                                       rng.integers(0, 12, k))), shape=(n, 12))
    return SparseDesign(sparse.hstack([sparse.csr_matrix(num), S]).tocsc())


def _data(kind, family, seed=3, n=900, aliased=False):
    rng = np.random.default_rng(seed)
    X = _design(kind, rng, n, aliased)
    F = X.to_dense()
    eta = 0.2 + F[:, 1:] @ rng.normal(scale=0.15, size=F.shape[1] - 1)
    if isinstance(family, glmkit.families.Gamma):
        y = rng.gamma(3.0, np.exp(eta) / 3.0)
    else:
        y = rng.poisson(np.exp(eta)).astype(float)
    return X, F, y


def _close(a, b, what):
    """Equal to 1e-10 relative to each element and to the largest element (two fits agree
    to about 1e-13, so a residual near 0 is equal only to that absolute error)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = np.nanmax(np.abs(b)) if np.isfinite(b).any() else 1.0
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10 * scale, err_msg=what)


FAMILIES = [glmkit.families.Poisson(), glmkit.families.Gamma(glmkit.families.links.Log())]


@pytest.mark.parametrize("kind,aliased", [("split", False), ("split", True), ("sparse", False)])
@pytest.mark.parametrize("family", FAMILIES, ids=["poisson", "gamma"])
def test_influence_measures_equal_the_dense_fit_without_a_dense_copy(kind, aliased, family):
    X, F, y = _data(kind, family, aliased=aliased)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", glmkit.exceptions.AliasedColumnsWarning)
        res = glmkit.GLM(y, X, family=family).fit()
        dense = glmkit.GLM(y, F, family=family).fit()
    assert res.rank == dense.rank == F.shape[1] - int(aliased)
    for observed in (True, False):
        with _NoDense(X):
            ours = res.get_influence(observed=observed)
            got = {
                "hat_matrix_diag": ours.hat_matrix_diag,
                "resid_studentized": ours.resid_studentized,
                "cooks_distance": ours.cooks_distance[0],
                "cooks_pvalue": ours.cooks_distance[1],
                "d_params": ours.d_params, "dfbetas": ours.dfbetas,
                "params_one": ours.params_one,
                "d_linpred": ours.d_linpred, "d_fittedvalues": ours.d_fittedvalues,
                "hatvalues": ours.hatvalues, "rstudent": ours.rstudent(),
                "rstandard": ours.rstandard(), "dfbeta": ours.dfbeta,
                "dffits": ours.dffits[0], "cov_ratio": ours.cov_ratio,
                "influence_measures": ours.influence_measures(),
            }
        theirs = dense.get_influence(observed=observed)
        want = {
            "hat_matrix_diag": theirs.hat_matrix_diag,
            "resid_studentized": theirs.resid_studentized,
            "cooks_distance": theirs.cooks_distance[0],
            "cooks_pvalue": theirs.cooks_distance[1],
            "d_params": theirs.d_params, "dfbetas": theirs.dfbetas,
            "params_one": theirs.params_one,
            "d_linpred": theirs.d_linpred, "d_fittedvalues": theirs.d_fittedvalues,
            "hatvalues": theirs.hatvalues, "rstudent": theirs.rstudent(),
            "rstandard": theirs.rstandard(), "dfbeta": theirs.dfbeta,
            "dffits": theirs.dffits[0], "cov_ratio": theirs.cov_ratio,
            "influence_measures": theirs.influence_measures(),
        }
        for name, value in want.items():
            _close(got[name], value, f"{name} (observed={observed})")
        if aliased:   # the aliased coefficient's column of the n x p measures is NaN
            assert np.isnan(np.asarray(got["d_params"])[:, 7]).all()   # x1 + x2


def test_d_linpred_is_the_row_sum_of_x_times_d_params():
    """statsmodels' definition d_linpred_i = sum_j x_ij d_params_ij, from the dense rows,
    against the row-wise quadratic form it is computed with."""
    X, F, y = _data("split", FAMILIES[0], aliased=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", glmkit.exceptions.AliasedColumnsWarning)
        infl = glmkit.GLM(y, X, family=FAMILIES[0]).fit().get_influence()
    _close(infl.d_linpred, np.nansum(F * np.asarray(infl.d_params), axis=1), "d_linpred")


def _frames_close(got, want):
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True),
                                  check_exact=False, rtol=1e-10, atol=1e-9)


@pytest.mark.parametrize("kind", ["split", "sparse"])
@pytest.mark.parametrize("family", FAMILIES, ids=["poisson", "gamma"])
def test_sequential_and_nested_anova_equal_the_dense_fit_without_a_dense_copy(kind, family):
    X, F, y = _data(kind, family, seed=5)
    res = glmkit.GLM(y, X, family=family).fit()
    dense = glmkit.GLM(y, F, family=family).fit()
    small_cols = [0, 1, 2, 7, 8] if kind == "split" else [0, 1, 2, 5]
    small = glmkit.GLM(y, X.take_columns(small_cols), family=family).fit()
    small_dense = glmkit.GLM(y, F[:, small_cols], family=family).fit()
    for test in (None, "Chisq", "F", "Rao"):
        with _NoDense(X), warnings.catch_warnings():
            warnings.simplefilter("ignore")   # the F test on a Poisson fit warns
            got = glmkit.anova(res, test=test)
            got_list = glmkit.anova(small, res, test=test)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = glmkit.anova(dense, test=test)
            want_list = glmkit.anova(small_dense, dense, test=test)
        _frames_close(got, want)   # the designs name their columns differently
        _frames_close(got_list, want_list)


def test_formula_anova_drop1_and_add1_by_factor_terms_equal_the_dense_design():
    """A formula with two factors (a split design of codes): the factor terms enter as
    column subsets of the design (take_columns keeps them codes); the same table as the
    dense design given the same terms."""
    rng = np.random.default_rng(11)
    n = 1200
    df = pd.DataFrame({"f1": pd.Categorical(rng.integers(0, 6, n)),
                       "f2": pd.Categorical(rng.integers(0, 40, n)),
                       "x1": rng.normal(size=n), "x2": rng.uniform(size=n)})
    df["y"] = rng.poisson(np.exp(0.3 + 0.1 * df["f1"].cat.codes / 6 + 0.2 * df["x1"]))
    fam = glmkit.families.Poisson()
    res = glmkit.glm("y ~ C(f1) + C(f2) + x1 + x2", df, family=fam).fit()
    X = res.model.problem.X
    assert any(isinstance(b, CategoricalDesign) for b in X.blocks)
    dense_model = glmkit.GLM(df["y"].to_numpy(float), X.to_dense(), family=fam)
    dense_model.terms = res.model.terms
    dense = dense_model.fit()
    for test in ("Chisq", "Rao"):
        with _NoDense(X):
            got = glmkit.anova(res, test=test)
            got_drop = glmkit.drop1(res, test=test)
        pd.testing.assert_frame_equal(got, glmkit.anova(dense, test=test), check_exact=False,
                                      rtol=1e-10, atol=1e-9)
        pd.testing.assert_frame_equal(got_drop, glmkit.drop1(dense, test=test),
                                      check_exact=False, rtol=1e-10, atol=1e-9)
    small = glmkit.glm("y ~ C(f1) + x1", df, family=fam).fit()
    add = glmkit.add1(small, "~ . + C(f2) + x2", test="Rao")
    # the Rao score of adding a term is the anova Rao of the nested pair
    big = glmkit.glm("y ~ C(f1) + x1 + C(f2)", df, family=fam).fit()
    np.testing.assert_allclose(add.loc["C(f2)", "Rao score"],
                               glmkit.anova(small, big, test="Rao")["Rao"].iloc[1], rtol=1e-10)


@pytest.mark.parametrize("kind", ["split", "sparse"])
def test_take_columns_keeps_the_structure_and_equals_the_dense_columns(kind):
    rng = np.random.default_rng(2)
    X = _design(kind, rng, 200)
    F = X.to_dense()
    p = F.shape[1]
    for cols in ([0, 1, 2], [4, 3, 9], list(range(p)), [p - 1, 0, 5, 6], [6]):
        T = X.take_columns(cols)
        np.testing.assert_array_equal(T.to_dense(), F[:, cols])
        assert T.nbytes <= X.nbytes
    if kind == "split":
        T = X.take_columns([3, 5, 4])   # three levels of factor a, out of order
        assert isinstance(T.blocks[0], CategoricalDesign)
    else:
        assert isinstance(X.take_columns([3, 9]), SparseDesign)


def test_partial_and_added_variable_residuals_and_profiles_without_a_dense_copy():
    """regressionplots' residuals and the profile of a coefficient on a split design equal
    the dense design's (their dense answers are checked against statsmodels and MASS in
    test_regressionplots.py and the R tests); the two plots draw without a dense copy."""
    from glmkit import regressionplots
    from glmkit.profile import profile_coefficient

    fam = FAMILIES[0]
    X, F, y = _data("split", fam, seed=9, n=700)
    res = glmkit.GLM(y, X, family=fam).fit()
    dense = glmkit.GLM(y, F, family=fam).fit()
    for focus in (1, 4):   # a numeric column, a factor level
        with _NoDense():
            got = (regressionplots.partial_resids(res, focus),
                   *regressionplots.added_variable_resids(res, focus),
                   *profile_coefficient(res, focus, zmax=2.0, maxsteps=4))
        want = (regressionplots.partial_resids(dense, focus),
                *regressionplots.added_variable_resids(dense, focus),
                *profile_coefficient(dense, focus, zmax=2.0, maxsteps=4))
        for name, a, b in zip(["partial", "av endog", "av focus", "profile b", "profile z"],
                              got, want):
            _close(a, b, f"{name} (focus {focus})")
    from glmkit import plotting

    with _NoDense():
        figs = (res.plot_added_variable(1), res.plot_partial_residuals(4),
                plotting.plot_added_variable(res, 1), plotting.plot_partial_residuals(res, 4))
    # glmkit.plotting's added-variable plot: the focus coefficient is the slope of the
    # weighted residuals (Frisch-Waugh-Lovell), whatever the design
    rx, ry = figs[2].axes[0].collections[0].get_offsets().T
    np.testing.assert_allclose(np.sum(rx * ry) / np.sum(rx * rx), np.asarray(res.params)[1],
                               rtol=1e-8)


def test_score_test_with_exog_extra_on_a_split_design_equals_the_dense_design():
    """statsmodels' score_test(exog_extra=...): the larger design stays a split design."""
    fam = FAMILIES[1]   # a free scale: the larger model is fitted too
    X, F, y = _data("split", fam, seed=4, n=600)
    extra = np.random.default_rng(1).normal(size=(600, 2))
    dense = glmkit.GLM(y, F, family=fam)
    want = dense.score_test(dense.fit().params, exog_extra=extra)
    model = glmkit.GLM(y, X, family=fam)
    params = model.fit().params
    with _NoDense():
        got = model.score_test(params, exog_extra=extra)
    _close(got[:2], want[:2], "score test (statistic, p-value)")
    assert got[2] == want[2] == 2

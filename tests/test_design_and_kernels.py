"""Tier-3 invariants of the fast paths: every DesignMatrix equals the dense one, every
fused family x link kernel equals the generic computation, and fits agree across designs."""
from __future__ import annotations

import numpy as np
import pytest
from _irls_checks import assert_float32_steps_match_float64
from scipy import sparse

import glmkit.api as sm
from glmkit.design import CategoricalDesign, DenseDesign, SparseDesign, SplitDesign
from glmkit.design import dense as dense_module
from glmkit.families import _fused
from glmkit.families import links as L


def _designs(rng, n=400):
    x = rng.normal(size=(n, 3))
    codes = rng.integers(0, 7, n)
    codes2 = rng.integers(0, 4, n)
    dense_block = DenseDesign(np.column_stack([np.ones(n), x]))
    cat = CategoricalDesign(codes, 7, name="g")
    cat2 = CategoricalDesign(codes2, 4, name="h")
    return {
        "dense": dense_block,
        "sparse": SparseDesign(sparse.random(n, 6, density=0.3, random_state=3, format="csr")),
        "categorical": cat,
        "categorical_full": CategoricalDesign(codes, 7, drop_first=False),
        "split": SplitDesign([dense_block, cat, cat2]),
    }


@pytest.mark.parametrize("small", [True, False], ids=["transposed_copy", "rows"])
@pytest.mark.parametrize("name", ["dense", "sparse", "categorical", "categorical_full", "split"])
def test_design_products_equal_dense(name, small, monkeypatch):
    """Invariant: matvec, rmatvec and sandwich equal the products with to_dense(), for dense
    blocks small enough to keep a transposed copy and for the others."""
    if not small:
        monkeypatch.setattr(dense_module, "_SMALL_ELEMENTS", 0)
    rng = np.random.default_rng(0)
    D = _designs(rng)[name]
    A = D.to_dense()
    n, p = A.shape
    b, v = rng.normal(size=p), rng.normal(size=n)
    d = rng.uniform(0.1, 2.0, n)
    np.testing.assert_allclose(D.matvec(b), A @ b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(D.rmatvec(v), A.T @ v, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(D.sandwich(d), A.T @ (A * d[:, None]), rtol=1e-12, atol=1e-12)
    # negative weights (observed information) take the non-sqrt path
    d2 = rng.normal(size=n)
    np.testing.assert_allclose(D.sandwich(d2), A.T @ (A * d2[:, None]), rtol=1e-10, atol=1e-10)
    const = np.all(A == A[0], axis=0) & (A[0] != 0)
    np.testing.assert_array_equal(D.column_is_constant(), const)
    if name == "dense":
        assert D._small == small
        S = D.sandwich(d)
        np.testing.assert_array_equal(S, S.T)   # exactly symmetric on either path


def test_dense_row_blocks_cover_the_rows_and_share_one_buffer(monkeypatch):
    """Invariant: summing block products over row_blocks equals the whole product."""
    monkeypatch.setattr(dense_module, "_BLOCK_ELEMENTS", 64)   # force many small blocks
    monkeypatch.setattr(dense_module, "_MIN_BLOCK_ROWS", 1)
    rng = np.random.default_rng(1)
    A = rng.normal(size=(203, 5))
    D = DenseDesign(A)
    d = rng.uniform(size=203)
    G = sum(blk.sandwich(d[sl]) for sl, blk in D.row_blocks())
    np.testing.assert_allclose(G, A.T @ (A * d[:, None]), rtol=1e-12)
    np.testing.assert_allclose(D.sandwich(d), A.T @ (A * d[:, None]), rtol=1e-12)
    rows = [sl for sl, _ in D.row_blocks()]
    assert rows[0].start == 0 and rows[-1].stop == 203 and len(rows) > 10


_KERNEL_CASES = [
    (sm.families.Poisson(), _fused.PoissonLog),
    (sm.families.Binomial(), _fused.BinomialLogit),
    (sm.families.Gamma(L.Log()), _fused.GammaLog),
    (sm.families.Gaussian(), _fused.GaussianIdentity),
    (sm.families.Tweedie(var_power=1.5), _fused.TweedieLog),
    (sm.families.Tweedie(var_power=2.5), _fused.TweedieLog),
]


@pytest.mark.parametrize("family,cls", _KERNEL_CASES, ids=lambda v: getattr(v, "__name__", repr(v)))
def test_fused_kernel_equals_generic(family, cls):
    """Invariant: the fused kernel's mu, deviance (with its constant), working and score
    weights and observed weights equal the generic family/link computation."""
    rng = np.random.default_rng(2)
    n = 500
    eta = rng.normal(0.3, 1.0, n)
    if isinstance(family, sm.families.Binomial):
        y = rng.integers(0, 2, n).astype(float)
        y[:50] = rng.uniform(size=50)            # proportions too
        eta[:3] = [-50.0, 50.0, 40.0]            # extremes: clipping must agree
    elif isinstance(family, sm.families.Gaussian):
        y = rng.normal(size=n)
    else:
        y = rng.gamma(2.0, 1.0, n)
        if isinstance(family, (sm.families.Poisson, sm.families.Tweedie)) and \
                getattr(family, "var_power", 1.0) < 2:
            y[::4] = 0.0
    tw = rng.uniform(0.5, 2.0, n)
    fused = _fused.kernel_for(family)
    assert type(fused) is cls
    generic = _fused.GenericKernel(family)
    fm, fd, fw, fu, fo = fused.evaluate(y, eta, tw, observed=True)
    gm, gd, gw, gu, go = generic.evaluate(y, eta, tw, observed=True)
    np.testing.assert_allclose(fm, gm, rtol=1e-13)
    assert fd + fused.constant(y, tw) == pytest.approx(gd + generic.constant(y, tw), rel=1e-11)
    np.testing.assert_allclose(fw, gw, rtol=1e-12)
    np.testing.assert_allclose(fu, gu, rtol=1e-10, atol=1e-12)
    # observed weights off R's clamps (|eta| > 36 for logit): there the clamped generic
    # derivatives no longer cancel, while the fused canonical value is exact
    off = np.abs(eta) < 30
    np.testing.assert_allclose(fo[off], go[off], rtol=1e-10, atol=1e-12)
    # the generic deviance is the family's deviance
    assert gd == pytest.approx(family.deviance(y, gm, var_weights=tw), rel=1e-13)


def test_fits_agree_across_designs_and_kernels():
    """Invariant: the same model on dense, sparse and split (categorical) designs, and with
    the generic kernel, gives the same fit."""
    rng = np.random.default_rng(4)
    n, L_ = 3000, 40     # 39 level columns: the solver eliminates them as a diagonal block
    codes = rng.integers(0, L_, n)
    x = rng.normal(size=(n, 2))
    eff = np.r_[0.0, rng.normal(0, 0.3, L_ - 1)]
    y = rng.poisson(np.exp(0.1 + eff[codes] + x @ [0.2, -0.1])).astype(float)
    split = SplitDesign([DenseDesign(np.column_stack([np.ones(n), x])),
                         CategoricalDesign(codes, L_, name="g")])
    A = split.to_dense()
    fam = sm.families.Poisson()
    ref = sm.GLM(y, A, family=fam).fit()
    for X in (split, sparse.csr_matrix(A)):
        r = sm.GLM(y, X, family=fam).fit()
        np.testing.assert_allclose(r.params, ref.params, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(r.bse, ref.bse, rtol=1e-9)
        assert r.deviance == pytest.approx(ref.deviance, rel=1e-12)
    assert sm.GLM(y, split, family=fam).fit().model.exog_names[:4] == ["const", "x2", "x3", "g[1]"]
    from glmkit.problem import GLMProblem
    from glmkit.solvers import SolverOptions
    from glmkit.solvers.irls import irls

    p = sm.GLM(y, A, family=fam).problem
    g = irls(p, None, SolverOptions(fused=False))
    np.testing.assert_allclose(np.asarray(g.params), ref.params, rtol=1e-10, atol=1e-12)
    assert isinstance(p, GLMProblem)


def test_float32_design_fits_the_same_data_as_float64():
    """Invariant: a float32 design is fitted in float32 (no float64 copy of X) and reaches the
    MLE of the same (float32-rounded) data to 1e-7; standard errors from its float32 Gram."""
    rng = np.random.default_rng(6)
    n = 20000
    X32 = np.column_stack([np.ones(n), rng.normal(size=(n, 4))]).astype(np.float32)
    y = rng.poisson(np.exp(0.2 + X32[:, 1:] @ np.array([0.1, -0.2, 0.05, 0.3]))).astype(float)
    a = sm.GLM(y, X32, family=sm.families.Poisson()).fit()
    b = sm.GLM(y, X32.astype(np.float64), family=sm.families.Poisson()).fit()
    assert a.model.exog.dtype == np.float32 and np.shares_memory(a.model.exog, X32)
    np.testing.assert_allclose(a.params, b.params, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(a.bse, b.bse, rtol=1e-5)
    assert a.deviance == pytest.approx(b.deviance, rel=1e-10)


def test_subsample_warm_start_reaches_the_full_data_mle(monkeypatch):
    """Invariant: the subsample start changes the path, not the answer (full-data MLE)."""
    from glmkit.solvers import warm_start

    monkeypatch.setattr(warm_start, "MIN_ROWS", 1000)
    monkeypatch.setattr(warm_start, "MIN_RATIO", 10)
    monkeypatch.setattr(warm_start, "MIN_SHARE", 4)   # the subsample is a quarter here
    rng = np.random.default_rng(12)
    n = 60000
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 3))])
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(X @ [-0.3, 0.5, -0.2, 0.1])))).astype(float)
    fam = sm.families.Binomial(L.CLogLog())
    from glmkit.solvers import SolverOptions
    from glmkit.solvers.irls import irls

    problem = sm.GLM(y, X, family=fam).problem
    warm = irls(problem, None, SolverOptions(subsample=True))
    cold = irls(problem, None, SolverOptions(subsample=False))
    assert warm.converged and cold.converged
    np.testing.assert_allclose(warm.params, cold.params, rtol=1e-8)
    assert warm.deviance == pytest.approx(cold.deviance, rel=1e-13)
    assert warm_start.subsample_start(problem, SolverOptions(), irls) is not None
    # a subsample of more than 1 / MIN_SHARE of the rows would not pay: none is fitted
    monkeypatch.setattr(warm_start, "MIN_SHARE", 8)
    assert warm_start.subsample_start(problem, SolverOptions(), irls) is None


@pytest.mark.parametrize("family", [sm.families.Gamma(L.Log()), sm.families.Tweedie(var_power=1.5)],
                         ids=["gamma_log", "tweedie_log"])
def test_newton_steps_reach_the_fisher_fit(family):
    """Invariant: Newton steps (observed information, positive definite for these kernels)
    reach the same maximum and the same expected-information covariance as Fisher scoring,
    in fewer sweeps."""
    from glmkit.solvers import SolverOptions
    from glmkit.solvers.irls import irls

    rng = np.random.default_rng(13)
    n = 5000
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 4))])
    mu = np.exp(0.5 + X[:, 1:] @ np.array([0.2, -0.3, 0.1, 0.05]))
    y = rng.gamma(2.0, mu / 2.0) * (rng.uniform(size=n) < 0.7 if
                                    isinstance(family, sm.families.Tweedie) else 1.0)
    p = sm.GLM(y, X, family=family).problem
    newton = irls(p, None, SolverOptions())
    fisher = irls(p, None, SolverOptions(newton_steps=False))
    assert newton.converged and fisher.converged
    np.testing.assert_allclose(newton.params, fisher.params, rtol=1e-8)
    np.testing.assert_allclose(newton.gram, fisher.gram, rtol=1e-7)
    assert newton.n_iter < fisher.n_iter


@pytest.mark.parametrize("family", [sm.families.Poisson(), sm.families.Binomial(L.Probit()),
                                    sm.families.Gamma(L.Log())],
                         ids=["poisson", "binomial_probit", "gamma_log"])
def test_a_fit_of_k_iterations_reads_the_data_k_times(family):
    """The last sweep's X'WX and score predict the next step; when it is negligible the fit
    stops there, without the pass that would only confirm it. The answer is the maximum to
    the same accuracy: the same as a fit refined to a 1e-13 standard-error step."""
    from glmkit.solvers import SolverOptions
    from glmkit.solvers.irls import irls

    rng = np.random.default_rng(14)
    n = 4000
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 3))])
    eta = X @ np.array([0.3, 0.4, -0.3, 0.2])
    if isinstance(family, sm.families.Poisson):
        y = rng.poisson(np.exp(eta)).astype(float)
    elif isinstance(family, sm.families.Binomial):
        y = (rng.normal(size=n) < eta).astype(float)
    else:
        y = rng.gamma(2.0, np.exp(eta) / 2.0)
    problem = sm.GLM(y, X, family=family).problem
    fit = irls(problem, None, SolverOptions())
    tight = irls(problem, None, SolverOptions(step_tol=1e-12, tol=1e-15))
    assert fit.converged and tight.converged
    # one more read of X (X @ b, no X'WX) when the last solved step was taken unswept
    unswept = fit.history.get("last_step_unswept", False)
    assert fit.history["passes"] == fit.n_iter + unswept
    from glmkit.solvers.base import LazyGram

    # newton-only kernels, and unswept last steps, leave the covariance's expected X'WX to
    # its first use
    assert isinstance(fit.gram, LazyGram) == (isinstance(family, sm.families.Gamma) or unswept)
    np.testing.assert_allclose(fit.params, tight.params, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fit.gram, tight.gram, rtol=1e-7)
    # within step_tol (1e-8) standard errors of the maximum, as the rule promises
    G = np.asarray(tight.gram)
    scale = tight.deviance / n if isinstance(family, sm.families.Gamma) else 1.0
    d = np.asarray(fit.params) - np.asarray(tight.params)
    assert np.sqrt(d @ G @ d / scale) < 1e-8


def test_a_last_step_within_tolerance_is_taken_without_a_sweep():
    """Invariant: when the last two steps show the next one lands within step_tol standard
    errors of the maximum, the fit takes it with one X @ b instead of a sweep, and its
    eta, mean, weights and deviance are those of the coefficients it reports."""
    from glmkit.solvers import SolverOptions
    from glmkit.solvers.irls import irls

    rng = np.random.default_rng(14)
    n = 4000
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 3))])
    y = rng.poisson(np.exp(X @ np.array([0.3, 0.4, -0.3, 0.2]))).astype(float)
    problem = sm.GLM(y, X, family=sm.families.Poisson()).problem
    fit = irls(problem, None, SolverOptions())
    assert fit.history.get("last_step_unswept") and fit.converged
    np.testing.assert_allclose(fit.eta, X @ fit.params, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(fit.mu, np.exp(fit.eta), rtol=1e-15)
    np.testing.assert_allclose(fit.working_weights, fit.mu, rtol=1e-15)
    assert fit.deviance == pytest.approx(problem.deviance(np.exp(X @ fit.params)), rel=1e-13)
    # without the rule (tol_criterion='params' stops by R's other rule) every step is swept
    assert not irls(problem, None, SolverOptions(tol_criterion="params")).history.get(
        "last_step_unswept")


def test_factor_with_a_diagonal_block_equals_the_dense_cholesky():
    """Invariant: eliminating a diagonal block first (Schur complement) gives the same
    solves, inverse and full-rank verdict as the dense factorization."""
    from glmkit.solvers._linalg import SPDFactor, find_aliased

    rng = np.random.default_rng(15)
    n, k, Lv = 5000, 4, 50
    codes = rng.integers(0, Lv, n)
    split = SplitDesign([DenseDesign(np.column_stack([np.ones(n), rng.normal(size=(n, k - 1))])),
                         CategoricalDesign(codes, Lv)])
    w = rng.uniform(0.2, 3.0, n)
    G = split.sandwich(w)
    diag = np.flatnonzero(split.diagonal_columns())
    assert len(diag) == Lv - 1 and np.count_nonzero(G[np.ix_(diag, diag)] - np.diag(np.diag(G)[diag])) == 0
    dense, structured = SPDFactor(G), SPDFactor(G, diag)
    r = rng.normal(size=G.shape[0])
    np.testing.assert_allclose(structured.solve(r), dense.solve(r), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(structured.inverse(), np.linalg.inv(G), rtol=1e-9, atol=1e-12)
    assert not find_aliased(G, diag=diag).any()


def test_aliasing_in_a_split_design_is_found_in_r_order():
    """A dense column equal to one level's indicator: the later column (the level) is
    aliased, as in the one-hot design (R's order)."""
    rng = np.random.default_rng(16)
    n, Lv = 4000, 40
    codes = rng.integers(0, Lv, n)
    x = rng.normal(size=n)
    dense = np.column_stack([np.ones(n), x, (codes == 5).astype(float)])
    split = SplitDesign([DenseDesign(dense), CategoricalDesign(codes, Lv)])
    y = rng.poisson(np.exp(0.2 + 0.1 * x + 0.2 * (codes % 3))).astype(float)
    import glmkit

    with pytest.warns(glmkit.AliasedColumnsWarning):
        r = sm.GLM(y, split, family=sm.families.Poisson()).fit()
    with pytest.warns(glmkit.AliasedColumnsWarning):
        ref = sm.GLM(y, split.to_dense(), family=sm.families.Poisson()).fit()
    rp, pp = np.asarray(r.params), np.asarray(ref.params)
    np.testing.assert_array_equal(np.isnan(rp), np.isnan(pp))
    assert np.isnan(rp[3 + 4]) and np.isnan(pp).sum() == 1   # g[5] (level 0 dropped)
    ok = ~np.isnan(pp)
    np.testing.assert_allclose(rp[ok], pp[ok], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.asarray(r.bse)[ok], np.asarray(ref.bse)[ok], rtol=1e-8)


@pytest.mark.parametrize("family", [sm.families.Binomial(), sm.families.Gamma(L.Log())],
                         ids=["binomial", "gamma_log"])
def test_float32_grams_far_from_the_solution_change_the_path_not_the_answer(family, monkeypatch):
    """Invariant: early IRLS sweeps may form X'WX from float32 blocks; the float64 score fixes
    the maximum and the covariance comes from a float64 X'WX, so params, deviance and the
    Gram equal those of an all-float64 fit."""
    import importlib

    from glmkit.solvers import sweeper as sweeper_module

    irls_module = importlib.import_module("glmkit.solvers.irls")
    monkeypatch.setattr(irls_module, "LOW_PRECISION_MIN_ELEMENTS", 1000)
    lows = []
    original = sweeper_module.InMemorySweeper.sweep

    def spy(self, *args, **kwargs):
        out = original(self, *args, **kwargs)
        lows.append(out.low)
        return out

    monkeypatch.setattr(sweeper_module.InMemorySweeper, "sweep", spy)
    rng = np.random.default_rng(17)
    n = 20000
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 6)) * [1, 10, 0.1, 1, 1, 3]])
    eta = X @ np.array([-0.2, 0.3, 0.02, 2.0, -0.4, 0.1, 0.05])
    if isinstance(family, sm.families.Binomial):
        y = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(float)
    else:
        y = rng.gamma(2.0, np.exp(eta) / 2.0)
    problem = sm.GLM(y, X, family=family).problem
    assert_float32_steps_match_float64(problem, lows)


def test_rank_is_decided_on_a_float64_gram_when_later_grams_are_float32(monkeypatch):
    """An exactly collinear column is aliased (R's order) on a design large enough for
    float32 Grams: a float32 X'WX would hide it (pivot ~1e-7 instead of ~1e-16)."""
    import importlib

    import glmkit

    irls_module = importlib.import_module("glmkit.solvers.irls")
    monkeypatch.setattr(irls_module, "LOW_PRECISION_MIN_ELEMENTS", 1000)
    rng = np.random.default_rng(19)   # a seed whose float32 X'WX hides the aliasing
    n = 20000
    x = rng.normal(size=(n, 3))
    X = np.column_stack([np.ones(n), x, x[:, 0] - 2.0 * x[:, 2]])
    y = rng.poisson(np.exp(0.2 + x @ [0.3, -0.2, 0.1])).astype(float)
    with pytest.warns(glmkit.AliasedColumnsWarning):
        fast = sm.GLM(y, X, family=sm.families.Poisson()).fit()
    assert np.isnan(fast.params[4]) and not np.isnan(fast.params[:4]).any()
    exact = sm.GLM(y, X[:, :4], family=sm.families.Poisson()).fit()
    np.testing.assert_allclose(fast.params[:4], exact.params, rtol=1e-10)


def test_a_start_on_an_aliased_constant_column_does_not_bias_the_kept_coefficients():
    """[d1, d2, 1] with d1 + d2 = 1: the constant column is aliased (R's order), so the
    intercept-only start must not leave weight on it; the level coefficients are then the
    log group means, as in the fit on [d1, d2]."""
    import glmkit

    rng = np.random.default_rng(20)
    n = 3000
    g = rng.integers(0, 2, n)
    X = np.column_stack([(g == 0), (g == 1), np.ones(n)]).astype(float)
    y = rng.poisson(np.where(g == 0, 2.0, 5.0)).astype(float)
    with pytest.warns(glmkit.AliasedColumnsWarning):
        res = sm.GLM(y, X, family=sm.families.Poisson()).fit()
    assert np.isnan(res.params[2])
    np.testing.assert_allclose(res.params[:2], np.log([y[g == 0].mean(), y[g == 1].mean()]),
                               rtol=1e-10)


def test_exposure_fits_start_where_the_offset_puts_them():
    """The intercept-only start ignores offsets, so with exposures near 1e6 it would start
    1e6 times too high and crawl down; such fits use R's start and take few passes."""
    rng = np.random.default_rng(21)
    n = 2000
    x = rng.normal(size=n)
    expo = rng.uniform(0.5e6, 1.5e6, n)
    y = rng.poisson(expo * np.exp(-12.0 + 0.3 * x)).astype(float)
    X = np.column_stack([np.ones(n), x])
    res = sm.GLM(y, X, family=sm.families.Poisson(), exposure=expo).fit()
    ref = sm.GLM(y, X, family=sm.families.Poisson(), offset=np.log(expo)).fit(
        start_params=[-12.0, 0.3])
    assert res.converged and res.n_iter <= 8
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-9)


def test_a_design_of_one_categorical_variable_fits_as_its_one_hot_form():
    """All columns in the diagonal block (no other columns): factor, rank and inverse."""
    rng = np.random.default_rng(22)
    n, Lv = 4000, 45
    codes = rng.integers(0, Lv, n)
    y = rng.poisson(np.exp(0.1 * (codes % 7))).astype(float) + (codes == 3)
    cat = CategoricalDesign(codes, Lv, drop_first=False)
    a = sm.GLM(y, cat, family=sm.families.Poisson()).fit()
    b = sm.GLM(y, cat.to_dense(), family=sm.families.Poisson()).fit()
    np.testing.assert_allclose(np.asarray(a.params), np.asarray(b.params), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.asarray(a.bse), np.asarray(b.bse), rtol=1e-9)
    assert a.model.rank == Lv


def test_nearly_collinear_designs_keep_float64_grams(monkeypatch):
    """Raw powers of an uncentred variable: float32 rounding would be a large error along
    the near-collinear direction, so such fits use float64 X'WX throughout (same answer as
    with low_precision_gram=False)."""
    import importlib

    from glmkit.solvers import SolverOptions

    irls_module = importlib.import_module("glmkit.solvers.irls")
    monkeypatch.setattr(irls_module, "LOW_PRECISION_MIN_ELEMENTS", 1000)
    rng = np.random.default_rng(23)
    n = 20000
    t = rng.uniform(10.0, 11.0, n)
    X = np.column_stack([np.ones(n), t, t ** 2, t ** 3])
    eta = -0.5 + 0.02 * (t - 10.5) - 0.3 * (t - 10.5) ** 2
    y = rng.poisson(np.exp(eta)).astype(float)
    problem = sm.GLM(y, X, family=sm.families.Poisson()).problem
    fast = irls_module.irls(problem, None, SolverOptions())
    exact = irls_module.irls(problem, None, SolverOptions(low_precision_gram=False))
    assert fast.converged and fast.history["passes"] == exact.history["passes"]
    np.testing.assert_allclose(fast.params, exact.params, rtol=1e-12)


def test_constant_columns_are_read_once_per_model(monkeypatch):
    """The default names ('const') and the fit's intercept-only start both need the
    constant columns: X's columns are read for them once."""
    from glmkit import _data

    calls = []
    real = dense_module.constant_columns

    def counted(X):
        calls.append(X.shape)
        return real(X)

    monkeypatch.setattr(_data, "constant_columns_of", counted)
    monkeypatch.setattr(dense_module, "constant_columns", counted)
    rng = np.random.default_rng(2)
    X = np.column_stack([np.ones(300), rng.normal(size=(300, 2))])
    y = rng.poisson(2.0, 300).astype(float)
    model = sm.GLM(y, X, family=sm.families.Poisson())
    res = model.fit()
    assert model.exog_names == ["const", "x1", "x2"] and res.converged
    assert len(calls) == 1
    np.testing.assert_array_equal(model.problem.X.column_is_constant(), [True, False, False])
    with pytest.raises(ValueError, match="one flag per column"):
        DenseDesign(X).known_constant_columns([True])


_STOP_FAMILIES = {
    "gaussian_log": lambda: sm.families.Gaussian(L.Log()),
    "binomial_probit": lambda: sm.families.Binomial(L.Probit()),
    "gamma_log": lambda: sm.families.Gamma(L.Log()),
    "poisson": lambda: sm.families.Poisson(),
    "inverse_gaussian_log": lambda: sm.families.InverseGaussian(L.Log()),
}


@pytest.mark.parametrize("name", sorted(_STOP_FAMILIES))
def test_default_fits_stop_within_the_step_tolerance_of_the_maximum(name):
    """Invariant (the stopping rules' promise): over random designs, weights and offsets,
    a default fit ends within ~1e-8 standard errors (of any coefficient or contrast) of a fit
    refined to 1e-12 SE,
    whether it stopped on a negligible step or took its last step unswept."""
    from glmkit.solvers import SolverOptions
    from glmkit.solvers.irls import irls

    worst = 0.0
    for seed in range(60):   # the old rule's worst case here: Gaussian-log, seed 16, 7e-8 SE
        rng = np.random.default_rng(1000 + seed)
        n, k = int(rng.integers(60, 2500)), int(rng.integers(1, 6))
        X = np.column_stack([np.ones(n), rng.normal(size=(n, k))])
        mu = np.exp(0.5 + X[:, 1:] @ rng.normal(0, 0.3, k))
        family = _STOP_FAMILIES[name]()
        if name == "poisson":
            y = rng.poisson(mu).astype(float)
        elif name == "binomial_probit":
            y = (rng.uniform(size=n) < mu / (1 + mu)).astype(float)
        elif name == "inverse_gaussian_log":
            y = rng.wald(mu, 5.0)
        elif name == "gamma_log":
            y = rng.gamma(2.0, mu / 2.0)
        else:
            y = mu + rng.normal(0, 0.3, n)
        fw = rng.integers(1, 4, n).astype(float) if seed % 3 == 0 else None
        off = rng.normal(0, 0.1, n) if seed % 4 == 1 else None
        problem = sm.GLM(y, X, family=family, freq_weights=fw, offset=off).problem
        fit = irls(problem, None, SolverOptions())
        tight = irls(problem, None, SolverOptions(step_tol=1e-12, tol=1e-12, refine_iter=40))
        assert fit.converged and tight.converged
        G = np.asarray(tight.gram)
        w = np.ones(n) if fw is None else fw
        scale = tight.deviance / w.sum() if family.has_free_scale else 1.0
        # distance in the covariance's metric: the largest |c'(b - b*)| / se(c'b) over
        # every coefficient and contrast c
        d = np.asarray(fit.params) - np.asarray(tight.params)
        worst = max(worst, float(np.sqrt(d @ G @ d / scale)))
    assert worst < 2e-8


def test_a_small_design_stays_consistent_when_the_callers_array_changes():
    """A small dense design keeps its own (transposed) copy and X is a view of it: if the
    caller later edits their array, the design's products still agree with each other."""
    rng = np.random.default_rng(6)
    X = np.column_stack([np.ones(500), rng.normal(size=(500, 3))])
    D = DenseDesign(X)
    before = D.to_dense().copy()
    X[:, 1] *= 2.0
    A = D.to_dense()
    np.testing.assert_array_equal(A, before)
    d = rng.uniform(0.5, 2.0, 500)
    np.testing.assert_allclose(D.sandwich(d), A.T @ (A * d[:, None]), rtol=1e-12)
    b = rng.normal(size=4)
    np.testing.assert_allclose(D.matvec(b), A @ b, rtol=1e-12, atol=1e-13)

"""Batched IRLS (solvers/batched.py), glmkit.glm_by and glmkit.bootstrap.

Each group's / replicate's numbers are compared with glmkit's own fit; bootstrap intervals
with R's boot.ci on R's own resamples (tests/reference/bootstrap/).
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import glmkit
from glmkit.families import links
from glmkit.solvers.batched import batched_cholesky, batched_inverse
from glmkit.solvers.certify import newton_decrement

REF = Path(__file__).parent / "reference" / "bootstrap"
F = glmkit.families


def _at_maximum(model, params):
    """glmkit's own fit taken to the maximum: one Newton step (observed information) from
    its answer, which its certificate leaves within 1e-8 standard errors of it."""
    from glmkit.solvers.sweeper import InMemorySweeper

    at = InMemorySweeper(model.problem).sweep(np.asarray(params, dtype=float), None, True)
    return params + np.linalg.solve(at.gram_observed, at.score)


def _data(G=12, m=60, seed=0):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(m - 15, m + 16, size=G)
    n = int(sizes.sum())
    df = pd.DataFrame({"seg": np.repeat([f"s{g:02d}" for g in range(G)], sizes),
                       "x1": rng.normal(size=n), "x2": rng.normal(size=n),
                       "e": rng.uniform(0.5, 2.0, n), "w": rng.uniform(0.5, 2.0, n),
                       "k": rng.integers(1, 4, n).astype(float)})
    df["yp"] = rng.poisson(df.e * np.exp(0.3 + 0.2 * df.x1 - 0.1 * df.x2))
    df["yg"] = rng.gamma(2.0, np.exp(0.5 + 0.2 * df.x1) / 2.0)
    df["yb"] = rng.binomial(1, 1 / (1 + np.exp(-(0.2 + df.x1))))
    df["off"] = rng.normal(scale=0.1, size=n)
    return df


CASES = [
    ("poisson-exposure", F.Poisson(), "yp ~ x1 + x2", {"exposure": "e"}),
    ("binomial-freq", F.Binomial(), "yb ~ x1 + x2", {"freq_weights": "k"}),
    ("gaussian-offset-varw", F.Gaussian(), "yg ~ x1 + x2 + offset(off)",
     {"var_weights": "w"}),
    ("gamma-log-varw", F.Gamma(links.Log()), "yg ~ x1 + x2", {"var_weights": "w"}),
    ("gamma-inverse", F.Gamma(), "yg ~ x1 + x2", {}),
    ("probit", F.Binomial(links.Probit()), "yb ~ x1 + x2", {"freq_weights": "k"}),
]


@pytest.mark.parametrize("name,fam,formula,kw", CASES, ids=[c[0] for c in CASES])
def test_glm_by_equals_each_groups_own_fit(name, fam, formula, kw):
    df = _data()
    r = glmkit.glm_by(formula, df, by="seg", family=fam, **kw)
    assert r.converged.all() and not r.refitted.any()
    for g in r.groups:
        model = glmkit.glm(formula, df[df.seg == g], family=fam, **kw)
        own = model.fit()
        p_b, p_o = r.params.loc[g].to_numpy(), own.params.to_numpy()
        # the batched answer is the maximum itself: the Newton step from it, in the group's
        # own problem, is below 1e-12 standard errors
        keep = np.ones(len(p_b), dtype=bool)
        assert newton_decrement(model.problem, p_b, keep) < 1e-12
        # glmkit's own fit stops within 1e-8 standard errors (its certificate)
        se = own.bse.to_numpy()
        assert np.all(np.abs(p_b - p_o) <= 1e-8 * se)
        # and equals the maximum the own fit is certified to be near, to 1e-10
        np.testing.assert_allclose(p_b, _at_maximum(model, p_o), rtol=0, atol=1e-10)
        np.testing.assert_allclose(r.bse.loc[g].to_numpy(), se, rtol=1e-8)
        assert r.deviance.loc[g] == pytest.approx(own.deviance, rel=1e-10)
        assert r.scale.loc[g] == pytest.approx(own.scale, rel=1e-8)
        assert r.df_resid.loc[g] == own.df_resid
        # and the group's full results, refitted from the batched start, agree as well
        full = r.results(g)
        np.testing.assert_allclose(full.params.to_numpy(), p_b, rtol=0, atol=1e-10)


def test_glm_by_failing_groups_fall_back_to_the_ordinary_fit():
    df = _data(G=6, m=40)
    # group s00: a level of x2 absent -> rank deficient; group s01: fewer rows than columns;
    # group s02: perfectly separated logistic
    df.loc[df.seg == "s00", "x2"] = 0.0
    small = df[df.seg == "s01"].index[2:]
    df = df.drop(index=small)
    sep = df.seg == "s02"
    df.loc[sep, "yb"] = (df.loc[sep, "x1"] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = glmkit.glm_by("yb ~ x1 + x2", df, by="seg", family=F.Binomial())
        for g in ["s00", "s01", "s02"]:
            assert r.refitted.loc[g]
            own = glmkit.glm("yb ~ x1 + x2", df[df.seg == g], family=F.Binomial()).fit()
            np.testing.assert_array_equal(np.isnan(r.params.loc[g].to_numpy()),
                                          np.isnan(own.params.to_numpy()))
            assert bool(r.converged.loc[g]) == bool(own.converged)
    assert np.isnan(r.params.loc["s00", "x2"])
    assert not r.converged.loc["s02"]
    assert r.converged.loc[["s00", "s03", "s04", "s05"]].all()
    assert not r.refitted.loc[["s03", "s04", "s05"]].any()


def test_glm_by_tidy_table():
    df = _data(G=4)
    r = glmkit.glm_by("yg ~ x1", df, by="seg", family=F.Gaussian())
    tab = r.tidy()
    assert list(tab.columns) == ["seg", "term", "estimate", "std_error", "statistic",
                                 "p_value", "conf_low", "conf_high"]
    assert len(tab) == 4 * 2
    g = r.groups[1]
    own = glmkit.glm("yg ~ x1", df[df.seg == g], family=F.Gaussian()).fit()
    rows = tab[tab.seg == g].set_index("term")
    np.testing.assert_allclose(rows.p_value.to_numpy(), own.pvalues.to_numpy(), rtol=1e-9)
    ci = own.conf_int()
    np.testing.assert_allclose(rows.conf_low.to_numpy(), ci[0].to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(rows.conf_high.to_numpy(), ci[1].to_numpy(), rtol=1e-9)


def test_glm_by_two_keys():
    df = _data(G=4)
    df["half"] = np.where(df.x2 > 0, "a", "b")
    r = glmkit.glm_by("yp ~ x1", df, by=["seg", "half"], family=F.Poisson())
    assert r.params.shape == (8, 2)
    sub = df[(df.seg == "s02") & (df.half == "b")]
    own = glmkit.glm("yp ~ x1", sub, family=F.Poisson()).fit()
    np.testing.assert_allclose(r.params.loc[("s02", "b")].to_numpy(), own.params.to_numpy(),
                               atol=1e-10, rtol=0)


def test_batched_cholesky_flags_singular_members():
    rng = np.random.default_rng(3)
    A = rng.normal(size=(4, 10, 3))
    G = np.einsum("gmp,gmq->gpq", A, A)
    G[2, :, 2] = G[2, :, 1]
    G[2, 2, :] = G[2, 1, :]   # column 3 = column 2
    G[3] = -np.eye(3)
    _, _, ok = batched_cholesky(G)
    assert ok.tolist() == [True, True, False, False]
    inv, _ = batched_inverse(G)
    np.testing.assert_allclose(inv[0], np.linalg.inv(G[0]), rtol=1e-12)


# ------------------------------------------------------------------ bootstrap
@pytest.fixture(scope="module")
def r_boot():
    d = pd.read_csv(REF / "data.csv")
    res = glmkit.glm("y ~ x1 + x2", d, family=F.Binomial()).fit()
    idx = pd.read_csv(REF / "indices.csv").to_numpy() - 1
    return res, glmkit.bootstrap(res, indices=idx)


def test_bootstrap_replicates_equal_r(r_boot):
    _, b = r_boot
    t = pd.read_csv(REF / "t.csv").to_numpy()
    assert b.converged.all()
    np.testing.assert_allclose(b.replicates.to_numpy(), t, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("conf", [0.95, 0.90])
def test_bootstrap_intervals_equal_r_boot_ci(r_boot, conf):
    _, b = r_boot
    ref = pd.read_csv(REF / "intervals.csv")
    ref = ref[ref.conf == conf]
    alpha = 1 - conf
    perc = b.conf_int(alpha, kind="percentile").to_numpy()
    bca = b.conf_int(alpha, kind="bca").to_numpy()
    np.testing.assert_allclose(perc, ref[["perc_low", "perc_high"]].to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(bca, ref[["bca_low", "bca_high"]].to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(b.acceleration.to_numpy(), ref.acceleration.to_numpy(),
                               rtol=1e-10)


def test_bootstrap_pairs_replicate_is_a_frequency_weighted_fit():
    rng = np.random.default_rng(5)
    n = 120
    X = glmkit.add_constant(rng.normal(size=(n, 2)))
    y = rng.poisson(np.exp(X @ [0.5, 0.3, -0.2]))
    off = rng.normal(scale=0.1, size=n)
    res = glmkit.GLM(y, X, family=F.Poisson(), offset=off).fit()
    b = glmkit.bootstrap(res, n_boot=5, seed=1)
    b2 = glmkit.bootstrap(res, n_boot=5, seed=1)
    np.testing.assert_array_equal(b.replicates.to_numpy(), b2.replicates.to_numpy())
    idx = np.random.default_rng(1).integers(0, n, size=(5, n))
    for k in range(5):
        counts = np.bincount(idx[k], minlength=n).astype(float)
        own = glmkit.GLM(y, X, family=F.Poisson(), offset=off, freq_weights=counts).fit()
        np.testing.assert_allclose(b.replicates.iloc[k].to_numpy(), own.params, atol=1e-10,
                                   rtol=0)
    assert b.bse.shape == (3,)


def test_bootstrap_methods_and_errors():
    rng = np.random.default_rng(6)
    n = 200
    X = glmkit.add_constant(rng.normal(size=(n, 2)))
    y = X @ [1.0, 2.0, -1.0] + rng.normal(scale=0.5, size=n)
    res = glmkit.GLM(y, X, family=F.Gaussian()).fit()
    for method in ("residual", "parametric", "pairs"):
        b = glmkit.bootstrap(res, n_boot=400, method=method, seed=2)
        assert b.converged.all()
        # the bootstrap SD is near the model's standard error (within 20% at B = 400)
        np.testing.assert_allclose(b.bse.to_numpy(), np.asarray(res.bse), rtol=0.2)
        lo, hi = b.conf_int(kind="percentile").to_numpy().T
        assert np.all(lo < np.asarray(res.params)) and np.all(np.asarray(res.params) < hi)
    pois = glmkit.GLM(rng.poisson(2.0, n), X, family=F.Poisson()).fit()
    with pytest.raises(ValueError, match="Gaussian family only"):
        glmkit.bootstrap(pois, n_boot=10, method="residual")
    with pytest.raises(ValueError, match="method must be"):
        glmkit.bootstrap(pois, n_boot=10, method="wild")
    with pytest.raises(ValueError, match="n_boot"):
        glmkit.bootstrap(pois, n_boot=0)
    qp = glmkit.GLM(rng.poisson(2.0, n), X, family=F.QuasiPoisson()).fit()
    with pytest.raises(ValueError, match="quasi"):
        glmkit.bootstrap(qp, n_boot=10, method="parametric")


def test_bootstrap_rank_deficient_and_refused_fits():
    rng = np.random.default_rng(8)
    n = 150
    x = rng.normal(size=n)
    X = np.column_stack([np.ones(n), x, 2 * x])   # third column aliased
    y = rng.binomial(1, 1 / (1 + np.exp(-x)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = glmkit.GLM(y, X, family=F.Binomial()).fit()
    b = glmkit.bootstrap(res, n_boot=50, seed=0)
    assert np.isnan(b.replicates.iloc[:, 2]).all()
    assert np.isfinite(b.replicates.iloc[:, :2].to_numpy()).all()
    ci = b.conf_int(kind="bca").to_numpy()
    assert np.isnan(ci[2]).all() and np.isfinite(ci[:2]).all()
    firth = glmkit.GLM(y, X[:, :2], family=F.Binomial()).fit(method="firth")
    with pytest.raises(ValueError, match="firth"):
        glmkit.bootstrap(firth, n_boot=10)


def test_glm_by_bad_inputs():
    df = _data(G=3)
    with pytest.raises(KeyError, match="nope"):
        glmkit.glm_by("yp ~ x1", df, by="nope", family=F.Poisson())
    df.loc[df.index[0], "seg"] = None
    with pytest.raises(ValueError, match="missing values"):
        glmkit.glm_by("yp ~ x1", df, by="seg", family=F.Poisson())


def test_glm_by_missing_drop_keeps_groups_aligned():
    df = _data(G=4)
    df.loc[df.index[::7], "x1"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = glmkit.glm_by("yp ~ x1", df, by="seg", family=F.Poisson(), missing="drop")
        for g in r.groups:
            own = glmkit.glm("yp ~ x1", df[df.seg == g], family=F.Poisson(),
                             missing="drop").fit()
            assert r.nobs.loc[g] == own.nobs
            np.testing.assert_allclose(r.params.loc[g].to_numpy(), own.params.to_numpy(),
                                       atol=1e-9, rtol=0)


@pytest.mark.parametrize("fam", [F.Binomial(links.Probit()), F.Gamma(links.Log())],
                         ids=["probit", "gamma-log"])
def test_bootstrap_noncanonical_replicates_are_at_their_maximum(fam):
    rng = np.random.default_rng(9)
    n = 200
    X = glmkit.add_constant(rng.normal(size=(n, 2)))
    eta = X @ [0.2, 0.4, -0.3]
    y = rng.binomial(1, 0.4, n) if isinstance(fam, F.Binomial) else \
        rng.gamma(2.0, np.exp(eta) / 2.0)
    res = glmkit.GLM(y, X, family=fam).fit()
    idx = rng.integers(0, n, size=(6, n))
    b = glmkit.bootstrap(res, indices=idx)
    assert b.converged.all()
    for k in range(6):
        model = glmkit.GLM(y, X, family=fam,
                           freq_weights=np.bincount(idx[k], minlength=n).astype(float))
        own = model.fit()
        np.testing.assert_allclose(b.replicates.iloc[k].to_numpy(),
                                   _at_maximum(model, np.asarray(own.params)), atol=1e-10,
                                   rtol=0)
    if isinstance(fam, F.Gamma):
        bp = glmkit.bootstrap(res, n_boot=300, method="parametric", seed=3)
        np.testing.assert_allclose(bp.bse.to_numpy(), np.asarray(res.bse), rtol=0.25)


def test_threaded_chunks_equal_one_thread(monkeypatch):
    import glmkit._parallel as par

    df = _data(G=40, m=30)
    fits = {}
    for k in ("1", "2"):
        monkeypatch.setenv("GLMKIT_NUM_THREADS", k)
        monkeypatch.setattr(par, "MIN_ELEMENTS", 1)
        fits[k] = glmkit.glm_by("yp ~ x1 + x2", df, by="seg", family=F.Poisson())
    pd.testing.assert_frame_equal(fits["1"].params, fits["2"].params, check_exact=True)
    pd.testing.assert_frame_equal(fits["1"].bse, fits["2"].bse, check_exact=True)
    with pytest.raises(ValueError, match="parametric"):
        glmkit.bootstrap(fits["1"].results("s00"), method="parametric",
                         indices=np.zeros((2, fits["1"].nobs.loc["s00"]), dtype=int))


def test_glm_by_unbalanced_groups_are_batched_by_size():
    from glmkit.grouped import _size_classes

    rng = np.random.default_rng(11)
    sizes = np.array([3000, 12, 40, 25, 700, 18])
    n = int(sizes.sum())
    df = pd.DataFrame({"g": np.repeat(list("abcdef"), sizes), "x": rng.normal(size=n)})
    df["y"] = rng.poisson(np.exp(0.2 + 0.3 * df.x))
    df = df.sample(frac=1.0, random_state=1)   # rows not grouped
    classes = _size_classes(sizes)
    assert max(sizes[c].max() / sizes[c].min() for c in classes) <= 2
    r = glmkit.glm_by("y ~ x", df, by="g", family=F.Poisson())
    for g in "abcdef":
        model = glmkit.glm("y ~ x", df[df.g == g], family=F.Poisson())
        own = model.fit()
        assert r.nobs.loc[g] == own.nobs
        np.testing.assert_allclose(r.params.loc[g].to_numpy(),
                                   _at_maximum(model, own.params.to_numpy()), atol=1e-10,
                                   rtol=0)

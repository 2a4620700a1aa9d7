"""HAC covariances on Dask, and partitions pinned for a fit (glmkit.design.pinned).

Sources of the expected numbers: the in-memory fit of the same rows (the oracle, itself
checked against sandwich::NeweyWest in tests/test_hac*.py), to 1e-10 relative; and
invariants (a pinned fit equals a streamed one; the blocks are released after the fit; a
pinned block's sweeps equal those of a block built afresh).
Runs on Dask's threaded scheduler (tests/test_dask.py runs a distributed cluster, with a
worker lost while blocks are pinned).
"""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import glmkit.api as sm
from glmkit.model import GLM

pytestmark = pytest.mark.skipif(importlib.util.find_spec("dask") is None,
                                reason="dask not installed")

RTOL = 1e-10
#: unequal partitions: an empty one and some shorter than the lag window
CHUNKS = (300, 0, 3, 420, 2, 1, 250, 380)
N = sum(CHUNKS)


def close(a, b, rtol=RTOL):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * float(np.max(np.abs(b))))


def dask_array(a):
    import dask.array as da

    a = np.asarray(a, dtype=float)
    return da.from_array(a, chunks=(CHUNKS,) + tuple(-1 for _ in a.shape[1:]))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(21)
    X = np.column_stack([np.ones(N), rng.normal(size=(N, 3))])
    # autocorrelated covariate and errors: the lags matter
    X[:, 1] = np.convolve(rng.normal(size=N + 9), np.ones(10) / 10, mode="valid")
    off = rng.normal(scale=0.2, size=N)
    vw = rng.uniform(0.5, 2.0, size=N)
    mu = np.exp(0.2 + 0.4 * X[:, 1] - 0.3 * X[:, 2] + off)
    y = rng.poisson(mu).astype(float)
    return X, y, off, vw


@pytest.mark.parametrize("maxlags,kernel,corr", [(0, "bartlett", False), (1, "bartlett", True),
                                                  (5, "bartlett", False), (4, "uniform", True)])
def test_hac_on_dask_equals_in_memory(data, maxlags, kernel, corr):
    import dask

    X, y, off, vw = data
    kw = {"maxlags": maxlags, "kernel": kernel, "use_correction": corr}
    ref = GLM(y, X, family=sm.families.Poisson(), offset=off, var_weights=vw).fit(
        cov_type="hac", cov_kwds=kw)
    with dask.config.set(scheduler="threads"):
        model = GLM(dask_array(y), dask_array(X), family=sm.families.Poisson(),
                    offset=dask_array(off), var_weights=dask_array(vw))
        log: list = []
        res = model.fit(cov_type="hac", cov_kwds=kw, verbose=log.append)
        after = len(log)
        close(res.cov_params(), ref.cov_params())
        close(res.bse, ref.bse)
        assert [e["what"] for e in log[after:]] == ["HAC meat"]   # one pass after the fit
        # the same from a nonrobust fit's results
        rc = model.fit().get_robustcov_results("hac", maxlags=maxlags, kernel=kernel,
                                               use_correction=corr)
        close(rc.cov_params(), ref.cov_params())


def test_hac_on_dask_with_dropped_rows_and_a_gaussian_fit(data):
    """Rows dropped by missing='drop' are left out of the time order, as in memory."""
    import dask

    X, y, off, _ = data
    yy = y + X[:, 1]
    X2 = X.copy()
    X2[[5, 301, 304, 900], 2] = np.nan
    keep = ~np.isnan(X2).any(axis=1)
    kw = {"maxlags": 3}
    ref = GLM(yy[keep], X2[keep], family=sm.families.Gaussian()).fit(cov_type="hac",
                                                                     cov_kwds=kw)
    with dask.config.set(scheduler="threads"):
        res = GLM(dask_array(yy), dask_array(X2), family=sm.families.Gaussian(),
                  missing="drop").fit(cov_type="hac", cov_kwds=kw)
        close(res.cov_params(), ref.cov_params())


def test_hac_on_dask_refuses_freq_weights(data):
    import dask

    X, y, _, _ = data
    fw = np.ones(N)
    fw[7] = 2.0
    with dask.config.set(scheduler="threads"):
        res = GLM(dask_array(y), dask_array(X), family=sm.families.Poisson(),
                  freq_weights=dask_array(fw)).fit()
        with pytest.raises(ValueError, match="freq_weights"):
            res.get_robustcov_results("hac", maxlags=2).bse
        with pytest.raises(TypeError, match="groups"):
            res.get_robustcov_results("hac", maxlags=2, groups=np.ones(N))


def test_boundary_terms_equal_the_lagged_crosses_of_the_whole_series():
    """The pairs across partition edges (with partitions shorter than the lag window and
    empty ones) plus each partition's own lags give hac_meat of the whole series."""
    from glmkit.dask_hac import boundary_meat
    from glmkit.design import DenseDesign
    from glmkit.inference import design_hac_meat, hac_meat

    rng = np.random.default_rng(4)
    sizes = [4, 0, 1, 2, 7, 1, 5]
    S = rng.normal(size=(sum(sizes), 3))
    for L in (1, 3, 6):
        edges, own = [], np.zeros((3, 3))
        start = 0
        for m in sizes:
            part = S[start:start + m]
            h = min(L, m)
            edges.append((part[:h], part[m - h:]))
            if m:
                own += design_hac_meat(DenseDesign(part), np.ones(m), L, "bartlett")
            start += m
        close(own + boundary_meat(edges, L, "bartlett", 3), hac_meat(S, L, "bartlett"),
              rtol=1e-13)


# ------------------------------------------------------------------------ pinning
def test_pinned_fit_equals_streamed_and_releases_its_blocks(data, monkeypatch):
    import dask

    from glmkit.design import pinned

    X, y, off, vw = data
    ref = GLM(y, X, family=sm.families.Poisson(), offset=off, var_weights=vw).fit()
    with dask.config.set(scheduler="threads"):
        model = GLM(dask_array(y), dask_array(X), family=sm.families.Poisson(),
                    offset=dask_array(off), var_weights=dask_array(vw))
        runs = {}
        for persist in (True, False, "auto"):
            log: list = []
            res = model.fit(persist=persist, verbose=log.append)
            runs[persist] = [e["what"] for e in log]
            assert model.data.source.pinned is None   # released when the fit ends
            for name in ("params", "bse", "deviance", "llf", "pearson_chi2"):
                close(getattr(res, name), getattr(ref, name))
        assert runs[True][0] == "persist" and "persist" not in runs[False]
        assert runs["auto"][0] == "persist"        # small data: pinned
        # IRLS passes: the same number, pinned or not
        assert runs[True].count("IRLS") == runs[False].count("IRLS")
        # data larger than the memory budget: streamed, as before
        monkeypatch.setattr(pinned, "memory_budget", lambda executor: 1.0)
        log = []
        res = model.fit(verbose=log.append)
        assert "persist" not in [e["what"] for e in log]
        close(res.params, ref.params)
        with pytest.raises(ValueError, match="persist must be"):
            model.fit(persist="yes")


def test_a_path_pins_its_partitions_once_for_all_its_passes(data, monkeypatch):
    """fit_path (and so each fold of fit_cv, and fit_regularized) on Dask reads and converts
    the partitions once, not on every one of its passes; the path equals the in-memory one
    (its KKT tolerance, 1e-10, bounds how far two exact optima's solvers may differ)."""
    import dask

    from glmkit.design import pinned

    X, y, off, _ = data
    calls: list = []
    real = pinned.pin_blocks
    monkeypatch.setattr(pinned, "pin_blocks",
                        lambda src, ex: calls.append(src) or real(src, ex))
    ref = GLM(y, X, family=sm.families.Poisson(), offset=off).fit_path(n_alphas=8)
    with dask.config.set(scheduler="threads"):
        model = GLM(dask_array(y), dask_array(X), family=sm.families.Poisson(),
                    offset=dask_array(off))
        path = model.fit_path(n_alphas=8)
        assert len(calls) == 1 and model.data.source.pinned is None
        close(path.params.to_numpy(), ref.params.to_numpy(), rtol=1e-8)
        model.fit_regularized(alpha=0.01, L1_wt=1.0)
        assert len(calls) == 2


def test_a_pinned_block_keeps_its_sweeper_and_sweeps_as_a_fresh_one(data):
    from glmkit.design.partitioned import _run_block
    from glmkit.design.pinned import _make_block, run_pinned
    from glmkit.solvers.dask_sweeper import _sweep_block

    X, y, off, vw = data
    n = 300
    Xf = np.asfortranarray(X[:n])   # as a Parquet read gives it: column-major
    b = _make_block(Xf, y[:n], off[:n], None, None, vw[:n], False, n, 0, None)
    assert b.Xraw.flags.c_contiguous and b.Xraw.base is None
    assert b.__sizeof__() >= b.Xraw.nbytes
    fam = sm.families.Poisson()
    sweepers, grams = [], []
    for k in range(3):
        beta = np.array([0.1 * k, 0.3, -0.2, 0.0])
        args = (fam, True, beta, k == 2, "X", 1.0, False)
        got = run_pinned(_sweep_block, b, (None,), args)
        sweepers.append(next(v for key, v in b.work.items() if key != "last"))
        fresh = _run_block(_sweep_block, Xf, y[:n], off[:n], None, None, vw[:n], False, n,
                           (None,), args)
        for key in ("deviance", "gram", "score", "pearson", "mu_min", "mu_max"):
            close(got[key], fresh[key], rtol=1e-13)
        if k == 2:
            close(got["gram_observed"], fresh["gram_observed"], rtol=1e-13)
        grams.append((got["gram"], got["gram"].copy()))
    assert sweepers[0] is sweepers[1] is sweepers[2]
    # a Gram that left a task is never written to by the next sweeps of the block
    for g, copy in grams:
        np.testing.assert_array_equal(g, copy)

"""GLMs on Dask against the in-memory oracle, on a real dask.distributed LocalCluster.

Every fit here compares with the in-memory fit of the same data to 1e-10 (relative):
coefficients, standard errors, deviance, null deviance, llf, AIC/BIC, Pearson chi2, scale,
HC0 and cluster-robust covariances; per-row quantities must come back as lazy dask arrays
equal to the in-memory ones. Partitions are of unequal sizes and include an empty one.
Two tests kill workers while a fit runs: the fit must either return the oracle's numbers or
raise DaskFitError.
"""
from __future__ import annotations

import importlib.util
import os
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import glmkit
import glmkit.api as sm

HAVE_DASK = all(importlib.util.find_spec(m) is not None for m in ("dask", "distributed"))
needs_dask = pytest.mark.skipif(not HAVE_DASK, reason="dask/distributed not installed")

RTOL = 1e-10
CHUNKS = (700, 0, 1100, 300, 900)          # unequal, with an empty partition
N = sum(CHUNKS)
STATS = ("params", "bse", "deviance", "null_deviance", "llf", "aic", "bic", "pearson_chi2",
         "scale")


def close(a, b, rtol=RTOL):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * max(np.max(np.abs(b)), 1e-300))


def assert_same_fit(r, ref, stats=STATS):
    for name in stats:
        close(getattr(r, name), getattr(ref, name))
    close(r.cov_params(), ref.cov_params())


def make_data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, 3))
    df = pd.DataFrame(x, columns=["x1", "x2", "x3"])
    df["g"] = rng.integers(0, 37, size=N)
    df["h"] = rng.integers(0, 5, size=N)
    df["t"] = rng.uniform(0.5, 3.0, size=N)
    df["off"] = rng.normal(scale=0.2, size=N)
    df["w"] = rng.uniform(0.5, 2.0, size=N)
    df["fw"] = rng.integers(1, 4, size=N).astype(float)
    eta = 0.3 + 0.4 * df.x1 - 0.2 * df.x2 + 0.1 * df.x3
    df["cnt"] = rng.poisson(np.exp(eta + df.off)).astype(float)
    df["succ"] = rng.binomial(6, 1 / (1 + np.exp(-0.5 * eta))).astype(float)
    df["fail"] = 6.0 - df["succ"]
    df["pos"] = rng.gamma(2.0, np.exp(eta) / 2.0)
    df["cat"] = rng.choice(["a", "b", "c"], size=N)
    return df


def _rows(df, bounds):
    return df.iloc[bounds[0]:bounds[1]]


def to_dask_frame(df):
    """A dask DataFrame with the partitions CHUNKS (one empty). dd.from_map, not
    dd.from_delayed: with dask 2026.8, arrays derived from a from_delayed frame cannot be
    computed (``ddf.to_dask_array().compute()`` fails with 'Missing dependency')."""
    import functools

    import dask.dataframe as dd

    bounds = np.concatenate([[0], np.cumsum(CHUNKS)])
    return dd.from_map(functools.partial(_rows, df), list(zip(bounds[:-1], bounds[1:])),
                       meta=df.iloc[:0], enforce_metadata=False)


def dask_array(a):
    import dask.array as da

    a = np.asarray(a, dtype=float)
    return da.from_array(a, chunks=(CHUNKS,) + tuple(-1 for _ in a.shape[1:]))


@pytest.fixture(scope="module")
def client():
    if not HAVE_DASK:
        pytest.skip("dask/distributed not installed")
    import cloudpickle
    import dask
    from distributed import Client, LocalCluster

    # the workers cannot import this test module: ship its functions by value
    cloudpickle.register_pickle_by_value(sys.modules[__name__])

    with dask.config.set({"distributed.scheduler.allowed-failures": 1,
                          "distributed.worker.daemon": False}):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               memory_limit="1GiB", dashboard_address=":0",
                               silence_logs=50)
        c = Client(cluster)
        yield c
        c.close()
        cluster.close()


@pytest.fixture(scope="module")
def data():
    return make_data()


# ------------------------------------------------------------------ agreement
@needs_dask
def test_poisson_offset_exposure_arrays(client, data):
    X = sm.add_constant(data[["x1", "x2", "x3"]].to_numpy())
    ref = sm.GLM(data.cnt.to_numpy(), X, family=sm.families.Poisson(),
                 offset=data.off.to_numpy(), exposure=data.t.to_numpy()).fit()
    model = sm.GLM(dask_array(data.cnt), dask_array(X), family=sm.families.Poisson(),
                   offset=dask_array(data.off), exposure=dask_array(data.t))
    assert type(model) is glmkit.GLM   # one model class for every input
    res = model.fit(client=client)
    assert isinstance(res, glmkit.GLMResults)
    assert_same_fit(res, ref)
    assert res.n_iter == ref.n_iter and res.converged
    # robust covariances as sums over rows and over groups (one- and two-way)
    close(res.get_robustcov_results("HC0").cov_params(),
          ref.get_robustcov_results("HC0").cov_params())
    g = data.g.to_numpy()
    close(res.get_robustcov_results("cluster", groups=dask_array(g)).cov_params(),
          ref.get_robustcov_results("cluster", groups=g).cov_params())
    g2 = data[["g", "h"]].to_numpy()
    close(res.get_robustcov_results("cluster", groups=g2).cov_params(),
          ref.get_robustcov_results("cluster", groups=g2).cov_params())
    # per-row quantities are lazy dask arrays equal to the in-memory ones
    import dask.array as da

    for name in ("fittedvalues", "linear_predictor", "resid_response", "resid_pearson",
                 "resid_deviance", "resid_working", "resid_anscombe", "weights", "null"):
        lazy = getattr(res, name)
        assert isinstance(lazy, da.Array), name
        assert lazy.chunks[0] == CHUNKS
        close(lazy.compute(), getattr(ref, name))
    close(res.predict().compute(), ref.predict())
    close(res.predict(which="linear").compute(), ref.predict(which="linear"))


@needs_dask
def test_binomial_two_column_dask_frame(client, data):
    ddf = to_dask_frame(data)
    X = sm.add_constant(data[["x1", "x2"]])
    ref = sm.GLM(data[["succ", "fail"]], X, family=sm.families.Binomial()).fit(
        cov_type="HC0")
    Xd = ddf[["x1", "x2"]].assign(const=1.0)[["const", "x1", "x2"]]
    res = sm.GLM(ddf[["succ", "fail"]], Xd, family=sm.families.Binomial()).fit(
        cov_type="HC0", client=client)
    assert list(res.params.index) == ["const", "x1", "x2"]
    assert res.model.endog_names == "succ, fail"
    assert_same_fit(res, ref)
    # a 0/1 response with a probit link and Newton steps
    yb = (data.succ > 3).astype(float)
    ref = sm.GLM(yb, X, family=sm.families.Binomial(sm.families.links.Probit())).fit(
        method="newton")
    res = sm.GLM(dask_array(yb), dask_array(X), family=sm.families.Binomial(
        sm.families.links.Probit())).fit(method="newton", client=client)
    assert_same_fit(res, ref)


@needs_dask
def test_gamma_with_weights_and_cluster(client, data):
    ddf = to_dask_frame(data)
    fam = sm.families.Gamma(sm.families.links.Log())
    X = sm.add_constant(data[["x1", "x2", "x3"]])
    ref = sm.GLM(data.pos, X, family=fam, var_weights=data.w, freq_weights=data.fw).fit(
        cov_type="cluster", cov_kwds={"groups": data.g})
    Xd = ddf[["x1", "x2", "x3"]].assign(const=1.0)[["const", "x1", "x2", "x3"]]
    res = sm.GLM(ddf.pos, Xd, family=fam, var_weights=ddf.w, freq_weights=ddf.fw).fit(
        cov_type="cluster", cov_kwds={"groups": ddf.g}, client=client)
    assert_same_fit(res, ref)
    close(res.get_robustcov_results("HC0").bse, ref.get_robustcov_results("HC0").bse)
    assert res.info_criteria()["aic"] == pytest.approx(ref.info_criteria()["aic"], rel=RTOL)


@needs_dask
def test_local_threaded_scheduler_gives_the_same_numbers(client, data, monkeypatch):
    import dask

    import glmkit.solvers.warm_start as ws

    X = sm.add_constant(data[["x1", "x2"]].to_numpy())
    args = (dask_array(data.cnt), dask_array(X))
    on_cluster = sm.GLM(*args, family=sm.families.Poisson(), offset=dask_array(data.off)).fit()
    with dask.config.set(scheduler="threads"):
        local = sm.GLM(*args, family=sm.families.Poisson(), offset=dask_array(data.off)).fit()
        assert_same_fit(local, on_cluster, stats=STATS)
        # large data start from a fit on the data pass's row sample, as in memory
        monkeypatch.setattr(ws, "MIN_ROWS", 100)
        monkeypatch.setattr(ws, "MIN_RATIO", 10)
        log = []
        warm = sm.GLM(*args, family=sm.families.Poisson(), offset=dask_array(data.off)).fit(
            verbose=log.append)
    assert_same_fit(warm, on_cluster, stats=STATS)
    assert sum(e["what"] == "IRLS" for e in log) < on_cluster.fit_history["passes"]


@needs_dask
def test_formula_on_dask_dataframe(client, data):
    pytest.importorskip("formulaic")
    ddf = to_dask_frame(data)
    f = "cnt ~ C(cat) + x1 + np.log(t) + offset(off)"
    ref = glmkit.glm(f, data, family=sm.families.Poisson(), exposure="t").fit()
    res = sm.GLM.from_formula(f, ddf, family=sm.families.Poisson(), exposure="t").fit()
    assert list(res.params.index) == list(ref.params.index)
    assert_same_fit(res, ref)
    close(res.predict(ddf).compute().to_numpy(), ref.predict(data).to_numpy())
    # glmkit.glm (statsmodels.formula.api.glm's place) takes the same route as from_formula
    via_glm = glmkit.glm(f, ddf, family=sm.families.Poisson(), exposure="t")
    assert via_glm.data.lazy
    assert_same_fit(via_glm.fit(), ref)
    # glm.nb's alternation is not offered on Dask (as NegativeBinomial(alpha=None)): a clear
    # error before any fitting, never another answer
    with pytest.raises(NotImplementedError, match="glm_nb alternates"):
        glmkit.glm_nb("cnt ~ C(cat) + x1", ddf)


@needs_dask
def test_refits_with_another_family_on_dask_equal_in_memory():
    """tweedie_profile refits the model at each power: on Dask the partitions must sweep
    with the new family too (they kept the model's first one, a silently wrong profile:
    log-likelihoods 0.018 off). Source: the same profile in memory."""
    import dask.dataframe as dd

    from glmkit.tweedie import tweedie_profile

    rng = np.random.default_rng(1)
    n = 3000
    df = pd.DataFrame({"x": rng.normal(size=n)})
    counts = rng.poisson(np.exp(0.3 + 0.4 * df.x) / 2)
    df["y"] = [rng.gamma(2.0, 1.0, k).sum() for k in counts]
    fam = sm.families.Tweedie(var_power=1.5)
    grid = np.linspace(1.2, 1.8, 4)
    ref = tweedie_profile(glmkit.glm("y ~ x", df, family=fam), p_grid=grid)
    got = tweedie_profile(glmkit.glm("y ~ x", dd.from_pandas(df, npartitions=3),
                                     family=fam), p_grid=grid)
    close(got.grid_llf, ref.grid_llf)
    close(got.p, ref.p)


@needs_dask
def test_parquet_design_streams_the_files(client, data, tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from glmkit.dask import read_parquet_design

    bounds = np.concatenate([[0], np.cumsum(CHUNKS)])
    cols = ["cnt", "off", "x1", "x2"]
    for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):   # one empty file
        pq.write_table(pa.Table.from_pandas(data[cols].iloc[a:b], preserve_index=False),
                       tmp_path / f"part{i}.parquet", row_group_size=400)
    d = read_parquet_design(tmp_path, "cnt", ["x1", "x2"], offset="off")
    res = sm.GLM(family=sm.families.Poisson(), **d).fit(client=client)
    ref = sm.GLM(data.cnt, sm.add_constant(data[["x1", "x2"]]), family=sm.families.Poisson(),
                 offset=data.off).fit()
    assert list(res.params.index) == ["const", "x1", "x2"] and res.model.endog_names == "cnt"
    assert_same_fit(res, ref)


# ------------------------------------------------------------ inputs and errors
@needs_dask
def test_missing_values(client, data):
    df = data.copy()
    df.loc[[3, 800, 2500], "x1"] = np.nan
    ddf = to_dask_frame(df)
    Xd = ddf[["x1", "x2"]].assign(const=1.0)[["const", "x1", "x2"]]
    with pytest.raises(ValueError, match="missing='drop'"):
        sm.GLM(ddf.cnt, Xd, family=sm.families.Poisson()).fit()
    with pytest.raises(glmkit.MissingDataError):
        sm.GLM(ddf.cnt, Xd, family=sm.families.Poisson(), missing="raise").fit()
    with pytest.warns(UserWarning, match="dropped 3 row"):
        ref = sm.GLM(df.cnt, sm.add_constant(df[["x1", "x2"]]), family=sm.families.Poisson(),
                     missing="drop").fit()
    with pytest.warns(UserWarning, match="dropped 3 row"):
        model = sm.GLM(ddf.cnt, Xd, family=sm.families.Poisson(), missing="drop")
        res = model.fit()
    assert model.nobs == N - 3 and model.n_dropped == 3
    assert_same_fit(res, ref)
    close(res.fittedvalues.compute(), ref.fittedvalues.to_numpy())


@needs_dask
@pytest.mark.parametrize("case, match", [
    ("negative_weights", "non-negative"),
    ("negative_counts", "non-negative counts"),
    ("exposure_link", "log link"),
    ("infinite", "infinite"),
    ("lengths", "rows"),
])
def test_bad_inputs_raise_clear_errors(client, data, case, match):
    X = dask_array(sm.add_constant(data[["x1"]].to_numpy()))
    y = dask_array(data.cnt)
    with pytest.raises(ValueError, match=match):
        if case == "negative_weights":
            sm.GLM(y, X, family=sm.families.Poisson(), var_weights=dask_array(-data.w)).fit()
        elif case == "negative_counts":
            sm.GLM(dask_array(-data.cnt), X, family=sm.families.Poisson()).fit()
        elif case == "exposure_link":
            sm.GLM(y, X, exposure=dask_array(data.t))
        elif case == "infinite":
            sm.GLM(y, X, offset=dask_array(np.where(data.index == 5, np.inf, 0.0))).fit()
        else:
            import dask.array as da

            sm.GLM(da.from_array(data.cnt.to_numpy()[:-1]), X).fit()


@needs_dask
def test_progress_is_visible(client, data, capsys):
    X = dask_array(sm.add_constant(data[["x1"]].to_numpy()))
    seen = []
    res = sm.GLM(dask_array(data.cnt), X, family=sm.families.Poisson()).fit(verbose=True)
    out = capsys.readouterr().out
    assert "IRLS" in out and "deviance" in out and " s)" in out
    res2 = sm.GLM(dask_array(data.cnt), X, family=sm.families.Poisson()).fit(
        verbose=seen.append, progress=True)
    assert [e["what"] for e in seen].count("IRLS") == res2.fit_history["passes"] == res2.n_iter
    assert seen[-1]["deviance"] == pytest.approx(res.deviance, rel=1e-12)
    assert all(e["seconds"] >= 0 for e in seen)


@needs_dask
def test_lazy_prediction_with_standard_errors(client, data):
    X = sm.add_constant(data[["x1", "x2"]].to_numpy())
    ref = sm.GLM(data.pos.to_numpy(), X, family=sm.families.Gamma()).fit()
    res = sm.GLM(dask_array(data.pos), dask_array(X), family=sm.families.Gamma()).fit()
    pr, pref = res.get_prediction(), ref.get_prediction()
    close(pr.predicted.compute(), pref.predicted)
    close(pr.se.compute(), pref.se)
    new = X[:10] * 1.1
    close(res.predict(new), ref.predict(new))
    close(res.predict(dask_array(X)).compute(), ref.predict(X))


# ------------------------------------------------------------------ lost workers
def _load_block(path, start, stop, state_dir, kill_at, always):
    """Rows [start, stop) of the saved data; kills its worker once (or always) after
    ``kill_at`` calls over all workers, so a worker dies in the middle of a pass."""
    calls = os.path.join(state_dir, "calls")
    with open(calls, "a") as fh:
        fh.write("x")
    if os.path.getsize(calls) >= kill_at:
        if always:
            if start == 0:   # one partition whose task kills every worker that runs it
                os._exit(1)
            return np.load(path, mmap_mode="r")[start:stop].copy()
        try:
            os.close(os.open(os.path.join(state_dir, "killed"), os.O_CREAT | os.O_EXCL))
            os._exit(1)
        except FileExistsError:
            pass
    return np.load(path, mmap_mode="r")[start:stop].copy()


def _chaos_source(tmp_path, data, kill_at, always=False):
    import dask.array as da
    from dask import delayed

    packed = np.column_stack([data.cnt, np.ones(N), data.x1, data.x2])
    path = str(tmp_path / "data.npy")
    np.save(path, packed)
    bounds = np.concatenate([[0], np.cumsum(CHUNKS)])
    load = delayed(_load_block, pure=True)
    blocks = [da.from_delayed(load(path, int(a), int(b), str(tmp_path), kill_at, always),
                              shape=(int(b - a), 4), dtype=float)
              for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    A = da.concatenate(blocks)
    return A[:, 0], A[:, 1:], packed


@needs_dask
def test_worker_lost_mid_fit_completes_with_the_same_numbers(client, tmp_path, data):
    nb = sum(c > 0 for c in CHUNKS)
    y, X, packed = _chaos_source(tmp_path, data, kill_at=3 * nb + 2)
    ref = sm.GLM(packed[:, 0], packed[:, 1:], family=sm.families.Poisson()).fit()
    # persist=False: every pass reads the source (the load that kills is a pass's)
    res = sm.GLM(y, X, family=sm.families.Poisson()).fit(client=client, persist=False)
    assert os.path.exists(tmp_path / "killed")          # a worker did die mid-fit
    assert_same_fit(res, ref)
    client.wait_for_workers(2, timeout=60)


@needs_dask
def test_workers_that_keep_dying_raise_a_clear_error(client, tmp_path, data):
    from glmkit.dask import DaskFitError

    nb = sum(c > 0 for c in CHUNKS)
    y, X, _ = _chaos_source(tmp_path, data, kill_at=2 * nb + 1, always=True)
    model = sm.GLM(y, X, family=sm.families.Poisson())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DaskFitError, match="no result was returned"):
            model.fit(client=client, persist=False)
    client.wait_for_workers(2, timeout=60)


@needs_dask
def test_worker_lost_with_pinned_blocks_completes_with_the_same_numbers(client, data):
    """A worker killed between two passes of a pinned fit takes its blocks with it: Dask
    rebuilds them from the source and the fit returns the oracle's numbers."""
    import dask.array as da

    packed = np.column_stack([data.cnt, np.ones(N), data.x1, data.x2])
    A = da.from_array(packed, chunks=((700, 1100, 300, 900), 4))
    ref = sm.GLM(packed[:, 0], packed[:, 1:], family=sm.families.Poisson()).fit()
    log = []

    def kill_one(entry):
        log.append(entry["what"])
        if log.count("IRLS") == 2 and "killed" not in log:
            log.append("killed")
            worker = sorted(client.scheduler_info()["workers"])[0]
            try:   # the worker process exits (its memory, the pinned blocks, is lost);
                client.run(os._exit, 1, workers=[worker])   # its nanny starts a new one
            except Exception:
                pass

    res = sm.GLM(A[:, 0], A[:, 1:], family=sm.families.Poisson()).fit(
        client=client, persist=True, verbose=kill_one)
    assert log[0] == "persist" and "killed" in log
    assert_same_fit(res, ref)
    client.wait_for_workers(2, timeout=60)


# ------------------------------------------------------------ dask is optional
def test_without_dask_a_dask_input_gives_the_install_hint(monkeypatch):
    class FakeDaskArray:
        """Looks like a Dask collection to the dispatch (which never imports dask)."""

        __dask_graph__ = None
        shape = (3, 1)

    for name in [m for m in sys.modules if m == "dask" or m.startswith(("dask.", "distributed"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ImportError, match=r"pip install 'glmkit\[dask\]'"):
        sm.GLM(FakeDaskArray(), FakeDaskArray())
    # the in-memory library is unaffected
    res = sm.GLM(np.array([1.0, 2.0, 4.0]), np.ones((3, 1)), family=sm.families.Poisson()).fit()
    assert res.converged

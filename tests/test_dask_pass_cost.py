"""What makes a pass over pinned Dask partitions cheaper, each checked against its oracle:

- one task per worker thread and pass (glmkit.design.partitioned.run_group) gives the
  sums of the per-partition tasks;
- the Pearson chi2 summed inside the sweep (InMemorySweeper.sweep(pearson=True)) is the
  closed form sum tw (y - mu)^2 / V(mu);
- Dask sweeps take float32 Grams for the steps (as in memory) but never for the sweep
  the solver expects to be the last, and X'WX asked at a float32 sweep is formed anew in
  float64; the fit equals the in-memory fit to 1e-10 and fit() + summary() stays within
  one pass of fit().

Runs on Dask's threaded scheduler.
"""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from glmkit.design import DenseDesign
from glmkit.families import Binomial, Gamma, Poisson, links
from glmkit.model import GLM
from glmkit.problem import GLMProblem
from glmkit.solvers.sweeper import InMemorySweeper

needs_dask = pytest.mark.skipif(importlib.util.find_spec("dask") is None,
                                reason="dask not installed")

RTOL = 1e-10


def close(a, b, rtol=RTOL):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = max(float(np.nanmax(np.abs(b))), 1e-300)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * scale)


# ------------------------------------------------------------------ groups of blocks
def test_groups_are_equal_runs_of_consecutive_partitions():
    from glmkit.design.pinned import _groups

    assert _groups(5, 2) == [[0, 1, 2], [3, 4]]
    assert _groups(20, 2) == [list(range(10)), list(range(10, 20))]
    assert _groups(3, 4) == [[0], [1], [2], []]   # more threads than partitions
    assert _groups(0, 2) == [[], []]
    for nb, s in ((7, 3), (1, 1), (9, 4)):
        flat = [i for g in _groups(nb, s) for i in g]
        assert flat == list(range(nb))


def _moments(b, beta):
    """A block function with every kind of key: sums (p x p, p, scalar) and extremes."""
    eta = b.design.matvec(beta) + b.offset
    w = np.exp(eta)
    return {"gram": b.design.sandwich(w), "score": b.design.rmatvec(b.y - w),
            "dev": float(np.sum(b.y * eta)), "eta_min": float(eta.min(initial=np.inf)),
            "eta_max": float(eta.max(initial=-np.inf)), "big_any": bool(np.any(eta > 1.0))}


@needs_dask
def test_one_task_per_worker_thread_gives_the_per_partition_sums():
    import dask
    import dask.array as da

    from glmkit.design.partitioned import Executor, RowSource
    from glmkit.design.pinned import pin_blocks

    rng = np.random.default_rng(11)
    chunks = (300, 0, 450, 120, 380, 250)
    n = sum(chunks)
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 3))])
    y = rng.poisson(2.0, size=n).astype(float)
    off = rng.normal(scale=0.1, size=n)
    raw = {"X": da.from_array(X, chunks=(chunks, 4)), "y": da.from_array(y, chunks=(chunks,)),
           "offset": da.from_array(off, chunks=(chunks,)), "exposure": None,
           "freq_weights": None, "var_weights": None}
    beta = np.array([0.2, 0.1, -0.3, 0.05])
    with dask.config.set(scheduler="threads", num_workers=2):
        streamed = RowSource(dict(raw))
        pinned = RowSource(dict(raw))
        pinned.pinned, pinned.pin_groups = pin_blocks(pinned, Executor())
        assert pinned.pin_groups == [[0, 1, 2], [3, 4, 5]]
        tree = pinned.map_reduce(_moments, args=(beta,))
        tasks = [str(k[0] if isinstance(k, tuple) else k) for k in dict(tree.dask)]
        assert sum(t.startswith("run_group") for t in tasks) == 2
        assert not any(t.startswith(("run_pinned", "_run_block")) for t in tasks)
        (got,) = dask.compute(tree)
        (ref,) = dask.compute(streamed.map_reduce(_moments, args=(beta,)))
    # the oracle: the same sums over all rows at once, in memory
    eta = X @ beta + off
    w = np.exp(eta)
    close(got["gram"], (X * w[:, None]).T @ X, 1e-12)
    close(got["score"], X.T @ (y - w), 1e-12)
    assert got["rows"] == ref["rows"] == n
    for k in ("gram", "score", "dev"):
        close(got[k], ref[k], 1e-12)
    assert got["eta_min"] == ref["eta_min"] and got["eta_max"] == ref["eta_max"]
    close([got["eta_min"], got["eta_max"]], [eta.min(), eta.max()], 1e-14)
    assert got["big_any"] == ref["big_any"] == bool(np.any(eta > 1.0))


# ----------------------------------------------------------------- Pearson in the sweep
@pytest.mark.parametrize("family", ["poisson", "gamma_log", "binomial_probit"])
def test_pearson_summed_in_the_sweep_is_the_closed_form(family):
    rng = np.random.default_rng(5)
    n = 40_000   # several row blocks, two threads' chunks
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 4))])
    beta = np.array([0.3, 0.2, -0.1, 0.05, 0.0])
    eta = X @ beta
    pw = rng.uniform(0.5, 2.0, size=n)
    fw = rng.integers(1, 3, size=n).astype(float)
    if family == "poisson":
        fam, y = Poisson(), rng.poisson(np.exp(eta)).astype(float)
    elif family == "gamma_log":
        fam, y = Gamma(links.Log()), rng.gamma(2.0, np.exp(eta) / 2.0)
    else:
        fam = Binomial(links.Probit())
        y = (rng.uniform(size=n) < fam.link.inverse(eta)).astype(float)
    problem = GLMProblem(X=DenseDesign(X), y=y, family=fam, prior_weights=pw,
                         freq_weights=fw, offset=np.zeros(n))
    sw = InMemorySweeper(problem, threads=2)
    s = sw.sweep(beta, None, False, pearson=True)
    mu = fam.link.inverse(eta)
    close(s.pearson, np.sum(fw * pw * (y - mu) ** 2 / fam.variance(mu)), 1e-12)
    assert sw.sweep(beta, None, False).pearson is None


# ------------------------------------------------------------ float32 Grams on Dask
def _big_partitions():
    """Partitions over the dense design's small-array size (whose Grams are exact in
    any case), so a float32 Gram is one."""
    import dask.array as da

    rng = np.random.default_rng(21)
    chunks = (30_000, 26_000)
    n = sum(chunks)
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 3))])
    off = rng.normal(scale=0.2, size=n)
    y = rng.poisson(np.exp(0.4 + X[:, 1:] @ np.array([0.3, -0.2, 0.1]) + off)).astype(float)
    darr = (da.from_array(y, chunks=(chunks,)), da.from_array(X, chunks=(chunks, 4)),
            da.from_array(off, chunks=(chunks,)))
    return X, y, off, darr


@needs_dask
def test_dask_float32_grams_only_for_steps():
    import dask

    X, _, off, (dy, dX, doff) = _big_partitions()
    beta = np.array([0.35, 0.25, -0.15, 0.1])
    mu = np.exp(X @ beta + off)
    exact = (X * mu[:, None]).T @ X
    with dask.config.set(scheduler="threads"):
        model = GLM(dy, dX, family=Poisson(), offset=doff)
        with model.data.pinned("auto"):
            sw = model.data.problem.sweeper()
            low = sw.sweep(beta, None, False, low=True)
            assert low.low
            assert not np.allclose(low.gram, exact, rtol=1e-10, atol=0)   # float32 indeed
            close(low.gram, exact, 1e-5)
            close(sw.expected_gram(low), exact, 1e-12)   # formed anew, in float64
            # the same point asked in float64 is a new sweep, not the float32 one again
            full = sw.sweep(beta, None, False)
            assert not full.low
            close(full.gram, exact, 1e-12)
            sw.expect_last()   # the sweep the covariance will take: float64 whatever asked
            last = sw.sweep(beta * 1.01, None, False, low=True)
            assert not last.low
            mu2 = np.exp(X @ (beta * 1.01) + off)
            close(last.gram, (X * mu2[:, None]).T @ X, 1e-12)


@needs_dask
def test_dask_fit_with_float32_steps_equals_in_memory(monkeypatch):
    import dask

    irls_mod = importlib.import_module("glmkit.solvers.irls")
    X, y, off, (dy, dX, doff) = _big_partitions()
    # float32 steps for this design's size (their threshold is 4M elements)
    monkeypatch.setattr(irls_mod, "LOW_PRECISION_MIN_ELEMENTS", 1000)
    ref = GLM(y, X, family=Poisson(), offset=off).fit()
    with dask.config.set(scheduler="threads"):
        log: list = []
        res = GLM(dy, dX, family=Poisson(), offset=doff).fit(verbose=log.append)
        sweeps = [e for e in log if e["what"] == "IRLS"]
        assert any(e.get("float32_gram") for e in sweeps)
        assert not sweeps[-1].get("float32_gram")
        after_fit = len(log)
        res.summary()
        assert len(log) - after_fit <= 1, [e["what"] for e in log[after_fit:]]
    close(res.params, ref.params)
    close(res.bse, ref.bse)
    close([res.deviance, res.pearson_chi2, res.llf, res.null_deviance],
          [ref.deviance, ref.pearson_chi2, ref.llf, ref.null_deviance])

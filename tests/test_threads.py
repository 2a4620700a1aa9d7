"""Sweeps split into row chunks on threads (glmkit._parallel): the same sums as one thread,
the caller's BLAS limits left as they were, errors raised after every chunk has stopped."""
from __future__ import annotations

import numpy as np
import pytest

import glmkit.api as sm
from glmkit import _parallel
from glmkit.design import CategoricalDesign, DenseDesign, SplitDesign
from glmkit.problem import GLMProblem
from glmkit.solvers.sweeper import InMemorySweeper


def _problem(design, family, rng, offset=None):
    n = design.shape[0]
    X = design.to_dense()
    eta = 0.3 + X[:, 1:] @ rng.normal(0, 0.1, X.shape[1] - 1)
    mu = np.exp(eta)
    y = rng.poisson(mu).astype(float) if isinstance(family, sm.families.Poisson) \
        else rng.gamma(2.0, mu / 2.0)
    return GLMProblem(X=design, y=y, family=family, prior_weights=rng.uniform(0.5, 2.0, n),
                      freq_weights=rng.integers(1, 3, n).astype(float), offset=offset), n


def _designs(rng, n):
    X = np.column_stack([np.ones(n), rng.standard_normal((n, 4))])
    codes = rng.integers(0, 7, n).astype(np.int32)
    split = SplitDesign([DenseDesign(X), CategoricalDesign(codes, 7)])
    return {"dense": DenseDesign(X), "split": split}


@pytest.mark.parametrize("small", [True, False])
@pytest.mark.parametrize("kind", ["dense", "split"])
@pytest.mark.parametrize("family", [sm.families.Poisson(), sm.families.Gamma(sm.families.links.Log())])
def test_threaded_sweeps_equal_one_thread(kind, family, small, monkeypatch):
    if not small:   # dense blocks without their transposed copy
        monkeypatch.setattr("glmkit.design.dense._SMALL_ELEMENTS", 0)
    # small row blocks, so that 3 chunks each hold several of them
    monkeypatch.setattr("glmkit.design.dense._BLOCK_ELEMENTS", 1000)
    monkeypatch.setattr("glmkit.design.split._MIN_BLOCK_ROWS", 300)
    rng = np.random.default_rng(11)
    design = _designs(rng, 5000)[kind]
    problem, n = _problem(design, family, rng, offset=rng.normal(0, 0.1, 5000))
    one = InMemorySweeper(problem, threads=1)
    three = InMemorySweeper(problem, threads=3)
    assert len(three._chunks()) == 3
    beta = np.zeros(design.shape[1])
    beta[0] = 0.2
    for kwargs in ({}, {"observed": True}, {"low": True}, {"track_mu": True}):
        a, b = one.sweep(beta, **kwargs), three.sweep(beta, **kwargs)
        np.testing.assert_allclose(b.gram, a.gram, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(b.score, a.score, rtol=1e-12, atol=1e-9)
        assert b.deviance == pytest.approx(a.deviance, rel=1e-13)
        np.testing.assert_array_equal(b.eta, a.eta)
        assert (a.gram_observed is None) == (b.gram_observed is None)
        if a.gram_observed is not None:
            np.testing.assert_allclose(b.gram_observed, a.gram_observed, rtol=1e-12, atol=1e-9)
        assert a.mu_range == b.mu_range
    # from starting means (eta0): the score holds X'Wz
    eta0 = one.start_eta()
    a, b = one.sweep(None, eta0), three.sweep(None, eta0)
    np.testing.assert_allclose(b.score, a.score, rtol=1e-12)
    # the covariance's X'WX and the final mu and w
    np.testing.assert_allclose(three.expected_gram(b), one.expected_gram(a), rtol=1e-12, atol=1e-9)
    one.finish(a)
    three.finish(b)
    np.testing.assert_array_equal(b.mu, a.mu)
    np.testing.assert_array_equal(b.w, a.w)


def test_chunks_cover_the_rows_on_block_edges():
    from glmkit.design.dense import chunk_slices

    for n, rows, k in [(10, 3, 2), (10, 3, 8), (9, 3, 3), (1, 5, 2), (100, 7, 3)]:
        sl = chunk_slices(n, rows, k)
        assert sl[0].start == 0 and sl[-1].stop == n and len(sl) <= k
        assert all(a.stop == b.start for a, b in zip(sl[:-1], sl[1:]))
        assert all(s.start % rows == 0 and s.stop > s.start for s in sl)


def test_a_threaded_fit_equals_a_one_thread_fit(monkeypatch):
    monkeypatch.setattr(_parallel, "MIN_ELEMENTS", 1)
    monkeypatch.setattr("glmkit.design.dense._BLOCK_ELEMENTS", 2000)
    rng = np.random.default_rng(3)
    X = np.column_stack([np.ones(4000), rng.standard_normal((4000, 5))])
    y = rng.poisson(np.exp(0.2 + X[:, 1:] @ rng.normal(0, 0.2, 5))).astype(float)
    monkeypatch.setenv("GLMKIT_NUM_THREADS", "1")
    one = sm.GLM(y, X, family=sm.families.Poisson()).fit()
    monkeypatch.setenv("GLMKIT_NUM_THREADS", "2")
    two = sm.GLM(y, X, family=sm.families.Poisson()).fit()
    np.testing.assert_allclose(two.params, one.params, rtol=1e-12)
    np.testing.assert_allclose(two.bse, one.bse, rtol=1e-12)
    assert two.deviance == pytest.approx(one.deviance, rel=1e-13)


@pytest.mark.parametrize("raw", ["0", "-2", "two"])
def test_a_bad_thread_count_is_refused(raw, monkeypatch):
    monkeypatch.setenv("GLMKIT_NUM_THREADS", raw)
    with pytest.raises(ValueError, match="GLMKIT_NUM_THREADS must be a positive integer"):
        _parallel.threads_for(1 << 24)


def test_small_sweeps_stay_on_one_thread(monkeypatch):
    monkeypatch.setenv("GLMKIT_NUM_THREADS", "4")
    assert _parallel.threads_for(1000 * 6) == 1
    assert _parallel.threads_for(1 << 22) == 4


def _blas_threads():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]


def test_blas_limits_are_restored_after_a_threaded_sweep_even_when_it_fails():
    before = _blas_threads()
    if not before:
        pytest.skip("no BLAS that threadpoolctl can limit")
    seen = []

    def work(i):
        seen.append(_blas_threads())
        return i * 2

    assert _parallel.map_chunks(work, [0, 1, 2]) == [0, 2, 4]
    assert all(s == [1] * len(before) for s in seen)
    assert _blas_threads() == before

    finished = []

    def fails(i):
        if i == 0:
            raise RuntimeError("chunk 0 failed")
        finished.append(i)

    with pytest.raises(RuntimeError, match="chunk 0 failed"):
        _parallel.map_chunks(fails, [0, 1, 2])
    assert sorted(finished) == [1, 2]   # the other chunks ran to their end
    assert _blas_threads() == before


def test_wide_grams_keep_a_sweep_on_one_thread(monkeypatch):
    """Each extra thread sums into a p x p Gram of its own: a design whose Gram is large
    next to its data (many levels, few rows) stays on one thread; a narrow one is split."""
    monkeypatch.setattr(_parallel, "MIN_ELEMENTS", 1)
    monkeypatch.setenv("GLMKIT_NUM_THREADS", "2")
    monkeypatch.setattr("glmkit.design.dense._BLOCK_ELEMENTS", 1000)
    monkeypatch.setattr("glmkit.design.split._MIN_BLOCK_ROWS", 300)
    rng = np.random.default_rng(5)
    n = 20000
    X = np.column_stack([np.ones(n), rng.standard_normal((n, 2))])
    wide = SplitDesign([DenseDesign(X), CategoricalDesign(rng.integers(0, 300, n).astype(np.int32), 300)])
    assert wide.nbytes == X.nbytes + 4 * n
    narrow = DenseDesign(X)
    y = rng.poisson(1.0, n).astype(float)
    ones = np.broadcast_to(1.0, (n,))
    zeros = np.broadcast_to(0.0, (n,))
    for design, k in ((wide, 1), (narrow, 2)):
        problem = GLMProblem(X=design, y=y, family=sm.families.Poisson(), prior_weights=ones,
                             freq_weights=ones, offset=zeros)
        assert len(InMemorySweeper(problem)._chunks()) == k


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_a_forked_child_sweeps_on_threads_of_its_own():
    """After a threaded sweep in the parent, a forked child's threaded sweep must not wait
    on the parent's pool threads, which the child does not have."""
    import multiprocessing as mp

    assert _parallel.map_chunks(lambda i: i, [0, 1]) == [0, 1]   # the parent's pool exists
    ctx = mp.get_context("fork")
    with ctx.Pool(1) as pool:
        # as many chunks as in the parent: the child would reuse the parent's pool
        result = pool.apply_async(_parallel.map_chunks, (abs, [-1, -2]))
        assert result.get(timeout=30) == [1, 2]


@pytest.mark.parametrize("n", [3000, 60000], ids=["transposed_copy", "row_blocks"])
def test_fits_of_one_design_on_several_threads_at_once_agree(n):
    """A design object shared by models fitted on several threads at once: each sweep uses
    scratch buffers of its own thread, so every fit equals the one-thread fit."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(8)
    X = np.column_stack([np.ones(n), rng.standard_normal((n, 5))])
    design = DenseDesign(X)
    fits = []
    for j in range(4):   # four responses, so that a shared scratch buffer shows
        y = rng.poisson(np.exp(0.3 * j + X[:, 1:] @ rng.normal(0, 0.2, 5))).astype(float)
        fits.append((y, sm.GLM(y, X, family=sm.families.Poisson()).fit().params))

    def fit(j):
        y, _ = fits[j % 4]
        return j, sm.GLM(y, design, family=sm.families.Poisson()).fit().params

    with ThreadPoolExecutor(8) as ex:
        for j, params in ex.map(fit, range(64)):
            np.testing.assert_allclose(params, fits[j % 4][1], rtol=1e-10, atol=1e-12)


def test_the_blas_limit_holds_and_is_restored_whichever_thread_ends_the_hold():
    """threadpoolctl lets one 'controlling' thread set OpenBLAS's pool: a hold that starts
    on one thread and ends on another must still limit BLAS and restore it at the end."""
    import threading

    before = _blas_threads()
    if not before or max(before) < 2:
        pytest.skip("needs a BLAS allowed two or more threads")
    entered, release, seen = threading.Event(), threading.Event(), []

    def other():
        with _parallel.one_blas_thread():
            entered.set()
            release.wait(10)
            seen.append(_blas_threads())   # the main thread has left: still held

    with _parallel.one_blas_thread():
        t = threading.Thread(target=other)
        t.start()
        assert entered.wait(10)
        seen.append(_blas_threads())
    release.set()
    t.join()
    assert seen == [[1] * len(before)] * 2
    assert _blas_threads() == before   # restored by the other thread, which left last

    def alone():
        with _parallel.one_blas_thread():
            seen.append(_blas_threads())

    t = threading.Thread(target=alone)   # a hold begun off the main thread limits too
    t.start()
    t.join()
    assert seen[-1] == [1] * len(before) and _blas_threads() == before


def test_a_design_pickles_without_its_scratch_buffers_and_thread_chunks(monkeypatch):
    import pickle

    monkeypatch.setattr(_parallel, "MIN_ELEMENTS", 1)
    monkeypatch.setenv("GLMKIT_NUM_THREADS", "2")
    rng = np.random.default_rng(4)
    X = np.column_stack([np.ones(200_000), rng.standard_normal((200_000, 3))])
    design = DenseDesign(X)
    size = len(pickle.dumps(design))
    y = rng.poisson(1.0, 200_000).astype(float)
    sm.GLM(y, design, family=sm.families.Poisson()).fit()
    assert design._chunks and design._buf   # the fit used both
    assert len(pickle.dumps(design)) < size + 10_000   # (+ the cached constant-column mask)

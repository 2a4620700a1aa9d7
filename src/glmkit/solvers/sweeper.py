"""The per-row work of IRLS: one sweep over the data at given coefficients.

:func:`glmkit.solvers.irls.irls` steers (solves, halving, stopping); a sweeper does every
sum over rows. :class:`InMemorySweeper` walks the row blocks of an in-memory design; a
distributed sweeper does the same over partitions and returns only p x p and p-sized sums
(the per-row arrays it returns may be lazy).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._parallel import map_chunks, one_blas_thread, threads_for
from ..families._fused import kernel_for
from ..problem import GLMProblem

#: a sweep on one thread holds BLAS at one thread for designs of at most this many columns
#: (wider ones gain from BLAS threads on each row block's X'WX)
ONE_THREAD_MAX_COLUMNS = 512
#: ... and of at least this many rows: below it OpenBLAS runs its vector calls on one thread
#: anyway, and the hold (~50 us of threadpoolctl per sweep) would be the cost of a small fit
ONE_THREAD_MIN_ROWS = 16384


@dataclass
class Sweep:
    """Sums of one pass over the rows at one linear predictor, and the per-row state.

    An in-memory sweep keeps only ``eta`` (``mu`` and ``w`` are None): the mean and weights
    of the point the fit stops at are formed once, by :meth:`InMemorySweeper.finish`.
    """

    deviance: float
    valid: bool
    gram: np.ndarray | None
    score: np.ndarray
    gram_observed: np.ndarray | None
    eta: Any
    mu: Any
    w: Any
    #: the Grams were formed from float32 blocks (good for a step, not for a covariance)
    low: bool = False
    #: (min, max) of mu over the rows with weight, when the sweep was asked to track it
    mu_range: tuple | None = None
    #: sum tw (y - mu)^2 / V(mu) at this eta, when the sweep was asked for it
    pearson: float | None = None


class InMemorySweeper:
    """Sweeps over :meth:`DesignMatrix.row_blocks` with the family's (fused) kernel."""

    def __init__(self, problem: GLMProblem, fused: bool = True, threads: int | None = None):
        self.problem = problem
        #: threads per sweep (None: :func:`glmkit._parallel.threads_for`)
        self.threads = threads
        self._scratch: dict = {}   # the Grams that chunks past the first sum into
        self.kernel = kernel_for(problem.family, fused=fused)
        self.constant = self.kernel.constant(problem.y, problem.total_weights)
        off = problem.offset
        #: the offset is a broadcast zero (no offset): eta = X b
        self._no_offset = off.strides == (0,) and (off.size == 0 or off[0] == 0.0)
        fw, pw = problem.freq_weights, problem.prior_weights
        unweighted = fw.strides == pw.strides == (0,) and fw.shape[0] > 0 and fw[0] == 1.0
        self.n_eff = float(fw.shape[0]) if unweighted else float(np.sum(fw[pw > 0]))

    def start_eta(self):
        """g(starting means), R's initialize."""
        p = self.problem
        return p.family.link(p.family.starting_mu(p.y, p.prior_weights))

    @staticmethod
    def midpoint(a, b):
        return 0.5 * (a + b)

    def sweep(self, beta: np.ndarray | None, eta0=None, observed: bool = False,
              reuse: Sweep | None = None, expected: bool = True, grams=None,
              low: bool = False, track_mu: bool = False, cols=None,
              pearson: bool = False) -> Sweep:
        """One pass: eta, mu, deviance, X'WX, X'u (and the observed X'WX when asked).

        With ``beta`` None the linear predictor is ``eta0`` (IRLS's starting values) and the
        ``score`` field holds X'Wz instead, what the first solve needs. The n-vectors of
        ``reuse`` (a sweep the caller no longer needs) are overwritten instead of allocated.
        With ``expected=False`` only the observed X'WX is formed (``gram`` is None).
        ``grams``: p x p buffers (expected, observed) to accumulate into, else those of
        ``reuse``. ``low``: form the Grams from float32 blocks (see DenseDesign.add_sandwich).
        ``track_mu``: record the range of mu over the rows with weight (``mu_range``).
        ``cols``: the Grams of these columns only (k x k, sorted positions: a penalized
        fit's working set); the score is formed for every column. ``pearson``: also sum
        the Pearson chi2 terms tw (y - mu)^2 / V(mu) (``Sweep.pearson``), from each row
        block's means while they are in cache.
        """
        problem, kernel = self.problem, self.kernel
        X = problem.X
        n, p = X.shape
        k = p if cols is None else len(cols)
        if reuse is not None and reuse.eta.shape == (n,) and reuse.eta is not eta0 \
                and reuse.eta.flags.writeable:
            eta = reuse.eta
        else:
            eta = np.empty(n)
        if grams is None:
            grams = (None, None) if reuse is None else (reuse.gram, reuse.gram_observed)
        tw_all, offset, y = problem.total_weights, problem.offset, problem.y
        chunks = self._chunks()
        variance = problem.family.variance
        # per chunk: [G, Go, score, deviance, valid, min mu, max mu, blocks, (mu, w),
        # Pearson]
        acc = [[_zeroed(grams[0], k) if expected else None,
                _zeroed(grams[1], k) if observed else None,
                np.zeros(p), 0.0, True, np.inf, -np.inf, 0, None, 0.0]]
        acc += [[self._scratch_gram(j, 0, k) if expected else None,
                 self._scratch_gram(j, 1, k) if observed else None,
                 np.zeros(p), 0.0, True, np.inf, -np.inf, 0, None, 0.0]
                for j in range(1, len(chunks))]

        def block(i, sl, Xb):
            a = acc[i]
            e = eta0[sl] if beta is None else self._eta(Xb, beta, sl)
            m, d, w, u, wo = kernel.evaluate(y[sl], e, tw_all[sl], observed)
            a[4] = a[4] and kernel.valid(e, m)
            if track_mu:   # (where=: no copy of the block's means)
                has_w = tw_all[sl] > 0
                a[5] = min(a[5], float(np.min(m, where=has_w, initial=np.inf)))
                a[6] = max(a[6], float(np.max(m, where=has_w, initial=-np.inf)))
            if pearson:
                r = y[sl] - m
                a[9] += float(np.dot(tw_all[sl], np.square(r, out=r) / variance(m)))
            a[3] += d
            if expected:
                _gram(Xb, w, a[0], low, cols)
            # from starting values IRLS solves X'WX b = X'Wz,
            # z = eta - offset + (y - mu) / mu_eta
            a[2] += Xb.rmatvec(u if beta is not None else u + w * (e - offset[sl]))
            if observed:
                _gram(Xb, wo, a[1], low, cols)
            eta[sl] = e
            a[7] += 1
            a[8] = (m, w)

        self._each_block(chunks, block)
        G, Go, s = acc[0][0], acc[0][1], acc[0][2]
        dev, valid = self.constant, True
        lo, hi = np.inf, -np.inf
        for i, a in enumerate(acc):   # in chunk order: the same sums on every run
            if i:
                if expected:
                    G += a[0]
                if observed:
                    Go += a[1]
                s += a[2]
            dev += a[3]
            valid = valid and a[4]
            lo, hi = min(lo, a[5]), max(hi, a[6])
        # the eta-free constant and the sum can cancel to -1e-14 at a saturated fit
        dev = max(dev, 0.0) if np.isfinite(dev) else dev
        rng = (lo, hi) if track_mu else None
        chi2 = float(sum(a[9] for a in acc)) if pearson else None
        if len(acc) == 1 and acc[0][7] == 1:   # one block (a small design): keep its mu, w
            return Sweep(dev, valid, G, s, Go, eta, acc[0][8][0], acc[0][8][1], low, rng,
                         chi2)
        return Sweep(dev, valid, G, s, Go, eta, None, None, low, rng, chi2)

    def at(self, beta: np.ndarray) -> Sweep:
        """eta, mu, w, the deviance and the score X'u at ``beta``: X @ b, the kernel and
        X'u while each block is in cache, no X'WX (``gram`` is None). The fit's last point
        when the step to it was solved but not swept (solvers/irls.py): its score is what
        certifies that the point is the maximum."""
        problem, kernel = self.problem, self.kernel
        n, p = problem.X.shape
        eta, mu, w = np.empty(n), np.empty(n), np.empty(n)
        tw, y = problem.total_weights, problem.y
        chunks = self._chunks()
        acc = [[0.0, True, np.zeros(p)] for _ in chunks]   # per chunk: deviance, valid, X'u

        def block(i, sl, Xb):
            e = self._eta(Xb, beta, sl)
            m, d, wb, u, _ = kernel.evaluate(y[sl], e, tw[sl], False)
            acc[i][1] = acc[i][1] and kernel.valid(e, m)
            acc[i][0] += d
            acc[i][2] += Xb.rmatvec(u)
            eta[sl], mu[sl], w[sl] = e, m, wb

        self._each_block(chunks, block)
        dev = self.constant + sum(a[0] for a in acc)
        dev = max(dev, 0.0) if np.isfinite(dev) else dev
        score = acc[0][2]
        for a in acc[1:]:   # in chunk order: the same sum on every run
            score += a[2]
        return Sweep(dev, all(a[1] for a in acc), None, score, None, eta, mu, w)

    def _scratch_gram(self, chunk: int, which: int, k: int) -> np.ndarray:
        """A zeroed k x k Gram for chunk ``chunk`` > 0 to sum into, kept for the next sweeps
        (no allocation per sweep)."""
        key = (chunk, which)
        self._scratch[key] = _zeroed(self._scratch.get(key), k)
        return self._scratch[key]

    def _eta(self, Xb, beta, sl):
        """X_b beta plus the offset of the rows ``sl`` (none to add when there is none)."""
        e = Xb.matvec(beta)
        return e if self._no_offset else e + self.problem.offset[sl]

    @staticmethod
    def _each_block(chunks: list, block) -> None:
        """``block(chunk number, row slice, block of X)`` on every row block of every chunk,
        the chunks on threads side by side. Trial points outside the family's range give
        meaningless numbers and must not warn: the solver rejects them on their deviance
        and validity."""
        def rows(i):
            start, Xc = chunks[i]
            with np.errstate(all="ignore"):
                for sl, Xb in Xc.row_blocks():
                    block(i, slice(start + sl.start, start + sl.stop), Xb)

        n_rows, n_cols = chunks[0][1].shape
        if (len(chunks) == 1 and n_cols <= ONE_THREAD_MAX_COLUMNS
                and n_rows >= ONE_THREAD_MIN_ROWS):
            # one chunk: BLAS held at one thread too. Its calls here are thin (row blocks,
            # n-vector dots) and OpenBLAS's threaded ddot and gemv on them wait on thread
            # scheduling: the factor workload's Poisson kernel on 100k rows, loaded machine,
            # 23 -> 2.5 ms
            with one_blas_thread():
                rows(0)
            return
        map_chunks(rows, list(range(len(chunks))))

    def _chunks(self) -> list:
        """(first row, design) of the row chunks that threads sweep side by side."""
        X = self.problem.X
        n, p = X.shape
        k = self.threads if self.threads is not None else threads_for(n * p)
        if k > 1 and self.threads is None:
            # each thread past the first sums into a p x p Gram of its own: only as many as
            # keep those copies within 1/8 of the design's bytes (problem e's 2,011 x 2,011
            # Gram is 32 MB against 92 MB of data: one thread)
            k = min(k, 1 + X.nbytes // (64 * p * p))
        if k == 1:
            return [(0, X)]
        return [(sl.start, Xc) for sl, Xc in X.row_chunks(k)]

    def _over_blocks(self, sw: Sweep, each) -> None:
        """``each(chunk number, row slice, block of X, mu, w)`` on every row block at the
        sweep's eta (its mu and w when it has them), the chunks of rows on threads side by
        side."""
        problem, kernel = self.problem, self.kernel
        tw, y, eta = problem.total_weights, problem.y, sw.eta
        known = sw.mu is not None and sw.w is not None

        def block(i, sl, Xb):
            if known:
                each(i, sl, Xb, sw.mu[sl], sw.w[sl])
            else:
                m, _, w, _, _ = kernel.evaluate(y[sl], eta[sl], tw[sl], False)
                each(i, sl, Xb, m, w)

        self._each_block(self._chunks(), block)

    def expected_gram(self, sw: Sweep, low: bool = False, cols=None) -> np.ndarray:
        """X'WX at a sweep's working weights (one pass, no X @ b); ``low`` and ``cols``
        as in :meth:`sweep`."""
        X = self.problem.X
        k = X.shape[1] if cols is None else len(cols)
        if sw.w is not None and len(self._chunks()) == 1:
            G = np.zeros((k, k))
            _gram(X, sw.w, G, low, cols)
            return G
        grams = [np.zeros((k, k)) for _ in self._chunks()]

        def gram(i, sl, Xb, m, w):
            _gram(Xb, w, grams[i], low, cols)

        self._over_blocks(sw, gram)
        G = grams[0]
        for g in grams[1:]:   # in chunk order: the same sum on every run
            G += g
        return G

    def finish(self, sw: Sweep) -> None:
        """Fill in ``mu`` and ``w`` of the sweep the fit stops at (one pass over eta)."""
        if sw.mu is not None:
            return
        n = sw.eta.shape[0]
        mu, wts = np.empty(n), np.empty(n)

        def fill(i, sl, Xb, m, w):
            mu[sl], wts[sl] = m, w

        self._over_blocks(sw, fill)
        sw.mu, sw.w = mu, wts

    def _intercept_only(self, keep=None):
        """g(weighted mean of y) on the first constant (kept) column, zeros elsewhere; None
        when there is no such column or g is not finite there."""
        problem = self.problem
        X = problem.X
        const = X.column_is_constant()
        const = np.flatnonzero(const if keep is None else const & keep)
        if const.size == 0:
            return None
        j = const[0]
        first = X.array[0] if hasattr(X, "array") else X.take_rows(np.array([0])).to_dense()[0]
        tw = problem.total_weights
        if tw.strides == (0,):   # equal weights (checked positive): the plain mean
            ybar = float(problem.y.mean())
        else:
            ybar = float(np.dot(tw, problem.y) / np.sum(tw))
        with np.errstate(all="ignore"):
            g = float(problem.family.link(np.array([ybar]))[0])
        if not np.isfinite(g):
            return None
        beta = np.zeros(X.shape[1])
        beta[j] = g / float(first[j])
        return beta

    def null_start(self):
        """The intercept-only point as IRLS's start (None with an offset: then it is not the
        intercept-only fit); the caller's sweep checks that it is valid."""
        if not self._no_offset and np.any(self.problem.offset != 0):
            return None
        return self._intercept_only()

    def null_coefficients(self, keep: np.ndarray):
        """The intercept-only point on a kept constant column, if it is a valid point of the
        family (with the offset); else None. Step-halving falls back towards it."""
        beta = self._intercept_only(keep)
        if beta is None:
            return None
        problem = self.problem
        eta = problem.X.matvec(beta) + problem.offset
        mu = problem.family.link.inverse(eta)
        return beta if np.isfinite(problem.deviance(mu)) and problem.is_valid(eta, mu) else None

def _gram(Xb, w, out, low: bool, cols) -> None:
    """out += X'WX of the block, or of its columns ``cols`` only."""
    if cols is None:
        Xb.add_sandwich(w, out, low=low)
    else:
        Xb.add_column_sandwich(w, cols, out, low=low)


def _zeroed(buf, p: int) -> np.ndarray:
    """A zero p x p matrix: ``buf`` cleared when it is one (a Gram is 32 MB at p = 2,000)."""
    if buf is not None and buf.shape == (p, p) and buf.flags.writeable:
        buf.fill(0.0)
        return buf
    return np.zeros((p, p))

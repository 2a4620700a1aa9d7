"""Multinomial logit at n rows, p columns, K categories: glmkit's MNLogit against statsmodels'
MNLogit (fitted on n_sm rows, its time scaled by n / n_sm) and glmkit's binomial GLM, in
interleaved rounds (the machine may be shared: each round times all three; the tables take
the fastest of each). Wall-clock and CPU time (process time, all threads) are both given:
under other load, CPU time moves less.

    PYTHONPATH=src python benchmarks/multinomial_bench.py [n] [n_sm] [rounds]
"""
from __future__ import annotations

import os
import sys
import time
import warnings

import numpy as np


def make(n: int, p: int = 20, K: int = 5, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=(n, p - 1))])
    B = rng.normal(scale=0.3, size=(p, K - 1))
    eta = np.column_stack([np.zeros(n), X @ B])
    P = np.exp(eta - eta.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    y = (P.cumsum(axis=1) < rng.random(n)[:, None]).sum(axis=1)
    return X, y


def _timed(fn):
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t, time.process_time() - c


def main(n: int = 1_000_000, n_sm: int = 100_000, rounds: int = 3) -> None:
    import statsmodels.api as smapi

    import glmkit.api as sm

    X, y = make(n)
    Xs, ys = X[:n_sm], y[:n_sm]
    K = int(y.max()) + 1
    rows: dict[str, list[tuple[float, float]]] = {"mn": [], "glm": [], "sm": []}
    loads = [os.getloadavg()[0]]
    for _ in range(rounds):
        res, *t_mn = _timed(lambda: sm.MNLogit(y, X).fit())
        rows["mn"].append(tuple(t_mn))
        _, *t_glm = _timed(lambda: sm.GLM((y == 1).astype(float), X,
                                          family=sm.families.Binomial()).fit())
        rows["glm"].append(tuple(t_glm))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref, *t_sm = _timed(lambda: smapi.MNLogit(ys, Xs).fit(disp=0))
        rows["sm"].append(tuple(t_sm))
        loads.append(os.getloadavg()[0])
    best = {k: (min(r[0] for r in v), min(r[1] for r in v)) for k, v in rows.items()}
    small = sm.MNLogit(ys, Xs).fit()
    gap = np.max(np.abs(np.asarray(small.params) - ref.params))
    scale = n / n_sm
    print(f"load average (1 min) during the rounds: {min(loads):.1f}-{max(loads):.1f} "
          f"on {os.cpu_count()} cores")
    for k, label in (("mn", f"glmkit MNLogit n={n}"), ("glm", f"glmkit binomial GLM n={n}"),
                     ("sm", f"statsmodels MNLogit n={n_sm}")):
        runs = ", ".join(f"{w:.2f}" for w, _ in rows[k])
        print(f"{label}: wall {best[k][0]:.2f} s (runs {runs}), CPU {best[k][1]:.2f} s")
    print(f"glmkit MNLogit: {res.n_iter} Newton iterations, converged={res.converged}; "
          f"max |params difference| from statsmodels at n={n_sm}: {gap:.2e}")
    for i, what in enumerate(("wall", "CPU")):
        mn, glm, smt = best["mn"][i], best["glm"][i], best["sm"][i] * scale
        print(f"{what}: MNLogit / statsmodels (x{scale:g}) = {mn / smt:.3f}; "
              f"MNLogit / ((K-1) GLM fits) = {mn / ((K - 1) * glm):.2f}")


if __name__ == "__main__":
    main(*[int(a) for a in sys.argv[1:]])

"""Many small fits at once (issue 17): glmkit's batched IRLS against a loop of fits.

1. ``glmkit.glm_by`` (formula to fitted groups): 10,000 groups of ~100 rows, p=5 Poisson,
   against a loop of statsmodels ``GLM(y, X)`` fits on arrays already split by group (a
   sample of groups timed and scaled up). Target: <= 0.05x. Also printed: a loop of
   ``smf.glm(formula, group)`` fits, as a statsmodels user with a formula would write it.
2. ``glmkit.bootstrap``: 1,000 pairs-bootstrap refits of a logistic n=500, p=8, against a
   loop of scikit-learn ``LogisticRegression(penalty=None)`` fits on the same resamples
   (a sample timed and scaled up). Target: <= 0.1x.

Prints the ratios (best of ``--rounds`` rounds each, interleaved). Small and quick by
design: ``python benchmarks/batched_bench.py [--groups 10000] [--rounds 3]``.
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd


def _timed(f):
    t = time.perf_counter()
    out = f()
    return time.perf_counter() - t, out


def grouped_data(G: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(80, 121, size=G)
    n = int(sizes.sum())
    seg = np.repeat(np.arange(G), sizes)
    X = rng.normal(size=(n, 4))
    b = rng.normal(scale=0.3, size=(G, 5))
    eta = b[seg, 0] + np.einsum("nk,nk->n", X, b[seg, 1:])
    df = pd.DataFrame(X, columns=["x1", "x2", "x3", "x4"])
    df["segment"] = seg
    df["y"] = rng.poisson(np.exp(eta))
    return df


def bench_glm_by(G: int, sample: int, rounds: int) -> dict:
    import statsmodels.api as sm

    import glmkit

    df = grouped_data(G)
    fam = glmkit.families.Poisson()
    formula = "y ~ x1 + x2 + x3 + x4"
    segs = np.random.default_rng(1).choice(G, size=min(sample, G), replace=False)
    parts = {g: d for g, d in df[df.segment.isin(segs)].groupby("segment")}
    arrays = {g: (d["y"].to_numpy(), sm.add_constant(d[["x1", "x2", "x3", "x4"]].to_numpy()))
              for g, d in parts.items()}

    def sm_loop():
        for y, X in arrays.values():
            sm.GLM(y, X, family=sm.families.Poisson()).fit()

    def smf_loop():   # as a user with a formula writes it: one formula fit per group
        import statsmodels.formula.api as smf

        for d in parts.values():
            smf.glm(formula, d, family=sm.families.Poisson()).fit()

    t_gk, t_sm, t_smf = [], [], []
    for _ in range(rounds):
        t, res = _timed(lambda: glmkit.glm_by(formula, df, by="segment", family=fam))
        t_gk.append(t)
        t_sm.append(_timed(sm_loop)[0] * G / len(arrays))
        t_smf.append(_timed(smf_loop)[0] * G / len(parts))
    return {"glmkit_s": min(t_gk), "statsmodels_s": min(t_sm),
            "ratio": min(t_gk) / min(t_sm), "smf_s": min(t_smf),
            "ratio_smf": min(t_gk) / min(t_smf), "converged": int(res.converged.sum()),
            "refitted": int(res.refitted.sum())}


def bench_bootstrap(n_boot: int, sample: int, rounds: int) -> dict:
    from sklearn.linear_model import LogisticRegression

    import glmkit

    rng = np.random.default_rng(2)
    n, p = 500, 8
    X = rng.normal(size=(n, p - 1))
    beta = rng.normal(scale=0.5, size=p)
    y = rng.binomial(1, 1.0 / (1.0 + np.exp(-(beta[0] + X @ beta[1:]))))
    res = glmkit.GLM(y, glmkit.add_constant(X), family=glmkit.families.Binomial()).fit()
    idx = rng.integers(0, n, size=(n_boot, n))

    def sk_loop():
        for k in range(sample):
            i = idx[k]
            LogisticRegression(penalty=None, max_iter=1000).fit(X[i], y[i])

    t_gk, t_sk = [], []
    for _ in range(rounds):
        t, b = _timed(lambda: glmkit.bootstrap(res, indices=idx))
        t_gk.append(t)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_sk.append(_timed(sk_loop)[0] * n_boot / sample)
    return {"glmkit_s": min(t_gk), "sklearn_s": min(t_sk), "ratio": min(t_gk) / min(t_sk),
            "not_converged": int(np.sum(~b.converged))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--groups", type=int, default=10_000)
    ap.add_argument("--sample", type=int, default=300, help="statsmodels fits timed")
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--sk-sample", type=int, default=200, help="scikit-learn fits timed")
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    g = bench_glm_by(a.groups, a.sample, a.rounds)
    print(f"glm_by, {a.groups} groups x ~100 rows, p=5 Poisson: glmkit {g['glmkit_s']:.2f} s, "
          f"statsmodels loop {g['statsmodels_s']:.2f} s (scaled from {a.sample} fits): "
          f"ratio {g['ratio']:.3f} (target 0.05); converged {g['converged']}, "
          f"refitted {g['refitted']}")
    print(f"  (a loop of statsmodels formula fits, smf.glm per group: {g['smf_s']:.2f} s, "
          f"ratio {g['ratio_smf']:.3f})")
    b = bench_bootstrap(a.n_boot, a.sk_sample, a.rounds)
    print(f"bootstrap, {a.n_boot} pairs refits, logistic n=500 p=8: glmkit {b['glmkit_s']:.2f} s, "
          f"scikit-learn loop {b['sklearn_s']:.2f} s (scaled from {a.sk_sample} fits): "
          f"ratio {b['ratio']:.3f} (target 0.1); not converged {b['not_converged']}")


if __name__ == "__main__":
    main()

"""Brant's (1990) test of the proportional-odds assumption of a logistic ``polr`` /
``OrderedModel(distr='logit')`` fit, with the output of R's ``brant`` package.

Notes
-----
For each cut k = 1..J-1 a binary logit of I(y > k) on the model's design (plus an intercept,
and the model's offset) gives beta_k and fitted probabilities pi_k. Brant's covariance of
the stacked estimates is

    Cov(beta_k, beta_l) = (X'W_k X)^-1 (X' W_kl X) (X'W_l X)^-1,
    W_k = diag(w pi_k (1 - pi_k)),  W_kl = diag(w (pi_l - pi_k pi_l))  (k < l),

with w the frequency weights. The statistic for "the slopes are equal across cuts" is the
Wald statistic of the J-2 differences beta_1 - beta_k (intercepts excluded): chi-squared on
(J-2) K df for all K slopes (``Omnibus``) and on J-2 df for each coefficient alone.
A small probability says the proportional-odds assumption fails.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ._countkernels import binary_kernel
from ._multieta import Block, evaluate
from ._newton import maximize

__all__ = ["brant"]


def _binary_logits(X1, codes, J, w, offset):
    """beta (J-1, K+1) and fitted P(y > k) (n, J-1) of the J-1 cumulative binary logits."""
    n = X1.shape[0]
    beta = np.zeros((J - 1, X1.shape[1]))
    pi = np.zeros((n, J - 1))
    for k in range(J - 1):
        event = codes > k
        kern = binary_kernel(event, "logit")
        res = maximize(lambda t, k=kern: evaluate(t, [Block(X1, offset)], k, n, w),
                       np.zeros(X1.shape[1]), 200)
        if not res.converged:
            raise ValueError(f"brant: the binary logit of y > {k} has no finite "
                                     f"maximum ({res.message}); the test needs every cut "
                                     "to be estimable.")
        beta[k] = res.params
        eta = X1 @ res.params + (0.0 if offset is None else offset)
        pi[:, k] = 1.0 / (1.0 + np.exp(-eta))
    return beta, pi


def brant(results) -> pd.DataFrame:
    """Brant's test of a logistic ordinal fit (R's ``brant::brant(polr_fit)``).

    Returns
    -------
    DataFrame with rows ``Omnibus`` and one per coefficient, columns ``X2``, ``df`` and
    ``probability`` (the chi-squared upper tail).
    """
    model: Any = getattr(results, "model", None)
    inp = getattr(model, "inputs", None)
    if inp is None or not hasattr(results, "zeta"):
        raise TypeError("brant() takes the results of glmkit.polr or OrderedModel.fit().")
    if getattr(model, "method", None) != "logistic":
        raise ValueError(f"Brant's test is for the proportional-odds (logistic) model; this "
                         f"fit uses {model.method!r}.")
    J, X = len(inp.levels), inp.X
    K = X.shape[1]
    if J < 3:
        raise ValueError("Brant's test needs at least three response categories (with two, "
                         "there is nothing to compare).")
    if K == 0:
        raise ValueError("the model has no coefficients to test.")
    n = X.shape[0]
    w = np.ones(n) if inp.weights is None else inp.weights
    X1 = np.column_stack([np.ones(n), X])
    beta, pi = _binary_logits(X1, inp.codes, J, w, model.offset)
    inv = [np.linalg.inv(X1.T @ (X1 * (w * pi[:, k] * (1 - pi[:, k]))[:, None]))
           for k in range(J - 1)]
    V = np.zeros(((J - 1) * K, (J - 1) * K))
    for k in range(J - 1):
        for j in range(k, J - 1):
            Wkj = w * (pi[:, j] - pi[:, k] * pi[:, j])
            Vkj = (inv[k] @ (X1.T @ (X1 * Wkj[:, None])) @ inv[j])[1:, 1:]
            V[k * K:(k + 1) * K, j * K:(j + 1) * K] = Vkj
            V[j * K:(j + 1) * K, k * K:(k + 1) * K] = Vkj.T
    b = beta[:, 1:].ravel()
    D = np.zeros(((J - 2) * K, (J - 1) * K))
    for k in range(J - 2):
        D[k * K:(k + 1) * K, :K] = np.eye(K)
        D[k * K:(k + 1) * K, (k + 1) * K:(k + 2) * K] = -np.eye(K)

    def wald(Dm: np.ndarray) -> float:
        d = Dm @ b
        return float(d @ np.linalg.solve(Dm @ V @ Dm.T, d))

    X2 = [wald(D)] + [wald(D[j::K]) for j in range(K)]
    df = [(J - 2) * K] + [J - 2] * K
    return pd.DataFrame({"X2": X2, "df": df, "probability": stats.chi2.sf(X2, df)},
                        index=["Omnibus"] + list(inp.exog_names))

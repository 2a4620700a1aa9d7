"""Sandwich covariances of the likelihood models of this package (multinomial, ordinal,
zero-inflated, hurdle): HC0, HC1 and one-way cluster, as R's ``sandwich`` package.

Conventions
-----------
With V the model-based covariance (inverse observed information), s_i the unweighted
score of row i and w_i its frequency weight (weight k = k repeated rows):

- ``'HC0'``: V (sum_i w_i s_i s_i') V, R's ``sandwich(fit)``.
- ``'HC1'``: HC0 n / (n - k), R's ``sandwich(fit, adjust = TRUE)``; n = nobs (the total
  frequency weight), k = the number of coefficients in the sandwich (thresholds included,
  theta not).
- ``'cluster'`` (``cov_kwds={'groups': labels}``): V (sum_g u_g u_g') V with u_g the
  (frequency-weighted) sum of the scores of cluster g, times

  - G / (G - 1) by default: R's ``vcovCL(fit, cluster)`` for these models (type HC0,
    ``cadjust = TRUE``);
  - G / (G - 1) (n - 1) / (n - k) with ``use_correction=True`` (``vcovCL(type = "HC1")``);
  - 1 with ``use_correction=False`` (``cadjust = FALSE``).

  G counts the clusters with a positive total weight.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["COV_TYPES", "check_robust", "robust_cov"]

COV_TYPES = ("nonrobust", "HC0", "HC1", "cluster")


def check_robust(cov_type: Any, cov_kwds: Any, n_rows: int) -> tuple[str, dict]:
    """(cov_type, cov_kwds) checked once at the public boundary: clear errors for an
    unknown type, unknown keywords, or cluster labels that do not fit the rows."""
    if not isinstance(cov_type, str) or cov_type.upper() not in ("NONROBUST", "HC0", "HC1",
                                                                 "CLUSTER"):
        raise NotImplementedError(f"cov_type={cov_type!r} is not available for this model; "
                                  f"one of {list(COV_TYPES)}.")
    name = cov_type.upper() if cov_type.upper().startswith("HC") else cov_type.lower()
    kwds = dict(cov_kwds or {})
    if name != "cluster":
        if kwds:
            raise ValueError(f"cov_kwds {sorted(kwds)} are only used with cov_type='cluster'.")
        return name, {}
    unknown = sorted(set(kwds) - {"groups", "use_correction"})
    if unknown:
        raise TypeError(f"unknown cov_kwds {unknown} for cov_type='cluster', which takes "
                        "['groups', 'use_correction'].")
    if "groups" not in kwds:
        raise ValueError("cov_type='cluster' needs cov_kwds={'groups': labels} (one label "
                         "per row).")
    uc = kwds.get("use_correction")
    if uc not in (None, True, False):
        raise ValueError(f"cov_kwds['use_correction'] must be True or False, got {uc!r}.")
    g = kwds["groups"]
    labels = g.to_numpy() if isinstance(g, (pd.Series, pd.Index)) else np.asarray(g)
    if labels.ndim != 1 or labels.shape[0] != n_rows:
        raise ValueError(f"cov_kwds['groups'] must hold one label per row of the fit "
                         f"({n_rows}), got shape {labels.shape}.")
    codes, _ = pd.factorize(labels, use_na_sentinel=True)
    if np.any(codes < 0):
        raise ValueError("cov_kwds['groups'] has missing labels; give every row a cluster.")
    return name, {"groups": codes, "use_correction": uc}


def robust_cov(V: np.ndarray, S: np.ndarray, w: np.ndarray | None, cov_type: str,
               kwds: dict) -> np.ndarray:
    """The sandwich covariance of the coefficients whose scores are the columns of ``S``
    (n rows, unweighted) and whose model-based covariance is ``V``; see the Conventions."""
    n = float(S.shape[0] if w is None else w.sum())
    k = S.shape[1]
    Sw = S if w is None else S * w[:, None]
    if cov_type in ("HC0", "HC1"):
        meat = S.T @ Sw
        adj = n / (n - k) if cov_type == "HC1" else 1.0
    elif cov_type == "cluster":
        codes = kwds["groups"]
        G_all = int(codes.max()) + 1
        U = np.zeros((G_all, k))
        np.add.at(U, codes, Sw)
        tot = np.bincount(codes, weights=w, minlength=G_all)
        G = int(np.count_nonzero(tot > 0))
        if G < 2:
            raise ValueError("cov_type='cluster' needs at least two clusters with rows.")
        meat = U.T @ U
        uc = kwds.get("use_correction")
        adj = 1.0 if uc is False else G / (G - 1.0)
        if uc is True:
            adj *= (n - 1.0) / (n - k)
    else:
        raise ValueError(f"unknown cov_type {cov_type!r}.")
    return adj * (V @ meat @ V)

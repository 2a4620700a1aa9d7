"""The HAC meat (Newey-West) of a fit whose rows live in Dask partitions, in one pass.

Rows are time points in the frame's order: partition by partition, rows in order within
each (after ``missing='drop'`` dropped rows, as in memory). The meat is

    sum_l w_l (G_l + G_l'),  G_l = sum_t s_t s_{t-l}',  s_t = x_t u_t,  G_0 counted once,

(:func:`glmkit.inference.hac_meat`). Every pair (t - l, t) lies either inside one
partition or across a boundary. Each task returns its partition's own lagged crosses
(:func:`glmkit.inference.design_hac_meat`: :meth:`DesignMatrix.lagged_cross` on its design,
no dense copy of a factor) and its first and last ``maxlags`` score rows; the client adds
the pairs across boundaries from those edge rows, carrying the last ``maxlags`` rows seen
so far past partitions shorter than the lag window (or empty). Only p x p sums and
2 maxlags x p edge rows per partition come back.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .design.partitioned import DaskFitError, tree_reduce
from .inference import design_hac_meat, hac_weight
from .row_sums import _score_weights


def _hac_block(b, eta, mu, family, maxlags: int, kernel: str) -> dict:
    """A partition's lagged crosses up to ``maxlags``, and its edge score rows."""
    u = _score_weights(b, eta, mu, family)
    D = b.design
    n, p = b.n, D.shape[1]
    out: dict[str, Any] = {"meat": design_hac_meat(D, u, maxlags, kernel) if n else np.zeros((p, p)),
           "fw_sum": float(np.sum(b.freq_weights)),
           "fw_not1_any": bool(np.any(b.freq_weights != 1.0))}
    h = min(maxlags, n)
    head, tail = np.arange(h), np.arange(n - h, n)
    out["edges"] = (_score_rows(D, u, head), _score_rows(D, u, tail))
    return out


def _score_rows(D, u, rows) -> np.ndarray:
    """s_t = x_t u_t for the given rows, dense (rows x p)."""
    if rows.size == 0:
        return np.zeros((0, D.shape[1]))
    return np.asarray(D.take_rows(rows).to_dense(), dtype=float) * u[rows, None]


def _without_edges(part: dict) -> dict:
    return {k: v for k, v in part.items() if k != "edges"}


def _edges(part: dict):
    return part["edges"]


def _with_edges(total: dict, *edges):
    return total, list(edges)


def boundary_meat(edges: list, maxlags: int, kernel: str, p: int) -> np.ndarray:
    """sum over pairs (s, t) in different partitions, 1 <= t - s <= maxlags, of
    w_{t-s} (s_t s_s' + s_s s_t'), from each partition's (first, last) ``maxlags`` score
    rows in partition order."""
    meat = np.zeros((p, p))
    before = np.zeros((0, p))   # the last <= maxlags score rows of the partitions so far
    for head, tail in edges:
        m, h = before.shape[0], head.shape[0]
        for lag in range(1, maxlags + 1):
            # head row a pairs with before row k = a + m - lag (distance a + m - k = lag)
            a0, a1 = max(0, lag - m), min(h, lag)
            if a1 <= a0:
                continue
            G = head[a0:a1].T @ before[a0 + m - lag:a1 + m - lag]
            meat += hac_weight(lag, maxlags, kernel) * (G + G.T)
        before = np.concatenate([before, tail])[-maxlags:] if maxlags else before
    return meat


def hac_meat_cov_meat(res, keep: np.ndarray) -> np.ndarray:
    """The kept columns' HAC meat of a Dask fit (one pass), with ``use_correction``'s
    n / (n - k) as in memory."""
    from dask import delayed

    kw = res.cov_kwds
    maxlags = int(kw.get("maxlags") or 0)
    kernel = kw.get("kernel", "bartlett")
    data = res.model.data
    src, ex = data.source, data.executor
    parts = src.partials(_hac_block, res._eta, res._mu, args=(res.family, maxlags, kernel))
    total = tree_reduce([delayed(_without_edges, pure=False)(q) for q in parts])
    edges = [delayed(_edges, pure=False)(q) for q in parts]
    (out, ends), dt = ex.compute(delayed(_with_edges, pure=False)(total, *edges), "HAC meat")
    if int(round(out.get("rows", 0.0))) != src.n:
        raise DaskFitError("the HAC pass did not see every row; no result was returned.")
    ex.report("HAC meat", dt)
    if out.get("fw_not1_any"):
        raise ValueError("cov_type='hac' treats rows as consecutive time points; it is "
                         "not defined with freq_weights.")
    p = out["meat"].shape[0]
    meat = (out["meat"] + boundary_meat(ends, maxlags, kernel, p))[np.ix_(keep, keep)]
    if kw.get("use_correction"):
        n, k = out["fw_sum"], int(keep.sum())
        meat = meat * (n / (n - k))
    return meat

"""Inference on Dask rows: robust covariances and in-sample predictions with standard
errors, for :class:`~glmkit.results.GLMResults` whose model lives in Dask partitions.

Robust covariances (R's sandwich, as :func:`glmkit.inference.robust_cov`): the HC meat
X' diag(omega) X is a sum over partitions; cluster sums of the scores are formed per
partition with pandas, split into hash buckets of the group labels, summed per bucket in a
tree on the cluster, and each bucket returns only S_b'S_b (p x p) and its number of groups.
"""
from __future__ import annotations

import operator
from itertools import combinations

import numpy as np

from .design.partitioned import DaskFitError, tree_reduce
from .row_sums import _cluster_block, _group_meat, _hc_block, _merge_group_sums, _se_rows

#: Hash buckets of the cluster labels (independent reduction trees).
CLUSTER_BUCKETS = 16
#: The covariance types computed on Dask.
COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster")


def check_cov_on_dask(cov_type: str, cov_kwds: dict) -> None:
    """The covariances computed on Dask: R's types with vcovCL's defaults."""
    if cov_type not in COV_TYPES or set(cov_kwds) - {"groups"}:
        raise NotImplementedError("on Dask, cov_type is 'nonrobust', 'HC0'-'HC3' or "
                                  "'cluster' (groups only, vcovCL's defaults).")


def robust_meat_cov(res) -> np.ndarray:
    """The kept columns' sandwich covariance of ``res`` (cov_type HC0-HC3 or cluster)."""
    keep = res._keep
    bread = res._normalized_cov[np.ix_(keep, keep)]
    known = res.model.problem.shared.get("meat", {}).get(str(res._mu.name)) \
        if res.cov_type in ("HC0", "HC1") else None
    if res.cov_type == "cluster":
        meat = _cluster_meat(res, keep)
    elif known is not None:   # summed by the fit's last sweep (cov_type asked in fit())
        meat = known[0][np.ix_(keep, keep)]
        if res.cov_type == "HC1":
            n, kk = known[1], int(keep.sum())
            meat = meat * (n / (n - kk))
    else:
        out = res._passes.total(_hc_block, res._eta, res._mu, res._solver_result.working_weights,
                                args=(res.family, keep, res.cov_type, bread),
                                what=f"{res.cov_type} meat")
        meat = out["meat"]
        if res.cov_type == "HC1":
            n, kk = out["fw_sum"], int(keep.sum())
            meat = meat * (n / (n - kk))
    cov = bread @ meat @ bread
    return 0.5 * (cov + cov.T)


def _cluster_meat(res, keep) -> np.ndarray:
    from dask import delayed

    from .design.dask_inputs import as_row_blocks

    data = res.model.data
    src, ex = data.source, data.executor
    groups = res.cov_kwds.get("groups")
    labels = as_row_blocks(groups, src.chunks, "groups")
    shape = getattr(groups, "shape", None)
    shape = np.shape(groups) if shape is None else shape  # type: ignore[arg-type]
    d = int(shape[1]) if len(shape) == 2 else 1
    combos = [c for size in range(1, d + 1) for c in combinations(range(d), size)]
    buckets = max(1, min(CLUSTER_BUCKETS, src.nblocks))
    parts = src.partials(_cluster_block, res._eta, res._mu, labels,
                         args=(res.family, keep, combos, buckets))
    getitem = delayed(operator.getitem, pure=False)
    results = []
    for ci in range(len(combos)):
        for k in range(buckets):
            leaves = [getitem(p, (ci, k)) for p in parts]
            while len(leaves) > 1:
                leaves = [delayed(_merge_group_sums, pure=False)(*leaves[i:i + 8])
                          for i in range(0, len(leaves), 8)]
            results.append(delayed(_group_meat, pure=False)(leaves[0]))
    rows_seen = tree_reduce([delayed(_rows_of, pure=False)(p) for p in parts])
    (per_bucket, seen), dt = ex.compute(delayed(_pair, pure=False)(rows_seen, *results),
                                        "cluster meat")
    if int(round(seen)) != src.n:
        raise DaskFitError("the cluster pass did not see every row; no result was returned.")
    ex.report("cluster meat", dt)
    kk = int(keep.sum())
    meat = np.zeros((kk, kk))
    for ci, combo in enumerate(combos):
        part = per_bucket[ci * buckets:(ci + 1) * buckets]
        G = sum(r["groups"] for r in part)
        total = sum(r["meat"] for r in part)
        adj = G / (G - 1.0) if G > 1 else 1.0
        meat += (-1.0) ** (len(combo) + 1) * adj * total
    return meat


def _rows_of(part) -> dict:
    return {"rows": part["rows"]}


def _pair(rows, *results):
    return list(results), rows.get("rows", 0.0)


def in_sample_prediction(res, exposure=None, offset=None, which: str | None = None):
    """get_prediction for the model's own Dask rows: lazy predictions and standard errors."""
    from .prediction import LinearPredictionResults, PredictionResults

    keep = res._keep
    V = res._cov[np.ix_(keep, keep)]
    eta = res.model.predict(res._params, exposure=exposure, offset=offset, which="linear")
    se_eta = res._passes.rows(_se_rows, args=(keep, V), need_X=True)
    link = res.family.link
    linpred = LinearPredictionResults(eta, se_eta**2, res.scale, res._dist, res.df_resid)
    if which == "linear":
        return PredictionResults(eta, se_eta**2, linpred, link, which)
    mu = eta.map_blocks(link.inverse, dtype=float)
    se_mu = abs(eta.map_blocks(link.inverse_deriv, dtype=float)) * se_eta
    return PredictionResults(mu, se_mu**2, linpred, link, which)

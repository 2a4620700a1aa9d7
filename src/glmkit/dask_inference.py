"""Inference on Dask rows: robust covariances and in-sample predictions with standard
errors, for :class:`~glmkit.results.GLMResults` whose model lives in Dask partitions.

Robust covariances (R's sandwich, as :func:`glmkit.inference.robust_cov`): the HC meat
X' diag(omega) X is a sum over partitions; cluster sums of the scores are formed per
partition with pandas, split into hash buckets of the group labels, summed per bucket in a
tree on the cluster, and each bucket returns only S_b'S_b (p x p) and its number of groups.
"""
from __future__ import annotations

import numpy as np

from .design.cluster_sums import CLUSTER_BUCKETS
from .design.partitioned import DaskFitError, tree_reduce
from .row_sums import _cluster_block, _hc_block, _se_rows

#: The covariance types computed on Dask, and the cov_kwds each takes there.
COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster", "hac")
_KWDS = {"cluster": {"groups"}, "hac": {"maxlags", "kernel", "use_correction"}}


def check_cov_on_dask(cov_type: str, cov_kwds: dict) -> None:
    """The covariances computed on Dask: R's types with vcovCL's defaults, and HAC."""
    if cov_type not in COV_TYPES or set(cov_kwds) - _KWDS.get(cov_type, set()):
        raise NotImplementedError("on Dask, cov_type is 'nonrobust', 'HC0'-'HC3', "
                                  "'cluster' (groups only, vcovCL's defaults) or 'hac'.")


def check_groups_on_dask(cov_type: str, cov_kwds: dict, nobs: int) -> None:
    """Cluster labels of Dask rows: one per row where their length is known (a dask
    Series' length is lazy)."""
    if cov_type != "cluster":
        return
    groups = cov_kwds["groups"]
    shape = getattr(groups, "shape", None)
    shape = np.shape(groups) if shape is None else shape
    first = shape[0] if len(shape) else None
    if isinstance(first, (int, np.integer)) and int(first) != nobs:
        raise ValueError(f"groups must have one label per row ({nobs}), got shape "
                         f"{tuple(shape)}.")


def robust_meat_cov(res) -> np.ndarray:
    """The kept columns' sandwich covariance of ``res`` (cov_type HC0-HC3 or cluster)."""
    keep = res._keep
    bread = res._normalized_cov[np.ix_(keep, keep)]
    known = res.model.problem.shared.get("meat", {}).get(str(res._mu.name)) \
        if res.cov_type in ("HC0", "HC1") else None
    if res.cov_type == "cluster":
        meat = _cluster_meat(res, keep)
    elif res.cov_type == "hac":   # one pass: each partition's lags and its edge rows
        from .dask_hac import hac_meat_cov_meat

        meat = hac_meat_cov_meat(res, keep)
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

    from .design.cluster_sums import (
        bucket_trees,
        combine_buckets,
        combos_of,
        vcovcl_meat,
    )
    from .design.dask_inputs import as_row_blocks

    groups = res.cov_kwds.get("groups")
    known = res.model.problem.shared.get("cluster", {}).get(str(res._mu.name))
    if known is not None and known[0] is groups:   # summed by the fit's last sweep
        return vcovcl_meat(known[1], keep)
    data = res.model.data
    src, ex = data.source, data.executor
    labels = as_row_blocks(groups, src.chunks, "groups")
    combos = combos_of(groups)
    buckets = max(1, min(CLUSTER_BUCKETS, src.nblocks))
    parts = src.partials(_cluster_block, res._eta, res._mu, labels,
                         args=(res.family, keep, combos, buckets))
    results = bucket_trees(parts, len(combos), buckets)
    rows_seen = tree_reduce([delayed(_rows_of, pure=False)(p) for p in parts])
    (per_bucket, seen), dt = ex.compute(delayed(_pair, pure=False)(rows_seen, *results),
                                        "cluster meat")
    if int(round(seen)) != src.n:
        raise DaskFitError("the cluster pass did not see every row; no result was returned.")
    ex.report("cluster meat", dt)
    return vcovcl_meat(combine_buckets(per_bucket, combos, buckets))


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

"""Cluster sums of the scores over Dask partitions (R's sandwich::vcovCL meat).

Per partition, for each combination of clustering dimensions, the sums of the score
contributions v_i x_i by group (:func:`cluster_sums_block`: the design's group sums, by
level for a factor's columns) are split into hash buckets of the group key; each bucket is
merged over the partitions in its own tree on the cluster and returns only S'S (p x p)
and its number of groups (:func:`bucket_trees`). The partials may come from a pass of
their own (glmkit.dask_inference) or from the fit's last sweep
(glmkit.solvers.dask_sweeper), which then costs no pass.
"""
from __future__ import annotations

import operator
from itertools import combinations

import numpy as np
import pandas as pd

#: Hash buckets of the cluster labels (independent reduction trees).
CLUSTER_BUCKETS = 16


def combos_of(groups) -> list[tuple]:
    """The combinations of clustering dimensions (one for one-way clustering; for two-way,
    each dimension and their intersection)."""
    shape = getattr(groups, "shape", None)
    shape = np.shape(groups) if shape is None else shape
    d = int(shape[1]) if len(shape) == 2 else 1
    return [c for size in range(1, d + 1) for c in combinations(range(d), size)]


def cluster_sums_block(b, v, labels, keep, combos, buckets) -> dict:
    """Per combination of clustering dimensions, the partition's sums of v_i x_i (kept
    columns) per group, split into hash buckets of the group key: {(combo, bucket):
    DataFrame indexed by the group key}."""
    labels = np.asarray(labels)
    if labels.ndim == 1:
        labels = labels[:, None]
    if labels.shape[0] != b.n:
        raise ValueError(f"groups must have one label per row; a partition has {b.n} rows "
                         f"and {labels.shape[0]} labels.")
    if labels.dtype.kind == "f" and np.isnan(labels).any():
        raise ValueError("groups contain NaN; every row needs a cluster label.")
    if labels.dtype == object and pd.isna(labels).any():
        raise ValueError("groups contain missing values; every row needs a cluster label.")
    D = b.design
    out = {}
    for ci, combo in enumerate(combos):
        keys = [labels[:, j] for j in combo]
        codes, groups = pd.factorize(pd.MultiIndex.from_arrays(keys) if len(keys) > 1
                                     else pd.Index(keys[0]))
        S = D.group_sums(codes, len(groups), v)[:, keep] if b.n else \
            np.zeros((0, int(np.sum(keep))))
        sums = pd.DataFrame(S, index=groups)
        h = pd.util.hash_pandas_object(sums.index, index=False).to_numpy() % buckets
        for k in range(buckets):
            out[(ci, k)] = sums[h == k]
    return out


def merge_group_sums(*frames):
    both = pd.concat(frames)
    return both.groupby(level=list(range(both.index.nlevels)), sort=False).sum()


def group_meat(sums) -> dict:
    S = sums.to_numpy()
    return {"meat": S.T @ S, "groups": float(S.shape[0])}


def bucket_trees(parts: list, n_combos: int, buckets: int, key=None) -> list:
    """Delayed {meat, groups} per (combination, bucket), from delayed partials that hold
    the buckets of :func:`cluster_sums_block` (under ``key`` when given)."""
    from dask import delayed

    getitem = delayed(operator.getitem, pure=False)
    if key is not None:
        parts = [getitem(p, key) for p in parts]
    results = []
    for ci in range(n_combos):
        for k in range(buckets):
            leaves = [getitem(p, (ci, k)) for p in parts]
            while len(leaves) > 1:
                leaves = [delayed(merge_group_sums, pure=False)(*leaves[i:i + 8])
                          for i in range(0, len(leaves), 8)]
            results.append(delayed(group_meat, pure=False)(leaves[0]))
    return results


def combine_buckets(per_bucket: list, combos: list, buckets: int) -> list[tuple]:
    """[(combination, number of groups G, sum of S'S)] from the buckets' results."""
    out = []
    for ci, combo in enumerate(combos):
        part = per_bucket[ci * buckets:(ci + 1) * buckets]
        out.append((combo, sum(r["groups"] for r in part), sum(r["meat"] for r in part)))
    return out


def vcovcl_meat(per_combo: list[tuple], keep=None) -> np.ndarray:
    """vcovCL's meat (its default cadjust G / (G - 1) per dimension, inclusion-exclusion
    over the combinations) on the ``keep`` rows and columns."""
    meat: np.ndarray | None = None
    for combo, G, total in per_combo:
        if keep is not None:
            total = total[np.ix_(keep, keep)]
        adj = G / (G - 1.0) if G > 1 else 1.0
        term = (-1.0) ** (len(combo) + 1) * adj * total
        meat = term if meat is None else meat + term
    if meat is None:   # pragma: no cover - combos_of gives at least one combination
        raise ValueError("no clustering dimension")
    return meat

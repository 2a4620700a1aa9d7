"""cv.glmnet on a Dask model: folds as frequency weights on the partitions.

:func:`glmkit.cv.fit_cv` runs the same steps on a model whose rows are in Dask partitions;
this module supplies the Dask versions of its three row-level pieces:

- the fold ids (:func:`given_fold_ids`): given (a NumPy vector, or a Dask array / Series
  with one label per row) or drawn as in memory (numpy, ``seed``); kept on the client as
  one label per row and given to the partitions as a Dask array with the rows' chunks, so
  every partition reads the labels of its own rows;
- a fold's training model (:func:`fold_model`): the same lazy inputs with frequency weights
  ``freq_weights * (fold != i)``; its path runs on the partitions like any Dask path;
- the held-out linear predictors (:func:`held_out_eta`): each partition computes X b +
  offset for its held-out rows at every alpha; only those rows' values reach the client.

The client holds n-vectors (labels, response, weights) and one fold's held-out predictions
(rows x alphas); X never leaves the partitions. The numbers equal the in-memory
``fit_cv`` with the same fold ids: the sums are the same sums, added in another order.
"""
from __future__ import annotations

import numpy as np

__all__ = ["fold_model", "given_fold_ids", "held_out_eta", "response_and_weights"]


def _check_rows(model) -> None:
    stats = model.data.stats   # the data pass (once): partition sizes, dropped rows
    if stats.n_dropped:
        raise NotImplementedError(
            f"fit_cv on a Dask model with missing='drop' ({stats.n_dropped} rows dropped) is "
            "not available: drop the incomplete rows from the Dask inputs first (e.g. "
            "ddf.dropna()), then build the model.")


def given_fold_ids(model, foldid):
    """The given ``foldid`` as NumPy (a Dask one computed: one label per row), or None;
    checks first that the model dropped no rows."""
    _check_rows(model)
    if foldid is not None and hasattr(type(foldid), "__dask_graph__"):
        foldid, _ = model.data.executor.compute(foldid, "fold ids")
    return foldid


def _rows_array(model, values: np.ndarray):
    """``values`` (one per row) as a Dask array with the rows' partitions."""
    import dask.array as da

    return da.from_array(np.asarray(values), chunks=(model.data.source.raw_chunks,))


def fold_model(model, train: np.ndarray):
    """The model on the same Dask inputs with the held-out rows at frequency weight 0 (the
    model's own class: no import of glmkit.model, no cycle)."""
    raw = model.data.source.raw
    mask = _rows_array(model, train.astype(float))
    fw = mask if raw["freq_weights"] is None else raw["freq_weights"] * mask
    return type(model)(raw["y"], raw["X"], family=model.family, offset=raw["offset"],
                       exposure=raw["exposure"], freq_weights=fw,
                       var_weights=raw["var_weights"],
                       missing=model.missing, client=model.data.client,
                       exog_names=list(model.exog_names), endog_names=model.endog_names)


def _eta_rows(b, held, B):
    out = np.zeros((b.n, B.shape[0]))
    rows = held > 0
    if rows.any():
        out[rows] = b.X[rows] @ B.T + b.offset[rows][:, None]
    return out


def held_out_eta(model, held: np.ndarray, B: np.ndarray) -> np.ndarray:
    """(held-out rows, alphas) linear predictors, offset included, in row order."""
    src = model.data.source
    eta = src.map_rows(_eta_rows, _rows_array(model, held.astype(float)),
                       args=(np.asarray(B, dtype=float),), ncols=B.shape[0])
    mask = _rows_array(model, held)
    out, _ = model.data.executor.compute(eta[mask], "held-out predictions")
    return np.asarray(out, dtype=float).reshape(int(held.sum()), B.shape[0])


def response_and_weights(model) -> tuple[np.ndarray, np.ndarray]:
    """The response (proportions for a binomial) and the row weights (prior x frequency)
    as NumPy vectors, for the held-out measures."""
    prob = model.problem
    (y, w), _ = model.data.executor.compute((prob.y, prob.total_weights), "response")
    return np.asarray(y, dtype=float), np.asarray(w, dtype=float)

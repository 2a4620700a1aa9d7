"""Lazy predictions on Dask rows: the model's own partitions, or new Dask data."""
from __future__ import annotations

import numpy as np

def _aligned(v, like, name):
    """A per-row input (dask or local) as a 1-d dask array with the partitions of the dask
    array ``like`` (positional; the tasks check the lengths), or None."""
    if v is None:
        return None
    from .dask_inputs import _dask_arrays, _kind

    given = {"exog": like, "endog": None, "offset": v, "exposure": None,
             "freq_weights": None, "var_weights": None}
    kinds = {k: _kind(x) for k, x in given.items()}
    a = _dask_arrays(given, kinds)["offset"]
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise ValueError(f"{name} must be a 1-d array with one value per row, got shape {a.shape}.")
    return a


def _predict_rows(b, *rest):
    *extras, beta, link, which, given = rest
    extras = list(extras)
    if any(e.shape[0] != b.n for e in extras):
        raise ValueError("offset/exposure must have one value per row of the model's data.")
    if any(given):
        off = np.zeros(b.n)
        if given[0]:
            off = extras.pop(0).astype(float)
        if given[1]:
            exp = extras.pop(0)
            if np.any(~np.isfinite(exp)) or np.any(exp <= 0):
                raise ValueError("exposure must be positive and finite.")
            off = off + np.log(exp)
    else:
        off = b.offset
    eta = b.design.matvec(beta) + off
    return eta if which == "linear" else link.inverse(eta)


def _predict_array_block(X, off, exp, beta, link, which):
    if X.ndim == 1:
        X = X[:, None]
    for v in (off, exp):
        if v is not None and v.shape[0] != X.shape[0]:
            raise ValueError("offset/exposure must have one value per row of exog.")
    eta = X @ beta
    if off is not None:
        eta = eta + off
    if exp is not None:
        eta = eta + np.log(exp)
    return eta if which == "linear" else link.inverse(eta)


def _formula_predict_part(df, info, beta, link, which, rows=None, layout=None):
    import pandas as pd

    if rows is None:
        X, off = info.design_for(df)
        eta = X @ beta
    else:   # a factor of many levels as level codes (glmkit.dask_formula.split_design_for)
        raw, off = rows(df)
        eta = layout.design(raw).matvec(beta)
    eta = eta + (0.0 if off is None else off)
    return pd.Series(eta if which == "linear" else link.inverse(eta), index=df.index)


def _predict_new(model, beta, exog, offset, exposure, which):
    """Lazy predictions for new Dask rows (a dask Series for a formula model's frame)."""
    from dask import delayed

    from .dask_inputs import _dask_arrays, _kind
    from .partitioned import array_from_delayed

    link = model.family.link
    if _kind(exog) == "frame" and model.formula_info is not None:
        if offset is not None or exposure is not None:
            raise ValueError("with a formula model, give the offset/exposure as columns of the "
                             "new data frame.")
        data = model.data
        rows = getattr(data, "formula_rows", None)
        layout = data.source.layout if rows is not None else None
        return exog.map_partitions(_formula_predict_part, model.formula_info, beta, link, which,
                                   rows, layout, meta=(None, "f8"))
    given = {"exog": exog, "endog": None, "offset": offset, "exposure": exposure,
             "freq_weights": None, "var_weights": None}
    arrays = _dask_arrays(given, {k: _kind(v) for k, v in given.items()})
    X = arrays["exog"]
    cols = 1 if X.ndim == 1 else X.shape[1]
    if cols != beta.shape[0] or X.ndim > 2:
        raise ValueError(f"exog must have {beta.shape[0]} columns, got shape {X.shape}.")
    if X.ndim == 2 and len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    xb = list(X.to_delayed(optimize_graph=False).ravel())
    ob, eb = [None if a is None else list(a.to_delayed(optimize_graph=False).ravel())
              for a in (arrays["offset"], arrays["exposure"])]
    run = delayed(_predict_array_block, pure=False)
    pieces = [run(xb[i], None if ob is None else ob[i], None if eb is None else eb[i], beta,
                  link, which) for i in range(len(xb))]
    return array_from_delayed(pieces, X.chunks[0], name="glmkit-predict")



def predict_on_dask(model, b, exog, exposure, offset, which):
    """Lazy predictions (a dask array, or a dask Series for a dask DataFrame) for the
    model's Dask rows or Dask ``exog``; None when the in-memory prediction applies (NumPy
    ``exog`` and no Dask offset or exposure)."""
    from .partitioned import is_dask_collection

    if exog is not None and not any(is_dask_collection(a) for a in (exog, offset, exposure)):
        return None
    link = model.family.link
    if exog is None:
        if not model._lazy:
            raise TypeError("a Dask offset or exposure needs Dask rows: give exog as a dask "
                            "array.")
        extras = []
        if offset is not None or exposure is not None:
            like = model.problem.y
            extras = [_aligned(v, like, nm) for v, nm in
                      ((offset, "offset"), (exposure, "exposure"))]
        return model.data.rows(_predict_rows, *[e for e in extras if e is not None],
                               args=(b, link, which, tuple(e is not None for e in extras)),
                               need_X=True)
    return _predict_new(model, b, exog, offset, exposure, which)

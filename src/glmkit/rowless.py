"""A GLM without its rows: what predicts on new data (family, names, formula spec).

Results whose training rows are gone point to it: results loaded from a file saved with
``remove_data=True`` (:mod:`glmkit.persistence`) and results after ``remove_data()``
(:mod:`glmkit.remove_data`).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import _data

_NO_DATA = ("these results have no training rows (saved with remove_data=True, or "
            "results.remove_data() was called), so per-row values ({name}) are not "
            "available. Save with remove_data=False, or keep the data, to have them.")


class _ModelWithoutData:
    """The parts of a GLM that predict: family, names, formula spec. No rows."""

    wnobs: float        # set by remove_data (results keep their statistics); absent after load
    k_constant: int
    _lazy = False       # its rows were in memory (results ask before predicting)

    def __init__(self, meta: dict[str, Any], family, formula_info, terms):
        m = meta["model"]
        self.family = family
        self.formula_info = formula_info
        self.terms = terms
        self.endog_names = m["endog_names"]
        self.exog_names = list(m["exog_names"])
        self.nobs = int(m["nobs"])
        self.n_dropped = int(m["n_dropped"])
        self.missing = m["missing"]
        self.data = _NoRows(bool(m["is_pandas"]))

    def __getattr__(self, name: str):
        if name in ("endog", "exog", "offset", "exposure", "freq_weights", "var_weights",
                    "n_trials", "problem", "fit", "_passes"):
            raise AttributeError(_NO_DATA.format(name=f"model.{name}"))
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def exog_for_predict(self, exog):
        return _data.rows_for_prediction(exog, len(self.exog_names), self.formula_info)

    def predict(self, params, exog=None, exposure=None, offset=None, which: str = "mean"):
        """As :meth:`glmkit.GLM.predict`, for new rows only (``exog`` is required)."""
        if which not in ("mean", "linear"):
            raise ValueError(f"which must be 'mean' or 'linear', got {which!r}.")
        if exog is None:
            raise ValueError(_NO_DATA.format(name="in-sample predictions") + " Pass exog=.")
        params = np.asarray(params, dtype=float)
        b = np.where(np.isnan(params), 0.0, params)
        X, formula_offset = self.exog_for_predict(exog)
        n = X.shape[0]
        off = np.zeros(n) if offset is None else _data._vector(offset, "offset", n)
        if formula_offset is not None:
            off = off + formula_offset
        if exposure is not None:
            e = np.asarray(_data._vector(exposure, "exposure", n))
            if np.any(~np.isfinite(e)) or np.any(e <= 0):
                raise ValueError("exposure must be positive and finite.")
            off = off + np.log(e)
        eta = X @ b + off
        return eta if which == "linear" else self.family.link.inverse(eta)

    def __repr__(self):
        return f"<GLM without data nobs={self.nobs} family={self.family!r}>"


class _NoRows:
    def __init__(self, is_pandas: bool):
        self.is_pandas = is_pandas
        self.row_labels = None

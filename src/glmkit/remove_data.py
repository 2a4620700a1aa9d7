"""``results.remove_data()``: drop the training rows from fitted results, as statsmodels.

Conventions
-----------
statsmodels' ``remove_data`` changes the results in place so that pickling them keeps no
per-row arrays. glmkit does the same without changing any statistic: everything the
summary, the tests and predictions on new rows need is computed first; then the results
point to a model without rows (the one ``glmkit.load`` gives for files saved with
``remove_data=True``) and per-row values (residuals, fitted values, influence, in-sample
predictions) raise ``AttributeError`` saying the data were removed. The user's GLM object
keeps its data: other results of the same model are not affected.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .rowless import _ModelWithoutData

# statistics kept (computed before the rows go); each is a cached property of GLMResults
_KEEP = ("_params", "_normalized_cov", "_cov", "_bse", "pearson_chi2", "null_deviance",
         "scale", "llf", "llnull")
# cached per-row arrays dropped with the rows
_ROW_CACHES = ("_pearson", "_resid_response", "_null_mu")


def remove_data(res) -> None:
    """Compute the kept statistics of ``res``, then drop its rows (in place)."""
    for name in _KEEP:
        try:
            getattr(res, name)
        except (NotImplementedError, ValueError, FloatingPointError):
            pass   # e.g. a log-likelihood the family does not define: stays undefined
    model = res.model
    if isinstance(model, _ModelWithoutData):
        return
    meta = {"model": {"endog_names": model.endog_names, "exog_names": model.exog_names,
                      "is_pandas": bool(model.data.is_pandas), "nobs": int(model.nobs),
                      "n_dropped": int(getattr(model, "n_dropped", 0) or 0),
                      "missing": model.missing}}
    lean = _ModelWithoutData(meta, model.family, model.formula_info, model.terms)
    lean.wnobs = model.wnobs
    lean.k_constant = model.k_constant
    empty = np.empty(0)
    result = dataclasses.replace(res._solver_result, eta=empty, mu=empty, working_weights=empty,
                                 gram=np.asarray(res._solver_result.gram))
    for name in _ROW_CACHES:
        res.__dict__.pop(name, None)
    object.__setattr__(res, "model", lean)
    object.__setattr__(res, "_solver_result", result)

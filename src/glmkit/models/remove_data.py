"""``results.remove_data()`` for the models of this package (MNLogit / multinom,
OrderedModel / polr, the zero-inflated classes and zeroinfl / hurdle), as statsmodels'
``remove_data`` and as :mod:`glmkit.remove_data` does for GLM results.

Conventions
-----------
In place, without changing any statistic: what the summary and the tests need that is not
stored yet (the null fit of the zero-inflated classes) is computed first; then the results
point to a copy of their model without rows (the model ``glmkit.load`` gives for files
saved with ``remove_data=True``). Coefficients, covariances, tests, ``summary()`` and
predictions on new data still work; in-sample values (``predict()`` without new data,
fitted values, residuals, robust covariances) raise a ``ValueError`` saying the rows were
removed. The user's model object keeps its data: other results of it are not affected.
"""
from __future__ import annotations

import copy
import dataclasses

import numpy as np

#: the message of the in-sample members once the rows are gone
REMOVED = ("the training rows were removed (remove_data() or save(remove_data=True)): "
           "pass new data (exog) to predict; in-sample values are not available.")


def rows_removed(res) -> bool:
    return bool(getattr(res, "_data_removed", False))


def _drop_row_caches(obj, n: int) -> None:
    """Forget cached per-row arrays (cached properties of n rows)."""
    for name, v in list(vars(obj).items()):
        shape = getattr(v, "shape", None)
        if shape and shape[0] == n and n > 1 \
                and name not in ("_params", "_cov", "_J", "alpha"):
            del obj.__dict__[name]


def _lean_inputs(inp):
    """Inputs of the same model without rows (multinom, polr: ``Inputs``; the counts:
    ``CountInputs``, which keep 0 and the largest count for ``which='prob'``)."""
    if hasattr(inp, "codes"):
        p = inp.X.shape[1]
        return dataclasses.replace(inp, codes=np.zeros(0, dtype=np.intp), X=np.zeros((0, p)),
                                   weights=None, offset=None)
    y = np.array([0.0, float(inp.y.max())]) if inp.y.size else np.zeros(2)
    return dataclasses.replace(inp, y=y, X=np.zeros((0, inp.X.shape[1])),
                               Z=np.zeros((0, inp.Z.shape[1])), x_offset=None, z_offset=None,
                               weights=None)


def _lean_model(model):
    lean = copy.copy(model)
    lean.inputs = _lean_inputs(model.inputs)
    for name in ("offset", "exposure"):
        if getattr(lean, name, None) is not None:
            setattr(lean, name, None)
    return lean


def remove_data(res) -> None:
    """Drop the training rows of ``res`` (in place; see the module Conventions)."""
    if rows_removed(res):
        return
    if hasattr(res, "r_results"):               # statsmodels-shaped zero-inflated results
        null = res.res_null                      # llnull needs the rows: fit it now
        _strip_count(null)
        _strip_count(res)
        return
    if not hasattr(res, "model"):               # zeroinfl / hurdle (pscl-shaped)
        n = res.inputs.X.shape[0]
        res.inputs = _lean_inputs(res.inputs)
    else:
        n = res.model.inputs.X.shape[0]
        res.model = _lean_model(res.model)
        base = getattr(res, "_base", None)
        if base is not None and base is not res:
            remove_data(base)
    _drop_row_caches(res, n)
    res._data_removed = True


def _strip_count(res) -> None:
    n = res.model.inputs.X.shape[0]
    res.model = _lean_model(res.model)
    r = copy.copy(res.r_results)
    r.inputs = res.model.inputs
    _drop_row_caches(r, n)
    r._data_removed = True
    res.r_results = r
    _drop_row_caches(res, n)
    res._data_removed = True

"""Saving the results of ``multinom``/``MNLogit``, ``polr``/``OrderedModel`` and
``zeroinfl``/``hurdle``
in glmkit's model file (a zip of JSON and ``.npy`` arrays, no pickle; see
:mod:`glmkit.persistence`): ``results.save(path)``; :mod:`.persist_load` reads them back
(``glmkit.load(path)``).

Conventions
-----------
The file holds the parameters, covariance, fit statistics, the response's categories, the
formula spec (predictions on new data code them as the fit did) and, unless
``remove_data=True``, the training rows (design, category codes, weights, offset). Loaded
results give the saved numbers and predictions bit for bit; without the data they predict
on new data only.
"""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np


_ARRAY_FIELDS = ("params", "cov")


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def save_model_results(res, path, remove_data: bool = False) -> None:
    from ..persistence import _header, _jsonify, write_archive

    kind = res._file_kind   # each results class names its kind (no import of them here)
    if kind == "count":
        _save_count(res, path, remove_data)
        return
    inp = res.model.inputs
    levels = [_plain(v) for v in inp.levels]
    if not all(isinstance(v, (str, int, float, bool)) for v in levels):
        raise ValueError("only categories that are strings or numbers can be saved.")
    fit = {k: v for k, v in asdict(res._fit).items() if k not in _ARRAY_FIELDS}
    model = {"levels": levels, "exog_names": list(inp.exog_names),
             "endog_name": inp.endog_name, "pandas": bool(inp.pandas),
             "formula": None if inp.formula_info is None else inp.formula_info.to_dict(),
             "r_style": bool(res._r_style), "has_data": not remove_data,
             "n_vars": int(inp.X.shape[1])}
    arrays = {"params": res._fit.params, "cov": res._fit.cov}
    if kind == "ordinal":
        model["method"] = res.model.method
        model["distr"] = res.model.distr
        arrays["theta"] = res._theta
    if not remove_data:
        arrays["X"], arrays["codes"] = inp.X, inp.codes.astype(np.int64)
        for name, v in (("weights", inp.weights), ("offset", getattr(res.model, "offset",
                                                                     None))):
            if v is not None:
                arrays[name] = v
    meta = {**_header(), "kind": kind, "model": model, "fit": fit}
    write_archive(path, _jsonify(meta), {k: np.asarray(v) for k, v in arrays.items()})


def _save_count(res, path, remove_data: bool) -> None:
    from ..persistence import _header, _jsonify, write_archive

    inp, f = res.inputs, res._fit
    fit = {k: v for k, v in asdict(f).items()
           if k not in ("beta", "gamma", "log_theta", "cov")}
    model = {"x_names": inp.x_names, "z_names": inp.z_names, "endog_name": inp.endog_name,
             "x_formula": None if inp.x_info is None else inp.x_info.to_dict(),
             "z_formula": None if inp.z_info is None else inp.z_info.to_dict(),
             "offset_arg": inp.offset_arg, "has_offset_arg": bool(res._has_offset_arg),
             "cov_type": res.cov_type, "has_data": not remove_data, "nobs": res.nobs}
    arrays = {"beta": f.beta, "gamma": f.gamma, "log_theta": f.log_theta, "cov": f.cov}
    if remove_data:   # predictions need max(y) for which='prob' only
        arrays["y_max"] = np.array([inp.y.max()])
    else:
        arrays.update({"y": inp.y, "X": inp.X, "Z": inp.Z})
        for name in ("x_offset", "z_offset", "weights"):
            if getattr(inp, name) is not None:
                arrays[name] = getattr(inp, name)
    meta = {**_header(), "kind": "count", "model": model, "fit": fit}
    write_archive(path, _jsonify(meta), {k: np.asarray(v) for k, v in arrays.items()})

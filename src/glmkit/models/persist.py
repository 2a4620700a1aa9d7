"""Saving and loading the results of ``multinom``/``MNLogit`` and ``polr``/``OrderedModel``
in glmkit's model file (a zip of JSON and ``.npy`` arrays, no pickle; see
:mod:`glmkit.persistence`): ``results.save(path)`` and ``glmkit.load(path)``.

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

from ..exceptions import ModelFileError
from ._frame import Inputs
from ._results import FitStats

_ARRAY_FIELDS = ("params", "cov")


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def save_model_results(res, path, remove_data: bool = False) -> None:
    from ..persistence import _header, _jsonify, write_archive
    from .multinomial_results import MNLogitResults

    kind = "multinom" if isinstance(res, MNLogitResults) else "ordinal"
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


def build_model_results(meta: dict[str, Any], arrays: dict[str, np.ndarray]):
    from ._cdfs import DISTRIBUTIONS
    from .multinomial import MNLogit
    from .multinomial_results import MNLogitResults
    from .ordinal import OrderedModel
    from .ordinal_results import OrderedResults

    kind, m = meta["kind"], meta["model"]
    if kind not in ("multinom", "ordinal"):
        raise ModelFileError(f"unknown kind of model {kind!r}.")
    info = None
    if m["formula"] is not None:
        from ..formula import FormulaInfo
        info = FormulaInfo.from_dict(m["formula"])
    p = int(m["n_vars"])
    if m["has_data"]:
        X, codes = arrays["X"], arrays["codes"].astype(np.intp)
        if X.shape != (codes.shape[0], p):
            raise ModelFileError("the stored rows do not match the stored design.")
    else:
        X, codes = np.zeros((0, p)), np.zeros(0, dtype=np.intp)
    inp = Inputs(codes, list(m["levels"]), X, list(m["exog_names"]), arrays.get("weights"),
                 m["endog_name"], info, bool(m["pandas"]), arrays.get("offset"))
    fit = FitStats(params=arrays["params"], cov=arrays["cov"], **meta["fit"])
    if fit.params.shape != (len(fit.names),) or fit.cov.shape != (len(fit.names),) * 2:
        raise ModelFileError("the stored coefficients do not match the stored names.")
    if kind == "multinom":
        return MNLogitResults(MNLogit(None, None, _inputs=inp), fit, bool(m["r_style"]))
    model = OrderedModel(None, None, offset=arrays.get("offset"), distr=m["distr"],
                         _inputs=inp)
    model.method, model.dist = m["method"], DISTRIBUTIONS[m["method"]]
    return OrderedResults(model, fit, arrays["theta"], bool(m["r_style"]))

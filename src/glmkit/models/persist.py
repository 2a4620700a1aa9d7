"""Saving and loading the results of ``multinom``/``MNLogit``, ``polr``/``OrderedModel`` and
``zeroinfl``/``hurdle``
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
    from .zeroinfl_results import CountModelResults

    if isinstance(res, CountModelResults):
        _save_count(res, path, remove_data)
        return
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


def _build_count(meta: dict[str, Any], arrays: dict[str, np.ndarray]):
    from ..formula import FormulaInfo
    from ._countframe import CountInputs
    from .zeroinfl_results import CountFit, CountModelResults

    m = meta["model"]
    info = [None if m[k] is None else FormulaInfo.from_dict(m[k])
            for k in ("x_formula", "z_formula")]
    kx, kz = len(m["x_names"]), len(m["z_names"])
    if m["has_data"]:
        y, X, Z = arrays["y"], arrays["X"], arrays["Z"]
    else:
        y = np.array([0.0, float(arrays["y_max"][0])])   # zero and the largest count
        X, Z = np.zeros((0, kx)), np.zeros((0, kz))
    if X.shape[1] != kx or Z.shape[1] != kz or arrays["beta"].shape != (kx,) \
            or arrays["gamma"].shape != (kz,):
        raise ModelFileError("the stored coefficients do not match the stored names.")
    inp = CountInputs(y, X, list(m["x_names"]), Z, list(m["z_names"]), arrays.get("x_offset"),
                      arrays.get("z_offset"), arrays.get("weights"), m["endog_name"],
                      info[0], info[1], m["offset_arg"])
    fit = CountFit(beta=arrays["beta"], gamma=arrays["gamma"], log_theta=arrays["log_theta"],
                   cov=arrays["cov"], **meta["fit"])
    res = CountModelResults(inp, fit, bool(m["has_offset_arg"]))
    res._cov_type, res._nobs = m["cov_type"], int(m["nobs"])
    return res


def build_model_results(meta: dict[str, Any], arrays: dict[str, np.ndarray]):
    from ._cdfs import DISTRIBUTIONS
    from .multinomial import MNLogit
    from .multinomial_results import MNLogitResults
    from .ordinal import OrderedModel
    from .ordinal_results import OrderedResults

    kind, m = meta["kind"], meta["model"]
    if kind == "count":
        return _build_count(meta, arrays)
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

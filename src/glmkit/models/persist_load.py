"""Loading the results of ``multinom``/``MNLogit``, ``polr``/``OrderedModel`` and
``zeroinfl``/``hurdle`` from glmkit's model file (written by :mod:`.persist`), for
``glmkit.load(path)``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..exceptions import ModelFileError
from ._frame import Inputs
from ._results import FitStats


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

"""Loading fitted GLMs saved by :func:`glmkit.persistence.save_results`: ``glmkit.load``
(see :mod:`glmkit.persistence` for the file format)."""
from __future__ import annotations

import io
import json
import os
import zipfile
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .labels import CoefficientLabels
from . import _data
from .exceptions import ModelFileError, ModelVersionError
from .persistence import (_ARRAYS, _META, FORMAT, FORMAT_VERSION, _labels_from, _unjsonify,
                          _version, family_from_dict, save_results)
from .results import t_ratio
from .rowless import _NO_DATA, _ModelWithoutData

def _read(path: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ModelFileError(f"{path} is not a glmkit model file, or it is damaged (it is not "
                             "a readable zip archive).") from None
    with zf:
        names = zf.namelist()
        if _META not in names:
            raise ModelFileError(f"{path} is not a glmkit model file (no {_META} inside).")
        try:
            meta = _unjsonify(json.loads(zf.read(_META).decode("utf-8")))
        except Exception as exc:
            raise ModelFileError(f"{path} is damaged: its metadata cannot be read ({exc}).") from None
        _check_header(meta, path)
        arrays = {}
        for name in names:
            if not name.startswith(_ARRAYS):
                continue
            key = name[len(_ARRAYS):].removesuffix(".npy")
            try:
                arrays[key] = np.lib.format.read_array(io.BytesIO(zf.read(name)),
                                                       allow_pickle=False)
            except Exception as exc:
                raise ModelFileError(f"{path} is damaged: array {key!r} cannot be read "
                                     f"({exc}).") from None
    return meta, arrays


def _check_header(meta: Any, path: str) -> None:
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a glmkit model file (format "
                             f"{meta.get('format') if isinstance(meta, dict) else None!r}).")
    fv, gv = meta.get("format_version"), meta.get("glmkit_version")
    if fv != FORMAT_VERSION or gv != _version():
        raise ModelVersionError(
            f"{path} was saved by glmkit {gv} (file format {fv}); this is glmkit {_version()} "
            f"(file format {FORMAT_VERSION}). A model file is loaded only by the glmkit "
            f"version that saved it: refit the model with this version, or load it with "
            f"glmkit {gv}.")


def load(path):
    """Load results saved by ``results.save(path)``.

    Returns a :class:`~glmkit.GLMResults` (saved with the data) or a
    :class:`GLMResultsWithoutData` (saved with ``remove_data=True``).

    Raises
    ------
    ModelVersionError : the file was written by another glmkit version.
    ModelFileError : the file is not a glmkit model file, or is damaged.
    """
    path = os.fspath(path)
    meta, arrays = _read(path)
    try:
        return _build(meta, arrays)
    except (ModelFileError, ModelVersionError):
        raise
    except Exception as exc:  # any failure to rebuild: the file is not what it claims
        from .formula import _first_line

        raise ModelFileError(f"{path} is damaged or incomplete: {type(exc).__name__}: "
                             f"{_first_line(exc)}") from None


def _build(meta: dict[str, Any], arrays: dict[str, np.ndarray]):
    if meta.get("kind") is not None:   # the likelihood models of glmkit.models
        from .models.persist_load import build_model_results

        return build_model_results(meta, arrays)
    family = family_from_dict(meta["family"])
    m = meta["model"]
    k = len(m["exog_names"])
    params = arrays["params"]
    if params.shape != (k,) or arrays["cov"].shape != (k, k) \
            or arrays["aliased"].shape != (k,):
        raise ModelFileError("the stored coefficients do not match the stored names.")
    formula_info = None
    if m["formula"] is not None:
        from .formula import FormulaInfo

        formula_info = FormulaInfo.from_dict(m["formula"])
        if formula_info.exog_names != list(m["exog_names"]):
            raise ModelFileError("the stored formula does not match the stored names.")
    terms = None if m["terms"] is None else [(n, list(c)) for n, c in m["terms"]]
    if not m["has_data"]:
        return GLMResultsWithoutData(meta, arrays, family, formula_info, terms)
    return _build_with_data(meta, arrays, family, formula_info, terms)


def _ro(a):
    if a is None:
        return None
    a = np.asarray(a)
    a.setflags(write=False)
    return a


def _build_with_data(meta, arrays, family, formula_info, terms):
    from .model import GLM
    from .results import GLMResults
    from .solvers import SolverResult

    m, f = meta["model"], meta["fit"]
    X = arrays["X"]
    n = X.shape[0]
    if X.shape != (n, len(m["exog_names"])) or arrays["y"].shape[0] != n:
        raise ModelFileError("the stored data do not match the stored names.")
    data = _data.ModelData(
        y=_ro(arrays["y"]), X=_ro(X), offset=_ro(arrays.get("offset")),
        exposure=_ro(arrays.get("exposure")), freq_weights=_ro(arrays.get("freq_weights")),
        var_weights=_ro(arrays.get("var_weights")), n_trials=_ro(arrays.get("n_trials")),
        endog_names=m["endog_names"], exog_names=list(m["exog_names"]),
        row_labels=_labels_from(m["row_labels"], arrays.get("row_labels"), n),
        is_pandas=bool(m["is_pandas"]), n_dropped=0)
    # the attributes GLM.__init__ sets, without re-validating (the data were checked
    # when the model was built, and re-deriving them could change the last bits)
    model = GLM.__new__(GLM)
    model.family = family
    model.missing = m["missing"]
    model.formula_info = formula_info
    model.terms = terms
    model.formula_call = None   # the data the formula was evaluated on are not saved
    model.data = data
    model.n_dropped = int(m["n_dropped"])
    model.scaletype = None   # statsmodels' model-level scale rule; not part of the file
    result = SolverResult(
        params=_ro(arrays["params"]), aliased=_ro(arrays["aliased"].astype(bool)),
        eta=_ro(arrays["eta"]), mu=_ro(arrays["mu"]),
        working_weights=_ro(arrays["working_weights"]), gram=_ro(arrays["gram"]),
        deviance=float(f["deviance"]), n_iter=int(f["n_iter"]),
        converged=bool(f["converged"]), method=f["method"],
        history=dict(f["history"]),
        messages=tuple(f["messages"]))
    dev = model.problem.deviance(result.mu)
    if not np.isclose(dev, result.deviance, rtol=1e-8, atol=1e-12):
        raise ModelFileError(f"the stored fit is inconsistent with the stored data (deviance "
                             f"{dev!r} recomputed, {result.deviance!r} stored).")
    cov_kwds = dict(f.get("cov_options", {}))
    if "cov_groups" in arrays:
        cov_kwds["groups"] = arrays["cov_groups"]
    res = GLMResults(model, result, scale=f["scale_spec"], cov_type=f["cov_type"],
                     use_t=f["use_t"], fit_warnings=tuple(f["fit_warnings"]),
                     cov_kwds=cov_kwds, mle_settings=f.get("mle_settings"),
                     constraints=_constraints(meta))
    nb = f.get("negbin")
    if nb is not None:   # glm_nb results keep theta, its SE and the AIC that counts it
        from .negbin import NegativeBinomialResults

        res = NegativeBinomialResults(res, nb["theta"], nb["theta_se"], nb["n_alternations"])
    return res


def _constraints(meta):
    """The LinearConstraints of fit_constrained results, or None."""
    c = meta["fit"].get("constraints")
    if c is None:
        return None
    from .constrained import linear_constraints

    return linear_constraints((np.array(c["R"], dtype=float), np.array(c["q"], dtype=float)),
                              list(meta["model"]["exog_names"]))


# ------------------------------------------------------------ results without data
_DATA_ATTRS = frozenset({
    "fittedvalues", "mu", "linear_predictor", "weights", "resid_response", "resid_pearson",
    "resid_deviance", "resid_working", "resid_anscombe", "resid_anscombe_scaled",
    "resid_anscombe_unscaled", "null", "get_influence", "anova", "get_robustcov_results",
    "compare_lr_test", "_mu", "_eta", "_resid_response", "_problem", "_solver_result"})


class GLMResultsWithoutData(CoefficientLabels):
    """A fitted GLM loaded without its training rows (saved with ``remove_data=True``).

    Has the coefficients, covariance, fit statistics, Wald/t/F tests, ``summary`` and
    ``predict``/``get_prediction`` on new data, with the numbers of the saved results.
    Per-row values (residuals, fitted values, influence, anova) raise AttributeError.
    """

    _frozen = False

    def __init__(self, meta: dict[str, Any], arrays: dict[str, np.ndarray], family,
                 formula_info, terms):
        self._meta = meta
        self._arrays = {k: arrays[k] for k in ("params", "aliased", "gram", "cov",
                                               "normalized_cov")}
        self.model = _ModelWithoutData(meta, family, formula_info, terms)
        self.family = family
        f, s = meta["fit"], meta["stats"]
        self.method = f["method"]
        self.converged = bool(f["converged"])
        self.n_iter = int(f["n_iter"])
        self.cov_type = f["cov_type"]
        self.cov_kwds: dict[str, Any] = {}
        self.use_t = bool(f["use_t"])
        self.fit_warnings = tuple(f["fit_warnings"])
        self.aliased = _ro(arrays["aliased"].astype(bool))
        self.constraints = _constraints(meta)
        self.k_constr = 0 if self.constraints is None else self.constraints.k_constr
        self._stats = s
        self._frozen = True

    def __setattr__(self, name: str, value: Any) -> None:
        if self._frozen:
            raise AttributeError(f"results are immutable; cannot set {name!r}.")
        object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        if name in _DATA_ATTRS:
            raise AttributeError(_NO_DATA.format(name=name))
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    # -------------------------------------------------------------- values
    @property
    def _params(self) -> np.ndarray:
        return self._arrays["params"]

    @property
    def _cov(self) -> np.ndarray:
        return self._arrays["cov"]

    @property
    def _normalized_cov(self) -> np.ndarray:
        return self._arrays["normalized_cov"]

    @property
    def _bse(self) -> np.ndarray:
        return np.sqrt(np.diag(self._cov))

    @property
    def _keep(self) -> np.ndarray:
        return ~self.aliased

    @property
    def _dist(self):
        return stats.t(self.df_resid_inference) if self.use_t else stats.norm

    @property
    def df_resid_inference(self) -> float:
        """Degrees of freedom of t and F tests (see GLMResults.df_resid_inference)."""
        return float(self._meta["fit"].get("df_resid_inference", self.df_resid))

    @property
    def params(self):
        return self._params_like(self._params.copy())

    @property
    def bse(self):
        return self._params_like(self._bse.copy())

    @property
    def tvalues(self):
        return self._params_like(t_ratio(self._params, self._bse))

    @property
    def pvalues(self):
        t = t_ratio(self._params, self._bse)
        return self._params_like(2.0 * self._dist.sf(np.abs(t)))

    def cov_params(self):
        return self._matrix_like(self._cov.copy())

    @property
    def normalized_cov_params(self):
        return self._matrix_like(self._normalized_cov.copy())

    def conf_int(self, alpha: float = 0.05, cols=None, method: str = "wald"):
        """Wald intervals (profile intervals need the data)."""
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {alpha!r}.")
        if method != "wald":
            raise ValueError(_NO_DATA.format(name=f"conf_int(method={method!r})"))
        q = self._dist.ppf(1.0 - alpha / 2.0)
        ci = np.column_stack([self._params - q * self._bse, self._params + q * self._bse])
        if cols is not None:
            ci = ci[np.asarray(cols)]
        if self.model.data.is_pandas:
            names = np.asarray(self.model.exog_names)
            idx = names if cols is None else names[np.asarray(cols)]
            return pd.DataFrame(ci, index=idx, columns=[0, 1])
        return ci

    # ------------------------------------------------------- statistics
    def _stat(self, name: str) -> float:
        return float(self._stats[name])

    deviance = property(lambda self: self._stat("deviance"))
    null_deviance = property(lambda self: self._stat("null_deviance"))
    pearson_chi2 = property(lambda self: self._stat("pearson_chi2"))
    llf = property(lambda self: self._stat("llf"))
    llnull = property(lambda self: self._stat("llnull"))
    aic = property(lambda self: self._stat("aic"))
    # glm_nb results: the estimated theta and its SE (None for other fits)
    theta = property(lambda self: self._meta["fit"].get("negbin", {}).get("theta"))
    theta_se = property(lambda self: self._meta["fit"].get("negbin", {}).get("theta_se"))
    bic = property(lambda self: self._stat("bic"))
    bic_llf = bic
    bic_deviance = property(lambda self: self._stat("bic_deviance"))
    scale = property(lambda self: self._stat("scale"))
    df_model = property(lambda self: self._stat("df_model"))
    df_resid = property(lambda self: self._stat("df_resid"))
    wnobs = property(lambda self: self._stat("wnobs"))
    nobs = property(lambda self: int(self._stats["nobs"]))
    rank = property(lambda self: int(self._stats["rank"]))
    k_constant = property(lambda self: int(self._stats["k_constant"]))

    @property
    def separation(self) -> bool:
        return any(w.startswith("PerfectSeparationWarning") for w in self.fit_warnings)

    @property
    def fit_history(self) -> dict:
        h = self._meta["fit"]["history"]
        return {"iteration": self.n_iter, "deviance": list(h.get("deviance", [])),
                "step_halvings": list(h.get("step_halvings", []))}

    def pseudo_rsquared(self, kind: str = "cs") -> float:
        if kind not in ("cs", "mcf"):
            raise ValueError(f"kind must be 'cs' or 'mcf', got {kind!r}.")
        return float(self._stats["pseudo_rsquared"][kind])

    def info_criteria(self, convention: str = "R") -> dict:
        if convention == "statsmodels":
            return {"llf": self.llf, "aic": self.aic, "bic": self.bic, "df": self.df_model + 1}
        if convention != "R":
            raise ValueError(f"convention must be 'R' or 'statsmodels', got {convention!r}.")
        ic = self._stats.get("info_criteria_R")
        if ic is None:
            raise ValueError("R's information criteria were not available for this model.")
        return {k: float(v) for k, v in ic.items()}

    def exp_params(self, alpha: float = 0.05) -> pd.DataFrame:
        ci = np.asarray(self.conf_int(alpha))
        return pd.DataFrame({"exp(coef)": np.exp(self._params), "lower": np.exp(ci[:, 0]),
                             "upper": np.exp(ci[:, 1])}, index=self.model.exog_names)

    def overdispersion(self) -> pd.Series:
        return pd.Series({
            "pearson_chi2": self.pearson_chi2, "deviance": self.deviance,
            "df_resid": self.df_resid, "ratio_pearson": self.pearson_chi2 / self.df_resid,
            "ratio_deviance": self.deviance / self.df_resid,
            "pvalue": float(stats.chi2.sf(self.pearson_chi2, self.df_resid)),
        })

    # ------------------------------------------------------------ tests
    def wald_test(self, r_matrix, use_f: bool | None = None, scalar: bool = True):
        from .inference import wald_test

        return wald_test(self, r_matrix, use_f=use_f, scalar=scalar)

    def t_test(self, r_matrix):
        from .inference import t_test

        return t_test(self, r_matrix)

    def f_test(self, r_matrix):
        from .inference import f_test

        return f_test(self, r_matrix)

    # ------------------------------------------------------- prediction
    def predict(self, exog=None, exposure=None, offset=None, which: str = "mean"):
        """Predicted mean or linear predictor for new rows (``exog`` is required)."""
        out = self.model.predict(self._params, exog=exog, exposure=exposure, offset=offset,
                                 which=which)
        if isinstance(exog, pd.DataFrame):
            return pd.Series(out, index=exog.index)
        return out

    def get_prediction(self, exog=None, exposure=None, offset=None, which: str | None = None):
        """Predictions for new rows with delta-method standard errors and intervals."""
        from .prediction import get_prediction

        if exog is None:
            raise ValueError(_NO_DATA.format(name="in-sample predictions") + " Pass exog=.")
        return get_prediction(self, exog=exog, exposure=exposure, offset=offset, which=which)

    # -------------------------------------------------------- reporting
    def summary(self, yname: str | None = None, xname: list[str] | None = None,
                title: str | None = None, alpha: float = 0.05):
        from .summary import Summary

        return Summary(self, yname=yname, xname=xname, title=title, alpha=alpha)

    def summary2(self, yname: str | None = None, xname: list[str] | None = None,
                 title: str | None = None, alpha: float = 0.05, float_format: str = "%.4f"):
        """As :meth:`GLMResults.summary2`."""
        from .summary2 import Summary as Summary2

        smry = Summary2()
        smry.add_base(results=self, alpha=alpha, float_format=float_format, xname=xname,
                      yname=yname, title=title)
        return smry

    def save(self, path, remove_data: bool = True) -> None:
        """Save again (always without data: there is none)."""
        save_results(self, path, remove_data=True)

    def __repr__(self):
        return (f"<GLMResultsWithoutData {self.family!r} nobs={self.nobs} "
                f"deviance={self.deviance:.6g} converged={self.converged}>")

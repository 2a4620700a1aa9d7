"""Saving and loading fitted GLMs: ``results.save(path)`` and ``glmkit.load(path)``.

File format
-----------
A model file is an ordinary zip archive (inspect it with ``unzip -l``) holding

- ``glmkit.json``: the format name and version, the glmkit version that wrote it, the
  family and link with their parameters, names, the formula spec (formula, terms, level
  coding and transform state, as tagged JSON), fit settings and fit statistics;
- ``arrays/<name>.npy``: numeric arrays in NumPy's ``.npy`` format (params, covariance,
  X'WX, and unless ``remove_data=True`` the training rows and the fit's per-row state).

No pickle is used: arrays are read with ``allow_pickle=False`` and the only classes
rebuilt from a file are glmkit families and links and formulaic's contrast/enum
dataclasses, looked up by name from fixed sets. Loading a file therefore runs no code
from the file, and every field is checked.

A file records the glmkit version that wrote it and is loaded only by that version:
another version raises :class:`~glmkit.exceptions.ModelVersionError` (the fit of a model
may differ between versions, so an old file is not silently reinterpreted). A file that is
not a glmkit model, or is damaged, raises :class:`~glmkit.exceptions.ModelFileError`.

With the data (the default), ``load`` returns a full :class:`~glmkit.GLMResults` whose
statistics are recomputed from the stored rows and solver state: bit-for-bit the numbers
of the saved results. With ``remove_data=True`` it returns a
:class:`GLMResultsWithoutData`: coefficients, covariance, fit statistics, tests, summary
and predictions on new data, but no per-row values (residuals, influence, anova).
"""
from __future__ import annotations

import datetime as _dt
import inspect
import io
import json
import os
import tempfile
import warnings
import zipfile
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from . import _data
from .rowless import _NO_DATA, _ModelWithoutData
from .exceptions import ModelFileError, ModelVersionError
from .results import t_ratio
from .families import family as _families
from .families import links as _links
from .families.quasi import QuasiBinomial, QuasiPoisson

__all__ = ["save_results", "load", "GLMResultsWithoutData", "FORMAT", "FORMAT_VERSION"]

FORMAT = "glmkit.glm-results"
FORMAT_VERSION = 1
_META = "glmkit.json"
_ARRAYS = "arrays/"

_FAMILIES = {c.__name__: c for c in (_families.Gaussian, _families.Binomial, _families.Poisson,
                                     _families.Gamma, _families.InverseGaussian,
                                     _families.NegativeBinomial, _families.Tweedie,
                                     QuasiPoisson, QuasiBinomial)}
_LINKS = {name: obj for name, obj in vars(_links).items()
          if isinstance(obj, type) and issubclass(obj, _links.Link) and obj is not _links.Link
          and not name.startswith("_")}

_STATS = ("deviance", "null_deviance", "pearson_chi2", "llf", "llnull", "aic", "bic",
          "bic_deviance", "scale", "df_model", "df_resid", "wnobs", "rank", "k_constant")


def _version() -> str:
    from . import __version__

    return __version__


# ------------------------------------------------------------------ family and link
def _init_params(obj, skip: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    params = list(inspect.signature(type(obj).__init__).parameters.values())[1:]
    for name in [p.name for p in params if p.kind in kinds]:
        if name in skip:
            continue
        value = getattr(obj, name)
        if name == "dbn":
            dist_name = getattr(value, "name", None)
            if not (isinstance(value, stats.rv_continuous) and dist_name
                    and getattr(stats, dist_name, None) is value):
                raise ValueError(f"cannot save a CDFLink of {value!r}: only unfrozen "
                                 "scipy.stats distributions (e.g. scipy.stats.logistic) "
                                 "can be saved.")
            value = dist_name
        elif isinstance(value, (np.floating, np.integer, np.bool_)):
            value = value.item()
        if not isinstance(value, (bool, int, float, str)):
            raise ValueError(f"cannot save {type(obj).__name__}: parameter {name} is a "
                             f"{type(value).__name__}.")
        out[name] = value
    return out


def family_to_dict(family) -> dict[str, Any]:
    """{'family': name, 'params': {...}, 'link': name, 'link_params': {...}}; checks that
    the description rebuilds an identical family."""
    fam_name, link_name = type(family).__name__, type(family.link).__name__
    if _FAMILIES.get(fam_name) is not type(family):
        raise ValueError(f"cannot save a model with the family {fam_name}: only glmkit's "
                         f"families {sorted(_FAMILIES)} can be saved.")
    if _LINKS.get(link_name) is not type(family.link):
        raise ValueError(f"cannot save a model with the link {link_name}: only glmkit's "
                         "links can be saved.")
    d = {"family": fam_name, "params": _init_params(family, ("link", "check_link", "variance")),
         "link": link_name, "link_params": _init_params(family.link, ())}
    again = family_from_dict(d)
    if again.link != family.link or repr(again) != repr(family):
        raise ValueError(f"cannot save {family!r}: it does not rebuild from its parameters.")
    return d


def family_from_dict(d: dict[str, Any]):
    fam_cls, link_cls = _FAMILIES.get(d["family"]), _LINKS.get(d["link"])
    if fam_cls is None or link_cls is None:
        raise ModelFileError(f"unknown family or link in the file: {d['family']!r}, {d['link']!r}.")
    link_params = dict(d["link_params"])
    if "dbn" in link_params:
        dist = getattr(stats, str(link_params["dbn"]), None)
        if not isinstance(dist, stats.rv_continuous):
            raise ModelFileError(f"unknown scipy distribution {link_params['dbn']!r}.")
        link_params["dbn"] = dist
    return fam_cls(link=link_cls(**link_params), check_link=False, **d["params"])


# --------------------------------------------------------------------- json helpers
def _jsonify(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonify(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonify(v) for v in obj]
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer, int)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return f if np.isfinite(f) else {"__float__": repr(f)}
    return obj


def _unjsonify(obj: Any) -> Any:
    if isinstance(obj, dict):
        if set(obj) == {"__float__"}:
            return float(obj["__float__"])
        return {k: _unjsonify(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_unjsonify(v) for v in obj]
    return obj


def _safe(fn, default=float("nan")):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn()
    except Exception:
        return default


def _labels_to_array(labels: pd.Index | None) -> tuple[dict[str, Any], np.ndarray | None]:
    if labels is None:
        return {"kind": "none"}, None
    if isinstance(labels, pd.RangeIndex):
        return {"kind": "range", "start": labels.start, "stop": labels.stop,
                "step": labels.step, "name": labels.name}, None
    if isinstance(labels, pd.MultiIndex):
        return {"kind": "positions"}, None
    values = labels.to_numpy()
    if values.dtype.kind in "biufM":
        return {"kind": "array", "name": _plain_name(labels.name)}, values
    if values.dtype == object and all(isinstance(v, str) for v in values):
        return {"kind": "array", "name": _plain_name(labels.name)}, values.astype(str)
    return {"kind": "positions"}, None


def _plain_name(name):
    return name if isinstance(name, (str, int, float)) or name is None else str(name)


def _labels_from(meta: dict[str, Any], arr: np.ndarray | None, n: int) -> pd.Index | None:
    kind = meta["kind"]
    if kind == "none":
        return None
    if kind == "range":
        return pd.RangeIndex(meta["start"], meta["stop"], meta["step"], name=meta["name"])
    if kind == "positions":
        return pd.RangeIndex(n)
    if arr is None or arr.shape != (n,):
        raise ModelFileError("the stored row labels do not match the rows.")
    return pd.Index(arr, name=meta.get("name"))


# ------------------------------------------------------------------------ describing
def _describe(res, remove_data: bool) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The metadata and arrays of a results object (GLMResults or GLMResultsWithoutData)."""
    meta: dict[str, Any]
    if isinstance(res, GLMResultsWithoutData):
        meta = json.loads(json.dumps(res._meta))
        meta.update(_header())
        return meta, dict(res._arrays)
    model = res.model
    info = model.formula_info
    meta = _header()
    meta["family"] = family_to_dict(res.family)
    meta["model"] = {
        "endog_names": model.endog_names, "exog_names": model.exog_names,
        "is_pandas": bool(model.data.is_pandas), "nobs": int(model.nobs),
        "n_dropped": int(getattr(model, "n_dropped", 0) or 0), "missing": model.missing,
        "terms": None if model.terms is None else [[n, list(c)] for n, c in model.terms],
        "formula": None if info is None else info.to_dict(),
        "has_data": not remove_data,
    }
    r = res._result
    meta["fit"] = {
        "method": r.method, "converged": bool(r.converged), "n_iter": int(r.n_iter),
        "deviance": float(r.deviance), "history": _jsonify(dict(r.history)),
        "messages": list(r.messages), "cov_type": res.cov_type, "use_t": bool(res.use_t),
        "scale_spec": res._scale_spec, "fit_warnings": list(res.fit_warnings),
        # statsmodels' cluster options and fit record (absent in older files)
        "cov_options": {k: v for k, v in res.cov_kwds.items()
                        if k in ("use_correction", "df_correction", "maxlags", "kernel")},
        "df_resid_inference": float(getattr(res, "df_resid_inference", res.df_resid)),
        "mle_settings": _jsonify(dict(getattr(res, "mle_settings", {}))),
    }
    lc = getattr(res, "constraints", None)
    if lc is not None:   # fit_constrained: R and q rebuild its covariance on load
        meta["fit"]["constraints"] = {"R": np.asarray(lc.constraint_matrix).tolist(),
                                      "q": np.asarray(lc.constraint_values).tolist()}
    meta["stats"] = {name: _safe(lambda name=name: getattr(res, name)) for name in _STATS}
    meta["stats"]["nobs"] = int(res.nobs)
    meta["stats"]["pseudo_rsquared"] = {k: _safe(lambda k=k: res.pseudo_rsquared(k))
                                        for k in ("cs", "mcf")}
    meta["stats"]["info_criteria_R"] = _safe(lambda: res.info_criteria("R"), None)
    arrays = {"params": np.asarray(r.params, dtype=float), "aliased": np.asarray(r.aliased),
              "gram": np.asarray(r.gram, dtype=float),
              "cov": np.asarray(res._cov, dtype=float),
              "normalized_cov": np.asarray(res._normalized_cov, dtype=float)}
    if not remove_data:
        arrays.update(_data_arrays(res, meta))
    return meta, arrays


def _header() -> dict[str, Any]:
    import numpy

    head = {"format": FORMAT, "format_version": FORMAT_VERSION, "glmkit_version": _version(),
            "numpy_version": numpy.__version__,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    try:
        import formulaic

        head["formulaic_version"] = formulaic.__version__
    except ImportError:  # pragma: no cover - formulaic is a dependency
        pass
    return head


def _data_arrays(res, meta: dict[str, Any]) -> dict[str, np.ndarray]:
    d, r = res.model.data, res._result
    X = d.X
    if not isinstance(X, np.ndarray):
        from .design import DenseDesign

        if not isinstance(X, DenseDesign):
            raise ValueError(f"saving the training rows of a {type(X).__name__} design is not "
                             "supported; save with remove_data=True (predictions, tests and "
                             "the summary still work after loading).")
        X = X.array
    out = {"y": d.y, "X": X, "eta": r.eta, "mu": r.mu, "working_weights": r.working_weights}
    for name in ("offset", "exposure", "freq_weights", "var_weights", "n_trials"):
        v = getattr(d, name)
        if v is not None:
            out[name] = v
    label_meta, labels = _labels_to_array(d.row_labels)
    meta["model"]["row_labels"] = label_meta
    if labels is not None:
        out["row_labels"] = labels
    groups = res.cov_kwds.get("groups")
    if groups is not None:
        g = np.asarray(groups.to_numpy() if isinstance(groups, (pd.Series, pd.DataFrame))
                       else groups)
        out["cov_groups"] = g if g.dtype.kind in "biufU" else g.astype(str)
    return {k: np.asarray(v) for k, v in out.items()}


# ------------------------------------------------------------------------ file i/o
def save_results(res, path, remove_data: bool = False) -> None:
    """Write ``res`` to ``path`` (a zip of JSON metadata and .npy arrays; see the module
    notes). ``remove_data=True`` leaves out the training rows: predictions, tests and
    the summary still work after loading; residuals and influence do not."""
    meta, arrays = _describe(res, bool(remove_data))
    write_archive(path, meta, arrays)


def write_archive(path, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """The zip of ``glmkit.json`` and ``arrays/*.npy``, written atomically."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".glmkit-", suffix=".tmp", dir=folder)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; save as open() would
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(_META, json.dumps(_jsonify(meta), indent=1, allow_nan=False))
            for name, arr in arrays.items():
                with zf.open(f"{_ARRAYS}{name}.npy", "w", force_zip64=True) as fh:
                    np.lib.format.write_array(fh, np.ascontiguousarray(arr), allow_pickle=False)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


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
        from .models.persist import build_model_results

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
    return GLMResults(model, result, scale=f["scale_spec"], cov_type=f["cov_type"],
                      use_t=f["use_t"], fit_warnings=tuple(f["fit_warnings"]),
                      cov_kwds=cov_kwds, mle_settings=f.get("mle_settings"),
                      constraints=_constraints(meta))


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
    "compare_lr_test", "_mu", "_eta", "_resid_response", "_problem", "_result"})


class GLMResultsWithoutData:
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

    # ----------------------------------------------------------- labelling
    def _params_like(self, a: np.ndarray):
        if self.model.data.is_pandas:
            return pd.Series(a, index=self.model.exog_names, name=None)
        return a

    def _matrix_like(self, a: np.ndarray):
        if self.model.data.is_pandas:
            names = self.model.exog_names
            return pd.DataFrame(a, index=names, columns=names)
        return a

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

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
import json
import os
import tempfile
import warnings
import zipfile
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .exceptions import ModelFileError
from .families import family as _families
from .families import links as _links
from .families.quasi import QuasiBinomial, QuasiPoisson

__all__ = ["save_results", "FORMAT", "FORMAT_VERSION"]

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
    from ._version import __version__

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
    if hasattr(res, "_meta") and hasattr(res, "_arrays"):   # loaded without its rows
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
    r = res._solver_result
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
    if getattr(res, "theta_se", None) is not None:   # glm_nb: the estimated theta
        meta["fit"]["negbin"] = {"theta": float(res.theta), "theta_se": float(res.theta_se),
                                 "n_alternations": int(res.n_alternations)}
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
    d, r = res.model.data, res._solver_result
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

"""The libraries under comparison, each configured to fit the same unregularized GLM with
an intercept, and each mapped to the canonical coefficient order of problemdata.

A runner turns the cached arrays into the input its library takes (``prepare``, done before
the memory baseline, untimed), fits (``fit``, timed and memory-sampled) and reads the
estimate back (``extract``). Runners are used inside the benchmark's child processes.

Peer settings (why they are what they are):

- glmkit: ``sm.GLM(y, [1, X], family, offset).fit()`` with its defaults (IRLS; R's deviance
  rule at tol=1e-8, then refinement until the last step is below 1e-8 standard errors).
- glum: ``GeneralizedLinearRegressor(alpha=0, fit_intercept=True, gradient_tol=1e-9)``,
  default solver (``'auto'`` -> IRLS with a least-squares inner solve for this unpenalized
  case). glum's gradient is that of the deviance divided by the total weight, so its default
  1e-4 stops far from the optimum; 1e-9 reaches ~1e-7 relative coefficient accuracy on these
  problems.
- scikit-learn: ``PoissonRegressor`` / ``GammaRegressor`` / ``TweedieRegressor(power=1.5,
  link='log')`` with ``alpha=0``, ``LogisticRegression`` unpenalized (``C=inf`` on
  scikit-learn >= 1.8, where ``penalty`` is deprecated; ``penalty=None`` before); all with
  ``solver='newton-cholesky', tol=1e-10``. No offset support: skipped on problem d.
- statsmodels: ``sm.GLM(y, [1, X], family, offset).fit()`` with its defaults (IRLS,
  tol=1e-8 on the absolute deviance change, maxiter=100).
- R: ``glm.fit`` (see r_glm.R), the engine under ``glm()``, default control.
"""
from __future__ import annotations

import importlib.util
import warnings

import numpy as np

from . import problemdata as pdata

GLUM_GRADIENT_TOL = 1e-9
SKLEARN_TOL = 1e-10

#: Display names.
LABELS = {
    "glmkit": "glmkit",
    "glmkit-cat": "glmkit (categorical)",
    "glum": "glum",
    "glum-cat": "glum (categorical)",
    "sklearn": "scikit-learn",
    "statsmodels": "statsmodels",
    "R": "R glm.fit",
}

ALL_LIBS = ["glmkit", "glum", "sklearn", "statsmodels", "R"]

#: Library each row variant belongs to.
BASE = {"glmkit": "glmkit", "glmkit-cat": "glmkit", "glum": "glum", "glum-cat": "glum",
        "sklearn": "sklearn", "statsmodels": "statsmodels", "R": "R"}


def _importable(mod: str) -> bool:
    try:
        return importlib.util.find_spec(mod) is not None
    except (ImportError, ValueError):
        return False


def glmkit_has_categorical() -> bool:
    try:
        import glmkit.design as gd
    except ImportError:
        return False
    return hasattr(gd, "CategoricalDesign") and hasattr(gd, "SplitDesign")


def is_cat(name: str) -> bool:
    return name in ("e", "e_small")


def variants(lib: str, problem: str) -> list[str]:
    """Rows a library contributes to a problem's table."""
    if lib == "glmkit" and problem == "e_small":
        return ["glmkit", "glmkit-cat"]
    if lib == "glum" and problem == "e_small":
        return ["glum", "glum-cat"]
    if lib == "glum" and problem == "e":
        return ["glum-cat"]
    return [lib]


def skip_reason(variant: str, problem: str, quick: bool = False) -> str | None:
    """Why (variant, problem) is not run, or None."""
    mod = {"glmkit": "glmkit", "glmkit-cat": "glmkit", "glum": "glum", "glum-cat": "glum",
           "sklearn": "sklearn", "statsmodels": "statsmodels"}.get(variant)
    if mod and not _importable(mod):
        return f"not installed ({mod} is not importable)"
    if variant in ("glmkit-cat",) or (variant == "glmkit" and problem == "e"):
        if not glmkit_has_categorical():
            return "pending categorical design (glmkit.design has no CategoricalDesign yet)"
    if variant == "glum-cat" and not _importable("pandas"):
        return "not installed (pandas)"
    if variant == "sklearn" and problem == "d":
        return "no offset support"
    if variant == "statsmodels" and problem == "e" and not quick:
        return "needs the dense one-hot design, 1,000,000 x 2,011 float64 = 16 GB (see e_small)"
    return None


# ----------------------------------------------------------------- runners

class Runner:
    """prepare (untimed) -> fit (timed) -> extract."""

    def __init__(self, problem: str, data: dict):
        self.problem = problem
        self.data = data
        self.family = data["family"]
        self.offset = data.get("offset")

    def prepare(self):
        raise NotImplementedError

    def warmup(self):
        """Fit a tiny problem of the same kind through the same code path, so imports and
        one-time initialization happen before the memory baseline and the timed fits."""
        rng = np.random.default_rng(0)
        n, p, L = 600, 3, 3
        d = {"X": rng.standard_normal((n, p)), "codes": (np.arange(n) % L).astype(np.int32),
             "levels": L, "family": self.family, "p": p}
        y = {"poisson": lambda: rng.poisson(1.0, n),
             "binomial": lambda: rng.integers(0, 2, n),
             "gamma": lambda: rng.gamma(2.0, 1.0, n),
             "tweedie": lambda: np.where(rng.random(n) < 0.5, 0.0, rng.gamma(2.0, 1.0, n)),
             }[self.family]()
        d["y"] = np.asarray(y, dtype=float)
        if self.offset is not None:
            d["offset"] = np.log(rng.uniform(0.1, 1.0, n))
        tiny = type(self)(self.problem, d)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tiny.extract(tiny.fit(tiny.prepare()))

    def fit(self, inputs):
        raise NotImplementedError

    def extract(self, model) -> tuple[np.ndarray, int | None, bool | None]:
        raise NotImplementedError

    def predict_row_fn(self, model, inputs):
        """A zero-argument callable predicting the mean of one row."""
        raise NotImplementedError


class GlmkitRunner(Runner):
    categorical = False

    def prepare(self):
        d = self.data
        if is_cat(self.problem) and (self.categorical or self.problem == "e"):
            return self._split_design()
        if is_cat(self.problem):
            return pdata.dense_onehot_design(d["X"], d["codes"], d["levels"])
        return pdata.with_constant(d["X"])

    def _split_design(self):
        """[1, X] dense block + treatment-coded categorical block (for when glmkit has them)."""
        import glmkit.design as gd

        d = self.data
        dense = gd.DenseDesign(pdata.with_constant(d["X"]))
        cat = gd.CategoricalDesign(d["codes"], int(d["levels"]), drop_first=True)
        return gd.SplitDesign([dense, cat])

    def family_obj(self, tight=False):
        import glmkit.api as sm

        f = sm.families
        return {
            "poisson": lambda: f.Poisson(),
            "binomial": lambda: f.Binomial(),
            "gamma": lambda: f.Gamma(link=f.links.Log()),
            "tweedie": lambda: f.Tweedie(var_power=1.5, link=f.links.Log()),
        }[self.family]()

    def fit(self, inputs, **fit_kwargs):
        import glmkit.api as sm

        model = sm.GLM(self.data["y"], inputs, family=self.family_obj(), offset=self.offset)
        return model.fit(**fit_kwargs)

    def extract(self, res):
        # design order is [1, X, levels] already
        return np.asarray(res.params, dtype=float), int(res.n_iter), bool(res.converged)

    def predict_row_fn(self, res, inputs):
        row = np.array(inputs[0], dtype=float)[None, :]
        return lambda: res.predict(row)

    def first_statistics(self, res):
        """The standard errors: glmkit forms the covariance's float64 X'WX on first use,
        so this is the cost that fit() leaves to the first statistic asked for."""
        return np.asarray(res.bse)


class GlmkitCatRunner(GlmkitRunner):
    categorical = True


class GlumRunner(Runner):
    categorical = False

    def estimator(self):
        from glum import GeneralizedLinearRegressor, TweedieDistribution

        fam = {"poisson": "poisson", "binomial": "binomial", "gamma": "gamma",
               "tweedie": TweedieDistribution(1.5)}[self.family]
        link = {"poisson": "log", "binomial": "logit", "gamma": "log", "tweedie": "log"}[self.family]
        return GeneralizedLinearRegressor(family=fam, link=link, alpha=0, fit_intercept=True,
                                          gradient_tol=GLUM_GRADIENT_TOL, max_iter=100,
                                          drop_first=True)

    def prepare(self):
        d = self.data
        if is_cat(self.problem) and self.categorical:
            import pandas as pd

            p = d["X"].shape[1]
            frame = pd.DataFrame({f"x{j}": d["X"][:, j] for j in range(p)})
            frame["cat"] = pd.Categorical.from_codes(d["codes"], categories=list(range(d["levels"])))
            return frame
        if is_cat(self.problem):
            return pdata.dense_onehot_design(d["X"], d["codes"], d["levels"], constant=False)
        return d["X"]

    def fit(self, inputs):
        m = self.estimator()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m.fit(inputs, self.data["y"], offset=self.offset)
        return m

    def extract(self, m):
        coef = np.asarray(m.coef_, dtype=float)
        if self.categorical and is_cat(self.problem):
            p = self.data["p"]
            out = np.full(1 + p + self.data["levels"] - 1, np.nan)
            out[0] = m.intercept_
            for name, c in zip(m.feature_names_, coef):
                if name.startswith("x"):
                    out[1 + int(name[1:])] = c
                else:  # "cat__<level>" (glum's default cat_format)
                    level = int(name.rsplit("__", 1)[-1].split("[")[-1].rstrip("]"))
                    out[p + level] = c
        else:
            out = np.concatenate([[float(m.intercept_)], coef])
        return out, int(m.n_iter_), None

    def predict_row_fn(self, m, inputs):
        row = np.array(inputs[:1] if not hasattr(inputs, "iloc") else inputs.iloc[:1])
        return lambda: m.predict(row)


class GlumCatRunner(GlumRunner):
    categorical = True


class SklearnRunner(Runner):
    def estimator(self):
        import sklearn
        from sklearn import linear_model as lm

        kw = dict(solver="newton-cholesky", tol=SKLEARN_TOL, max_iter=100)
        if self.family == "poisson":
            return lm.PoissonRegressor(alpha=0, **kw)
        if self.family == "gamma":
            return lm.GammaRegressor(alpha=0, **kw)
        if self.family == "tweedie":
            return lm.TweedieRegressor(power=1.5, link="log", alpha=0, **kw)
        major, minor = (int(x) for x in sklearn.__version__.split(".")[:2])
        if (major, minor) >= (1, 8):
            return lm.LogisticRegression(C=np.inf, **kw)
        return lm.LogisticRegression(penalty=None, **kw)

    def prepare(self):
        d = self.data
        if self.problem == "e":
            return pdata.sparse_onehot_design(d["X"], d["codes"], d["levels"])
        if is_cat(self.problem):
            return pdata.dense_onehot_design(d["X"], d["codes"], d["levels"], constant=False)
        return d["X"]

    def fit(self, inputs):
        m = self.estimator()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m.fit(inputs, self.data["y"])
        return m

    def extract(self, m):
        coef = np.asarray(m.coef_, dtype=float).ravel()
        icpt = float(np.ravel(m.intercept_)[0])
        n_iter = int(np.max(m.n_iter_))
        return np.concatenate([[icpt], coef]), n_iter, None

    def predict_row_fn(self, m, inputs):
        row = inputs[:1]
        if hasattr(m, "predict_proba"):
            return lambda: m.predict_proba(row)
        return lambda: m.predict(row)


class StatsmodelsRunner(Runner):
    def family_obj(self):
        import statsmodels.api as sm

        f = sm.families
        return {
            "poisson": lambda: f.Poisson(),
            "binomial": lambda: f.Binomial(),
            "gamma": lambda: f.Gamma(link=f.links.Log()),
            "tweedie": lambda: f.Tweedie(var_power=1.5, link=f.links.Log()),
        }[self.family]()

    def prepare(self):
        d = self.data
        if is_cat(self.problem):
            return pdata.dense_onehot_design(d["X"], d["codes"], d["levels"])
        return pdata.with_constant(d["X"])

    def fit(self, inputs, **fit_kwargs):
        import statsmodels.api as sm

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = sm.GLM(self.data["y"], inputs, family=self.family_obj(), offset=self.offset)
            return model.fit(**fit_kwargs)

    def extract(self, res):
        return (np.asarray(res.params, dtype=float), int(res.fit_history["iteration"]),
                bool(res.converged))

    def predict_row_fn(self, res, inputs):
        row = np.array(inputs[0], dtype=float)[None, :]
        return lambda: res.predict(row)


RUNNERS = {
    "glmkit": GlmkitRunner,
    "glmkit-cat": GlmkitCatRunner,
    "glum": GlumRunner,
    "glum-cat": GlumCatRunner,
    "sklearn": SklearnRunner,
    "statsmodels": StatsmodelsRunner,
}


def versions() -> dict:
    """Installed versions of the compared libraries (None when missing)."""
    out = {}
    for mod in ("glmkit", "glum", "tabmat", "sklearn", "statsmodels", "numpy", "scipy",
                "pandas", "psutil", "threadpoolctl", "matplotlib"):
        try:
            m = __import__(mod)
            out[mod] = getattr(m, "__version__", "?")
        except Exception:
            out[mod] = None
    return out

"""GLMRegressor and GLMClassifier: scikit-learn estimators on glmkit's engine.

They fit with the same code as ``GLM(...).fit()`` (``alpha=0``) or the penalized fit of
``GLM(...).fit_path`` (``alpha > 0``), so ``estimator.results_`` is the full glmkit results
object of that very fit: for ``alpha=0``, ``results_.bse`` is ``GLM(y, X1, family).fit().bse``
with X1 the design with a ``const`` column first.

Conventions
-----------
- Penalized objective (glmkit's, glmnet's and scikit-learn's ``PoissonRegressor``)::

      D(b) / (2 N) + alpha * sum_j pf_j ((1 - l1_ratio) / 2 b_j^2 + l1_ratio |b_j|)

  with D the deviance, N the sum of ``sample_weight`` (the number of rows without weights);
  the intercept is never penalized. So ``alpha`` and ``l1_ratio`` mean what they mean in
  ``PoissonRegressor`` / ``GammaRegressor`` / ``TweedieRegressor`` (L2, ``l1_ratio=0``) and in
  ``ElasticNet``; scikit-learn's ``LogisticRegression(C=C, l1_ratio=r)`` is
  ``GLMClassifier(alpha=1 / (C * N), l1_ratio=r)``; glum's ``alpha``, ``l1_ratio`` agree
  with glmkit's. ``pf`` is ``penalty_weights`` rescaled to sum to the number of penalized
  columns (glmnet's penalty.factor).
- ``sample_weight`` are frequency weights (glmkit's ``freq_weights``): weight k equals k
  copies of the row, as scikit-learn's estimator checks require; they count in ``df_resid``.
- ``score`` is scikit-learn's: D^2 (the fraction of the null deviance explained, as
  ``PoissonRegressor.score`` and ``sklearn.metrics.d2_tweedie_score``; R^2 for the normal
  family) for the regressor, accuracy for the classifier.
- The classifier's ``decision_function`` is the log-odds log(p / (1 - p)) of the second class
  (the linear predictor for the logit link), so ``predict`` is ``decision_function > 0``
  for every link; multi-class, alpha = 0: the linear predictors log(P_k / P_0), the first
  class the reference; alpha > 0: x' b_k of the symmetric parametrization (glmnet's).
- ``offset`` (``fit``, ``predict``, ``score``, ...; glum's argument) is added to the linear
  predictor, as ``GLM(..., offset=)``; ``results_`` is that GLM's fit. No ``exposure``:
  pass ``offset=np.log(exposure)`` (statsmodels' meaning of exposure). With metadata
  routing enabled, ``set_fit_request(offset=True)`` (and ``set_predict_request``,
  ``set_score_request``) lets Pipeline, GridSearchCV and cross_validate pass it on.
"""
from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import (
        _check_sample_weight,
        check_is_fitted,
        validate_data,
    )
except ImportError as _e:   # pragma: no cover - depends on the environment
    raise ImportError("glmkit.sklearn needs scikit-learn >= 1.6: "
                      "pip install 'glmkit[sklearn]'") from _e

from .. import families
from ..families import links as L

__all__ = ["GLMClassifier", "GLMRegressor"]

_LINKS = {"identity": L.Identity, "log": L.Log, "logit": L.Logit, "probit": L.Probit,
          "cloglog": L.CLogLog, "loglog": L.LogLog, "cauchit": L.Cauchy,
          "inverse": L.InversePower, "1/mu^2": L.InverseSquared, "sqrt": L.Sqrt}
_SPARSE = ("csr", "csc")
_FAMILIES = ("normal", "gaussian", "poisson", "gamma", "inverse.gaussian", "tweedie",
             "negative.binomial")


def _link(link):
    if link is None or isinstance(link, L.Link):
        return link
    if isinstance(link, str) and link in _LINKS:
        return _LINKS[link]()
    raise ValueError(f"link must be None, a glmkit link instance or one of {sorted(_LINKS)}, "
                     f"got {link!r}.")


def _regression_family(family, link, power, theta):
    lk = _link(link)
    if isinstance(family, families.Family):
        if link is not None:
            raise ValueError("give the link inside the family instance, or family as a "
                             "string with link=...; not both.")
        return family
    if family in ("normal", "gaussian"):
        return families.Gaussian(lk)
    if family == "poisson":
        return families.Poisson(lk)
    if family == "gamma":
        return families.Gamma(lk if lk is not None else L.Log())
    if family == "inverse.gaussian":
        return families.InverseGaussian(lk if lk is not None else L.Log())
    if family == "tweedie":
        return families.Tweedie(lk, var_power=1.5 if power is None else float(power))
    if family == "negative.binomial":
        return families.NegativeBinomial(lk, alpha=None if theta is None else 1.0 / theta)
    raise ValueError(f"family must be a glmkit family instance or one of {list(_FAMILIES)}, "
                     f"got {family!r}.")


def _check_rows(X: np.ndarray) -> None:
    if X.shape[0] < 2:
        raise ValueError(f"a GLM needs at least 2 samples; got n_samples = {X.shape[0]}.")


def _check_offset(offset, n: int) -> np.ndarray | None:
    """A finite float64 copy of ``offset`` (n,), or None; the user's array is not kept."""
    if offset is None:
        return None
    if sp.issparse(offset):
        raise ValueError("offset must be a dense 1-d array of n_samples numbers, got a "
                         "sparse matrix.")
    try:
        off = np.array(offset, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"offset must be an array of n_samples numbers: {e}") from e
    if off.ndim == 2 and 1 in off.shape:
        off = off.ravel()
    if off.ndim != 1 or off.shape[0] != n:
        raise ValueError(f"offset must have shape (n_samples,) = ({n},), got shape "
                         f"{off.shape}. For an exposure pass offset=np.log(exposure).")
    if not np.isfinite(off).all():
        raise ValueError("offset contains NaN or infinity; an exposure of 0 gives "
                         "log(0) = -inf: drop those rows or give them sample_weight 0 "
                         "and a finite offset.")
    return off


def _no_multiclass_offset(off, K: int) -> None:
    if off is not None and K > 2:
        raise ValueError(f"offset is supported for two classes only; y has {K} classes "
                         "(one offset per row shifts every class's linear predictor "
                         "alike and changes no probability).")


def _class_weights(sample_weight, X, codes: np.ndarray, K: int):
    """Checked sample weights of a classifier: every class must keep a positive weight."""
    if sample_weight is None:
        return None
    sw = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    total = np.bincount(codes, weights=sw, minlength=K)
    if np.any(total <= 0):
        raise ValueError(f"the classes {list(np.flatnonzero(total <= 0))} (positions in "
                         "classes_) have zero total sample_weight: a classifier needs at "
                         "least two classes with positive weight.")
    return sw


class _GLMEstimator(BaseEstimator):
    """What the regressor and the classifier share: parameter checks, the design, the fit."""

    def _regression_inputs(self, X, y, sample_weight, offset):
        """A regressor's checked (X, y, frequency weights or None, offset or None)."""
        X, y = validate_data(self, X, y, dtype=np.float64, accept_sparse=_SPARSE,
                             y_numeric=True, multi_output=False)
        sw = None if sample_weight is None else \
            _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        return X, y, sw, _check_offset(offset, X.shape[0])

    def _binary_rows(self, off) -> None:
        """A two-class fit's coef_ (1, p) and intercept_ (1,), as scikit-learn's."""
        self.coef_ = self.coef_[None, :]
        self.intercept_ = np.array([self.intercept_])
        self._offset_fitted = off is not None

    def _check_params(self) -> None:
        a, r = getattr(self, "alpha", 0.0), self.l1_ratio
        if isinstance(a, bool) or not isinstance(a, numbers.Real) or not (np.isfinite(a)
                                                                          and a >= 0):
            raise ValueError(f"alpha must be a non-negative number, got {a!r}.")
        if isinstance(r, bool) or not isinstance(r, numbers.Real) or not 0 <= r <= 1:
            raise ValueError(f"l1_ratio must be a number in [0, 1], got {r!r}.")
        if isinstance(self.max_iter, bool) or not isinstance(self.max_iter, numbers.Integral) \
                or self.max_iter < 1:
            raise ValueError(f"max_iter must be a positive integer, got {self.max_iter!r}.")
        if self.tol is not None and not (isinstance(self.tol, numbers.Real) and self.tol > 0):
            raise ValueError(f"tol must be None or a positive number, got {self.tol!r}.")
        if not isinstance(self.fit_intercept, (bool, np.bool_)):
            raise ValueError(f"fit_intercept must be True or False, got {self.fit_intercept!r}.")

    def _penalized(self) -> bool:
        return getattr(self, "alpha", 1.0) > 0 or self.bounds is not None

    def _names(self, p: int) -> list[str]:
        names = [str(c) for c in getattr(self, "feature_names_in_", [f"x{j}" for j in
                                                                       range(p)])]
        if self.fit_intercept:
            stem = "const"
            while stem in names:
                stem = "_" + stem
            names = [stem, *names]
        return names

    def _design(self, X):
        """The design with its names: a DataFrame, or a SparseDesign for sparse X."""
        names = self._names(X.shape[1])
        if sp.issparse(X):
            from ..design.sparse import SparseDesign

            ones = sp.csr_matrix(np.ones((X.shape[0], 1)))
            d = SparseDesign(sp.hstack([ones, X], format="csr") if self.fit_intercept else X)
            d.column_names = names   # read by GLM for the results' labels
            return d
        X1 = np.column_stack([np.ones(X.shape[0]), X]) if self.fit_intercept else X
        return pd.DataFrame(X1, columns=names, copy=False)

    def _model(self, X, y: np.ndarray, family, sw, offset=None):
        from ..model import GLM

        _check_rows(X)
        return GLM(pd.Series(y, name="y"), self._design(X), family=family, freq_weights=sw,
                   offset=offset)

    def _fit_glm(self, X: np.ndarray, y: np.ndarray, family, sw, offset=None):
        """The glmkit fit on the design; sets coef_, intercept_, n_iter_, results_."""
        model = self._model(X, y, family, sw, offset)
        if not self._penalized():
            if self.penalty_weights is not None:
                raise ValueError("penalty_weights need alpha > 0.")
            kw: dict[str, Any] = {} if self.tol is None else {"tol": float(self.tol)}
            res = model.fit(maxiter=int(self.max_iter), **kw)
            b = np.asarray(res.params, dtype=float)
            b = np.where(np.isnan(b), 0.0, b)   # aliased columns: R's NA, a 0 in predictions
        else:
            path = self._path(model, [float(self.alpha)])
            res = path.fit_at(float(self.alpha))
            b = self._penalized_params(res)
        self._set_fit(res, b, family)

    def _path(self, model, alphas, **path_kwds):
        """``model.fit_path`` with the estimator's penalty options."""
        if getattr(model.family, "alpha", 0.0) is None:
            raise ValueError("a penalized negative binomial fit needs a known theta: "
                             "give theta=... (or NegativeBinomial(alpha=...)).")
        kw: dict[str, Any] = {} if self.tol is None else {"tol": float(self.tol)}
        return model.fit_path(L1_wt=float(self.l1_ratio), alphas=alphas,
                              penalty_weights=self.penalty_weights, bounds=self.bounds,
                              max_iter=int(self.max_iter), **kw, **path_kwds)

    @staticmethod
    def _penalized_params(res) -> np.ndarray:
        if not res.converged:
            from ..exceptions import ConvergenceWarning

            warnings.warn(f"the penalized fit did not converge (KKT violation "
                          f"{res.kkt:.3g}); raise max_iter.", ConvergenceWarning, stacklevel=4)
        return np.asarray(res.params, dtype=float)

    def _set_fit(self, res, b: np.ndarray, family) -> None:
        self.results_ = res
        # a penalty above alpha_max ends at the null fit, whose passes a path counts apart
        self.n_iter_ = max(int(res.n_iter), 1)
        if self.fit_intercept:
            self.intercept_, self.coef_ = float(b[0]), b[1:].copy()
        else:
            self.intercept_, self.coef_ = 0.0, b.copy()
        # the fitted family: a negative binomial's theta estimated by the fit
        self.family_ = getattr(res, "family", family)

    def _checked_X(self, X):
        """validate_data, skipped for what it would pass unchanged: a finite float64
        ndarray of the right width (fit without feature names), or a pandas DataFrame of
        numeric columns named exactly ``feature_names_in_`` (one-row predictions: ~10 us
        and ~30 us instead of ~130 us)."""
        names = getattr(self, "feature_names_in_", None)
        if type(X) is pd.DataFrame and names is not None and X.shape[0] >= 1 and \
                X.columns.tolist() == names.tolist():
            A = X.to_numpy()
            if A.dtype == np.float64 and A.ndim == 2 and np.isfinite(A).all():
                return A
        elif type(X) is np.ndarray and X.dtype == np.float64 and X.ndim == 2 and \
                X.shape[1] == self.n_features_in_ and X.shape[0] >= 1 and \
                names is None and np.isfinite(X).all():
            return X
        return validate_data(self, X, reset=False, dtype=np.float64, accept_sparse=_SPARSE)

    def _linear_predictor(self, X, offset=None) -> np.ndarray:
        check_is_fitted(self, "coef_")
        X = self._checked_X(X)
        eta = np.asarray(X @ self.coef_ + self.intercept_, dtype=float)
        off = _check_offset(offset, X.shape[0])
        return eta if off is None else eta + off

    def to_onnx(self, path=None, offset: bool | None = None):
        """``predict`` as an ONNX model: input ``X`` (n x n_features_in_, float64) and,
        when ``offset`` (default: when the fit had one), ``offset`` (n,). Outputs: the
        regressor's and the binary classifier's ``mu`` (the mean; the probability of
        ``classes_[1]``) and ``eta``; a multi-class classifier's ``probabilities``
        (n x K, ``predict_proba``), ``label`` (``predict``) and ``eta`` (n x K). Needs
        ``pip install 'glmkit[onnx]'``."""
        from ..export_onnx import onnx_model

        check_is_fitted(self, "coef_")
        if offset is None:
            offset = getattr(self, "_offset_fitted", False)
        coef = np.asarray(self.coef_, dtype=float)
        names = getattr(self, "feature_names_in_",
                        [f"x{j}" for j in range(self.n_features_in_)])
        if coef.ndim == 2 and coef.shape[0] > 1:
            from ..export_onnx import softmax_model

            proto = softmax_model(coef, np.asarray(self.intercept_, dtype=float),
                                  self.classes_, list(names), offset=bool(offset),
                                  doc=f"glmkit {type(self).__name__}")
        else:
            proto = onnx_model(coef.ravel(), self.family_.link, list(names),
                               offset=bool(offset), doc=f"glmkit {type(self).__name__}",
                               intercept=float(np.ravel(self.intercept_)[0]))
        if path is not None:
            import onnx

            onnx.save(proto, str(path))
        return proto

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class GLMRegressor(RegressorMixin, _GLMEstimator):
    """A generalized linear model as a scikit-learn regressor, fitted by glmkit.

    Parameters
    ----------
    family : {'normal', 'poisson', 'gamma', 'inverse.gaussian', 'tweedie',
        'negative.binomial'} or a glmkit family instance (then ``link`` must be None).
    link : None (the family's default; log for gamma and inverse.gaussian, as
        scikit-learn), a glmkit link or one of 'identity', 'log', 'logit', 'probit',
        'cloglog', 'loglog', 'cauchit', 'inverse', '1/mu^2', 'sqrt' (R's names).
    alpha : float, penalty strength (0: maximum likelihood, ``GLM(...).fit()``).
    l1_ratio : float in [0, 1], the lasso share of the penalty (glmkit's ``L1_wt``).
    fit_intercept : bool, add a ``const`` column first (never penalized).
    penalty_weights : per-column penalty factors (glmnet's penalty.factor), alpha > 0.
    bounds : (lower, upper) limits of the coefficients (glmnet's), fitted penalized.
    max_iter : int, most IRLS iterations (passes over the rows).
    tol : None (glmkit's defaults: 1e-8 on the deviance for ``fit``, 1e-10 on the KKT
        conditions for penalized fits) or a positive number.
    power : Tweedie variance power for ``family='tweedie'`` (default 1.5).
    theta : negative binomial theta (Var = mu + mu^2 / theta); None estimates it by
        maximum likelihood (MASS's glm.nb) when ``alpha=0``.

    Attributes
    ----------
    coef_, intercept_, n_iter_, n_features_in_, feature_names_in_ : as scikit-learn.
    results_ : the glmkit results of the fit (``GLMResults`` with bse, conf_int,
        summary, ... for alpha=0; ``RegularizedResults`` for penalized fits).
    family_ : the glmkit family fitted.
    """

    def __init__(self, family: Any = "normal", link: Any = None, alpha: float = 0.0,
                 l1_ratio: float = 0.0, fit_intercept: bool = True, penalty_weights=None,
                 bounds=None, max_iter: int = 100, tol: float | None = None,
                 power: float | None = None, theta: float | None = None):
        self.family = family
        self.link = link
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.penalty_weights = penalty_weights
        self.bounds = bounds
        self.max_iter = max_iter
        self.tol = tol
        self.power = power
        self.theta = theta

    def fit(self, X, y, sample_weight=None, offset=None):
        """Fit to X (n x p) and y (n,); ``sample_weight`` are frequency weights,
        ``offset`` (n,) is added to the linear predictor (``GLM(..., offset=)``; for an
        exposure, ``offset=np.log(exposure)``)."""
        self._check_params()
        family = _regression_family(self.family, self.link, self.power, self.theta)
        X, y, sw, off = self._regression_inputs(X, y, sample_weight, offset)
        self._fit_glm(X, y, family, sw, off)
        self._offset_fitted = off is not None
        return self

    def predict(self, X, offset=None) -> np.ndarray:
        """The fitted mean E[y | X] = link^-1(X coef_ + intercept_ + offset) (no offset:
        0, as glum)."""
        check_is_fitted(self, "coef_")
        return np.asarray(self.family_.link.inverse(self._linear_predictor(X, offset)),
                          dtype=float)

    def score(self, X, y, sample_weight=None, offset=None) -> float:
        """D^2: 1 - D(y, mu) / D(y, mean(y)), the family's deviance with ``sample_weight``
        (``PoissonRegressor.score``; R^2 for the normal family); mu with ``offset``."""
        from ..checks import d2_score

        return d2_score(y, self.predict(X, offset), self.family_, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        fam = self.family
        tags.target_tags.positive_only = fam in ("poisson", "gamma", "inverse.gaussian",
                                                 "tweedie", "negative.binomial") or (
            isinstance(fam, families.Family) and not isinstance(fam, families.Gaussian))
        return tags


class GLMClassifier(ClassifierMixin, _GLMEstimator):
    """A binomial GLM (or, for more classes, a multinomial logit) as a scikit-learn
    classifier.

    Parameters
    ----------
    link : 'logit' (default), 'probit', 'cloglog', 'loglog', 'cauchit' or a glmkit link.
    alpha, l1_ratio, fit_intercept, penalty_weights, bounds, max_iter, tol : as
        :class:`GLMRegressor`; ``LogisticRegression(C=C)`` is ``alpha = 1 / (C N)``.

    Attributes
    ----------
    classes_ : the sorted classes; the second is the "event" of the binomial fit.
    coef_ : (1, p) for two classes, (K, p) for K > 2: with alpha = 0 the first row (the
        reference) is zeros; with alpha > 0 one vector per class (glmnet's symmetric
        parametrization, intercepts centered to sum 0).
    intercept_ : (1,) or (K,).
    results_ : ``GLMResults`` (binary, alpha=0), ``RegularizedResults`` (binary,
        penalized), ``MNLogitResults`` (K > 2, alpha=0) or ``PenalizedMNLogitResults``
        (K > 2, alpha > 0: ``coefficients``, ``kkt``, ``converged``, ``predict``).

    Notes
    -----
    More than two classes need the logit link and no bounds. With alpha = 0 they are
    glmkit's ``MNLogit`` (standard errors and all); with alpha > 0 the elastic-net
    multinomial of glmnet (``type.multinomial='ungrouped'``) and scikit-learn's
    multinomial ``LogisticRegression`` (``C = 1 / (alpha N)``), every class's vector
    penalized, the intercepts not (:mod:`glmkit.models.multinomial_penalized`). An
    ``offset`` is for two classes only.
    """

    def __init__(self, link: Any = "logit", alpha: float = 0.0, l1_ratio: float = 0.0,
                 fit_intercept: bool = True, penalty_weights=None, bounds=None,
                 max_iter: int = 100, tol: float | None = None):
        self.link = link
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.penalty_weights = penalty_weights
        self.bounds = bounds
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, X, y, sample_weight=None, offset=None):
        """Fit to X (n x p) and class labels y (n,); ``sample_weight`` frequency weights;
        ``offset`` (n,) added to the linear predictor (two classes only)."""
        self._check_params()
        link = _link(self.link)
        X, y = validate_data(self, X, y, dtype=np.float64, accept_sparse=_SPARSE,
                             multi_output=False)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        K = len(self.classes_)
        if K < 2:
            raise ValueError(f"GLMClassifier needs at least two classes in y; got one "
                             f"class: {self.classes_[0]!r}.")
        sw = _class_weights(sample_weight, X, codes, K)
        off = _check_offset(offset, X.shape[0])
        if K == 2:
            self._fit_glm(X, codes.astype(float), families.Binomial(link), sw, off)
            self._binary_rows(off)
        else:
            _no_multiclass_offset(off, K)
            self._fit_multinomial(X, codes, sw)
            self._offset_fitted = False
        return self

    def _multinomial_ok(self) -> bool:
        """Whether more than two classes can be fitted: the logit link, no bounds."""
        link = self.link
        logit = link == "logit" if isinstance(link, str) else isinstance(link, L.Logit)
        return logit and self.bounds is None

    def _check_multiclass(self) -> None:
        if not self._multinomial_ok():
            raise ValueError(
                f"Only binary classification is supported with bounds or a link other "
                f"than logit; y has {len(self.classes_)} classes, and more than two need "
                "link='logit' (the multinomial logit) and no bounds. For another link or "
                "bounds use sklearn.multiclass.OneVsRestClassifier(GLMClassifier(...)).")

    def _fit_multinomial(self, X, codes, sw) -> None:
        self._check_multiclass()
        _check_rows(X)
        exog = self._design(X.toarray() if sp.issparse(X) else X)
        if self.alpha > 0:
            self._fit_multinomial_penalized(exog, codes, sw)
        else:
            self._fit_mnlogit(exog, codes, sw)

    def _set_multinomial(self, B: np.ndarray, res) -> None:
        """coef_, intercept_ (from the K x p coefficients B), results_, n_iter_."""
        self.results_ = res
        self.n_iter_ = max(int(getattr(res, "n_iter", 0) or 0), 1)
        self.family_ = None
        if self.fit_intercept:
            self.intercept_, self.coef_ = B[:, 0].copy(), B[:, 1:].copy()
        else:
            self.intercept_, self.coef_ = np.zeros(B.shape[0]), B

    def _fit_mnlogit(self, exog, codes, sw) -> None:
        """alpha = 0: glmkit's MNLogit (first class the reference)."""
        from ..models import MNLogit

        if self.penalty_weights is not None:
            raise ValueError("penalty_weights need alpha > 0.")
        kw: dict[str, Any] = {} if self.tol is None else {"tol": float(self.tol)}
        res = MNLogit(codes, exog, weights=sw).fit(maxiter=int(self.max_iter), **kw)
        B = np.asarray(res.params, dtype=float)            # p x (K - 1)
        self._set_multinomial(np.column_stack([np.zeros(B.shape[0]), B]).T, res)

    def _fit_multinomial_penalized(self, exog, codes, sw) -> None:
        """alpha > 0: glmnet's ungrouped multinomial (one vector per class, intercepts
        centered)."""
        from ..models.multinomial_penalized import fit_multinomial_penalized

        kw: dict[str, Any] = {} if self.tol is None else {"tol": float(self.tol)}
        res = fit_multinomial_penalized(exog.to_numpy(), codes, list(self.classes_),
                                        float(self.alpha), float(self.l1_ratio), sw,
                                        self.penalty_weights, list(exog.columns),
                                        max_iter=int(self.max_iter), **kw)
        if not res.converged:
            from ..exceptions import ConvergenceWarning

            warnings.warn(f"the penalized multinomial fit did not converge (KKT violation "
                          f"{res.kkt:.3g}); raise max_iter.", ConvergenceWarning,
                          stacklevel=4)
        self._set_multinomial(res.coefficients.to_numpy().copy(), res)

    def _linear_predictor(self, X, offset=None) -> np.ndarray:
        check_is_fitted(self, "coef_")
        X = self._checked_X(X)
        eta = np.asarray(X @ self.coef_.T + self.intercept_, dtype=float)
        off = _check_offset(offset, X.shape[0])
        if off is None:
            return eta
        _no_multiclass_offset(off, len(self.classes_))
        return eta + off[:, None]

    def predict_proba(self, X, offset=None) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        check_is_fitted(self, "coef_")
        eta = self._linear_predictor(X, offset)
        if len(self.classes_) == 2:
            p = np.asarray(self.family_.link.inverse(eta[:, 0]), dtype=float)
            return np.column_stack([1.0 - p, p])
        eta = eta - eta.max(axis=1, keepdims=True)
        ex = np.exp(eta)
        return ex / ex.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X, offset=None) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X, offset))

    def decision_function(self, X, offset=None) -> np.ndarray:
        """Binary: the log-odds of ``classes_[1]`` (the linear predictor for the logit
        link), shape (n,); multi-class: the linear predictors, shape (n, K)."""
        check_is_fitted(self, "coef_")
        eta = self._linear_predictor(X, offset)
        if len(self.classes_) > 2:
            return eta
        if isinstance(self.family_.link, L.Logit):
            return eta[:, 0]
        p = np.asarray(self.family_.link.inverse(eta[:, 0]), dtype=float)
        with np.errstate(divide="ignore"):
            return np.log(p) - np.log1p(-p)

    def predict(self, X, offset=None) -> np.ndarray:
        """The most probable class."""
        d = self.decision_function(X, offset)
        if d.ndim == 1:
            return self.classes_[(d > 0).astype(int)]
        return self.classes_[np.argmax(d, axis=1)]

    def score(self, X, y, sample_weight=None, offset=None) -> float:
        """Accuracy (scikit-learn's), of predictions with ``offset``."""
        from sklearn.metrics import accuracy_score

        return float(accuracy_score(y, self.predict(X, offset), sample_weight=sample_weight))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = self._multinomial_ok()
        return tags

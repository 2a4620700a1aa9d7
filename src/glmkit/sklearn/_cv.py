"""GLMRegressorCV and GLMClassifierCV: the penalty chosen by cross-validated deviance."""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from .. import families
from ._estimators import (
    _SPARSE,
    GLMClassifier,
    GLMRegressor,
    _check_offset,
    _check_rows,
    _class_weights,
    _GLMEstimator,
    _link,
    _no_multiclass_offset,
    _regression_family,
)

__all__ = ["GLMClassifierCV", "GLMRegressorCV"]


# ------------------------------------------------------------ cross-validated penalty
class _CVFit(_GLMEstimator):
    """The penalty chosen by K-fold cross-validated deviance over the path (cv.glmnet)."""

    alphas: Any
    n_alphas: int
    alpha_min_ratio: float | None
    cv: Any
    random_state: Any
    select: str

    def _folds(self, X, y) -> dict:
        """cross_validate's fold arguments: an int is n_folds at random (random_state),
        a splitter or an iterable of (train, test) must give each row one test fold."""
        from sklearn.model_selection import check_cv
        from sklearn.utils import check_random_state

        if self.select not in ("min", "1se"):
            raise ValueError(f"select must be 'min' or '1se', got {self.select!r}.")
        cv = self.cv
        if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
            if not 2 <= cv <= X.shape[0]:
                raise ValueError(f"cv={cv} folds need 2 <= cv <= n_samples = {X.shape[0]}.")
            rs = self.random_state
            seed = rs if rs is None or isinstance(rs, numbers.Integral) else \
                int(check_random_state(rs).randint(2 ** 31 - 1))
            return {"n_folds": int(cv), "seed": seed}
        folds = np.full(X.shape[0], -1)
        for k, (_, test) in enumerate(check_cv(cv).split(X, y)):
            if np.any(folds[test] >= 0):
                raise ValueError("cv's test folds overlap: each row must be in one test fold.")
            folds[test] = k
        if np.any(folds < 0):
            raise ValueError("cv's test folds leave rows out: each row must be in one test "
                             "fold (K-fold splits).")
        return {"folds": folds}

    def _fit_cv(self, X, y, family, sw, offset=None) -> None:
        from ..crossval import cross_validate

        folds = self._folds(X, y)
        model = self._model(X, y, family, sw, offset)   # the folds keep their offsets
        alphas = None if self.alphas is None else np.asarray(self.alphas, dtype=float)
        path = self._path(model, alphas, n_alphas=int(self.n_alphas),
                          alpha_min_ratio=self.alpha_min_ratio)
        kw: dict[str, Any] = {} if self.tol is None else {"tol": float(self.tol)}
        cv = cross_validate(model, **folds, alphas=path.alphas,
                            L1_wt=float(self.l1_ratio), penalty_weights=self.penalty_weights,
                            bounds=self.bounds, max_iter=int(self.max_iter), **kw)
        self.cv_results_ = cv
        self.alphas_ = cv.alphas
        self.deviance_path_ = (cv.fold_deviance / cv.fold_weight[:, None]).T
        self.alpha_ = cv.alpha_min if self.select == "min" else cv.alpha_1se
        res = path.fit_at(self.alpha_)
        self._set_fit(res, self._penalized_params(res), family)


class GLMRegressorCV(_CVFit, GLMRegressor):
    """:class:`GLMRegressor` with ``alpha`` chosen by K-fold cross-validated deviance over
    the penalty path (glmnet's ``cv.glmnet``).

    Parameters
    ----------
    alphas : None (``n_alphas`` from alpha_max down by ``alpha_min_ratio``, glmnet's
        sequence) or the penalties to try.
    cv : number of folds (assigned at random, seeded by ``random_state``), or a
        scikit-learn splitter / iterable of (train, test) whose test sets partition the rows.
    select : 'min' (the smallest mean deviance, glmnet's lambda.min) or '1se' (the
        largest alpha within one standard error of it, lambda.1se).
    Others as :class:`GLMRegressor` (``l1_ratio`` default 1: the lasso).

    Attributes
    ----------
    alpha_, alphas_, deviance_path_ (n_alphas x cv, mean deviance of each fold),
    cv_results_ (:class:`glmkit.crossval.CrossValidationResults`), and those of
    :class:`GLMRegressor` for the fit at ``alpha_``.
    """

    def __init__(self, family: Any = "normal", link: Any = None, l1_ratio: float = 1.0,
                 alphas=None, n_alphas: int = 100, alpha_min_ratio: float | None = None,
                 cv: Any = 5, random_state=None, select: str = "min",
                 fit_intercept: bool = True, penalty_weights=None, bounds=None,
                 max_iter: int = 100, tol: float | None = None, power: float | None = None,
                 theta: float | None = None):
        self.family = family
        self.link = link
        self.l1_ratio = l1_ratio
        self.alphas = alphas
        self.n_alphas = n_alphas
        self.alpha_min_ratio = alpha_min_ratio
        self.cv = cv
        self.random_state = random_state
        self.select = select
        self.fit_intercept = fit_intercept
        self.penalty_weights = penalty_weights
        self.bounds = bounds
        self.max_iter = max_iter
        self.tol = tol
        self.power = power
        self.theta = theta

    def fit(self, X, y, sample_weight=None, offset=None):
        """Choose alpha by cross-validation, then fit at it on all rows (``offset`` as
        :meth:`GLMRegressor.fit`; each fold keeps its rows' offsets)."""
        self._check_params()
        family = _regression_family(self.family, self.link, self.power, self.theta)
        X, y, sw, off = self._regression_inputs(X, y, sample_weight, offset)
        self._fit_cv(X, y, family, sw, off)
        self._offset_fitted = off is not None
        return self


class GLMClassifierCV(_CVFit, GLMClassifier):
    """:class:`GLMClassifier` with ``alpha`` chosen by K-fold cross-validated deviance
    over the penalty path; parameters and attributes as :class:`GLMRegressorCV`. Two
    classes: the binomial GLM's path (``cross_validate``); more: the penalized
    multinomial logit's (:mod:`glmkit.models.multinomial_cv`, cv.glmnet's
    ``family='multinomial'``; logit link, no bounds, no offset)."""

    def _fit_cv_multinomial(self, X, codes, sample_weight, offset) -> None:
        """K > 2: the penalized multinomial logit's path, cross-validated
        (:func:`glmkit.models.multinomial_cv.cv_multinomial`), then its fit at alpha_."""
        from ..crossval import _fold_ids
        from ..models.multinomial_cv import cv_multinomial

        K = len(self.classes_)
        self._check_multiclass()
        _no_multiclass_offset(_check_offset(offset, X.shape[0]), K)
        sw = _class_weights(sample_weight, X, codes, K)
        _check_rows(X)
        f = self._folds(X, codes)
        folds = _fold_ids(X.shape[0], f.get("n_folds", 0), f.get("seed"), f.get("folds"))
        exog = self._design(X.toarray() if sp.issparse(X) else X)
        kw: dict[str, Any] = {} if self.tol is None else {"tol": float(self.tol)}
        cv, path = cv_multinomial(exog.to_numpy(), codes, list(self.classes_), folds,
                                  float(self.l1_ratio), sw, self.alphas, int(self.n_alphas),
                                  self.alpha_min_ratio, self.penalty_weights,
                                  list(exog.columns), int(self.max_iter), **kw)
        self.cv_results_ = cv
        self.alphas_ = cv.alphas
        self.deviance_path_ = (cv.fold_deviance / cv.fold_weight[:, None]).T
        self.alpha_ = cv.alpha_min if self.select == "min" else cv.alpha_1se
        res = path[int(np.flatnonzero(cv.alphas == self.alpha_)[0])]
        self._set_multinomial(res.coefficients.to_numpy().copy(), res)
        self._offset_fitted = False

    def __init__(self, link: Any = "logit", l1_ratio: float = 1.0, alphas=None,
                 n_alphas: int = 100, alpha_min_ratio: float | None = None, cv: Any = 5,
                 random_state=None, select: str = "min", fit_intercept: bool = True,
                 penalty_weights=None, bounds=None, max_iter: int = 100,
                 tol: float | None = None):
        self.link = link
        self.l1_ratio = l1_ratio
        self.alphas = alphas
        self.n_alphas = n_alphas
        self.alpha_min_ratio = alpha_min_ratio
        self.cv = cv
        self.random_state = random_state
        self.select = select
        self.fit_intercept = fit_intercept
        self.penalty_weights = penalty_weights
        self.bounds = bounds
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, X, y, sample_weight=None, offset=None):
        """Choose alpha by cross-validation, then fit at it on all rows (``offset`` as
        :meth:`GLMRegressor.fit`; each fold keeps its rows' offsets)."""
        self._check_params()
        link = _link(self.link)
        X, y = validate_data(self, X, y, dtype=np.float64, accept_sparse=_SPARSE,
                             multi_output=False)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) > 2:
            self._fit_cv_multinomial(X, codes, sample_weight, offset)
            return self
        sw = _class_weights(sample_weight, X, codes, 2)
        off = _check_offset(offset, X.shape[0])
        self._fit_cv(X, codes.astype(float), families.Binomial(link), sw, off)
        self._binary_rows(off)
        return self

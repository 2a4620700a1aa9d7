"""L1-penalized multinomial logit: statsmodels' ``MNLogit.fit_regularized`` (the
objective and the certificate of :mod:`glmkit.models.l1`). A scalar alpha penalizes
every coefficient, the constants included (statsmodels'); an array holds one value per
coefficient, shaped as ``params`` (columns x (categories - 1)) or flat equation-major."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .l1 import IGNORED, check_alpha, check_l1_method, fit_l1, l1_covariance
from .l1_results import L1Results


def fit_regularized(model, evaluate, start_params: Any, method: str, maxiter: Any,
                    alpha: Any, tol: float, kwargs: dict):
    """``evaluate(flat)`` gives (llf, score, information) at equation-major coefficients."""
    check_l1_method(method)
    unknown = sorted(set(kwargs) - IGNORED)
    if unknown:
        raise TypeError(f"fit_regularized() got unexpected keyword argument(s) {unknown}.")
    p, J = model.K, model.J
    k = p * (J - 1)
    a = check_alpha(alpha, k)          # (p, J-1) in F order = equation-major
    inp = model.inputs
    if start_params is None:
        start = model.fit()._fit.params
    else:
        start = model._flat(start_params)
    iters = 200 if maxiter == "defined_by_method" else int(maxiter)
    fit = fit_l1(evaluate, start, a, iters, tol)
    labelled = inp.pandas

    def shape(flat: np.ndarray):
        mat = flat.reshape(J - 1, p).T
        return pd.DataFrame(mat, index=model.exog_names, columns=list(range(J - 1))) \
            if labelled else mat

    def frame(c: np.ndarray):
        if not labelled:
            return c
        idx = pd.MultiIndex.from_product([[str(v) for v in inp.levels[1:]], model.exog_names])
        return pd.DataFrame(c, index=idx, columns=idx)

    def ci_frame(ci: np.ndarray):
        if not labelled:
            return ci.reshape(J - 1, p, 2)
        idx = pd.MultiIndex.from_product([[str(v) for v in inp.levels[1:]], model.exog_names])
        return pd.DataFrame(ci, index=idx, columns=["lower", "upper"])

    names = [f"{inp.levels[j]}:{nm}" for j in range(1, J) for nm in model.exog_names]
    return L1MNLogitResults(model, fit, fit.params.copy(), l1_covariance(fit), a, shape,
                            frame, ci_frame, names=names)


class L1MNLogitResults(L1Results):
    """An L1-penalized multinomial logit (statsmodels' ``L1MultinomialResults``): the
    members of :class:`L1Results`, and predictions at the penalized coefficients."""

    def predict(self, exog: Any = None, which: str = "mean"):
        """``MNLogit.predict`` at the penalized coefficients (n x J probabilities)."""
        return self.model.predict(self._params.reshape(self.model.J - 1, -1).T, exog, which)

    def pred_table(self) -> np.ndarray:
        """Counts of observed (rows) by predicted (columns, the most probable) category
        at the penalized coefficients; frequency weights count."""
        from .multinomial_results import prediction_table

        inp = self.model.inputs
        return prediction_table(inp.codes, np.asarray(self.predict()), inp.weights)

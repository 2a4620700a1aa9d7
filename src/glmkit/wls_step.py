"""IRLS's weighted least-squares problem at the estimates: ``fit(attach_wls=True)``.

statsmodels keeps the WLS results of IRLS's last iteration as ``results.results_wls``.
glmkit's IRLS does not build a least-squares model per iteration; with ``attach_wls=True``
the results form the same problem at the final estimates on first use: the working
response z = eta - offset + (y - mu) g'(mu) regressed on the design with the working
weights w. Its coefficients are one more IRLS step from the estimates, equal to
``results.params`` within the fit's convergence tolerance. Names mean what they mean on
statsmodels' WLS results; ``wls_method`` ('lstsq', 'pinv', 'qr') chooses the solve, and
'pinv' keeps ``model.pinv_wexog`` as statsmodels' WLS does.
"""
from __future__ import annotations

import numpy as np


class WLSStep:
    """The weighted least-squares model: ``endog`` z, ``exog`` X, ``weights`` w, and the
    whitened ``wendog`` = sqrt(w) z and ``wexog`` = sqrt(w) X."""

    def __init__(self, endog, exog, weights):
        self.endog, self.exog, self.weights = endog, exog, weights
        root = np.sqrt(weights)
        self.wendog = root * endog
        self.wexog = root[:, None] * exog
        self.nobs = float(exog.shape[0])

    def fit(self, method: str = "lstsq") -> WLSStepResults:
        if method == "pinv":
            self.pinv_wexog = np.linalg.pinv(self.wexog)
            params = self.pinv_wexog @ self.wendog
        elif method == "qr":
            q, r = np.linalg.qr(self.wexog)
            params = np.linalg.solve(r, q.T @ self.wendog)
        else:
            params = np.linalg.lstsq(self.wexog, self.wendog, rcond=None)[0]
        return WLSStepResults(self, params)


class WLSStepResults:
    """statsmodels' WLS results' core members: ``params``, ``fittedvalues``, ``resid``,
    ``wresid``, ``ssr``, ``df_resid``, ``scale``, ``normalized_cov_params``,
    ``cov_params()`` and ``bse``."""

    def __init__(self, model: WLSStep, params):
        self.model = model
        self.params = params
        self.fittedvalues = model.exog @ params
        self.resid = model.endog - self.fittedvalues
        self.wresid = model.wendog - model.wexog @ params
        self.ssr = float(self.wresid @ self.wresid)
        rank = np.linalg.matrix_rank(model.wexog)
        self.df_model = float(rank - 1)
        self.df_resid = model.nobs - rank
        self.scale = self.ssr / self.df_resid
        self.normalized_cov_params = np.linalg.pinv(model.wexog.T @ model.wexog)

    def cov_params(self):
        return self.scale * self.normalized_cov_params

    @property
    def bse(self):
        return np.sqrt(np.diag(self.cov_params()))


def wls_step(results) -> WLSStepResults:
    """The WLS problem of IRLS at ``results``' estimates, solved with its ``wls_method``."""
    model = results.model
    if getattr(model, "_lazy", False):
        raise NotImplementedError("results_wls needs the rows in memory; it is not formed "
                                  "for data on Dask or Parquet.")
    r = results._solver_result
    keep = ~np.asarray(r.aliased)
    X = model.exog
    X = np.asarray(X.to_dense() if hasattr(X, "to_dense") else X, dtype=float)[:, keep]
    link = model.family.link
    mu, eta = np.asarray(r.mu), np.asarray(r.eta)
    z = eta - np.asarray(model.problem.offset) + (np.asarray(model.problem.y) - mu) * link.deriv(mu)
    step = WLSStep(z, X, np.asarray(r.working_weights, dtype=float))
    return step.fit(results.mle_settings.get("wls_method", "lstsq"))

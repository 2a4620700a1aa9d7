"""Ordinal regression (cumulative link models): R's ``MASS::polr`` and statsmodels'
``OrderedModel``, fitted by Newton's method with analytic derivatives.

Conventions
-----------
- P(Y <= k | x) = F(zeta_k - eta), eta = x' beta + offset, k = 0..K-2, as MASS::polr
  (a positive coefficient moves the response up); no intercept in eta.
- ``polr`` parameters are (beta, zeta), as R's ``c(coef(fit), fit$zeta)`` and ``vcov``.
- ``OrderedModel`` parameters are statsmodels': (beta, zeta_0, log(zeta_1 - zeta_0), ...,
  log(zeta_{K-2} - zeta_{K-3})); its covariance is the delta-method transform.
- Frequency weights: weight k equals k repeated rows.
"""
from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np

from ..exceptions import ConvergenceWarning, PerfectSeparationWarning
from ._cdfs import DISTRIBUTIONS, LatentDistribution
from ._frame import (
    Inputs,
    check_fit_keywords,
    check_rank,
    check_weights,
    from_arrays,
    from_formula,
)
from ._newton import maximize
from ._results import FitStats
from .ordinal_results import OrderedResults
from .ordinal_terms import _row_terms, to_statsmodels

__all__ = ["OrderedModel", "ordinal_evaluate", "polr"]

Method = Literal["logistic", "probit", "cloglog", "loglog", "cauchit"]
CHUNK = 65536
_SM_DISTR = {"logit": "logistic", "probit": "probit", "cloglog": "cloglog",
             "loglog": "loglog", "cauchit": "cauchit"}


def ordinal_evaluate(theta: np.ndarray, X: np.ndarray, codes: np.ndarray,
                     w: np.ndarray | None, K: int, dist: LatentDistribution,
                     offset: np.ndarray | None = None, bound: float = np.inf):
    """(llf, score, information) at theta = (beta, zeta) in one pass over the rows.

    Notes
    -----
    With a_i = zeta_{y_i} - eta_i and b_i = zeta_{y_i - 1} - eta_i, the row's log-likelihood
    is log(F(a) - F(b)); a depends on beta through -x and on zeta_{y_i}, b through -x and
    zeta_{y_i - 1}. The Hessian is sum l_aa u u' + l_bb v v' + l_ab (u v' + v u') with u, v
    the gradients of a and b: the observed information is its negative.
    """
    n, p = X.shape
    m = K - 1
    llf = 0.0
    s_beta = np.zeros(p)
    s_zeta = np.zeros(m)
    H = np.zeros((p + m, p + m))
    idx = np.arange(m)
    for s in range(0, n, CHUNK):
        Xc, c = X[s:s + CHUNK], codes[s:s + CHUNK]
        wc = np.ones(c.shape[0]) if w is None else w[s:s + CHUNK]
        oc = None if offset is None else offset[s:s + CHUNK]
        logP, ga, gb, l_aa, l_bb, l_ab = _row_terms(theta, Xc, c, oc, K, dist, bound)
        if not np.all(np.isfinite(logP[wc > 0])):
            return -np.inf, np.full(p + m, np.nan), np.full((p + m, p + m), np.nan)
        llf += float(wc @ np.where(wc > 0, logP, 0.0))
        s_beta -= Xc.T @ (wc * (ga - gb))
        up = c < m          # rows with an upper threshold zeta_y
        lo = c > 0          # rows with a lower threshold zeta_{y-1}
        s_zeta += np.bincount(c[up], (wc * ga)[up], minlength=m)[:m]
        s_zeta -= np.bincount(c[lo] - 1, (wc * gb)[lo], minlength=m)[:m]
        H[:p, :p] += Xc.T @ (Xc * (wc * (l_aa + l_bb + 2.0 * l_ab))[:, None])
        C = np.zeros((c.shape[0], m))
        C[up, c[up]] += (wc * (l_aa + l_ab))[up]
        C[lo, c[lo] - 1] += (wc * (l_bb + l_ab))[lo]
        H[:p, p:] -= Xc.T @ C
        H[p + idx, p + idx] += C.sum(axis=0) - np.bincount(
            c[up & lo], (wc * l_ab)[up & lo], minlength=m)[:m] - np.bincount(
            c[up & lo] - 1, (wc * l_ab)[up & lo], minlength=m)[:m]
        off = np.bincount(c[up & lo], (wc * l_ab)[up & lo], minlength=m)[1:m]
        H[p + idx[1:], p + idx[:-1]] += off
        H[p + idx[:-1], p + idx[1:]] += off
    H[p:, :p] = H[:p, p:].T
    return llf, np.concatenate([s_beta, s_zeta]), -H


def _start(inp: Inputs, dist: LatentDistribution) -> tuple[np.ndarray, float]:
    """beta = 0 and the thresholds of the null model (its maximum, in closed form)."""
    K = len(inp.levels)
    counts = np.bincount(inp.codes, weights=inp.weights, minlength=K).astype(float)
    if np.any(counts == 0):
        empty = [inp.levels[i] for i in np.nonzero(counts == 0)[0]]
        raise ValueError(f"categories {empty} of the response have no rows (or zero weight).")
    n = counts.sum()
    zeta = dist.ppf(np.cumsum(counts)[:-1] / n)
    return np.concatenate([np.zeros(inp.X.shape[1]), zeta]), float(counts @ np.log(counts / n))


def fit_ordinal(inp: Inputs, dist: LatentDistribution, offset: np.ndarray | None,
                model_name: str, maxiter: int = 200, tol: float = 1e-8, start_params=None):
    """(Newton result, llnull) of a cumulative link model in (beta, zeta)."""
    X, K = inp.X, len(inp.levels)
    n = X.shape[0]
    if X.shape[1]:
        check_rank(np.column_stack([np.ones(n), X]), ["(thresholds)"] + inp.exog_names,
                   inp.weights)
    start, llnull = _start(inp, dist)
    if start_params is not None:
        start = np.asarray(start_params, dtype=float)
    res = maximize(lambda t: ordinal_evaluate(t, X, inp.codes, inp.weights, K, dist, offset),
                   start, maxiter, tol)
    if res.separated:
        warnings.warn(f"{model_name}: {res.message}.", PerfectSeparationWarning, stacklevel=3)
    elif not res.converged:
        warnings.warn(f"{model_name}: {res.message} (Newton criterion {res.criterion:.3g}); "
                      "the response may be separated by the covariates.",
                      ConvergenceWarning, stacklevel=3)
    if offset is not None:  # the null model with an offset: fit the thresholds alone
        null_in = Inputs(inp.codes, inp.levels, np.zeros((n, 0)), [], inp.weights,
                         inp.endog_name)
        r0 = maximize(lambda t: ordinal_evaluate(t, null_in.X, inp.codes, inp.weights, K,
                                                 dist, offset), _start(null_in, dist)[0])
        llnull = r0.llf
    return res, llnull


def _inverse(info: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return np.full_like(info, np.nan)


def _nobs(inp: Inputs) -> float:
    return float(inp.codes.shape[0] if inp.weights is None else inp.weights.sum())


def from_statsmodels(params: np.ndarray, p: int) -> np.ndarray:
    params = np.asarray(params, dtype=float)
    th = params[p:]
    zeta = np.cumsum(np.concatenate([th[:1], np.exp(th[1:])]))
    return np.concatenate([params[:p], zeta])


class OrderedModel:
    """Ordinal regression as statsmodels' ``OrderedModel(endog, exog, offset, distr)``.

    ``distr`` is ``'probit'`` (statsmodels' default), ``'logit'``, or polr's ``'cloglog'``,
    ``'loglog'``, ``'cauchit'``. exog must not hold a constant (the thresholds take its
    place). Parameters: coefficients, then the first threshold and the logs of the
    threshold increments (statsmodels' layout).
    """

    def __init__(self, endog: Any, exog: Any, offset: Any = None, distr: str = "probit",
                 weights: Any = None, *, _inputs: Inputs | None = None):
        if distr not in _SM_DISTR:
            raise ValueError(f"distr must be one of {sorted(_SM_DISTR)}, got {distr!r}.")
        inp = _inputs if _inputs is not None else from_arrays(endog, exog)
        if _inputs is None and any(np.all(inp.X[:, j] == inp.X[0, j])
                                   for j in range(inp.X.shape[1])):
            raise ValueError("There should not be a constant in the model: the thresholds "
                             "take the intercept's place; drop the constant column.")
        n = inp.X.shape[0]
        if weights is not None:
            inp = Inputs(inp.codes, inp.levels, inp.X, inp.exog_names,
                         check_weights(weights, n), inp.endog_name, inp.formula_info,
                         inp.pandas)
        self.offset = None if offset is None else np.asarray(offset, dtype=float).ravel()
        if self.offset is not None and (self.offset.shape[0] != n
                                        or not np.all(np.isfinite(self.offset))):
            raise ValueError(f"offset must have {n} finite values.")
        self.inputs = inp
        self.distr = distr
        self.method = _SM_DISTR[distr]
        self.dist = DISTRIBUTIONS[self.method]
        self.labels = list(inp.levels)
        self.k_levels = len(inp.levels)
        self.k_vars = inp.X.shape[1]
        self.threshold_names = [f"{a}/{b}" for a, b in zip(self.labels[:-1], self.labels[1:])]
        self.exog_names = list(inp.exog_names) + self.threshold_names

    @classmethod
    def from_formula(cls, formula: str, data: Any, offset: Any = None, distr: str = "probit",
                     weights: Any = None) -> OrderedModel:
        """statsmodels' ``OrderedModel.from_formula``: the intercept column (if the formula
        has one) is dropped, since the thresholds take its place."""
        inp = _without_intercept(from_formula(formula, data), required=False)
        if inp.offset is not None:
            offset = inp.offset if offset is None else inp.offset + np.asarray(offset, float)
        return cls(None, None, offset=offset, distr=distr, weights=weights, _inputs=inp)

    @property
    def exog(self) -> np.ndarray:
        return self.inputs.X

    @property
    def endog(self) -> np.ndarray:
        """The response as category codes 0..k_levels-1 (statsmodels')."""
        return self.inputs.codes

    def transform_threshold_params(self, params: Any) -> np.ndarray:
        """Thresholds with -inf and inf at the ends (statsmodels')."""
        zeta = from_statsmodels(params, self.k_vars)[self.k_vars:]
        return np.concatenate([[-np.inf], zeta, [np.inf]])

    def loglike(self, params: Any) -> float:
        theta = from_statsmodels(params, self.k_vars)
        return ordinal_evaluate(theta, self.exog, self.inputs.codes, self.inputs.weights,
                                self.k_levels, self.dist, self.offset)[0]

    def fit(self, start_params: Any = None, maxiter: int = 200, tol: float = 1e-8,
            method: str = "newton", disp: Any = None, **kwargs: Any) -> OrderedResults:
        """Maximum likelihood by Newton's method (``method`` is accepted for statsmodels'
        scripts; every method gives this maximum)."""
        cov_type, cov_kwds = check_fit_keywords(method, dict(kwargs))
        p = self.k_vars
        start = None if start_params is None else from_statsmodels(start_params, p)
        res, llnull = fit_ordinal(self.inputs, self.dist, self.offset, "OrderedModel",
                                  maxiter, tol, start)
        params, J = to_statsmodels(res.params, p)
        cov = J @ _inverse(res.information) @ J.T
        fit = FitStats(params, self.exog_names, cov, res.llf, llnull, _nobs(self.inputs),
                       self.k_levels - 1, res.converged, res.n_iter, res.criterion,
                       "OrderedModel", self.inputs.endog_name)
        return OrderedResults(self, fit, res.params, r_style=False).get_robustcov_results(
            cov_type, cov_kwds)


def _without_intercept(inp: Inputs, required: bool) -> Inputs:
    if "Intercept" not in inp.exog_names:
        if required:
            raise ValueError("polr's formula needs its intercept (the thresholds take its "
                             "place): do not write '0 +' or '- 1'.")
        return inp
    keep = [j for j, nm in enumerate(inp.exog_names) if nm != "Intercept"]
    return Inputs(inp.codes, inp.levels, np.ascontiguousarray(inp.X[:, keep]),
                  [inp.exog_names[j] for j in keep], inp.weights, inp.endog_name,
                  inp.formula_info, True, inp.offset)


def polr(formula: str, data: Any, method: Method = "logistic", weights: Any = None,
         maxiter: int = 200, tol: float = 1e-8) -> OrderedResults:
    """Proportional-odds (cumulative link) regression from a formula, as ``MASS::polr``.

    Parameters
    ----------
    formula : str, ``"y ~ x1 + C(g)"``; the response's categories in order (an ordered
        pandas Categorical keeps its order; other values are sorted).
    method : ``'logistic'``, ``'probit'``, ``'cloglog'``, ``'loglog'`` or ``'cauchit'``.
    weights : frequency weights (array or column name).

    Notes
    -----
    The likelihood is the exact one. MASS::polr clips zeta - eta to [-100, 100]; that
    changes nothing for the logistic, probit, cloglog and loglog links, but for cauchit
    it gives the end categories 1/(100 pi) less probability, and its gradient does not
    match its clipped objective: on MASS's housing data R's cauchit fit is 1% from the
    maximum of the likelihood and 5e-5 from the maximum of its own clipped objective.

    Returns
    -------
    OrderedResults with ``coefficients``, ``zeta`` (thresholds named ``"a|b"``),
    ``params`` = (coefficients, zeta), ``cov_params()`` as R's ``vcov``, and
    ``predict(new_data, which='prob'|'linear'|'cumprob')``.
    """
    if method not in DISTRIBUTIONS:
        raise ValueError(f"method must be one of {list(DISTRIBUTIONS)}, got {method!r}.")
    inp = _without_intercept(from_formula(formula, data, weights), required=True)
    dist = DISTRIBUTIONS[method]
    res, llnull = fit_ordinal(inp, dist, inp.offset, "polr", maxiter, tol)
    zeta_names = [f"{a}|{b}" for a, b in zip(inp.levels[:-1], inp.levels[1:])]
    fit = FitStats(res.params, inp.exog_names + zeta_names, _inverse(res.information),
                   res.llf, llnull, _nobs(inp), len(inp.levels) - 1, res.converged,
                   res.n_iter, res.criterion, "polr", inp.endog_name)
    model = OrderedModel(None, None, offset=inp.offset, distr="logit", _inputs=inp)
    model.dist, model.method = dist, method
    return OrderedResults(model, fit, res.params, r_style=True)

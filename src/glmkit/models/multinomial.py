"""Multinomial logit: R's ``nnet::multinom`` and statsmodels' ``MNLogit``, fitted by Newton's
method on the (K-1)p block information, one pass over the rows per iteration.

Conventions
-----------
- Category 0 (the first level, or ``ref``) is the reference: log(P_j / P_0) = x' beta_j.
- The flat parameter vector is equation-major: beta_1 (p values), beta_2, ...; so is
  ``cov_params`` (statsmodels' and R's ``vcov`` order).
- ``params`` is (p x (K-1)) as statsmodels; ``coefficients`` is ((K-1) x p) as R's ``coef``.
- Frequency weights: weight k equals k repeated rows.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy.linalg.blas import dsyrk

from .._parallel import map_chunks, threads_for
from ..exceptions import ConvergenceWarning, PerfectSeparationWarning
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
from .multinomial_results import MNLogitResults

__all__ = ["MNLogit", "mnlogit_evaluate", "multinom"]

#: rows per block of a pass (bounds the temporaries at ~ CHUNK x p doubles)
CHUNK = 32768


def _softmax_parts(eta: np.ndarray):
    """(non-reference probabilities, log normalizer) of linear predictors (n, K-1), with
    the reference category's linear predictor 0; overflow-safe."""
    mx = np.maximum(eta.max(axis=1), 0.0)
    ex = np.exp(eta - mx[:, None])
    denom = np.exp(-mx) + ex.sum(axis=1)
    return ex / denom[:, None], mx + np.log(denom)


def _block_sums(B: np.ndarray, X: np.ndarray, codes: np.ndarray, w: np.ndarray | None,
                rows: tuple[int, int]):
    """(llf, score (p, K-1), information) of the rows [start, stop), block by block."""
    p, m = B.shape
    llf = 0.0
    score = np.zeros((p, m))
    info = np.zeros((m * p, m * p))
    for s in range(rows[0], rows[1], CHUNK):
        e = min(s + CHUNK, rows[1])
        Xc, c = X[s:e], codes[s:e]
        wc = np.ones(e - s) if w is None else w[s:e]
        eta = Xc @ B
        P, lse = _softmax_parts(eta)
        hit = np.nonzero(c > 0)[0]
        eta_y = np.zeros(e - s)
        eta_y[hit] = eta[hit, c[hit] - 1]
        llf += float(wc @ (eta_y - lse))
        R = -P
        R[hit, c[hit] - 1] += 1.0
        score += Xc.T @ (R * wc[:, None])
        WP = P * wc[:, None]
        for j in range(m if p else 0):
            for k in range(j, m):
                # X' diag(d) X with d >= 0 on the diagonal blocks and d <= 0 off it:
                # a symmetric rank-k update of sqrt|d| X (half a GEMM's work)
                d = WP[:, j] * ((1.0 if j == k else 0.0) - P[:, k])
                a = (Xc * np.sqrt(np.abs(d))[:, None]).T
                blk = info[j * p:(j + 1) * p, k * p:(k + 1) * p]
                blk += dsyrk(1.0 if j == k else -1.0, a, trans=0)
    for j in range(m):  # dsyrk fills the upper triangle of each block
        for k in range(j, m):
            blk = info[j * p:(j + 1) * p, k * p:(k + 1) * p]
            blk += np.triu(blk, 1).T
    return llf, score, info


def mnlogit_evaluate(params: np.ndarray, X: np.ndarray, codes: np.ndarray,
                     w: np.ndarray | None, K: int):
    """(llf, score, information) at flat ``params`` in one pass over the rows (row
    ranges on parallel threads, their sums added in a fixed order).

    Notes
    -----
    With P_ij the probability of category j (1..K-1) in row i and Y_ij its indicator,
    score_j = X' w (Y_j - P_j) and the information block (j, l) is
    X' diag(w P_j (delta_jl - P_l)) X (the observed and expected informations agree).
    """
    n, p = X.shape
    m = K - 1
    B = params.reshape(m, p).T
    k = threads_for(n * p * m)
    bounds = np.linspace(0, n, k + 1).astype(int)
    parts = map_chunks(lambda r: _block_sums(B, X, codes, w, r),
                       [(int(bounds[i]), int(bounds[i + 1])) for i in range(k)])
    llf = sum(part[0] for part in parts)
    score = sum(part[1] for part in parts)
    info = sum(part[2] for part in parts)
    for j in range(m):
        for k2 in range(j + 1, m):
            info[k2 * p:(k2 + 1) * p, j * p:(j + 1) * p] = info[j * p:(j + 1) * p,
                                                                k2 * p:(k2 + 1) * p].T
    return float(llf), np.asarray(score).T.ravel(), np.asarray(info)


def _counts(codes: np.ndarray, w: np.ndarray | None, K: int) -> np.ndarray:
    return np.bincount(codes, weights=w, minlength=K).astype(float)


#: fits of at least SUBSAMPLE_FROM rows start from a fit on SUBSAMPLE random rows: on
#: 1M x 20 with K = 5, 4 passes over all rows instead of 7 (the certificate is unchanged)
SUBSAMPLE_FROM = 200_000
SUBSAMPLE = 50_000


def _subsample_start(X: np.ndarray, codes: np.ndarray, w: np.ndarray | None, K: int,
                     start: np.ndarray) -> np.ndarray:
    n = X.shape[0]
    if n < SUBSAMPLE_FROM:
        return start
    rows = np.sort(np.random.default_rng(20150).choice(n, SUBSAMPLE, replace=False))
    c = codes[rows]
    ws = None if w is None else w[rows]
    if np.any(np.bincount(c, weights=ws, minlength=K) == 0):
        return start
    Xs = np.ascontiguousarray(X[rows])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            sub = maximize(lambda b: mnlogit_evaluate(b, Xs, c, ws, K), start, 50, 1e-6)
        except ValueError:
            return start
    return sub.params if sub.converged and np.all(np.isfinite(sub.params)) else start


def fit_inputs(inp: Inputs, model_name: str, maxiter: int = 100, tol: float = 1e-8,
               start_params: Any = None) -> FitStats:
    X, codes, w = inp.X, inp.codes, inp.weights
    K, p = len(inp.levels), X.shape[1]
    check_rank(X, inp.exog_names, w)
    counts = _counts(codes, w, K)
    if np.any(counts == 0):
        empty = [inp.levels[i] for i in np.nonzero(counts == 0)[0]]
        raise ValueError(f"categories {empty} have no rows (or zero weight).")
    if start_params is not None:
        start = np.asarray(start_params, dtype=float).reshape(p, K - 1).T.ravel()
    else:
        start = np.zeros((K - 1) * p)
        const = np.nonzero(np.all(X == 1.0, axis=0))[0]
        if len(const):  # the null model's maximum: log(n_j / n_0) on the constant
            start[np.arange(K - 1) * p + const[0]] = np.log(counts[1:] / counts[0])
        start = _subsample_start(X, codes, w, K, start)
    res = maximize(lambda b: mnlogit_evaluate(b, X, codes, w, K), start, maxiter, tol)
    if res.separated:
        warnings.warn(f"{model_name}: {res.message}.", PerfectSeparationWarning, stacklevel=3)
    elif not res.converged:
        warnings.warn(f"{model_name}: {res.message} (Newton criterion {res.criterion:.3g}); "
                      "the categories may be separated by the covariates.",
                      ConvergenceWarning, stacklevel=3)
    try:
        cov = np.linalg.inv(res.information)
    except np.linalg.LinAlgError:
        cov = np.full_like(res.information, np.nan)
    nobs = float(codes.shape[0] if w is None else w.sum())
    llnull = float(np.sum(counts * np.log(counts / nobs)))
    names = [f"{inp.levels[j]}:{nm}" for j in range(1, K) for nm in inp.exog_names]
    return FitStats(res.params, names, cov, res.llf, llnull, nobs, K - 1, res.converged,
                    res.n_iter, res.criterion, model_name, inp.endog_name)


class MNLogit:
    """Multinomial logit as statsmodels' ``MNLogit(endog, exog)``.

    Parameters
    ----------
    endog : array-like or Series of categories (numbers, text or a pandas Categorical);
        the first (sorted) category is the reference.
    exog : array-like or DataFrame (add a constant with ``glmkit.add_constant``).
    """

    def __init__(self, endog: Any, exog: Any, weights: Any = None, *,
                 _inputs: Inputs | None = None):
        inp = _inputs if _inputs is not None else from_arrays(endog, exog)
        if weights is not None:
            w = check_weights(weights, inp.X.shape[0])
            inp = Inputs(inp.codes, inp.levels, inp.X, inp.exog_names, w, inp.endog_name,
                         inp.formula_info, inp.pandas)
        self.inputs = inp
        self.J = len(inp.levels)     # statsmodels' names: J categories,
        self.K = inp.X.shape[1]      # K columns of exog
        self.exog_names = list(inp.exog_names)
        self.endog_name = inp.endog_name

    @classmethod
    def from_formula(cls, formula: str, data: Any, weights: Any = None) -> MNLogit:
        """statsmodels' ``MNLogit.from_formula``: the design of the right-hand side
        (intercept included unless dropped); results labelled as pandas inputs."""
        return cls(None, None, weights=weights, _inputs=_no_offset(from_formula(formula, data)))

    @property
    def exog(self) -> np.ndarray:
        return self.inputs.X

    @property
    def endog(self) -> np.ndarray:
        """The response as category codes 0..J-1."""
        return self.inputs.codes

    def _flat(self, params: Any) -> np.ndarray:
        """Equation-major flat parameters of (K x (J-1)) params (statsmodels' layout)."""
        return np.asarray(params, dtype=float).reshape(self.K, self.J - 1).T.ravel()

    def loglike_score_information(self, params: Any):
        """(llf, score, information) at params (K x (J-1), statsmodels' layout)."""
        return mnlogit_evaluate(self._flat(params), self.exog, self.inputs.codes,
                                self.inputs.weights, self.J)

    def loglike(self, params: Any) -> float:
        return self.loglike_score_information(params)[0]

    def loglike_and_score(self, params: Any) -> tuple[float, np.ndarray]:
        """(loglike, score) at params, statsmodels' method (both +, not negated)."""
        llf, score, _ = self.loglike_score_information(params)
        return llf, score

    def score(self, params: Any) -> np.ndarray:
        """+dllf/dparams, equation-major (statsmodels' ``MNLogit.score``)."""
        return self.loglike_score_information(params)[1]

    def hessian(self, params: Any) -> np.ndarray:
        """The Hessian (minus the information), equation-major."""
        return -self.loglike_score_information(params)[2]

    def _probs(self, params: Any, exog: Any = None) -> tuple[np.ndarray, np.ndarray]:
        X = self.exog if exog is None else np.atleast_2d(np.asarray(exog, dtype=float))
        eta = X @ self._flat(params).reshape(self.J - 1, self.K).T
        P, lse = _softmax_parts(eta)
        return np.column_stack([np.exp(-lse), P]), eta

    def predict(self, params: Any, exog: Any = None, which: str = "mean") -> np.ndarray:
        """Probabilities (n x J; ``which='mean'`` or ``'prob'``) or the linear predictors
        (n x J, the reference's zeros first; ``'linear'``) at ``params``, as statsmodels'
        ``MNLogit.predict``."""
        if which not in ("mean", "prob", "linear", "var"):
            raise ValueError(f"which must be 'mean', 'prob', 'var' or 'linear', got {which!r}.")
        P, eta = self._probs(params, exog)
        if which == "var":
            return P * (1.0 - P)
        return np.column_stack([np.zeros(eta.shape[0]), eta]) if which == "linear" else P

    def get_distribution(self, params: Any, exog: Any = None):
        """statsmodels': scipy's ``bernoulli(P)`` of each category's indicator at
        ``params``."""
        from scipy import stats

        return stats.bernoulli(self.predict(params, exog))

    def loglikeobs(self, params: Any) -> np.ndarray:
        """Each row's (weighted) log-likelihood contribution."""
        P, _ = self._probs(params)
        ll = np.log(P[np.arange(P.shape[0]), self.inputs.codes])
        w = self.inputs.weights
        return ll if w is None else w * ll

    def score_obs(self, params: Any) -> np.ndarray:
        """Each row's score (n x K(J-1)), equation-major as ``score``."""
        P, _ = self._probs(params)
        R = -P[:, 1:]
        hit = np.nonzero(self.inputs.codes > 0)[0]
        R[hit, self.inputs.codes[hit] - 1] += 1.0
        if self.inputs.weights is not None:
            R = R * self.inputs.weights[:, None]
        return (R[:, :, None] * self.exog[:, None, :]).reshape(self.exog.shape[0], -1)

    def fit(self, start_params: Any = None, maxiter: int = 100, tol: float = 1e-8,
            disp: Any = None, method: str = "newton", **kwargs: Any) -> MNLogitResults:
        """Maximum likelihood by Newton's method (``method`` is accepted for
        statsmodels' scripts; every method gives this maximum)."""
        cov_type, cov_kwds = check_fit_keywords(method, dict(kwargs))
        fit = fit_inputs(self.inputs, "MNLogit", maxiter, tol, start_params)
        res = MNLogitResults(self, fit, r_style=False)
        return res.get_robustcov_results(cov_type, cov_kwds)

    def fit_regularized(self, start_params: Any = None, method: str = "l1",
                        maxiter: Any = "defined_by_method", alpha: Any = 0,
                        tol: float = 1e-8, **kwargs: Any):
        """statsmodels' ``fit_regularized``: minimize -loglike + sum alpha |b| (alpha a
        scalar or one value per coefficient, shaped as ``params``); see
        :mod:`glmkit.models.multinomial_l1`."""
        from .multinomial_l1 import fit_regularized

        inp = self.inputs
        return fit_regularized(self, lambda b: mnlogit_evaluate(b, inp.X, inp.codes,
                                                                inp.weights, self.J),
                               start_params, method, maxiter, alpha, tol, kwargs)


def _no_offset(inp: Inputs) -> Inputs:
    if inp.offset is not None:
        raise ValueError("offset() terms are not supported by the multinomial logit (nnet's "
                         "multinom has none either).")
    return inp


def multinom(formula: str, data: Any, ref: Any = None, weights: Any = None,
             maxiter: int = 100, tol: float = 1e-8) -> MNLogitResults:
    """Multinomial logit from a formula, as R's ``nnet::multinom``.

    Parameters
    ----------
    formula : str, ``"y ~ x1 + C(g)"``; the response column holds the categories.
    data : pandas or polars DataFrame, or a dict of columns.
    ref : the reference category (default: the first level, as R).
    weights : frequency weights (array or column name).

    Returns
    -------
    MNLogitResults with ``coefficients`` ((K-1) x p, R's ``coef``), ``params``
    (p x (K-1), statsmodels' layout), ``predict(new_data, which='prob'|'linear')``.
    """
    inp = from_formula(formula, data, weights)
    _no_offset(inp)
    if ref is not None:
        if ref not in inp.levels:
            raise ValueError(f"ref={ref!r} is not a category of the response; its "
                             f"categories are {inp.levels}.")
        r = inp.levels.index(ref)
        order = [r] + [i for i in range(len(inp.levels)) if i != r]
        remap = np.empty(len(order), dtype=np.intp)
        remap[order] = np.arange(len(order))
        inp = Inputs(remap[inp.codes], [inp.levels[i] for i in order], inp.X, inp.exog_names,
                     inp.weights, inp.endog_name, inp.formula_info, True)
    model = MNLogit(None, None, _inputs=inp)
    fit = fit_inputs(inp, "multinom", maxiter, tol)
    return MNLogitResults(model, fit, r_style=True)

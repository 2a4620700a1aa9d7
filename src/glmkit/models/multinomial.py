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

from .._parallel import map_chunks, one_blas_thread, threads_for
from ..exceptions import ConvergenceWarning, PerfectSeparationWarning
from ._frame import (
    Inputs,
    check_fit_keywords,
    check_rank,
    check_weights,
    from_arrays,
    from_formula,
    ones_columns,
)
from ._newton import maximize
from ._results import FitStats
from .multinomial_results import MNLogitResults

__all__ = ["MNLogit", "mnlogit_evaluate", "multinom"]

#: rows per block of a pass: the stacked block (CHUNK x (K-1)p) stays in cache (1M x 20,
#: K = 5, one thread: 15 ms per 32,768 rows at 4,096 against 20 ms at 32,768)
CHUNK = 4096


def _softmax_parts(eta: np.ndarray):
    """(non-reference probabilities, log normalizer) of linear predictors (n, K-1), with
    the reference category's linear predictor 0; overflow-safe."""
    mx = np.maximum(eta.max(axis=1), 0.0)
    ex = np.exp(eta - mx[:, None])
    denom = np.exp(-mx) + ex.sum(axis=1)
    return ex / denom[:, None], mx + np.log(denom)


def _block_sums(B: np.ndarray, X: np.ndarray, codes: np.ndarray, w: np.ndarray | None,
                rows: tuple[int, int], low: bool, info: bool = True):
    """(llf, score ((K-1), p), Q Q', diagonal blocks ((K-1), p, p)) of the rows
    [start, stop), block by block (see :func:`mnlogit_evaluate`); the products from
    float32 blocks when ``low``, none unless ``info``. Per-row quantities are held
    category-major ((K-1) x rows) and each block of X is transposed once (p x rows), so
    that every elementwise product runs along contiguous rows."""
    p, m = B.shape
    dt = np.float32 if low else np.float64
    llf = 0.0
    score = np.zeros((m, p))
    qq = np.zeros((m * p, m * p))
    diag = np.zeros((m, p, p))
    size = min(CHUNK, rows[1] - rows[0]) if info else 0
    xbuf = np.empty((p, size), dtype=dt)
    qbuf = np.empty((m, p, size), dtype=dt)
    Bt = np.ascontiguousarray(B.T)
    levels = np.arange(1, m + 1)[:, None]
    for s in range(rows[0], rows[1], CHUNK):
        e = min(s + CHUNK, rows[1])
        Xc, c = X[s:e], codes[s:e]
        E = Bt @ Xc.T                           # (m, rows): the linear predictors
        mx = np.maximum(E.max(axis=0), 0.0)     # the reference's predictor is 0
        P = np.exp(E - mx)
        ref = np.exp(-mx)
        denom = ref + P.sum(axis=0)
        if info:
            # 1 - P_j as the sum of the other categories' terms (no cancellation as P_j
            # approaches 1, where the information vanishes)
            other = _others(P, ref)
        P /= denom
        Y = c == levels                         # (m, rows) indicators
        ll = np.einsum("jr,jr->r", E, Y)
        ll -= mx
        ll -= np.log(denom)
        R = Y - P
        wc = None if w is None else w[s:e]
        if wc is None:
            llf += float(ll.sum())
            score += R @ Xc
        else:
            llf += float(wc @ ll)
            score += (R * wc) @ Xc
        if not info:
            continue
        k = e - s
        # Xs = (sqrt(w) X)' of the block, p x rows, in the products' precision
        Xs = xbuf[:, :k]
        if wc is None:
            np.copyto(Xs, Xc.T)
        else:
            np.multiply(Xc.T, np.sqrt(wc), out=Xs)
        # off the diagonal: -(Q Q')_jl = -X' diag(w P_j P_l) X, Q = [sqrt(w) P_j X]'_j
        Q3 = np.multiply(Xs[None], P.astype(dt, copy=False)[:, None, :], out=qbuf[:, :, :k])
        Q = Q3.reshape(m * p, k)
        qq += Q @ Q.T      # one symmetric product of the stacked block (numpy: syrk)
        # on it: X' diag(w P_j (1 - P_j)) X, all j in one batched product
        d = np.sqrt(P * (other / denom)).astype(dt, copy=False)
        V = np.multiply(Xs[None], d[:, None, :], out=qbuf[:, :, :k])
        diag += np.matmul(V, V.transpose(0, 2, 1))
    return llf, score, qq, diag


def _others(P: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """For each category j of P (m x rows), ref + the sum of the other rows of P, summed
    term by term (never a total minus P_j)."""
    m = P.shape[0]
    out = np.empty_like(P)
    if m == 1:
        out[0] = ref
        return out
    ahead = ref.copy()                  # ref + P_0 + ... + P_{j-1}
    for j in range(m):
        out[j] = ahead
        ahead += P[j]
    behind = np.zeros_like(ref)         # P_{j+1} + ... + P_{m-1}
    for j in range(m - 1, -1, -1):
        out[j] += behind
        behind += P[j]
    return out


def mnlogit_evaluate(params: np.ndarray, X: np.ndarray, codes: np.ndarray,
                     w: np.ndarray | None, K: int, low: bool = False,
                     info: bool = True):
    """(llf, score, information) at flat ``params`` in one pass over the rows (row
    ranges on parallel threads, their sums added in a fixed order). ``low``: the
    information from float32 blocks (relative error ~1e-6: good for a Newton step's
    direction, not for a covariance or a certificate); llf and score stay float64.
    ``info=False``: llf and score only (the information is None), about a quarter of the
    pass's work.

    Notes
    -----
    With P_ij the probability of category j (1..K-1) in row i and Y_ij its indicator,
    score_j = X' w (Y_j - P_j) and the information block (j, l) is
    X' diag(w P_j (delta_jl - P_l)) X (the observed and expected informations agree).
    The blocks off the diagonal come from one symmetric product of the stacked
    Q = [sqrt(w) P_1 X, ..., sqrt(w) P_{K-1} X] (n x (K-1)p) rather than (K-1)(K-2)/2
    products of p columns; the diagonal blocks from one batched product of
    sqrt(w P_j (1 - P_j)) X, with 1 - P_j summed from the other categories (exact where
    P_j is near 1).
    """
    n, p = X.shape
    m = K - 1
    B = params.reshape(m, p).T
    k = threads_for(n * p * m)
    bounds = np.linspace(0, n, k + 1).astype(int)
    ranges = [(int(bounds[i]), int(bounds[i + 1])) for i in range(k)]
    if k == 1 and n > CHUNK:
        # one thread: BLAS held at one thread too (its own threads on each thin block
        # wait on scheduling: a float32 pass over 1M x 20, K = 5, on a loaded machine
        # took 26 s instead of 0.6 s)
        with one_blas_thread():
            parts = [_block_sums(B, X, codes, w, ranges[0], low, info)]
    else:
        parts = map_chunks(lambda r: _block_sums(B, X, codes, w, r, low, info), ranges)
    llf = sum(part[0] for part in parts)
    score = np.asarray(sum(part[1] for part in parts)).ravel()
    if not info:
        return float(llf), score, None
    inf = -sum(part[2] for part in parts)
    diag = sum(part[3] for part in parts)
    for j in range(m):
        blk = slice(j * p, (j + 1) * p)
        inf[blk, blk] = diag[j]
    return float(llf), score, np.asarray(0.5 * (inf + inf.T))   # exactly symmetric


def _counts(codes: np.ndarray, w: np.ndarray | None, K: int) -> np.ndarray:
    return np.bincount(codes, weights=w, minlength=K).astype(float)


#: fits of at least SUBSAMPLE_FROM rows start from a fit on SUBSAMPLE random rows, and take
#: their first step with its information (scaled to all rows): on 1M x 20 with K = 5, one
#: pass for the score, one with a float32 information and the float64 one that certifies,
#: instead of 7 passes from the null model (the certificate is unchanged)
SUBSAMPLE_FROM = 200_000
SUBSAMPLE = 50_000
SUBSAMPLE_TOL = 1e-2
#: float32 informations for the steps of fits with n p (K-1) of at least this (as the GLM's)
LOW_PRECISION_FROM = 1 << 22


def _subsample_start(X: np.ndarray, codes: np.ndarray, w: np.ndarray | None, K: int,
                     start: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(start, its approximate information or None)."""
    n = X.shape[0]
    if n < SUBSAMPLE_FROM:
        return start, None
    rows = np.sort(np.random.default_rng(20150).choice(n, SUBSAMPLE, replace=False))
    c = codes[rows]
    ws = None if w is None else w[rows]
    if np.any(np.bincount(c, weights=ws, minlength=K) == 0):
        return start, None
    Xs = np.ascontiguousarray(X[rows])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            # float32 informations throughout: the subsample's maximum is ~sqrt(n / SUBSAMPLE)
            # standard errors from the full one, so 1e-2 of its own are plenty
            sub = maximize(lambda b: mnlogit_evaluate(b, Xs, c, ws, K, True), start, 50,
                           SUBSAMPLE_TOL)
        except ValueError:
            return start, None
    if not (sub.converged and np.all(np.isfinite(sub.params))):
        return start, None
    scale = n / SUBSAMPLE if w is None else float(w.sum() / ws.sum())
    return sub.params, scale * sub.information


def fit_inputs(inp: Inputs, model_name: str, maxiter: int = 100, tol: float = 1e-8,
               start_params: Any = None) -> FitStats:
    X, codes, w = inp.X, inp.codes, inp.weights
    K, p = len(inp.levels), X.shape[1]
    check_rank(X, inp.exog_names, w)
    counts = _counts(codes, w, K)
    if np.any(counts == 0):
        empty = [inp.levels[i] for i in np.nonzero(counts == 0)[0]]
        raise ValueError(f"categories {empty} have no rows (or zero weight).")
    start_info = None
    if start_params is not None:
        start = np.asarray(start_params, dtype=float).reshape(p, K - 1).T.ravel()
    else:
        start = np.zeros((K - 1) * p)
        const = ones_columns(X)
        if len(const):  # the null model's maximum: log(n_j / n_0) on the constant
            start[np.arange(K - 1) * p + const[0]] = np.log(counts[1:] / counts[0])
        start, start_info = _subsample_start(X, codes, w, K, start)
    low = X.shape[0] * p * (K - 1) >= LOW_PRECISION_FROM
    res = maximize(lambda b: mnlogit_evaluate(b, X, codes, w, K), start, maxiter, tol,
                   evaluate_low=(lambda b: mnlogit_evaluate(b, X, codes, w, K, True))
                   if low else None,
                   start_information=start_info,
                   evaluate_score=lambda b: mnlogit_evaluate(b, X, codes, w, K,
                                                             info=False)[:2])
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
        """Equation-major flat parameters of (K x (J-1)) params (statsmodels' layout); a
        flat vector is read in statsmodels' column-major order (equation-major)."""
        return np.asarray(params, dtype=float).reshape(self.K, self.J - 1, order="F").T.ravel()

    @property
    def wendog(self) -> np.ndarray:
        """statsmodels' ``wendog``: the (n x J) indicator matrix of the observed
        categories."""
        out = np.zeros((self.inputs.codes.shape[0], self.J))
        out[np.arange(out.shape[0]), self.inputs.codes] = 1.0
        return out

    def score_factor(self, params: Any) -> np.ndarray:
        """statsmodels' ``MNLogit.score_factor``: (n x (J-1)) 1{y_i = j} - P_ij for the
        non-reference categories (times the frequency weight), so that row i's score is
        kron(score_factor[i], exog[i]) (``score_obs``)."""
        P, _ = self._probs(params)
        out = self.wendog[:, 1:] - P[:, 1:]
        w = self.inputs.weights
        return out if w is None else out * w[:, None]

    def hessian_factor(self, params: Any) -> np.ndarray:
        """statsmodels' ``MNLogit.hessian_factor``: (n x (J-1) x (J-1)) weights
        P_ij P_il - 1{j = l} P_ij (times the frequency weight); the Hessian's block (j, l)
        is exog' diag(hessian_factor[:, j, l]) exog."""
        P, _ = self._probs(params)
        Pn = P[:, 1:]
        hf = Pn[:, :, None] * Pn[:, None, :]
        idx = np.arange(self.J - 1)
        hf[:, idx, idx] -= Pn
        w = self.inputs.weights
        return hf if w is None else hf * w[:, None, None]

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

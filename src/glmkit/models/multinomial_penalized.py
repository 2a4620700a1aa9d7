"""Penalized multinomial logit: glmnet's ``family='multinomial'`` (``type.multinomial=
'ungrouped'``) and scikit-learn's multinomial ``LogisticRegression``, by proximal Newton.

Conventions
-----------
- Symmetric parametrization: one coefficient vector per class (K of them, no reference),
  P(y = k | x) = exp(x' b_k) / sum_l exp(x' b_l). The penalty makes the penalized
  coefficients identifiable; the unpenalized ones (the intercepts) are determined up to a
  common shift, which is fixed by centering them (sum_k a_k = 0, as glmnet).
- Objective (glmnet's, with frequency weights w and N = sum w)::

      -1/N sum_i w_i log P(y_i | x_i) + alpha sum_k sum_j pf_j ((1 - r)/2 b_kj^2 + r |b_kj|)

  = D / (2 N) + penalty, the binary fit's objective (``fit_path``); r is ``l1_ratio``
  (glmnet's alpha, statsmodels' L1_wt), ``alpha`` glmnet's lambda. scikit-learn's
  ``LogisticRegression(C=C, l1_ratio=r)`` is alpha = 1 / (C N).
- The flat parameter vector is class-major: b_0 (p values, the design's columns), b_1, ...

Notes
-----
Each outer step is one pass over the rows forming the score X'(w (Y - P)) and the Kp x Kp
information (block (k, l): X' diag(w P_k (delta_kl - P_l)) X); the penalized quadratic
model is minimized by the coordinate descent with active sets of the binary penalized
fit (:func:`glmkit.solvers._cd.solve_quadratic`) on that matrix, a rank-one term c 11' on
the intercepts standing for the centering (the objective is flat along their common
shift). The step is halved until the objective does not rise. Converged when the KKT
conditions hold to ``tol`` beyond rounding, checked from the score at the answer.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..solvers._cd import solve_quadratic
from ..solvers.penalized import Penalty, kkt_floor, kkt_violations

__all__ = ["PenalizedMNLogitResults", "fit_multinomial_path", "fit_multinomial_penalized",
           "multinomial_alpha_max"]

#: rows per block of a pass
CHUNK = 32768


def _probabilities(eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(softmax of the rows of eta, log normalizer), overflow-safe."""
    mx = eta.max(axis=1, keepdims=True)
    ex = np.exp(eta - mx)
    s = ex.sum(axis=1, keepdims=True)
    return ex / s, (mx + np.log(s)).ravel()


def multinomial_pass(B: np.ndarray, X: np.ndarray, codes: np.ndarray, w: np.ndarray,
                     information: bool = True):
    """(log-likelihood, score (p, K), information (Kp, Kp) class-major or None) at the
    coefficients B (p, K), in one pass over the rows."""
    n, p = X.shape
    K = B.shape[1]
    llf = 0.0
    score = np.zeros((p, K))
    info = np.zeros((K * p, K * p)) if information else None
    for s in range(0, n, CHUNK):
        e = min(s + CHUNK, n)
        Xc, c, wc = X[s:e], codes[s:e], w[s:e]
        eta = Xc @ B
        P, lse = _probabilities(eta)
        rows = np.arange(e - s)
        llf += float(wc @ (eta[rows, c] - lse))
        R = -P
        R[rows, c] += 1.0
        score += Xc.T @ (R * wc[:, None])
        if info is None:
            continue
        WP = P * wc[:, None]
        for k in range(K):
            for m in range(k, K):
                d = WP[:, k] * ((1.0 if k == m else 0.0) - P[:, m])
                blk = Xc.T @ (Xc * d[:, None])
                info[k * p:(k + 1) * p, m * p:(m + 1) * p] += blk
                if m != k:
                    info[m * p:(m + 1) * p, k * p:(k + 1) * p] += blk.T
    return llf, score, info


@dataclass(frozen=True)
class _Problem:
    X: np.ndarray
    codes: np.ndarray
    w: np.ndarray
    N: float
    K: int
    pen: Penalty
    free: np.ndarray   # (K p,) the unpenalized coordinates (intercepts)

    def objective(self, b: np.ndarray) -> tuple[float, float]:
        """(objective, log-likelihood) at flat b."""
        llf = multinomial_pass(self._B(b), self.X, self.codes, self.w, False)[0]
        return -llf / self.N + self.pen.value(b), llf

    def _B(self, b: np.ndarray) -> np.ndarray:
        return b.reshape(self.K, -1).T

    def center(self, b: np.ndarray) -> np.ndarray:
        """The same fit with the free coordinates of each column centered over classes."""
        out = b.reshape(self.K, -1).copy()
        f = self.free.reshape(self.K, -1)[0]
        out[:, f] -= out[:, f].mean(axis=0)
        return out.ravel()


def _start(prob: _Problem, intercepts: np.ndarray) -> np.ndarray:
    """Zero slopes; the intercepts at the null model's maximum, log class frequencies
    centered (no intercept: zeros)."""
    p = prob.X.shape[1]
    b = np.zeros((prob.K, p))
    if intercepts.size:
        freq = np.bincount(prob.codes, weights=prob.w, minlength=prob.K) / prob.N
        la = np.log(freq)
        b[:, intercepts[0]] = la - la.mean()
    return b.ravel()


def _solve(prob: _Problem, b: np.ndarray, max_iter: int, tol: float):
    """Proximal Newton from b: (b, llf, objective, kkt, converged, iterations)."""
    K, p = prob.K, prob.X.shape[1]
    n_free = np.flatnonzero(prob.free)
    lo, hi = prob.pen.lower, prob.pen.upper
    allowed = np.ones(K * p, dtype=bool)
    obj, llf = prob.objective(b)
    kkt, it = np.inf, 0
    for it in range(1, max_iter + 1):
        llf, score, info = multinomial_pass(prob._B(b), prob.X, prob.codes, prob.w)
        score = score.T.ravel()
        H = info / prob.N
        viol = kkt_violations(score, b, prob.N, prob.pen)
        kkt = float(viol.max())
        if np.all(viol - kkt_floor(info, b, prob.N) <= tol):
            return b, llf, obj, kkt, True, it
        Hq = H.copy()
        if n_free.size:   # the centering as a rank-one term on the intercepts
            c = float(np.mean(np.diag(H)[n_free])) or 1.0
            Hq[np.ix_(n_free, n_free)] += c
        g = H @ b + score / prob.N
        new, _ = solve_quadratic(Hq, g, b, prob.pen.l1, prob.pen.l2, lo, hi, allowed)
        d = new - b
        t = 1.0
        for _ in range(40):
            cand = prob.center(b + t * d)
            c_obj, c_llf = prob.objective(cand)
            if c_obj <= obj + 1e-12 * abs(obj):
                break
            t /= 2
        else:
            break
        b, obj, llf = cand, c_obj, c_llf
    llf, score, info = multinomial_pass(prob._B(b), prob.X, prob.codes, prob.w)
    viol = kkt_violations(score.T.ravel(), b, prob.N, prob.pen)
    ok = bool(np.all(viol - kkt_floor(info, b, prob.N) <= tol))
    return b, llf, obj, float(viol.max()), ok, it


def _problems(X, codes, K: int, weights, penalty_weights):
    """(design, codes, weights, penalty factors, constant columns) checked once."""
    from .._penalty_inputs import penalty_factors

    X = np.ascontiguousarray(X, dtype=float)
    w = np.ones(X.shape[0]) if weights is None else np.asarray(weights, dtype=float)
    const = np.all(X == X[:1], axis=0) & (X[0] != 0)
    return X, np.asarray(codes, dtype=np.intp), w, penalty_factors(penalty_weights, const), \
        const


def _problem(X, codes, w, K: int, pf, alpha: float, l1_ratio: float) -> _Problem:
    p = X.shape[1]
    l1 = np.tile(alpha * l1_ratio * pf, K)
    l2 = np.tile(alpha * (1.0 - l1_ratio) * pf, K)
    inf = np.full(K * p, np.inf)
    return _Problem(X, codes, w, float(w.sum()), K, Penalty(l1, l2, -inf, inf),
                    np.tile(pf == 0, K))


def multinomial_alpha_max(X, codes, K: int, weights=None, penalty_weights=None,
                          l1_ratio: float = 1.0) -> float:
    """The smallest alpha at which every penalized coefficient is 0 (glmnet's
    lambda_max: the largest |gradient| / (l1_ratio pf) at the intercept-only fit; for
    l1_ratio < 1e-3 as at 1e-3, as glmnet does)."""
    X, codes, w, pf, const = _problems(X, codes, K, weights, penalty_weights)
    prob = _problem(X, codes, w, K, pf, 0.0, 1.0)
    b = _start(prob, np.flatnonzero(const))
    score = multinomial_pass(prob._B(b), X, codes, w, False)[1]   # p x K
    pen = pf > 0
    g = np.abs(score[pen]).max(axis=1) / prob.N
    return float(np.max(g / (max(l1_ratio, 1e-3) * pf[pen]), initial=0.0))


def fit_multinomial_path(X: np.ndarray, codes: np.ndarray, classes, alphas,
                         l1_ratio: float, weights: np.ndarray | None = None,
                         penalty_weights: Any = None, exog_names=None, max_iter: int = 100,
                         tol: float = 1e-10) -> list[PenalizedMNLogitResults]:
    """The fits at each of ``alphas`` (in the order given), each warm-started from the
    previous answer (glmnet's path); arguments as :func:`fit_multinomial_penalized`."""
    K = len(classes)
    X, codes, w, pf, const = _problems(X, codes, K, weights, penalty_weights)
    names = list(exog_names) if exog_names is not None else \
        [f"x{j}" for j in range(X.shape[1])]
    b = None
    out = []
    for alpha in np.asarray(alphas, dtype=float).ravel():
        prob = _problem(X, codes, w, K, pf, float(alpha), float(l1_ratio))
        if b is None:
            b = _start(prob, np.flatnonzero(const))
        b, llf, obj, kkt, ok, it = _solve(prob, b, int(max_iter), float(tol))
        out.append(PenalizedMNLogitResults(b.reshape(K, -1), list(classes), names,
                                           float(alpha), float(l1_ratio), llf, obj, kkt, ok,
                                           it, prob.N))
    return out


def fit_multinomial_penalized(X: np.ndarray, codes: np.ndarray, classes, alpha: float,
                              l1_ratio: float, weights: np.ndarray | None = None,
                              penalty_weights: Any = None, exog_names=None,
                              max_iter: int = 100, tol: float = 1e-10
                              ) -> PenalizedMNLogitResults:
    """The penalized multinomial logit at one penalty (see the module's conventions).

    Parameters
    ----------
    X : (n, p) dense design; its constant columns (the intercept) are not penalized.
    codes : (n,) class codes 0..K-1, every class present with positive weight.
    classes : the K class labels.
    alpha, l1_ratio : the penalty (alpha > 0, 0 <= l1_ratio <= 1).
    weights : frequency weights (None: ones).
    penalty_weights : glmnet's penalty.factor per column (or per non-constant column),
        rescaled to sum to the number of penalized columns.
    tol : the KKT conditions' tolerance.
    """
    return fit_multinomial_path(X, codes, classes, [alpha], l1_ratio, weights,
                                penalty_weights, exog_names, max_iter, tol)[0]


class PenalizedMNLogitResults:
    """The answer of a penalized multinomial logit fit (glmnet's ``coef``: one row per
    class). No standard errors (as glmnet)."""

    def __init__(self, coef: np.ndarray, classes: list, names: list, alpha: float,
                 l1_ratio: float, llf: float, objective: float, kkt: float,
                 converged: bool, n_iter: int, nobs: float):
        self._coef = np.array(coef, dtype=float)
        self._coef.setflags(write=False)
        self.classes = classes
        self.exog_names = names
        self.alpha, self.l1_ratio = alpha, l1_ratio
        self.llf, self.objective, self.kkt = llf, objective, kkt
        self.converged, self.n_iter, self.nobs = converged, n_iter, nobs

    @property
    def coefficients(self) -> pd.DataFrame:
        """(K x p): one row per class, glmnet's ``coef(fit)`` side by side."""
        return pd.DataFrame(self._coef, index=[str(c) for c in self.classes],
                            columns=self.exog_names)

    @property
    def params(self) -> pd.DataFrame:
        """(p x K), statsmodels' layout (one column per class, none a reference)."""
        return self.coefficients.T

    @property
    def deviance(self) -> float:
        """-2 llf (the multinomial deviance of 0/1 responses)."""
        return -2.0 * self.llf

    @property
    def df(self) -> int:
        """Non-zero penalized coefficients (glmnet's ``df`` counts columns)."""
        return int(np.count_nonzero(self._coef))

    def predict(self, exog: Any, which: str = "prob") -> np.ndarray:
        """Probabilities (n x K) or the linear predictors (``which='linear'``) of rows of
        the design (its columns, the constant included)."""
        if which not in ("prob", "linear"):
            raise ValueError(f"which must be 'prob' or 'linear', got {which!r}.")
        eta = np.atleast_2d(np.asarray(exog, dtype=float)) @ self._coef.T
        return eta if which == "linear" else _probabilities(eta)[0]

    def to_onnx(self, path=None):
        """The prediction as ONNX (``glmkit[onnx]``): input ``X`` (the design's columns,
        the constant included), outputs ``probabilities``, ``label``, ``eta``."""
        from ..export_onnx import multiclass_to_onnx

        return multiclass_to_onnx(self._coef, self.classes, self.exog_names, path,
                                  doc="glmkit penalized multinomial logit")

    def __repr__(self) -> str:
        return (f"<PenalizedMNLogitResults K={len(self.classes)} alpha={self.alpha:g} "
                f"l1_ratio={self.l1_ratio:g} converged={self.converged}>")

"""Bias-reduced fits: the mean-bias-reducing adjusted score (Firth 1993; Kosmidis and
Firth 2009), brglm2's ``type = "AS_mean"``; for logistic regression Firth's penalized
likelihood (R's logistf).

For a GLM with known dispersion the adjusted score is

    U*_t = sum_i [ u_i + h_i d'_i / (2 d_i) ] x_it,

u_i = tw_i d_i (y_i - mu_i) / V(mu_i) the ordinary score weights, d_i = dmu/deta and d'_i
its derivative, and h_i the diagonal of the hat matrix W^1/2 X (X'WX)^-1 X'W^1/2. For the
logit link this is X'(tw (y - mu) + h (1/2 - mu)), the score of the Jeffreys-penalized
likelihood. Its root is found by quasi-Fisher steps delta = (X'WX)^-1 U* (Kosmidis and
Firth's iteration), halved when the mean leaves the family's range. The estimates are
finite under separation. For families with a dispersion phi the adjustment is phi times the
one above, and phi solves its own adjusted score (firth_dispersion.py), updated each iteration.

Each iteration is two passes over the rows: the sweep for X'WX and the hat values, the
second for the adjusted score. Convergence is checked as for the other solvers, on the
step sqrt(delta' X'WX delta) in the metric of the covariance: below ``step_tol`` x 1e-3,
since the iteration converges only linearly for non-canonical links.
"""
from __future__ import annotations

import numpy as np
from scipy import linalg

from ..problem import GLMProblem
from ._linalg import find_aliased, try_factor
from .base import SolverOptions, SolverResult, frozen
from .firth_dispersion import adjusted_dispersion


#: The quasi-Fisher iteration converges linearly for non-canonical links: a last step of
#: step_tol x _MARGIN keeps the distance left within step_tol up to a rate of 0.999.
_MARGIN = 1e-3


def _state(problem: GLMProblem, beta: np.ndarray):
    """eta, mu, d, d', V at beta; None when the mean leaves the family's range."""
    X, fam, link = problem.X, problem.family, problem.family.link
    with np.errstate(all="ignore"):
        eta = X.matvec(beta) + problem.offset
        mu = link.inverse(eta)
        if not (np.all(np.isfinite(mu)) and problem.is_valid(eta, mu)):
            return None
        d = link.inverse_deriv(eta)
        d2 = link.inverse_deriv2(eta)
        var = fam.variance(mu)
    return eta, mu, d, d2, var


def _hat(X, keep: np.ndarray, w: np.ndarray, chol: np.ndarray) -> np.ndarray:
    """h_i = w_i x_i' (X'WX)^-1 x_i over the kept columns, row block by row block
    (L L' = X'WX)."""
    h = np.empty(X.shape[0])
    all_kept = bool(keep.all())
    for sl, block in X.row_blocks():
        B = block.to_dense() if all_kept else block.to_dense()[:, keep]
        Z = linalg.solve_triangular(chol, B.T, lower=True, check_finite=False)
        h[sl] = w[sl] * np.einsum("ij,ij->j", Z, Z)
    return h


def firth(problem: GLMProblem, start: np.ndarray | None = None,
          options: SolverOptions = SolverOptions()) -> SolverResult:
    """Solve the mean-bias-reducing adjusted score equations (see the module notes)."""
    X = problem.X
    p = X.shape[1]
    tw = problem.total_weights
    # the rank of X on the rows with weight; aliased columns stay at zero (NaN at the end)
    keep = ~find_aliased(X.sandwich((tw > 0).astype(float)))
    beta = np.zeros(p) if start is None else np.where(keep, np.asarray(start, float), 0.0)
    state = _state(problem, beta)
    if start is None or state is None:
        beta, state = _start(problem, keep)
    messages: list[str] = []
    converged = False
    history: dict = {"step": [], "step_halvings": []}
    it = 0
    G = np.zeros((p, p))
    free_scale = problem.family.has_free_scale
    phi = 1.0
    if free_scale:   # brglm2's AS_mean dispersion, from the Pearson estimate's value
        n_kept = int(keep.sum())
        pw, fw = problem.prior_weights, problem.freq_weights
        _, mu0, _, _, var0 = state
        dof = max(float(np.sum(fw * (pw > 0))) - n_kept, 1.0)
        phi = float(np.sum(tw * (problem.y - mu0) ** 2 / var0) / dof)
        history["dispersion"] = []
    for it in range(1, options.maxiter + 1):
        eta, mu, d, d2, var = state
        phi_old = phi
        if free_scale:
            dev = pw * problem.family.unit_deviance(problem.y, mu)
            phi = adjusted_dispersion(problem.family, dev, pw, fw, n_kept, phi)
            history["dispersion"].append(phi)
        w = tw * d * d / var
        G = X.sandwich(w)
        Gk = G[np.ix_(keep, keep)]
        fac = try_factor(Gk)
        if fac is None:
            messages.append("X'WX is not positive definite at the current estimates")
            break
        chol = linalg.cholesky(Gk, lower=True, check_finite=False)
        h = _hat(X, keep, w, chol)
        with np.errstate(all="ignore"):
            adj = np.where(d != 0, 0.5 * phi * h * d2 / d, 0.0)
        score = X.rmatvec(tw * d * (problem.y - mu) / var + adj)[keep]
        delta = fac.solve(score)
        size = float(np.sqrt(max(float(delta @ score), 0.0)))
        history["step"].append(size)
        if size < options.step_tol * _MARGIN and abs(phi - phi_old) <= 1e-12 * phi:
            converged = True
            break
        halvings, new = 0, None
        step = np.zeros(p)
        step[keep] = delta
        while halvings <= options.max_halvings:
            new = _state(problem, beta + step)
            if new is not None:
                break
            step *= 0.5
            halvings += 1
        history["step_halvings"].append(halvings)
        if new is None:
            messages.append(f"iteration {it}: no step kept the mean inside the family's range")
            break
        beta, state = beta + step, new
    eta, mu, d, _, var = state
    w = tw * d * d / var
    params = beta.copy()
    params[~keep] = np.nan
    return SolverResult(
        params=frozen(params), aliased=frozen(~keep), eta=frozen(eta), mu=frozen(mu),
        working_weights=frozen(w), gram=frozen(X.sandwich(w)[np.ix_(keep, keep)]),
        deviance=float(problem.deviance(mu)), n_iter=it, converged=converged,
        method="firth", history={**history, "certified": converged,
                                 **({"dispersion_estimate": phi} if free_scale else {})},
        messages=tuple(messages))


def _start(problem: GLMProblem, keep: np.ndarray):
    """R's starting means, and one weighted least-squares solve from them."""
    fam, link, X = problem.family, problem.family.link, problem.X
    mu0 = fam.starting_mu(problem.y, problem.prior_weights)
    eta0 = link(mu0)
    d = link.inverse_deriv(eta0)
    w = problem.total_weights * d * d / fam.variance(mu0)
    z = eta0 - problem.offset + (problem.y - mu0) / d
    G = X.sandwich(w)[np.ix_(keep, keep)]
    beta = np.zeros(X.shape[1])
    beta[keep] = np.linalg.solve(G, X.rmatvec(w * z)[keep])
    state = _state(problem, beta)
    if state is None:   # the first solve left the range: the intercept-free zero point
        beta = np.zeros(X.shape[1])
        state = _state(problem, beta)
    if state is None:
        raise ValueError("no valid starting values for the bias-reduced fit; give "
                         "start_params.")
    return beta, state

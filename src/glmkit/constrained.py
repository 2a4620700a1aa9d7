"""GLM fits under linear equality constraints ``R params = q`` (``GLM.fit_constrained``).

The constraints are imposed by reparametrization, as statsmodels' ``fit_constrained``
does: every ``params`` that satisfies them is ``T b + b0`` for a free vector ``b``, so
the constrained model is an ordinary GLM with design ``X T`` and offset ``offset + X b0``.
That GLM is fitted by glmkit's own ``GLM.fit`` (same solvers, stopping rule and
certification), and the answer is mapped back to the original coefficients.

Conventions
-----------
- ``T`` (k x (k - m)) keeps the original columns that no constraint mentions. For the
  columns a constraint mentions, a column-pivoted QR of their block of ``R`` picks m of them
  to be solved for (``dependent``); the others stay free. So ``T`` has one identity row per
  free coefficient, the reduced coefficients ``b`` *are* the free coefficients, and a
  coefficient fixed by a constraint (``x1 = 0.5``) is exactly its value, with a zero row in
  ``T`` and a zero variance.
- The covariance is ``T (T' X'WX T)^{-1} T'`` times the scale (or the sandwich of
  ``cov_type`` with that bread), which is ``T cov(b) T'``: the numbers of the reduced fit in
  the original parametrization. ``df_resid`` gains and ``df_model`` loses ``k_constr``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import linalg

from . import _data
from .inference import parse_constraints
from .solvers.base import LazyGram, SolverResult, frozen

__all__ = ["LinearConstraints", "linear_constraints", "fit_constrained"]


@dataclass(frozen=True, eq=False)
class LinearConstraints:
    """Linear equality constraints ``R params = q`` and their reparametrization.

    Attributes
    ----------
    constraint_matrix : ndarray, (m, k)
        ``R``; alias ``coefs`` (patsy's name).
    constraint_values : ndarray, (m,)
        ``q``; alias ``constants``.
    variable_names : list of str
        The model's coefficient names.
    transf_mat : ndarray, (k, k - m)
        ``T``: a basis of the null space of ``R``, with an identity row per free coefficient.
    constant : ndarray, (k,)
        ``b0``: a solution of ``R b0 = q`` that is zero at the free coefficients.
    free : ndarray of int
        Positions of the free coefficients (the reduced model's columns, in order).

    Notes
    -----
    ``expand(b) = T b + b0`` maps reduced coefficients to original ones, and satisfies
    the constraints for every ``b``; ``reduce(params)`` is the least-squares inverse.
    """

    constraint_matrix: np.ndarray
    constraint_values: np.ndarray
    variable_names: list[str]
    transf_mat: np.ndarray
    constant: np.ndarray
    free: np.ndarray

    @property
    def coefs(self) -> np.ndarray:
        return self.constraint_matrix

    @property
    def constants(self) -> np.ndarray:
        return self.constraint_values

    @property
    def tuple(self) -> tuple[np.ndarray, np.ndarray]:
        return self.constraint_matrix, self.constraint_values

    @property
    def k_constr(self) -> int:
        """The number of constraints, m."""
        return int(self.constraint_matrix.shape[0])

    def __iter__(self):
        yield from self.tuple

    def __getitem__(self, i):
        return self.tuple[i]

    def expand(self, params_reduced) -> np.ndarray:
        """Original coefficients ``T b + b0`` from reduced ones ``b``."""
        return self.transf_mat @ np.asarray(params_reduced, dtype=float) + self.constant

    def reduce(self, params) -> np.ndarray:
        """Reduced coefficients whose expansion is nearest (least squares) to ``params``."""
        d = np.asarray(params, dtype=float) - self.constant
        return np.linalg.lstsq(self.transf_mat, d, rcond=None)[0]

    def __str__(self) -> str:
        lines = []
        for row, value in zip(self.constraint_matrix, self.constraint_values):
            terms = []
            for a, name in zip(row, self.variable_names):
                if a == 0:
                    continue
                sign = "-" if a < 0 else "+"
                mag = "" if abs(a) == 1 else f"{abs(a):.12g} * "
                terms.append(f"{sign} {mag}{name}")
            text = " ".join(terms)
            text = text[2:] if text.startswith("+ ") else "-" + text[2:]
            lines.append(f"{text} = {value:.12g}")
        return "\n".join(lines)


def linear_constraints(constraints, names: list[str]) -> LinearConstraints:
    """Read and check constraints; build their reparametrization.

    Parameters
    ----------
    constraints : str, list of str, array_like or tuple (R, q)
        ``"x1 + x2 = 1, x3 = 0"`` (names of ``names``), a list of such equations, a
        matrix ``R`` (then ``q = 0``), or ``(R, q)``.
    names : list of str
        The model's coefficient names (``exog_names``).

    Returns
    -------
    LinearConstraints

    Raises
    ------
    ValueError
        Unknown names or unreadable equations, ``R`` of the wrong width, non-finite
        values, no constraint, redundant or inconsistent constraints, or constraints that
        leave no free coefficient.
    """
    if isinstance(constraints, LinearConstraints):   # e.g. another fit's res.constraints
        constraints = constraints.tuple
    try:
        R, q = parse_constraints(constraints, list(names))
    except ValueError as exc:
        raise ValueError(f"fit_constrained: {exc}") from None
    R = np.array(R, dtype=float, ndmin=2)
    q = np.array(q, dtype=float).ravel()
    k = len(names)
    m = R.shape[0]
    if m == 0:
        raise ValueError("fit_constrained: no constraints were given.")
    if R.shape[1] != k or q.shape != (m,):
        raise ValueError(f"fit_constrained: R must have {k} columns (one per coefficient: "
                         f"{list(names)}) and q one value per row; got R {R.shape}, q {q.shape}.")
    if not (np.isfinite(R).all() and np.isfinite(q).all()):
        raise ValueError("fit_constrained: the constraints contain NaN or infinite values.")
    involved = np.flatnonzero(np.any(R != 0, axis=0))
    _check_rank(R[:, involved], q)
    if m >= k:
        raise ValueError(f"fit_constrained: {m} independent constraints on {k} coefficients "
                         "leave nothing to estimate; use model.loglike/predict at those values.")
    T, b0, free = _reparametrize(R, q, involved)
    return LinearConstraints(frozen(R), frozen(q), list(names), frozen(T), frozen(b0),
                             frozen(free))


#: Singular values of the row-normalized constraints below this fraction of the largest
#: count as zero: constraints that nearly repeat each other are treated as redundant.
_RANK_TOL = 1e-10


def _check_rank(RC: np.ndarray, q: np.ndarray) -> None:
    """Redundant (linearly dependent, or nearly) or inconsistent constraints are errors.

    Rows are scaled to unit length first, so that ``x1 = 0`` and ``1000 * x2 = 5`` weigh
    alike; q is consistent when it lies in the range of R (to the same tolerance).
    """
    m = RC.shape[0]
    norms = np.linalg.norm(RC, axis=1)
    norms[norms == 0] = 1.0
    Rn, qn = RC / norms[:, None], q / norms
    if Rn.size:
        U, sv, _ = linalg.svd(Rn, full_matrices=False)
    else:   # only zero rows
        U, sv = np.zeros((m, 0)), np.zeros(0)
    r = int(np.sum(sv > sv[0] * _RANK_TOL)) if sv.size and sv[0] > 0 else 0
    if r == m:
        return
    resid = qn - U[:, :r] @ (U[:, :r].T @ qn)
    if np.linalg.norm(resid) <= _RANK_TOL * max(1.0, float(np.linalg.norm(qn))):
        raise ValueError(f"fit_constrained: the {m} constraints are redundant (only {r} are "
                         "linearly independent); drop the ones implied by the others.")
    raise ValueError(f"fit_constrained: the constraints are inconsistent: no coefficients "
                     f"satisfy all {m} of them.")


def _reparametrize(R: np.ndarray, q: np.ndarray, involved: np.ndarray):
    """T, b0 and the free positions, by a column-pivoted QR of R's non-zero columns."""
    m, k = R.shape
    Q, RR, piv = linalg.qr(R[:, involved], pivoting=True, mode="economic")
    dep = involved[piv[:m]]
    free_involved = involved[piv[m:]]
    free = np.setdiff1d(np.arange(k), dep)
    R11, R12 = RR[:, :m], RR[:, m:]
    # R11 b_dep + R12 b_free_involved = Q'q
    b_dep = linalg.solve_triangular(R11, Q.T @ q)
    A = -linalg.solve_triangular(R11, R12) if R12.shape[1] else np.zeros((m, 0))
    T = np.zeros((k, k - m))
    T[free, np.arange(k - m)] = 1.0
    col_of = {j: i for i, j in enumerate(free)}
    for t, j in enumerate(free_involved):
        T[dep, col_of[j]] = A[:, t]
    b0 = np.zeros(k)
    b0[dep] = b_dep
    return T, b0, free


# ------------------------------------------------------------------------------ fitting
def _columns(X, T: np.ndarray, b0: np.ndarray, free: np.ndarray):
    """The reduced design X T and the added offset X b0."""
    dep = np.setdiff1d(np.arange(T.shape[0]), free)   # T and b0 are zero elsewhere
    if isinstance(X, np.ndarray):
        Xd = np.asarray(X[:, dep], dtype=float)
        Xr = np.asarray(X[:, free], dtype=float) + Xd @ T[dep]
        return Xr, Xd @ b0[dep]
    # a design object: its columns by products (k - m + 1 passes, a dense result)
    Xr = np.column_stack([X.matvec(np.ascontiguousarray(T[:, j])) for j in range(T.shape[1])])
    return Xr, X.matvec(b0)


def _reduced_model(model, lc: LinearConstraints):
    """The GLM on the reduced design, with the model's response, weights, offset, exposure."""
    GLM = type(model)   # (the model's own class: no import of glmkit.model)
    d = model.data
    Xr, extra = _columns(d.X, lc.transf_mat, lc.constant, lc.free)
    offset = d.offset
    if np.any(extra):
        offset = extra if offset is None else offset + extra
    y = d.y
    if d.n_trials is not None:   # [successes, failures] again (y is their proportion)
        s = d.y * d.n_trials
        y = np.column_stack([s, d.n_trials - s])
    if d.is_pandas:
        import pandas as pd

        names = [model.exog_names[j] for j in lc.free]
        Xr = pd.DataFrame(Xr, columns=names, index=d.row_labels)
    return GLM(y, Xr, family=model.family, offset=offset, exposure=d.exposure,
               freq_weights=d.freq_weights, var_weights=d.var_weights)


def fit_constrained(model, constraints, start_params=None, **fit_kwds: Any):
    """Fit ``model`` subject to ``R params = q``; see :meth:`glmkit.GLM.fit_constrained`.

    Parameters
    ----------
    model : GLM
        An in-memory glmkit GLM.
    constraints : str, list of str, array_like or tuple (R, q)
        See :func:`linear_constraints`.
    start_params : array_like, optional
        Starting coefficients in the original parametrization (k values); they are
        projected onto the constraints.
    **fit_kwds
        Passed to :meth:`GLM.fit` of the reduced model (method, maxiter, tol, scale,
        cov_type, cov_kwds, use_t, ...).

    Returns
    -------
    GLMResults
        Results in the original parametrization, with ``constraints``
        (:class:`LinearConstraints`), ``k_constr`` and ``results_constrained`` (the
        reduced model's results).

    Notes
    -----
    With ``params = T b + b0`` the log-likelihood of the constrained model is that of a
    GLM with design ``X T`` and offset ``offset + X b0``; its Fisher information is
    ``T' X'WX T``, so ``cov(params) = T (T' X'WX T)^{-1} T' scale``.
    """
    if not isinstance(getattr(model, "data", None), _data.ModelData):
        raise NotImplementedError("fit_constrained needs an in-memory GLM (not a Dask model).")
    lc = linear_constraints(constraints, model.exog_names)
    k = len(lc.variable_names)
    start = None
    if start_params is not None:
        s = np.array(start_params, dtype=float).ravel()
        if s.shape != (k,) or not np.all(np.isfinite(s)):
            raise ValueError(f"start_params must be {k} finite numbers (the original "
                             f"coefficients), got {start_params!r}.")
        start = lc.reduce(s)
    reduced = _reduced_model(model, lc)
    res_red = reduced.fit(start_params=start, **fit_kwds)
    if np.any(res_red.aliased):
        names = [model.exog_names[j] for j in lc.free[np.asarray(res_red.aliased)]]
        raise ValueError(f"fit_constrained: the design is rank deficient under the "
                         f"constraints (free coefficients {names} are not identified); "
                         "drop those columns or constrain them.")
    return _results_in_original(model, lc, res_red, fit_kwds)


def _results_in_original(model, lc: LinearConstraints, res_red, fit_kwds: dict):
    """GLMResults of ``model`` at the reduced fit's solution, in the original coefficients."""
    from .results import GLMResults

    r = res_red._solver_result
    X, w = model.problem.X, r.working_weights
    k = len(lc.variable_names)
    gram: Any = LazyGram(lambda: X.sandwich(np.asarray(w)))   # X'WX, formed when first needed
    result = SolverResult(
        params=frozen(lc.expand(np.asarray(r.params))), aliased=frozen(np.zeros(k, bool)),
        eta=r.eta, mu=r.mu, working_weights=w,
        gram=gram,
        deviance=r.deviance, n_iter=r.n_iter, converged=r.converged, method=r.method,
        history=dict(r.history), messages=r.messages)
    return GLMResults(model, result, scale=fit_kwds.get("scale"),
                      cov_type=fit_kwds.get("cov_type", "nonrobust"), use_t=fit_kwds.get("use_t"),
                      fit_warnings=res_red.fit_warnings, cov_kwds=fit_kwds.get("cov_kwds"),
                      constraints=lc, results_constrained=res_red)

"""What every solver takes and returns.

``solve(problem, start, options) -> SolverResult``: solvers read a frozen
:class:`~glmkit.problem.GLMProblem` and never write to the model.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

TolCriterion = Literal["deviance", "params"]


@dataclass(frozen=True)
class SolverOptions:
    """Stopping rules shared by the solvers.

    ``tol`` applies to the relative change of the deviance, |dev - dev_old| /
    (|dev| + 0.1) (R's glm.fit rule), or with ``tol_criterion='params'`` to the largest
    change of a coefficient relative to its size. With the deviance rule, iterations go on
    (at most ``refine_iter`` more) until the last step is below ``step_tol`` standard
    errors, so that coefficients and standard errors are those of the maximum.
    """

    maxiter: int = 100
    tol: float = 1e-8
    tol_criterion: TolCriterion = "deviance"
    max_halvings: int = 30
    #: After R's deviance rule is met, up to this many more passes until the last step is
    #: below ``step_tol`` marginal standard errors (0: stop where R stops).
    refine_iter: int = 10
    step_tol: float = 1e-8
    #: Use the fused family x link kernels where one exists (they equal the generic path).
    fused: bool = True
    #: Start large fits from a fit on a random subsample (solvers/warm_start.py).
    subsample: bool = True
    #: Newton steps where the observed information is positive definite by construction.
    newton_steps: bool = True
    #: Form X'WX from float32 blocks while the steps are large (solvers/irls.py): the
    #: fixed point is set by the float64 score, and the covariance by a float64 X'WX.
    low_precision_gram: bool = True
    #: Check every converged answer against the score and the observed information
    #: (solvers/certify.py), polishing it by Newton steps when it is not at the maximum.
    certify: bool = True


@dataclass(frozen=True)
class SolverResult:
    """The state at the solution. Arrays are read-only.

    params : p-vector, NaN for aliased columns.
    aliased : boolean p-vector.
    eta, mu : linear predictor (with offset) and mean at params.
    working_weights : w = prior_weights * freq_weights * (dmu/deta)^2 / V(mu) at ``mu``.
    gram : X'WX over the kept columns (k x k) at ``mu`` (R uses the previous iteration's;
        at convergence the two agree); possibly a :class:`LazyGram`: read it with
        ``np.asarray``.
    deviance : at params, unscaled.
    """

    params: np.ndarray
    aliased: np.ndarray
    eta: np.ndarray
    mu: np.ndarray
    working_weights: np.ndarray
    gram: np.ndarray
    deviance: float
    n_iter: int
    converged: bool
    method: str
    history: dict = field(default_factory=dict)
    messages: tuple[str, ...] = ()


class LazyGram:
    """An X'WX formed on first use, ``np.asarray(result.gram)`` (read-only once formed).

    A fit whose last sweeps formed X'WX in float32, or only the observed one, leaves the
    covariance's float64 expected X'WX to this: the pass over the data is paid by the
    first statistic that needs it (bse, cov_params, summary, ...), not by fit().
    """

    def __init__(self, form):
        self._form = form
        self._value: np.ndarray | None = None

    def value(self) -> np.ndarray:
        if self._value is None:
            v = np.array(self._form(), dtype=float)
            v.setflags(write=False)
            self._value, self._form = v, None
        return self._value

    def __array__(self, dtype=None, copy=None):
        v = self.value()
        if dtype is not None and np.dtype(dtype) != v.dtype:
            return v.astype(dtype)
        return v.copy() if copy else v

    @property
    def shape(self):
        return self.value().shape

    def __getstate__(self) -> dict:
        """Pickled formed: the closure that forms it cannot be pickled (and a loaded fit
        may no longer have its rows)."""
        return {"_form": None, "_value": self.value()}


def frozen(a: np.ndarray) -> np.ndarray:
    if isinstance(a, LazyGram):
        return a   # formed (read-only) on first use
    if hasattr(type(a), "__dask_graph__"):
        return a  # the lazy per-row arrays of a Dask sweep stay lazy (dask arrays are immutable)
    a = np.asarray(a)
    a.setflags(write=False)
    return a

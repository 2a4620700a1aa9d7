"""The fit's record on the results, under statsmodels' and R's names: ``fit_history``,
``mle_retvals``, ``boundary``, ``separation`` (read from the solver's history and warnings).
"""
from __future__ import annotations

import numpy as np


class FitRecord:
    """Mixed into the results classes: needs ``_solver_result``, ``n_iter``, ``converged`` and
    ``fit_warnings``."""

    @property
    def fit_history(self) -> dict:
        """statsmodels' keys: ``'iteration'`` (iterations made), ``'deviance'`` (np.inf,
        then the deviance at the start and after each iteration, as statsmodels lists
        them), ``'params'`` (likewise; IRLS fits); glmkit's ``'step_halvings'`` and ``'passes'`` (passes over the data).
        A ``fit_regularized(refit=True)`` result has ``{'iteration': n}`` only, n the
        penalized fit's iterations (statsmodels')."""
        h = self._solver_result.history
        if "regularized" in h:   # a refit after selection: statsmodels' record of the
            return {"iteration": h["regularized"]["iteration"]}   # penalized fit
        out = {"iteration": self.n_iter, "deviance": [np.inf, *h.get("deviance", [])],
               "step_halvings": list(h.get("step_halvings", []))}
        if "params" in h:   # statsmodels' key: np.inf, the start, then each iteration's
            out["params"] = [np.inf, *(np.asarray(b, dtype=float) for b in h["params"])]
        if "passes" in h:   # full passes over the data the solver made (IRLS)
            out["passes"] = int(h["passes"])
        return out

    @property
    def mle_retvals(self) -> dict:
        """The optimizer's report (scipy methods: fopt, iterations, converged, message)."""
        h = self._solver_result.history
        out = dict(h.get("mle_retvals", {"converged": self.converged,
                                          "iterations": self.n_iter}))
        if "allvecs" in out:
            out["allvecs"] = [np.array(v, dtype=float) for v in out["allvecs"]]
        return out

    @property
    def results_wls(self):
        """With ``fit(attach_wls=True)``: IRLS's weighted least-squares problem at the
        estimates, as statsmodels' WLS results (see :mod:`glmkit.wls_step`)."""
        if not self.mle_settings.get("attach_wls"):
            raise AttributeError("results_wls is kept only by fit(attach_wls=True).")
        cached = self.__dict__.get("_results_wls")
        if cached is None:
            from .wls_step import wls_step

            cached = wls_step(self)
            object.__setattr__(self, "_results_wls", cached)
        return cached

    @property
    def boundary(self) -> bool:
        """Whether the fit stopped at the boundary of the family's range (R's ``boundary``)."""
        return bool(self._solver_result.history.get("boundary", False)) and self.converged

    @property
    def separation(self) -> bool:
        """Whether the fit showed perfect or quasi-complete separation."""
        return any(w.startswith("PerfectSeparationWarning") for w in self.fit_warnings)

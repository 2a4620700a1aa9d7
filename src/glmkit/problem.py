"""The frozen description of one GLM fit that solvers read."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .design import DesignMatrix
from .families import Family


@dataclass(frozen=True)
class GLMProblem:
    """Everything a solver needs, validated once by :class:`glmkit.model.GLM`.

    Conventions
    -----------
    y : response; for a binomial [successes, failures] response, the proportion.
    prior_weights : var_weights * n_trials (R's prior weights).
    freq_weights : frequency weights (ones when none).
    offset : the user's offset plus log(exposure) (zeros when none).
    Absent weights and offsets are read-only broadcasts (stride 0) of ones and zeros.
    """

    X: DesignMatrix
    y: np.ndarray
    family: Family
    prior_weights: np.ndarray
    freq_weights: np.ndarray
    offset: np.ndarray

    @cached_property
    def total_weights(self) -> np.ndarray:
        """freq_weights * prior_weights: what multiplies each row in every sum (computed
        once: every sweep reads it)."""
        fw, pw = self.freq_weights, self.prior_weights
        if fw.strides == (0,) and pw.strides == (0,):   # no weights: a broadcast of ones
            return np.broadcast_to(fw[:1] * pw[:1], fw.shape)
        tw = fw * pw
        tw.setflags(write=False)
        return tw

    def deviance(self, mu: np.ndarray) -> float:
        return self.family.deviance(self.y, mu, var_weights=self.prior_weights,
                                    freq_weights=self.freq_weights)

    def is_valid(self, eta: np.ndarray, mu: np.ndarray) -> bool:
        return self.family.link.valid_eta(eta) and self.family.valid_mu(mu)

"""Variance functions V(mu): Var(y) = scale * V(mu) / prior_weight.

Names follow statsmodels (``constant``, ``mu``, ``mu_squared``, ``mu_cubed``, ``binary``,
``nbinom``; classes ``VarianceFunction``, ``Power``, ``Binomial``, ``NegativeBinomial``).
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "VarianceFunction", "Power", "Binomial", "NegativeBinomial",
    "constant", "mu", "mu_squared", "mu_cubed", "binary", "nbinom",
]


class VarianceFunction:
    """V(mu) = 1, the Gaussian variance."""

    def __call__(self, mu: np.ndarray) -> np.ndarray:
        return np.ones_like(mu, dtype=float)

    def deriv(self, mu: np.ndarray) -> np.ndarray:
        """dV/dmu."""
        return np.zeros_like(mu, dtype=float)

    def sqrt(self, mu: np.ndarray) -> np.ndarray:
        """sqrt(V(mu)), without forming V where it would overflow."""
        return np.sqrt(self(mu))

    def __repr__(self) -> str:
        return "VarianceFunction()"


class Power(VarianceFunction):
    """V(mu) = |mu| ** power."""

    def __init__(self, power: float = 1.0):
        self.power = float(power)

    def __call__(self, mu):
        if self.power == 0:
            return np.ones_like(mu, dtype=float)
        if np.iscomplexobj(mu):   # complex-step derivatives: |mu| is not analytic
            return np.power(mu, self.power)
        if self.power == 1:
            return np.abs(mu).astype(float, copy=True)
        if self.power == 2:
            return np.square(mu)
        return np.power(np.abs(mu), self.power)

    def deriv(self, mu):
        p = self.power
        if p == 0:
            return np.zeros_like(mu, dtype=float)
        return p * np.sign(mu) * np.power(np.abs(mu), p - 1.0)

    def sqrt(self, mu):
        return np.power(np.abs(mu), 0.5 * self.power)

    def __repr__(self):
        return f"Power(power={self.power:g})"


class Binomial(VarianceFunction):
    """V(mu) = mu (1 - mu) for a proportion; trials enter as prior weights."""

    def __call__(self, mu):
        return mu * (1.0 - mu)

    def deriv(self, mu):
        return 1.0 - 2.0 * mu

    def __repr__(self):
        return "Binomial()"


class NegativeBinomial(VarianceFunction):
    """V(mu) = mu + alpha mu^2."""

    def __init__(self, alpha: float = 1.0):
        self.alpha = float(alpha)

    def __call__(self, mu):
        return mu + self.alpha * np.square(mu)

    def deriv(self, mu):
        return 1.0 + 2.0 * self.alpha * mu

    def __repr__(self):
        return f"NegativeBinomial(alpha={self.alpha:g})"


constant = VarianceFunction()
mu = Power(1.0)
mu_squared = Power(2.0)
mu_cubed = Power(3.0)
binary = Binomial()
nbinom = NegativeBinomial()

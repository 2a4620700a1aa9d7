"""The dispersion of a bias-reduced fit (brglm2's AS_mean for Gaussian, Gamma and inverse
Gaussian families).

With prior weights w_i and nu_i = w_i / phi, the dispersion's score is

    U_phi = sum_i (d_i - E d_i) / (2 phi^2),

d_i the deviance residual and E d_i its expectation: phi for the Gaussian and inverse
Gaussian families, 2 w_i (log nu_i - digamma(nu_i)) for the Gamma. The mean-bias-reducing
adjustment (Kosmidis and Firth 2009; brglm2's level-1 AS_mean adjustment) is

    A_phi = (p - 2) / (2 phi) + s1 / (2 phi^2 s2),   s1 = sum w^3 a'''(-nu), s2 = sum w^2 a''(-nu),

where a'' and a''' are the second and third derivatives of the family's a(zeta) at
zeta = -nu: 1/nu^2 and 2/nu^3 (Gaussian, inverse Gaussian), 2 trigamma(nu) - 2/nu and
-2 psi''(nu) - 2/nu^2 (Gamma). For the Gaussian family U_phi + A_phi = 0 gives
phi = D / (n - p), the unbiased estimate. The coefficients' adjusted score carries phi too:
X'[w d (y - mu)/V] + phi X'[h d'/(2d)] = 0.
"""
from __future__ import annotations

import numpy as np
from scipy import optimize, special

from ..families import Gamma, Gaussian, InverseGaussian

SUPPORTED = (Gaussian, Gamma, InverseGaussian)


def supported(family) -> bool:
    return isinstance(family, SUPPORTED) and type(family).__name__ in (
        "Gaussian", "Gamma", "InverseGaussian")


def _terms(family, w: np.ndarray, phi: float):
    """(E d_i, a''(-nu_i), a'''(-nu_i)) at phi."""
    nu = w / phi
    if isinstance(family, Gamma):
        expected = 2.0 * w * (np.log(nu) - special.digamma(nu))
        return expected, 2.0 * special.polygamma(1, nu) - 2.0 / nu, \
            -2.0 * special.polygamma(2, nu) - 2.0 / nu**2
    return np.full_like(w, phi), 1.0 / nu**2, 2.0 / nu**3


def adjusted_dispersion(family, dev_resid: np.ndarray, w: np.ndarray, fw: np.ndarray,
                        n_coef: int, phi0: float) -> float:
    """The root in phi of U_phi + A_phi (rows with w > 0; fw their frequency weights)."""
    use = w > 0
    d, w, fw = dev_resid[use], w[use], fw[use]

    def equation(log_phi: float) -> float:
        phi = float(np.exp(log_phi))
        expected, a2, a3 = _terms(family, w, phi)
        s1, s2 = np.sum(fw * w**3 * a3), np.sum(fw * w**2 * a2)
        score = np.sum(fw * (d - expected)) / (2.0 * phi**2)
        return float((score + (n_coef - 2) / (2.0 * phi) + s1 / (2.0 * phi**2 * s2)) * phi)

    lo = hi = np.log(phi0)
    f_lo = f_hi = equation(lo)
    for _ in range(200):   # the equation falls from + (small phi) to - (large phi)
        if f_lo > 0 and f_hi < 0:
            break
        if f_lo <= 0:
            lo -= 1.0
            f_lo = equation(lo)
        if f_hi >= 0:
            hi += 1.0
            f_hi = equation(hi)
    else:
        raise ValueError("the bias-reduced dispersion equation has no root")
    return float(np.exp(optimize.brentq(equation, lo, hi, xtol=1e-14, rtol=1e-15)))

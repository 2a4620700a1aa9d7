"""Complex-step derivatives of ``model.loglike`` (statsmodels' ``approx_fprime_cs`` and
``approx_hess_cs``, as statsmodels' own ``test_tweedie_score`` uses them).

Sources: invariants. The complex-step gradient of loglike must equal the analytic
``model.score`` (and its complex-step Hessian ``model.hessian``) at a fixed scale; with the
scale estimated at the same coefficients (scale=None) it must equal a central finite
difference of the real loglike. Before complex coefficients were carried through, loglike
dropped the imaginary part and the complex-step gradient was exactly 0.
"""
from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from statsmodels.tools.numdiff import approx_fprime, approx_fprime_cs, approx_hess_cs

import glmkit.api as sm

F, L = sm.families, sm.families.links

CASES = [
    (F.Gaussian, L.Identity, [1.0, 0.5, -0.3]), (F.Gaussian, L.Log, [0.5, 0.2, 0.1]),
    (F.Gaussian, L.InversePower, [0.5, 0.05, 0.05]),
    (F.Poisson, L.Log, [0.5, 0.2, 0.1]), (F.Poisson, L.Identity, [2.0, 0.1, 0.1]),
    (F.Poisson, L.Sqrt, [2.0, 0.1, 0.1]),
    (F.Binomial, L.Logit, [-0.3, 0.2, 0.1]), (F.Binomial, L.Probit, [-0.3, 0.2, 0.1]),
    (F.Binomial, L.CLogLog, [-0.3, 0.2, 0.1]), (F.Binomial, L.LogLog, [-0.3, 0.2, 0.1]),
    (F.Binomial, L.Cauchy, [-0.3, 0.2, 0.1]), (F.Binomial, L.Log, [-1.5, 0.2, 0.1]),
    (F.Gamma, L.InversePower, [0.5, 0.05, 0.05]), (F.Gamma, L.Log, [0.5, 0.2, 0.1]),
    (F.Gamma, L.Identity, [2.0, 0.1, 0.1]),
    (F.InverseGaussian, L.InverseSquared, [0.3, 0.02, 0.02]),
    (F.InverseGaussian, L.Log, [0.5, 0.2, 0.1]),
    (partial(F.NegativeBinomial, alpha=1.0), L.Log, [0.5, 0.2, 0.1]),
    (partial(F.Tweedie, var_power=1.5), L.Log, [0.5, 0.2, 0.1]),
    (partial(F.Tweedie, var_power=1.5, eql=True), L.Log, [0.5, 0.2, 0.1]),
]


def _model(family, link, b):
    rs = np.random.RandomState(3)
    n = 150
    x = np.column_stack([np.ones(n), 0.2 * rs.normal(size=(n, 2))])
    fam = family(link=link())
    mu = fam.link.inverse(x @ b)
    if isinstance(fam, F.Binomial):
        y = rs.binomial(1, mu).astype(float)
    elif isinstance(fam, (F.Poisson, F.NegativeBinomial)):
        y = rs.poisson(mu).astype(float)
    else:
        y = mu * rs.gamma(5.0, 0.2, size=n)
    return sm.GLM(y, x, family=fam)


def _id(case):
    fam, link, _ = case
    name = getattr(fam, "func", fam).__name__ + ("_eql" if "eql" in str(fam) else "")
    return f"{name}-{link.__name__}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_complex_step_gradient_and_hessian_equal_score_and_hessian(case):
    family, link, b = case
    b = np.asarray(b)
    model = _model(family, link, b)
    ll = partial(model.loglike, scale=1.0)
    score = model.score(b, scale=1.0)
    np.testing.assert_allclose(approx_fprime_cs(b, ll), score, rtol=1e-9,
                               atol=1e-9 * np.max(np.abs(score)))
    hess = model.hessian(b, scale=1.0)
    np.testing.assert_allclose(approx_hess_cs(b, ll), hess, rtol=1e-7,
                               atol=1e-7 * np.max(np.abs(hess)))


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_complex_step_with_estimated_scale_matches_finite_differences(case):
    family, link, b = case
    b = np.asarray(b)
    model = _model(family, link, b)
    cs = approx_fprime_cs(b, model.loglike)
    fd = approx_fprime(b, model.loglike, centered=True)
    np.testing.assert_allclose(cs, fd, rtol=1e-6, atol=1e-6 * np.max(np.abs(fd)))


def test_complex_loglike_real_part_is_the_loglike():
    b = np.array([0.5, 0.2, 0.1])
    model = _model(F.Gamma, L.Log, b)
    assert model.loglike(b + 0j).real == pytest.approx(model.loglike(b), rel=1e-14)
    assert model.loglike(b + 0j).imag == 0.0

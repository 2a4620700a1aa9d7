"""The intercept-only model with an offset (null deviance, llnull) by the scalar iteration
equals a full IRLS fit of the intercept-only design, and R's null deviance."""
from __future__ import annotations

import numpy as np
import pytest

import glmkit
from glmkit.solvers.null_model import null_mu

F, L = glmkit.families, glmkit.families.links


@pytest.mark.parametrize("family", [F.Poisson(), F.Gamma(L.Log()), F.Gamma(), F.Binomial(),
                                    F.Binomial(L.Probit()), F.Tweedie(var_power=1.5),
                                    F.InverseGaussian(L.Log()), F.Gaussian(L.Log()),
                                    F.NegativeBinomial(alpha=0.7)])
def test_scalar_null_fit_equals_the_intercept_only_glm(family):
    rng = np.random.default_rng(4)
    n = 400
    off = rng.uniform(-0.3, 0.3, n)
    w = rng.uniform(0.5, 2.0, n)
    if isinstance(family, F.Binomial):
        y = rng.binomial(1, 0.35, n).astype(float)
    elif isinstance(family, (F.Poisson, F.NegativeBinomial)):
        y = rng.poisson(2.0 * np.exp(off)).astype(float)
    elif isinstance(family, F.Tweedie):
        y = rng.poisson(1.5, n) * rng.gamma(2.0, 0.5, n)
    else:
        y = rng.gamma(3.0, np.exp(off) / 3.0)
    X = np.column_stack([np.ones(n), rng.normal(size=n)])
    res = glmkit.GLM(y, X, family=family, offset=off, var_weights=w).fit()
    ones = glmkit.GLM(y, np.ones((n, 1)), family=family, offset=off, var_weights=w).fit()
    np.testing.assert_allclose(null_mu(res.model.problem), ones.mu, rtol=1e-9)
    assert res.null_deviance == pytest.approx(ones.deviance, rel=1e-11)


def test_poisson_log_null_is_the_closed_form():
    rng = np.random.default_rng(5)
    off = rng.normal(size=300)
    y = rng.poisson(np.exp(0.4 + off))
    X = np.column_stack([np.ones(300), rng.normal(size=300)])
    res = glmkit.GLM(y, X, family=F.Poisson(), offset=off).fit()
    a = np.log(y.sum() / np.exp(off).sum())
    np.testing.assert_allclose(res.null, np.exp(a + off), rtol=1e-13)

"""glmkit.vuong against pscl::vuong (tests/reference/models/make_reference_counts.R)."""
from __future__ import annotations

import numpy as np
import pytest
from test_models_zeroinfl import FB, bio, ref

import glmkit


@pytest.fixture(scope="module")
def fits():
    b = bio()
    return {"zip": glmkit.zeroinfl(FB, b),
            "zinb": glmkit.zeroinfl(FB + " | ment + fem", b, dist="negbin"),
            "hup": glmkit.hurdle(FB, b),
            "pois": glmkit.glm(FB, b, family=glmkit.families.Poisson()).fit(),
            "nb": glmkit.glm_nb(FB, b)}


@pytest.mark.parametrize("case, a, b", [("zip_pois", "zip", "pois"),
                                        ("pois_zip", "pois", "zip"),
                                        ("zinb_nb", "zinb", "nb"),
                                        ("hup_zip", "hup", "zip")])
def test_vuong_equals_pscl(fits, case, a, b):
    R = ref()["vuong"]
    np.testing.assert_allclose(fits["pois"].llf, R["pois_llf"], rtol=1e-10)
    np.testing.assert_allclose(fits["nb"].llf, R["nb_llf"], rtol=1e-8)
    out = glmkit.vuong(fits[a], fits[b])
    assert list(out.index) == ["Raw", "AIC-corrected", "BIC-corrected"]
    np.testing.assert_allclose(out["statistic"].to_numpy(), R[case]["v"], rtol=1e-5)
    np.testing.assert_allclose(out["p-value"].to_numpy(), R[case]["pval"], rtol=1e-4)
    assert all((h == "model1 > model2") == (v > 0)
               for h, v in zip(out["H_A"], out["statistic"]))


def test_vuong_is_antisymmetric(fits):
    a, b = glmkit.vuong(fits["zip"], fits["hup"]), glmkit.vuong(fits["hup"], fits["zip"])
    np.testing.assert_allclose(a["statistic"], -b["statistic"], rtol=1e-12)


def test_vuong_bad_input(fits):
    other = glmkit.zeroinfl("art ~ ment", bio().iloc[:500])
    with pytest.raises(ValueError, match="numbers of observations"):
        glmkit.vuong(fits["zip"], other)
    gauss = glmkit.glm(FB, bio()).fit()
    with pytest.raises(TypeError, match="count"):
        glmkit.vuong(fits["zip"], gauss)
    with pytest.raises(TypeError):
        glmkit.vuong(fits["zip"], 3)

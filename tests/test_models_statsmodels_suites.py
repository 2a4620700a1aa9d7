"""statsmodels' own test classes for MNLogit (Stata's numbers on anes96) and OrderedModel
(R MASS's numbers on the UCLA 'apply' data), run against glmkit.api.

Tests of features glmkit's models do not have yet are skipped with the reason."""
from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as smapi
from statsmodels.discrete.tests.results.results_discrete import Anes
from statsmodels.discrete.tests.test_discrete import (
    CheckMNLogitBaseZero,
    check_distr,
    load_anes96,
)
from statsmodels.miscmodels.tests.results.results_ordinal_model import data_store as ds
from statsmodels.miscmodels.tests.test_ordinal_model import CheckOrdinalModelMixin

import glmkit.api as sm


class TestGlmkitMNLogitBaseZero(CheckMNLogitBaseZero):
    @classmethod
    def setup_class(cls):
        cls.data = data = load_anes96()
        exog = smapi.add_constant(data.exog, prepend=False)
        cls.res1 = sm.MNLogit(data.endog, exog).fit(method="newton", disp=0)
        cls.res2 = Anes.mnlogit_basezero

    @pytest.mark.skip(reason="statsmodels' private _get_endog_name")
    def test_endog_names(self):
        pass

    def test_distr(self):   # statsmodels marks it xfail for its own MNLogit
        check_distr(self.res1)

    def test_summary_latex(self):
        # statsmodels' test skips its line count for (its) MNLogit: one table per category
        ltx = self.res1.summary().as_latex()
        assert "Covariance Type:" in ltx and ltx.count("begin{tabular}") == 1 + 6


    @pytest.mark.skip(reason="checks a one-equation score_factor (n x 1); statsmodels skips "
                      "it for its own MNLogit by an isinstance test (its score_factor is n x "
                      "(J-1), as glmkit's)")
    def test_jac(self):
        pass

    def test_score_obs_sums_to_score(self):
        m = self.res1.model
        np.testing.assert_allclose(m.score_obs(self.res1.params).sum(0),
                                   m.score(self.res1.params), atol=1e-9)


def _ordered(distr):
    data = ds.df
    cols = ["pared", "public", "gpa"]
    res = sm.OrderedModel(data["apply"].values.codes, np.asarray(data[cols], float),
                          distr=distr).fit(method="bfgs", disp=False)
    resp = sm.OrderedModel(data["apply"], data[cols], distr=distr).fit(method="bfgs",
                                                                      disp=False)
    return res, resp


class TestGlmkitOrderedLogit(CheckOrdinalModelMixin):
    @classmethod
    def setup_class(cls):
        from statsmodels.miscmodels.tests.results.results_ordinal_model import (
            res_ord_logit as res2,
        )
        cls.res1, cls.resp = _ordered("logit")
        cls.res2 = res2

    @pytest.mark.xfail(strict=True, reason="statsmodels' R thresholds (2.203915, 4.299363) "
                       "are polr's at its default tolerance, 6e-4 from the maximum; "
                       "statsmodels' own bfgs at gtol 1e-10 gives ours (2.203323, 4.298767)")
    def test_basic(self):
        super().test_basic()

    @pytest.mark.skip(reason="needs statsmodels' formula fit (resf)")
    def test_formula(self):
        pass

    @pytest.mark.skip(reason="needs a fit on unordered data (resu)")
    def test_unordered(self):
        pass

    @pytest.mark.skip(reason="statsmodels' post-estimation (score_test, ...): not yet")
    def test_results_other(self):
        pass

    @pytest.mark.skip(reason="statsmodels' post-estimation (get_prediction, ...): not yet")
    def test_postestimation(self):
        pass


class TestGlmkitOrderedProbit(TestGlmkitOrderedLogit):
    def test_basic(self):  # R's probit reference is within statsmodels' tolerances
        CheckOrdinalModelMixin.test_basic(self)

    @classmethod
    def setup_class(cls):
        from statsmodels.miscmodels.tests.results.results_ordinal_model import (
            res_ord_probit as res2,
        )
        cls.res1, cls.resp = _ordered("probit")
        cls.res2 = res2

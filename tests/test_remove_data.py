"""results.remove_data(): statsmodels' in-place removal of the rows; statistics unchanged.

Reference: the same results before remove_data (an invariant)."""
import pickle

import numpy as np
import pandas as pd
import pytest

import glmkit.api as sm


def test_remove_data_keeps_statistics_and_summary():
    rs = np.random.RandomState(0)
    X = sm.add_constant(pd.DataFrame(rs.randn(400, 2), columns=["a", "b"]))
    y = rs.gamma(2.0, np.exp(X @ [0.5, 0.2, -0.1]) / 2.0)
    model = sm.GLM(y, X, family=sm.families.Gamma(sm.families.links.Log()))
    res = model.fit()
    names = ("params", "bse", "pvalues", "llf", "llnull", "aic", "bic", "deviance",
             "null_deviance", "pearson_chi2", "scale", "df_resid", "df_model", "nobs")
    before = {n: np.asarray(getattr(res, n)) for n in names}
    body = [ln for ln in res.summary().as_text().splitlines() if not ln.startswith(("Date", "Time"))]
    new = X.iloc[:5] * 1.1
    pred = res.get_prediction(new).summary_frame()
    size = len(pickle.dumps(res))
    assert res.remove_data() is None
    for n in names:
        np.testing.assert_array_equal(np.asarray(getattr(res, n)), before[n], err_msg=n)
    assert [ln for ln in res.summary().as_text().splitlines()
            if not ln.startswith(("Date", "Time"))] == body
    pd.testing.assert_frame_equal(res.get_prediction(new).summary_frame(), pred)
    assert len(pickle.dumps(res)) < size / 10
    with pytest.raises(AttributeError, match="remove_data"):
        res.resid_pearson
    # the model object keeps its rows: a new fit works
    assert model.fit().params.equals(res.params)

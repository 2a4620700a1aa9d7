"""statsmodels' added-variable, partial-residual and CERES plots (glmkit.regressionplots): the residuals behind them equal
statsmodels.graphics.regressionplots' on the same data (statsmodels' definitions)."""
import numpy as np
import pandas as pd
import pytest

import glmkit.api as sm
from glmkit import regressionplots as plotting

smapi = pytest.importorskip("statsmodels.api")
rp = pytest.importorskip("statsmodels.graphics.regressionplots")


@pytest.fixture(scope="module")
def fits():
    rs = np.random.RandomState(378)
    X = pd.DataFrame(rs.normal(size=(200, 2)), columns=["x1", "x2"])
    X = sm.add_constant(X)
    y = (rs.uniform(size=200) < 1 / (1 + np.exp(-(X["x1"] + X["x2"] ** 2)))).astype(float)
    # statsmodels' functions index params by position: give it arrays (same names)
    return (sm.GLM(y, X, family=sm.families.Binomial()).fit(),
            smapi.GLM(y.to_numpy(), smapi.add_constant(X[["x1", "x2"]].to_numpy()),
                      family=smapi.families.Binomial()).fit(tol=1e-13))


@pytest.mark.parametrize("focus", [1, "x2"])
def test_residuals_match_statsmodels(fits, focus):
    ours, theirs = fits
    np.testing.assert_allclose(plotting.partial_resids(ours, focus),
                               rp.partial_resids(theirs, focus), rtol=1e-6)
    a, b = plotting.added_variable_resids(ours, focus), rp.added_variable_resids(theirs, focus)
    np.testing.assert_allclose(a[0], b[0], rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(plotting.ceres_resids(ours, focus),
                               rp.ceres_resids(theirs, focus), rtol=1e-5)
    cm = np.column_stack([np.asarray(ours.model.exog)[:, 1 if focus == "x2" else 2] ** 2])
    np.testing.assert_allclose(plotting.ceres_resids(ours, focus, cond_means=cm),
                               rp.ceres_resids(theirs, focus, cond_means=cm), rtol=1e-5)


def test_plots_draw(fits):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ours, _ = fits
    for fig in (ours.plot_added_variable("x1"), ours.plot_partial_residuals(2),
                ours.plot_ceres_residuals("x2")):
        assert fig.axes and fig.axes[0].lines
        plt.close(fig)
    with pytest.raises(ValueError, match="not a column"):
        ours.plot_partial_residuals("x3")

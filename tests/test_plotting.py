"""Diagnostic pictures: they draw, on given axes too, with R's quantities, and matplotlib is
imported only when a plot is asked for."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import glmkit

mpl = pytest.importorskip("matplotlib", reason="the plot extra (matplotlib) is not installed")
mpl.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from glmkit import plotting as P  # noqa: E402

REF = Path(__file__).parent / "reference"
QUINE = pd.read_csv(REF / "negbin" / "data_quine.csv")
BW = pd.read_csv(REF / "firth" / "data_birthwt.csv")


@pytest.fixture(scope="module")
def pois():
    return glmkit.glm("Days ~ Eth + Sex + Age + Lrn", QUINE, family=glmkit.families.Poisson()).fit()


@pytest.fixture(scope="module")
def logit():
    return glmkit.glm("low ~ age + lwt + smoke + ht", BW, family=glmkit.families.Binomial()).fit()


def test_importing_glmkit_does_not_import_matplotlib():
    code = "import sys, glmkit, glmkit.plotting; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_without_matplotlib_the_error_says_how_to_install(monkeypatch, pois):
    import builtins

    real = builtins.__import__

    def fake(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(ImportError, match=r"pip install 'glmkit\[plot\]'"):
        P.plot_diagnostics(pois)


def test_four_panels_show_r_quantities(pois):
    fig = P.plot_diagnostics(pois)
    axes = [a for a in fig.axes if a.get_visible()]
    assert [a.get_title() for a in axes] == ["Residuals vs Fitted", "Q-Q Residuals",
                                              "Scale-Location", "Residuals vs Leverage"]
    # panel 1 plots the deviance residuals against the linear predictor, as R
    xy = axes[0].collections[0].get_offsets()
    np.testing.assert_allclose(xy[:, 0], pois.linear_predictor)
    np.testing.assert_allclose(xy[:, 1], pois.resid_deviance)
    # panel 5: standardized Pearson residuals against the hat values (R's rstandard)
    infl = pois.get_influence()
    xy5 = axes[3].collections[0].get_offsets()
    np.testing.assert_allclose(xy5[:, 0], infl.hatvalues)
    np.testing.assert_allclose(xy5[:, 1], infl.resid_standardized_pearson)
    plt.close(fig)


def test_panels_can_be_picked_and_drawn_on_given_axes(pois):
    fig, axes = plt.subplots(1, 2)
    out = P.plot_diagnostics(pois, which=(2, 4), axes=axes)
    assert out is fig and [a.get_title() for a in axes] == ["Q-Q Residuals", "Cook's distance"]
    with pytest.raises(ValueError, match="which"):
        P.plot_diagnostics(pois, which=(7,))
    plt.close("all")


@pytest.mark.parametrize("name,kw", [("halfnormal", {"nsim": 5}), ("rootogram", {}),
                                     ("influence", {}), ("partial_residuals", {"focus_exog": 1}),
                                     ("added_variable", {"focus_exog": "Sex[T.M]"})])
def test_other_plots_draw_on_a_given_ax(pois, name, kw):
    fig, ax = plt.subplots()
    assert P.plot(pois, name, ax=ax, **kw) is fig
    assert ax.has_data()
    plt.close(fig)


def test_calibration_is_for_binomial_fits(logit, pois):
    fig = P.plot_calibration(logit, bins=5)
    assert fig.axes[0].get_title() == "Calibration"
    with pytest.raises(ValueError, match="binomial"):
        P.plot_calibration(pois)
    plt.close("all")


def test_rootogram_expected_frequencies_sum_to_n(pois):
    fig = P.plot_rootogram(pois, max_count=200)
    expected = fig.axes[0].lines[0].get_ydata() ** 2
    # invariant: Poisson probabilities over 0..200 sum to one per row (means below 80)
    assert expected.sum() == pytest.approx(pois.nobs, rel=1e-9)
    plt.close(fig)


def test_lowess_equals_statsmodels_lowess():
    """statsmodels' lowess with delta=0 is Cleveland's algorithm, as R's lowess."""
    sm_lowess = pytest.importorskip("statsmodels.nonparametric.smoothers_lowess").lowess
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 10, 80)
    y = np.sin(x) + rng.normal(0, 0.3, 80)
    xs, ys = P.lowess(x, y)
    ref = sm_lowess(y, x, frac=2 / 3, it=3, delta=0.0)
    np.testing.assert_allclose(xs, ref[:, 0])
    np.testing.assert_allclose(ys, ref[:, 1], rtol=1e-7, atol=1e-9)


def test_profile_traces_cross_the_quantiles_at_the_profile_interval(logit):
    fig = logit.plot("profile")
    axes = [a for a in fig.axes if a.get_visible()]
    assert len(axes) == 5
    ci = np.asarray(logit.conf_int(method="profile"))
    for j, ax in enumerate(axes):
        curve = ax.lines[0]
        x, z = curve.get_xdata(), curve.get_ydata()
        # the trace is 0 at the estimate and crosses +-1.96 where the interval ends
        assert np.interp(0.0, z, x) == pytest.approx(float(logit.params.iloc[j]), abs=0.05 * float(logit.bse.iloc[j]))
        ends = [float(v.get_xdata()[0]) for v in ax.lines if v.get_linestyle() == ":"]
        np.testing.assert_allclose(sorted(ends), ci[j], rtol=1e-12)
        np.testing.assert_allclose(np.interp(1.959964, z, x), ci[j, 1], rtol=1e-3)
    plt.close(fig)


def test_influence_object_draws_statsmodels_plots(pois):
    infl = pois.get_influence()
    fig = infl.plot_influence()
    assert fig.axes[0].get_xlabel() == "Leverage (H)"
    fig = infl.plot_index(y_var="cooks", threshold=0.05)
    y = fig.axes[0].lines[0].get_ydata()
    np.testing.assert_allclose(y, np.asarray(infl.cooks_distance[0]))
    with pytest.raises(ValueError, match="y_var must be one of"):
        infl.plot_index(y_var="nope")
    plt.close("all")

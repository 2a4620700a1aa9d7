"""res.plot(), res.to_html(path), res.bootstrap(): the results' shortcuts equal the functions.

Source: an invariant. Each shortcut must return what the module-level function returns
for the same fit and arguments (the functions are checked against R in their own tests)."""
from __future__ import annotations

import numpy as np
import pytest

import glmkit
from glmkit.bootstrap import bootstrap
from glmkit.report import to_html

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def res():
    rng = np.random.default_rng(3)
    X = glmkit.add_constant(rng.normal(size=(80, 2)))
    y = rng.poisson(np.exp(X @ [0.5, 0.3, -0.2]))
    return glmkit.GLM(y, X, family=glmkit.families.Poisson()).fit()


def test_plot_returns_the_requested_figure(res):
    import matplotlib
    matplotlib.use("Agg")
    fig = res.plot()
    assert len(fig.axes) == 4   # R's plot(glm): which = 1, 2, 3, 5
    fig = res.plot("rootogram")
    assert len(fig.axes) == 1
    assert res.plot_influence().axes[0].get_xlabel() == "Leverage (H)"
    with pytest.raises(ValueError, match="kind must be one of"):
        res.plot("pie")


def test_to_html_writes_the_report(res, tmp_path):
    path = tmp_path / "fit.html"
    html = res.to_html(path, plots=False)
    assert path.read_text(encoding="utf-8") == html
    assert html == to_html(res, plots=False)
    assert "<html" in html.lower()


def test_bootstrap_method_is_the_function(res):
    a = res.bootstrap(n_boot=30, seed=5)
    b = bootstrap(res, n_boot=30, seed=5)
    np.testing.assert_array_equal(a.replicates.to_numpy(), b.replicates.to_numpy())
    assert a.replicates.shape == (30, 3) and a.method == "pairs"

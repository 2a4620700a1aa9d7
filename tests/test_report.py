"""The HTML report: one self-contained page with the numbers of the results."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import glmkit
from glmkit.report import to_html

REF = Path(__file__).parent / "reference"


@pytest.fixture(scope="module")
def pois():
    q = pd.read_csv(REF / "negbin" / "data_quine.csv")
    return glmkit.glm("Days ~ Eth + Sex + Age + Lrn", q, family=glmkit.families.Poisson()).fit()


def test_report_is_self_contained_and_shows_the_numbers(pois):
    page = to_html(pois)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    # no network fetches: no external scripts, styles, images or fonts
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page
    for b, se in zip(np.asarray(pois.params), np.asarray(pois.bse)):
        assert f"{b:.4f}" in page and f"{se:.4f}" in page
    assert f"{np.exp(np.asarray(pois.params)[1]):.4f}" in page   # rate ratios (log link)
    assert "Analysis of deviance" in page and "Deviance explained" in page
    # quine's counts are overdispersed (Pearson chi2 / df = 13.2): the page says so
    ratio = pois.pearson_chi2 / pois.df_resid
    assert f"Pearson chi2 / df = {ratio:.3g}" in page and "glm_nb" in page


def test_report_embeds_the_plots_when_matplotlib_is_there(pois):
    pytest.importorskip("matplotlib", reason="the plot extra (matplotlib) is not installed")
    page = to_html(pois)
    assert page.count('src="data:image/png;base64,') == 2   # diagnostics and rootogram


def test_report_explains_what_to_do_about_warnings():
    sep = pd.read_csv(REF / "firth" / "data_separated.csv")
    with pytest.warns(glmkit.PerfectSeparationWarning):
        res = glmkit.glm("y ~ x + z", sep, family=glmkit.families.Binomial()).fit()
    page = to_html(res, plots=False)
    assert "PerfectSeparationWarning" in page and "method=&#x27;firth&#x27;" in page
    ok = to_html(glmkit.glm("y ~ z", sep, family=glmkit.families.Binomial()).fit(), plots=False)
    assert "No warnings" in ok

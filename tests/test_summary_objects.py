"""summary() and summary2() as statsmodels' Summary objects (tables, text, HTML, LaTeX, CSV).

Every number checked is the results' own (an invariant): the tables must carry what
params, bse, tvalues, pvalues and conf_int return.
"""
import numpy as np
import pandas as pd
import pytest

import glmkit.api as sm
from glmkit.summary import Summary
from glmkit.summary2 import Summary as Summary2


@pytest.fixture(scope="module")
def res():
    rs = np.random.RandomState(0)
    X = pd.DataFrame(rs.randn(60, 2), columns=["a", "b"])
    y = rs.poisson(np.exp(0.3 + 0.2 * X["a"] - 0.1 * X["b"]))
    return sm.GLM(pd.Series(y, name="count"), sm.add_constant(X),
                  family=sm.families.Poisson()).fit()


def test_summary_tables_carry_the_results(res):
    smry = res.summary()
    assert isinstance(smry, Summary) and len(smry.tables) == 2
    coef = smry.tables[1]
    assert coef.stubs == ["const", "a", "b"]
    assert coef.headers[:4] == ["coef", "std err", "z", "P>|z|"]
    got = np.array([[float(c) for c in row] for row in coef.data])
    want = np.column_stack([res.params, res.bse, res.tvalues, res.pvalues, res.conf_int()])
    np.testing.assert_allclose(got, want, atol=5e-5)
    assert str(smry) == smry.as_text()


def test_summary_outputs_and_extra_text(res):
    smry = res.summary()
    assert smry.extra_txt is None
    smry.add_extra_txt(["first note", "second note"])
    assert smry.extra_txt == ["first note", "second note"]
    text = smry.as_text()
    assert "first note" in text and "second note" in text and "count" in text
    assert "second note" in smry.as_html() and "<table" in smry.as_html()
    latex = smry.as_latex()
    assert latex.startswith("\\begin{table}") and "\\begin{tabular}" in latex
    csv = smry.as_csv()
    assert "const,0.3" in csv.replace(" ", "") or "const," in csv


def test_summary2_tables_are_data_frames(res):
    s2 = res.summary2(alpha=0.1)
    assert isinstance(s2, Summary2) and s2.title == "Results: Generalized linear model"
    info, params = s2.tables
    assert list(params.columns) == ["Coef.", "Std.Err.", "z", "P>|z|", "[0.05", "0.95]"]
    np.testing.assert_allclose(params["Coef."], res.params)
    np.testing.assert_allclose(params.iloc[:, 4:], res.conf_int(0.1))
    text = str(s2)
    for piece in ("Poisson", "Log", "Method:", "IRLS", "Deviance:", "count", "const"):
        assert piece in text, piece
    s2.add_text("a note")
    assert s2.as_text().rstrip().endswith("a note")
    assert "\\caption{Results: Generalized linear model}" in s2.as_latex()
    assert "<table" in s2.as_html()


def test_summary2_names_and_t_statistic():
    rs = np.random.RandomState(1)
    X = sm.add_constant(rs.randn(40, 1))
    y = 1 + X[:, 1] + rs.randn(40)
    res = sm.GLM(y, X).fit()          # Gaussian: scale estimated, t tests (R's summary.glm)
    s2 = res.summary2(xname=["c", "x"], yname="resp", title="T")
    assert list(s2.tables[1].index) == ["c", "x"] and "t" in s2.tables[1].columns
    assert s2.title == "T" and "resp" in s2.as_text()


def test_summary2_of_loaded_results_without_data(res, tmp_path):
    import glmkit

    path = tmp_path / "m.glmkit"
    res.save(path, remove_data=True)
    back = glmkit.load(path)
    pd.testing.assert_frame_equal(back.summary2().tables[1], res.summary2().tables[1])

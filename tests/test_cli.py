"""The glmkit command, run in-process through glmkit.cli.main and once as ``python -m glmkit``.

Data and R reference values: tests/reference/formula/ (make_reference.R there; R 4.2
glm() and predict(se.fit = TRUE)). Python-side expectations are the same models fitted
with glmkit.glm.
"""
from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import glmkit
import glmkit.api as sm
import glmkit.datasets
from glmkit.cli import main

REF = Path(__file__).parent / "reference" / "formula"
DATA = REF / "data_poisson_factor_offset.csv"
NEW = REF / "newdata_poisson_factor_offset.csv"
FORMULA = "y ~ C(region, Treatment('b')) * x + np.log(z)"
R_REF = json.loads((REF / "ref_poisson_factor_offset.json").read_text())


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _fit_json(capsys, *extra, data=DATA):
    code, out, err = run(capsys, "fit", data, "--formula", FORMULA, "--family", "poisson",
                         "--output", "json", *extra)
    assert code == 0, err
    return json.loads(out)


def test_fit_json_equals_r_with_exposure_column(capsys):
    out = _fit_json(capsys, "--exposure", "t")
    coefs = [p["coef"] for p in out["params"]]
    ses = [p["std_err"] for p in out["params"]]
    np.testing.assert_allclose(coefs, R_REF["params"], rtol=1e-6)
    np.testing.assert_allclose(ses, R_REF["bse"], rtol=1e-6)
    np.testing.assert_allclose(out["deviance"], R_REF["deviance"], rtol=1e-6)
    assert out["params"][1]["name"] == "C(region, Treatment('b'))[T.a]"
    assert out["nobs"] == 240 and out["n_dropped"] == 0 and out["family"] == "Poisson"


def test_offset_column_equals_exposure_and_formula_offset(capsys, tmp_path):
    data = pd.read_csv(DATA).assign(logt=lambda d: np.log(d.t))
    path = tmp_path / "d.csv"
    data.to_csv(path, index=False)
    a = _fit_json(capsys, "--offset", "logt", data=path)
    b = _fit_json(capsys, "--exposure", "t", data=path)
    np.testing.assert_allclose([p["coef"] for p in a["params"]],
                               [p["coef"] for p in b["params"]], rtol=1e-12)


def test_fit_text_and_html(capsys):
    code, out, err = run(capsys, "fit", DATA, "-f", FORMULA + " + offset(np.log(t))",
                         "--family", "poisson")
    assert code == 0 and err == ""
    assert "Generalized Linear Model Regression Results" in out
    assert "C(region, Treatment('b'))[T.d]:x" in out
    code, out, _ = run(capsys, "fit", DATA, "-f", "y ~ x", "--family", "poisson",
                       "--output", "html")
    assert code == 0 and out.startswith("<!DOCTYPE html>") and "<table" in out


def test_save_then_predict_equals_r(capsys, tmp_path):
    model = tmp_path / "m.glmkit"
    code, _, err = run(capsys, "fit", DATA, "-f", FORMULA + " + offset(np.log(t))",
                       "--family", "poisson", "--save", model)
    assert code == 0 and "saved the model" in err
    code, out, err = run(capsys, "predict", model, NEW, "--se", "--id", "region")
    assert code == 0, err
    pred = pd.read_csv(io.StringIO(out))
    assert list(pred.columns) == ["region", "mean", "mean_se", "mean_ci_lower", "mean_ci_upper"]
    np.testing.assert_allclose(pred["mean"], R_REF["predict"]["response"], rtol=1e-6)
    np.testing.assert_allclose(pred["mean_se"], R_REF["predict"]["se_response"], rtol=1e-6)
    # chunked reading and a file output give the same numbers
    dest = tmp_path / "p.csv"
    code, out, _ = run(capsys, "predict", model, NEW, "--which", "linear", "--chunksize", 2,
                       "-o", dest)
    assert code == 0 and out == ""
    lin = pd.read_csv(dest)
    np.testing.assert_allclose(lin["linear"], R_REF["predict"]["link"], rtol=1e-6)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.glmkit", "p.csv"]
    # the saved model loads in Python, without its data by default
    res = glmkit.load(model)
    assert isinstance(res, glmkit.loading.GLMResultsWithoutData)


def test_missing_rows_are_dropped_and_reported(capsys, tmp_path):
    data = REF / "data_gaussian_missing.csv"
    code, out, err = run(capsys, "fit", data, "-f", "y ~ 0 + f + x", "--family", "gaussian")
    assert code == 0 and "(6 row(s) with missing values dropped)" in out
    assert "dropped 6 row(s)" in err
    code, out, err = run(capsys, "fit", data, "-f", "y ~ 0 + f + x", "--family", "gaussian",
                         "--missing", "none")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "use --missing drop" in err


def test_parquet_matches_csv(capsys, tmp_path):
    pytest.importorskip("pyarrow")
    pq_data = tmp_path / "d.parquet"
    pd.read_csv(DATA).to_parquet(pq_data)
    a = _fit_json(capsys, "--exposure", "t")
    b = _fit_json(capsys, "--exposure", "t", data=pq_data)
    assert [p["name"] for p in a["params"]] == [p["name"] for p in b["params"]]
    np.testing.assert_allclose([p["coef"] for p in a["params"]],
                               [p["coef"] for p in b["params"]], rtol=1e-12)
    model = tmp_path / "m.glmkit"
    run(capsys, "fit", pq_data, "-f", FORMULA, "--family", "poisson", "--exposure", "t",
        "--save", model)
    pq_new = tmp_path / "n.parquet"
    pd.read_csv(NEW).to_parquet(pq_new)
    code, out, err = run(capsys, "predict", model, pq_new)
    assert code == 0, err
    pred = pd.read_csv(io.StringIO(out))
    np.testing.assert_allclose(pred["mean"], R_REF["predict"]["response"], rtol=1e-6)


def test_parquet_without_pyarrow_gives_an_install_hint(capsys, tmp_path, monkeypatch):
    path = tmp_path / "d.parquet"
    path.write_bytes(b"PAR1" + b"\0" * 16)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    code, _, err = run(capsys, "fit", path, "-f", "y ~ x", "--family", "poisson")
    assert code == 1 and "pip install 'glmkit[parquet]'" in err


@pytest.mark.parametrize("argv,message", [
    (["fit", "nope.csv", "-f", "y ~ x", "--family", "poisson"], "does not exist"),
    (["fit", DATA, "-f", "y ~ nosuch", "--family", "poisson"], "no column(s) 'nosuch'"),
    (["fit", DATA, "-f", "y ~ x", "--family", "poison"], "unknown family 'poison'"),
    (["fit", DATA, "-f", "y ~ x", "--family", "poisson", "--link", "logg"], "unknown link"),
    (["fit", DATA, "-f", "y ~ x +", "--family", "poisson"], "cannot parse the formula"),
    (["fit", DATA, "-f", "region ~ x", "--family", "poisson"], "must be numeric"),
    (["fit", DATA, "-f", "y ~ x", "--family", "tweedie"], "needs --var-power"),
    (["predict", DATA, NEW], "not a glmkit model file"),
    (["fit", DATA, "-f", "y ~ x"], "required: --family"),
    (["fit", DATA, "-f", "y ~ x", "--family", "poisson", "--offset", "t", "--exposure", "t"],
     "not allowed with argument"),
    (["frobnicate"], "invalid choice"),
])
def test_errors_are_one_line_and_nonzero(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code in (1, 2)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("glmkit: error: "), err
    assert message in lines[0]
    assert "Traceback" not in err


def test_demo_runs_the_bundled_data(capsys):
    code, out, _ = run(capsys, "demo")
    assert code == 0
    assert re.search(r"Model Family:\s+Gamma", out)
    assert "COUTAX_FEMALEUNEMP" in out
    data = glmkit.datasets.load_scotland()
    ref = sm.GLM(data["YES"], sm.add_constant(data.drop(columns="YES")),
                 family=sm.families.Gamma()).fit()
    assert f"{ref.params['COUTAX']:.3e}" in out


def test_python_dash_m_glmkit(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "glmkit", "fit", str(DATA), "--formula", FORMULA,
         "--family", "poisson", "--exposure", "t", "--output", "json"],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    np.testing.assert_allclose([p["coef"] for p in out["params"]], R_REF["params"], rtol=1e-6)


def test_semicolon_files_with_decimal_commas_and_tabs(capsys, tmp_path):
    data = pd.read_csv(DATA)
    semi, tab = tmp_path / "d_semi.csv", tmp_path / "d.tsv"
    data.to_csv(semi, sep=";", decimal=",", index=False)
    data.to_csv(tab, sep="\t", index=False)
    a = _fit_json(capsys, "--exposure", "t")
    for path in (semi, tab):
        b = _fit_json(capsys, "--exposure", "t", data=path)
        np.testing.assert_allclose([p["coef"] for p in b["params"]],
                                   [p["coef"] for p in a["params"]], rtol=1e-12)


def test_bad_files_are_one_line_errors(capsys, tmp_path):
    stray = tmp_path / "stray.csv"
    x = pd.Series(np.linspace(0, 1, 1500), dtype=object)
    x[1200] = "abc"
    pd.DataFrame({"y": np.arange(1500) % 4, "x": x}).to_csv(stray, index=False)
    code, _, err = run(capsys, "fit", stray, "-f", "y ~ x", "--family", "poisson")
    assert code == 1 and "holds 'abc' at row 1202" in err and err.count("\n") == 1
    sheet = tmp_path / "book.xlsx"
    sheet.write_bytes(b"PK\x03\x04")
    code, _, err = run(capsys, "fit", sheet, "-f", "y ~ x", "--family", "poisson")
    assert code == 1 and "save it as CSV" in err


@pytest.mark.parametrize("body", ["1,2,3\n3,4\n2,4,1\n4,1,2\n", "1,2,3\n3,4,5,6\n2,4,1\n",
                                  '1,2,3\n"3,4,5\n2,4,1\n4,1,2\n'])
def test_ragged_csv_rows_are_an_error_not_missing_values(capsys, tmp_path, body):
    """A row with fewer (or more) fields than the header is a malformed file: before, pandas
    filled a short row with NaN and the fit dropped it, exiting 0 on 2 rows."""
    bad = tmp_path / "ragged.csv"
    bad.write_text("y,x,z\n" + body)
    code, _, err = run(capsys, "fit", bad, "-f", "y ~ x + z", "--family", "poisson")
    assert code == 1 and err.count("\n") == 1
    assert "field(s) but the header has 3" in err


def test_empty_cells_are_still_missing_values(capsys, tmp_path):
    ok = tmp_path / "ok.csv"
    ok.write_text("y,x,z\n1,2,\n3,4,\n2,4,1\n4,1,2\n5,5,5\n6,2,2\n")
    code, out, err = run(capsys, "fit", ok, "-f", "y ~ x + z", "--family", "poisson")
    assert code == 0 and "dropped 2 row(s)" in err + out


def test_negbin_family_estimates_theta_as_mass(capsys, tmp_path):
    """--family negbin is glmkit.glm_nb (MASS::glm.nb; tests/reference/negbin)."""
    ref = json.loads((Path(__file__).parent / "reference" / "negbin" /
                      "ref_glm_nb.json").read_text())["quine_small"]
    data = Path(__file__).parent / "reference" / "negbin" / "data_quine.csv"
    code, out, err = run(capsys, "fit", data, "-f", "Days ~ Sex + Eth", "--family", "negbin",
                         "--format", "json")
    assert code == 0, err
    got = json.loads(out)
    np.testing.assert_allclose([p["coef"] for p in got["params"]], ref["coefficients"],
                               rtol=1e-7)
    code, out, err = run(capsys, "fit", data, "-f", "Days ~ Sex + Eth", "--family", "negbin")
    assert code == 0 and f"theta (negative binomial): {ref['theta']:.6g}" in out


def test_cov_type_and_cluster_options(capsys):
    res = glmkit.glm(FORMULA, pd.read_csv(DATA), family=sm.families.Poisson()).fit(cov_type="HC1")
    got = _fit_json(capsys, "--cov-type", "HC1")
    np.testing.assert_allclose([p["std_err"] for p in got["params"]], res.bse, rtol=1e-12)
    frame = pd.read_csv(DATA)
    res = glmkit.glm(FORMULA, frame, family=sm.families.Poisson()).fit(
        cov_type="cluster", cov_kwds={"groups": frame["region"].to_numpy()})
    got = _fit_json(capsys, "--cluster", "region")
    assert got["cov_type"] == "cluster"
    np.testing.assert_allclose([p["std_err"] for p in got["params"]], res.bse, rtol=1e-12)


def test_dash_o_is_the_output_file_in_every_command(capsys, tmp_path):
    html_file, json_file = tmp_path / "r.html", tmp_path / "r.json"
    code, out, _ = run(capsys, "fit", DATA, "-f", FORMULA, "--family", "poisson", "-o", html_file)
    assert code == 0 and out == "" and html_file.read_text().startswith("<!DOCTYPE html>")
    code, out, _ = run(capsys, "fit", DATA, "-f", FORMULA, "--family", "poisson", "-o", json_file)
    assert json.loads(json_file.read_text())["family"] == "Poisson"
    # the old spelling of fit's format still works
    assert _fit_json(capsys)["family"] == "Poisson"


def test_plot_option_writes_the_diagnostic_figure(capsys, tmp_path):
    pytest.importorskip("matplotlib", reason="the plot extra (matplotlib) is not installed")
    png = tmp_path / "diag.png"
    code, _, err = run(capsys, "fit", DATA, "-f", FORMULA, "--family", "poisson", "--plot", png)
    assert code == 0, err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

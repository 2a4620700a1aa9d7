"""glmkit GLM fits compared with R's glm().

Every expected value in this module comes from the JSON files in
``tests/reference/core/``, which are written by
``tests/reference/core/make_reference.R`` (R ``glm()`` with
``glm.control(epsilon = 1e-12, maxit = 200)``).  The data sets are the CSV
files next to them.  To regenerate, run ``Rscript make_reference.R`` inside
that folder; see its README.md.

Conventions of the reference files (see make_reference.R):

* the design is ``const`` (intercept) followed by the ``x_cols`` columns;
* ``response_cols`` has one column (``y``) or two (``s``, ``f``: successes and
  failures of a binomial ``cbind(s, f)`` response);
* ``offset_col``/``exposure_col``/``var_weights_col``/``freq_weights_col`` name
  the CSV columns to pass as ``offset``/``exposure``/``var_weights``/
  ``freq_weights`` (R used ``offset = log(exposure)`` and ``weights = w``);
* ``ref_<case>_freq.json`` holds R's fit on the *expanded* data (row i repeated
  ``fw[i]`` times); glmkit fits the compact CSV with ``freq_weights=fw``.  Its
  per-observation vectors are given once per CSV row.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import glmkit.api as sm

import _reference  # noqa: E402  (tests/_reference.py)

REF_DIR = Path(__file__).parent / "reference" / "core"
REF_FILES = sorted(REF_DIR.glob("ref_*.json"))
CASES = [p.stem[len("ref_"):] for p in REF_FILES]

# None of the compared quantities is zero in theory, so a pure relative
# tolerance is used throughout (atol = 0).
RTOL = 1e-6
ATOL = 0.0

LINKS = _reference.LINKS

# families whose log-likelihood is fully specified (no dispersion); R's logLik()
# is only compared for these.
LLF_FAMILIES = {"poisson", "binomial", "negative_binomial"}


def load_ref(case: str) -> dict:
    return _reference.load_ref(REF_DIR, case)


make_family = _reference.make_family


@lru_cache(maxsize=None)
def load_data(case: str):
    """(endog, exog, model kwargs) for a reference case."""
    ref = load_ref(case)
    df = pd.read_csv(REF_DIR / ref["data_file"])
    resp = ref["response_cols"]
    if len(resp) == 1:
        endog = df[resp[0]].to_numpy(dtype=float)
    else:  # binomial cbind(successes, failures)
        endog = df[resp].to_numpy(dtype=float)
    exog = df[ref["x_cols"]].astype(float)
    exog.insert(0, "const", 1.0)
    kwargs = {}
    for key, arg in [
        ("offset_col", "offset"),
        ("exposure_col", "exposure"),
        ("var_weights_col", "var_weights"),
        ("freq_weights_col", "freq_weights"),
    ]:
        col = ref.get(key)
        if col is not None:
            kwargs[arg] = df[col].to_numpy(dtype=float)
    return endog, exog, kwargs


@lru_cache(maxsize=None)
def fit_case(case: str, scale=None):
    ref = load_ref(case)
    endog, exog, kwargs = load_data(case)
    model = sm.GLM(endog, exog, family=make_family(ref["family_spec"]), **kwargs)
    return model.fit() if scale is None else model.fit(scale=scale)


def ref_vector(ref: dict, key: str) -> np.ndarray:
    """Named R coefficients (dict) in the order of ref['param_names']."""
    return np.array([ref[key][name] for name in ref["param_names"]], dtype=float)


def check(actual, expected, what: str) -> None:
    np.testing.assert_allclose(
        np.asarray(actual, dtype=float),
        np.asarray(expected, dtype=float),
        rtol=RTOL,
        atol=ATOL,
        err_msg=what,
    )


def is_negbin(ref: dict) -> bool:
    return ref["family_spec"]["name"] == "negative_binomial"


@pytest.mark.parametrize("case", CASES)
def test_params(case):
    """Coefficients and convergence vs R glm().

    Expected values: tests/reference/core/make_reference.R (ref_<case>.json).
    """
    ref = load_ref(case)
    res = fit_case(case)
    assert bool(res.converged)
    check(res.params, ref_vector(ref, "params"), "params")
    if hasattr(res.params, "index"):
        assert list(res.params.index) == ref["param_names"]


@pytest.mark.parametrize("case", CASES)
def test_bse(case):
    """Standard errors vs R's summary(glm()).

    Expected values: tests/reference/core/make_reference.R.  For the negative
    binomial with fixed theta the default fit uses dispersion 1 (statsmodels
    and MASS::glm.nb convention), i.e. R's summary(fit, dispersion = 1).
    """
    ref = load_ref(case)
    res = fit_case(case)
    key = "bse_dispersion_one" if is_negbin(ref) else "bse"
    check(res.bse, ref_vector(ref, key), key)


@pytest.mark.parametrize("case", CASES)
def test_deviance_and_scale(case):
    """Deviance, null deviance, Pearson chi2, scale and df vs R glm().

    Expected values: tests/reference/core/make_reference.R.  For frequency-weight
    cases they are R's values on the expanded data.
    """
    ref = load_ref(case)
    res = fit_case(case)
    check(res.deviance, ref["deviance"], "deviance")
    check(res.null_deviance, ref["null_deviance"], "null_deviance")
    check(res.pearson_chi2, ref["pearson_chi2"], "pearson_chi2")
    expected_scale = 1.0 if is_negbin(ref) else ref["dispersion"]
    check(res.scale, expected_scale, "scale")
    check(res.df_resid, ref["df_residual"], "df_resid")


@pytest.mark.parametrize("case", CASES)
def test_fitted_and_residuals(case):
    """Fitted means and response/Pearson/deviance/working residuals vs R.

    Expected values: tests/reference/core/make_reference.R (R's fitted(),
    residuals(fit, type)).  For the binomial cbind case R's response and working
    residuals are on the proportion scale (y/n - mu), not multiplied by n.
    """
    ref = load_ref(case)
    res = fit_case(case)
    check(res.fittedvalues, ref["fitted"], "fittedvalues")
    check(res.mu, ref["fitted"], "mu")
    check(res.resid_response, ref["resid_response"], "resid_response")
    check(res.resid_pearson, ref["resid_pearson"], "resid_pearson")
    check(res.resid_deviance, ref["resid_deviance"], "resid_deviance")
    check(res.resid_working, ref["resid_working"], "resid_working")


LLF_CASES = [c for c in CASES if load_ref(c)["family_spec"]["name"] in LLF_FAMILIES]


@pytest.mark.parametrize("case", LLF_CASES)
def test_loglikelihood(case):
    """Log-likelihood vs R's logLik() (Poisson, binomial, negative binomial).

    Expected values: tests/reference/core/make_reference.R.  For the binomial
    proportion + weights and cbind cases R's value includes log(choose(n, s)).
    """
    ref = load_ref(case)
    res = fit_case(case)
    check(res.llf, ref["loglik"], "llf")


NEGBIN_CASES = [c for c in CASES if is_negbin(load_ref(c))]


@pytest.mark.parametrize("case", NEGBIN_CASES)
def test_negbin_pearson_scale_matches_summary_glm(case):
    """Negative binomial (fixed theta) with scale='X2' vs R's summary.glm().

    Expected values: tests/reference/core/make_reference.R.  summary.glm()
    estimates the dispersion as Pearson chi2 / df for MASS::negative.binomial().
    """
    ref = load_ref(case)
    res = fit_case(case, scale="X2")
    check(res.params, ref_vector(ref, "params"), "params")
    check(res.scale, ref["dispersion"], "scale")
    check(res.bse, ref_vector(ref, "bse"), "bse")


def test_reference_files_present():
    """The R reference set (tests/reference/core/make_reference.R) is complete."""
    assert len(CASES) >= 28
    for case in CASES:
        ref = load_ref(case)
        assert (REF_DIR / ref["data_file"]).is_file(), ref["data_file"]

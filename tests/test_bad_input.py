"""Tier 4: bad and odd inputs through the public API (``glmkit.api.GLM(...).fit()``).

What is checked: a clear exception (type, and a message naming the culprit) or a correct
answer; never a crash, a hang, a silent NaN or a modified user array. Where a test compares
numbers, the reference is an invariant: a fit with ``missing='drop'`` equals the fit on the
complete rows the user could have selected by hand.
"""
from __future__ import annotations

import warnings
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal

import glmkit
import glmkit.api as sm
from glmkit.exceptions import (
    AliasedColumnsWarning,
    ConvergenceWarning,
    MissingDataError,
    PerfectSeparationWarning,
)

F = sm.families
INPUTS = ["endog", "exog", "offset", "exposure", "freq_weights", "var_weights"]


def _data(n=30, seed=0):
    """A small well-posed Poisson problem with every optional input present."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.uniform(-1, 1, n)])
    exposure = rng.uniform(0.5, 2.0, n)
    y = rng.poisson(exposure * np.exp(0.3 + 0.4 * X[:, 1])).astype(float)
    return {
        "endog": y, "exog": X, "offset": rng.normal(0, 0.1, n), "exposure": exposure,
        "freq_weights": rng.integers(1, 4, n).astype(float),
        "var_weights": rng.uniform(0.5, 2.0, n),
    }


def _glm(d, family=None, **kw):
    args = dict(d)
    endog, exog = args.pop("endog"), args.pop("exog")
    return sm.GLM(endog, exog, family=family if family is not None else F.Poisson(), **args,
                  **kw)


def _poke(d, name, value, rows=(3,)):
    """Copy of the inputs with ``value`` written into ``rows`` of input ``name``."""
    out = {k: v.copy() for k, v in d.items()}
    if out[name].ndim == 2:
        out[name][list(rows), 1] = value
    else:
        out[name][list(rows)] = value
    return out


# ---------------------------------------------------------------- NaN and inf
@pytest.mark.parametrize("name", INPUTS)
def test_nan_raises_naming_the_input(name):
    with pytest.raises(ValueError, match=name) as info:
        _glm(_poke(_data(), name, np.nan))
    assert "missing='drop'" in str(info.value)     # the message says how to fix it
    assert not isinstance(info.value, MissingDataError)


@pytest.mark.parametrize("name", INPUTS)
@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_inf_raises_naming_the_input(name, value):
    with pytest.raises(ValueError, match=f"{name} has infinite"):
        _glm(_poke(_data(), name, value))
    # infinities are not missing values: dropping does not hide them
    with pytest.raises(ValueError, match=f"{name} has infinite"):
        _glm(_poke(_data(), name, value), missing="drop")


@pytest.mark.parametrize("name", INPUTS)
def test_missing_raise_raises_missing_data_error(name):
    assert glmkit.MissingDataError is MissingDataError      # the public name
    with pytest.raises(MissingDataError, match=name):
        _glm(_poke(_data(), name, np.nan), missing="raise")


def test_nan_in_two_column_binomial_endog_names_endog():
    rng = np.random.default_rng(3)
    succ = rng.integers(0, 5, 20).astype(float)
    y = np.column_stack([succ, 5 - succ])
    y[4, 1] = np.nan
    with pytest.raises(ValueError, match="endog"):
        sm.GLM(y, np.ones((20, 1)), family=F.Binomial())


@pytest.mark.parametrize("name", INPUTS)
def test_missing_drop_equals_fit_on_complete_rows(name):
    d = _data()
    rows = (2, 7, 11)
    bad = _poke(d, name, np.nan, rows)
    with pytest.warns(UserWarning, match="dropped 3 row"):
        model = _glm(bad, missing="drop")
    assert model.n_dropped == 3 and model.nobs == 27
    res = model.fit()
    # invariant: dropping rows inside the model == selecting complete rows by hand
    keep = np.setdiff1d(np.arange(30), rows)
    ref = _glm({k: v[keep] for k, v in d.items()}).fit()
    assert_allclose(res.params, ref.params, rtol=1e-12, atol=1e-14)
    assert_allclose(res.deviance, ref.deviance, rtol=1e-12)
    assert_allclose(res.fittedvalues, ref.fittedvalues, rtol=1e-12)


def test_missing_drop_with_nan_in_several_inputs_counts_rows_once():
    d = _data()
    bad = _poke(_poke(_poke(d, "endog", np.nan, (1, 5)), "exog", np.nan, (5, 9)),
                "var_weights", np.nan, (9, 20))
    with pytest.warns(UserWarning, match="dropped 4 row"):
        model = _glm(bad, missing="drop")
    assert model.n_dropped == 4                      # rows 1, 5, 9, 20
    keep = np.setdiff1d(np.arange(30), [1, 5, 9, 20])
    ref = _glm({k: v[keep] for k, v in d.items()}).fit()
    assert_allclose(model.fit().params, ref.params, rtol=1e-12)


def test_missing_drop_pandas_keeps_labels_of_complete_rows():
    d = _data()
    idx = pd.Index([f"r{i}" for i in range(30)])
    X = pd.DataFrame(d["exog"], index=idx, columns=["const", "a", "b"])
    y = pd.Series(d["endog"], index=idx, name="count")
    X.iloc[4, 1] = np.nan
    with pytest.warns(UserWarning, match="dropped 1 row"):
        res = sm.GLM(y, X, family=F.Poisson(), missing="drop").fit()
    assert "r4" not in res.fittedvalues.index and len(res.fittedvalues) == 29
    ref = sm.GLM(y.drop("r4"), X.drop("r4"), family=F.Poisson()).fit()
    assert_allclose(res.params.to_numpy(), ref.params.to_numpy(), rtol=1e-12)


def test_missing_drop_of_every_row_raises():
    d = _data()
    d["endog"][:] = np.nan
    with pytest.raises(ValueError, match="every row"):
        _glm(d, missing="drop")


@pytest.mark.parametrize("missing", ["bogus", "DROP", None, 0])
def test_bad_missing_option(missing):
    with pytest.raises(ValueError, match="missing"):
        _glm(_data(), missing=missing)


# ------------------------------------------------------------- shapes, types
@pytest.mark.parametrize("name", INPUTS)
def test_length_mismatch_raises(name):
    d = _data()
    d[name] = d[name][:-1]
    with pytest.raises(ValueError, match="rows|one value per row"):
        _glm(d)


@pytest.mark.parametrize("name", ["offset", "exposure", "freq_weights", "var_weights"])
def test_two_dimensional_vector_input_raises(name):
    d = _data()
    d[name] = np.column_stack([d[name], d[name]])
    with pytest.raises(ValueError, match=name):
        _glm(d)


def test_pandas_indexes_must_align():
    d = _data()
    X = pd.DataFrame(d["exog"])
    y = pd.Series(d["endog"], index=np.arange(30) + 100)
    with pytest.raises(ValueError, match="index"):
        sm.GLM(y, X, family=F.Poisson())


def test_three_dimensional_exog_raises():
    with pytest.raises(ValueError, match="2-d"):
        sm.GLM(np.ones(4), np.ones((4, 2, 2)))


@pytest.mark.parametrize("exog", [np.empty((0, 2)), np.empty((5, 0)), []],
                         ids=["no-rows", "no-columns", "empty-list"])
def test_empty_exog_raises(exog):
    n = np.shape(exog)[0] if np.ndim(exog) == 2 else 0
    with pytest.raises(ValueError, match="empty"):
        sm.GLM(np.ones(n), exog)


@pytest.mark.parametrize("endog", [np.ones((5, 3)), np.ones((5, 2, 1))], ids=["3-cols", "3-d"])
def test_bad_endog_shape_raises(endog):
    with pytest.raises(ValueError, match="endog"):
        sm.GLM(endog, np.ones((5, 1)), family=F.Binomial())


def test_two_column_endog_needs_binomial():
    with pytest.raises(ValueError, match="Binomial"):
        sm.GLM(np.ones((5, 2)), np.ones((5, 1)), family=F.Poisson())


def test_none_inputs_raise():
    with pytest.raises(ValueError, match="endog"):
        sm.GLM(None, np.ones((5, 1)))
    with pytest.raises(ValueError, match="exog"):
        sm.GLM(np.ones(5), None)


def test_string_column_in_dataframe_raises_naming_it():
    X = pd.DataFrame({"const": 1.0, "x": [1.0, 2.0, 3.0, 4.0], "city": list("abab")})
    with pytest.raises(TypeError, match="city"):
        sm.GLM(np.arange(4.0), X)


def test_categorical_column_in_dataframe_raises():
    X = pd.DataFrame({"const": 1.0, "g": pd.Categorical(list("abab"))})
    with pytest.raises(TypeError, match="'g'"):
        sm.GLM(np.arange(4.0), X)


@pytest.mark.parametrize("bad", [
    pytest.param(np.array([["1", "2"], ["3", "4"], ["5", "6"]]), id="str-array"),
    pytest.param(np.array([[1.0, "a"], [2.0, "b"], [3.0, "c"]], dtype=object), id="object"),
    pytest.param(np.ones((3, 2)) + 1j, id="complex"),
])
def test_non_numeric_exog_raises(bad):
    with pytest.raises(TypeError, match="exog"):
        sm.GLM(np.arange(3.0), bad)


@pytest.mark.parametrize("bad", [
    pytest.param(np.array(["a", "b", "c"]), id="str"),
    pytest.param(pd.Series(["a", "b", "c"], dtype=object), id="object-series"),
])
def test_non_numeric_endog_raises(bad):
    with pytest.raises(TypeError, match="endog"):
        sm.GLM(bad, np.ones((3, 1)))


def test_non_numeric_offset_raises():
    with pytest.raises(TypeError, match="offset"):
        sm.GLM(np.arange(3.0), np.ones((3, 1)), offset=np.array(["a", "b", "c"]))


# ------------------------------------------------------------- weights, exposure
@pytest.mark.parametrize("name", ["freq_weights", "var_weights"])
def test_negative_weights_raise(name):
    with pytest.raises(ValueError, match=f"{name} must be non-negative"):
        _glm(_poke(_data(), name, -1.0))


@pytest.mark.parametrize("name", ["freq_weights", "var_weights"])
def test_all_zero_weights_raise(name):
    d = _data()
    d[name] = np.zeros(30)
    with pytest.raises(ValueError, match=f"{name} are all zero"):
        _glm(d)


@pytest.mark.parametrize("value", [0.0, -1.0])
def test_non_positive_exposure_raises(value):
    with pytest.raises(ValueError, match="exposure must be positive"):
        _glm(_poke(_data(), "exposure", value))


@pytest.mark.parametrize("family", [
    pytest.param(lambda: F.Poisson(F.links.Identity()), id="Poisson-identity"),
    pytest.param(lambda: F.Gaussian(), id="Gaussian-identity"),
    pytest.param(lambda: F.Poisson(F.links.Sqrt()), id="Poisson-sqrt"),
])
def test_exposure_needs_log_link(family):
    with pytest.raises(ValueError, match="log link"):
        _glm(_data(), family=family())


def test_response_outside_family_range_raises_naming_family():
    d = _data()
    d["endog"][0] = -1.0
    with pytest.raises(ValueError, match="Poisson"):
        _glm(d)


# --------------------------------------------------------------- option checks
def test_unknown_glm_kwarg_is_type_error():
    d = _data()
    with pytest.raises(TypeError, match="bogus"):
        sm.GLM(d["endog"], d["exog"], family=F.Poisson(), bogus=1)


def test_family_class_instead_of_instance():
    d = _data()
    with pytest.raises(TypeError, match="parentheses"):
        sm.GLM(d["endog"], d["exog"], family=F.Poisson)
    with pytest.raises(TypeError, match="family"):
        sm.GLM(d["endog"], d["exog"], family="poisson")


@pytest.fixture(scope="module")
def model():
    d = _data()
    return sm.GLM(d["endog"], d["exog"], family=F.Poisson())


def test_unknown_fit_kwarg_is_type_error(model):
    with pytest.raises(TypeError, match="bogus"):
        model.fit(bogus=True)


@pytest.mark.parametrize("method", ["not-a-method", "", 123, None])
def test_bad_method(model, method):
    with pytest.raises(ValueError, match="method"):
        model.fit(method=method)


@pytest.mark.parametrize("scale", [-1.0, 0.0, np.nan, np.inf, "bogus", "x 2", True])
def test_bad_scale(model, scale):
    with pytest.raises(ValueError, match="scale"):
        model.fit(scale=scale)


def test_scale_strings_ignore_case_as_statsmodels(model):
    # statsmodels' fit() lower-cases the scale string (string_like), so 'x2' and 'DEV' work
    ref = model.fit(scale="X2")
    assert model.fit(scale="x2").scale == ref.scale
    assert model.fit(scale="DEV").scale == model.fit(scale="dev").scale


@pytest.mark.parametrize("scale", [[1.0, 2.0], object()], ids=["list", "object"])
def test_bad_scale_type_gets_a_clear_message(model, scale):
    with pytest.raises(ValueError, match="scale"):
        model.fit(scale=scale)


@pytest.mark.parametrize("cov_type", ["bogus", "HC9", "", None])
def test_bad_cov_type(model, cov_type):
    with pytest.raises(ValueError, match="cov_type"):
        model.fit(cov_type=cov_type)


@pytest.mark.parametrize("maxiter", [0, -5, 2.5, True, "10", None])
def test_bad_maxiter(model, maxiter):
    with pytest.raises(ValueError, match="maxiter"):
        model.fit(maxiter=maxiter)


@pytest.mark.parametrize("tol", [0.0, -1e-8, np.nan, np.inf, "small", None])
def test_bad_tol(model, tol):
    with pytest.raises(ValueError, match="tol"):
        model.fit(tol=tol)


@pytest.mark.parametrize("start", [
    pytest.param([0.1, 0.2], id="too-short"),
    pytest.param([0.1, 0.2, 0.3, 0.4], id="too-long"),
    pytest.param([0.1, np.nan, 0.3], id="nan"),
    pytest.param([0.1, np.inf, 0.3], id="inf"),
    pytest.param(np.zeros((3, 2)), id="2-d"),
])
def test_bad_start_params(model, start):
    with pytest.raises(ValueError, match="start_params"):
        model.fit(start_params=start)


@pytest.mark.parametrize("kw", [{"use_t": "yes"}, {"cov_kwds": {"groups": [1]}},
                                {"tol_criterion": "bogus"}], ids=["use_t", "cov_kwds", "crit"])
def test_other_bad_fit_options(model, kw):
    with pytest.raises(ValueError, match=next(iter(kw))):
        model.fit(**kw)


def test_start_params_maxiter_one_is_valid(model):
    # the smallest valid settings are accepted (a clear answer, maybe with a warning)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = model.fit(start_params=[0.0, 0.0, 0.0], maxiter=1)
    assert np.all(np.isfinite(res.params))


# ------------------------------------------------- user arrays are never written
RESULT_ATTRS = [
    "params", "bse", "tvalues", "pvalues", "fittedvalues", "mu", "linear_predictor",
    "resid_response", "resid_pearson", "resid_deviance", "resid_working", "resid_anscombe",
    "deviance", "null_deviance", "pearson_chi2", "llf", "llnull", "aic", "bic", "scale",
    "weights", "null", "df_resid", "df_model",
]


def _touch_results(res, X):
    """Evaluate every statistic a user may ask for, and use what comes back."""
    for name in RESULT_ATTRS:
        value = getattr(res, name)
        np.asarray(value) * 1.0
    res.conf_int()
    res.cov_params()
    res.predict()
    res.predict(X, exposure=np.ones(len(X)), offset=np.zeros(len(X)))
    res.predict(which="linear")
    str(res.summary())


def _snapshot(arrays):
    return {k: (v.copy(deep=True) if isinstance(v, (pd.Series, pd.DataFrame)) else v.copy())
            for k, v in arrays.items()}


def _assert_unchanged(before, after):
    for k in before:
        b, a = before[k], after[k]
        if isinstance(b, (pd.Series, pd.DataFrame)):
            pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b), check_exact=True)
        else:
            assert_array_equal(a, b, err_msg=k)
            assert a.dtype == b.dtype and a.shape == b.shape


@pytest.mark.parametrize("with_nan", [False, True], ids=["complete", "missing-drop"])
def test_numpy_inputs_are_not_modified(with_nan):
    d = _data()
    if with_nan:
        d = _poke(_poke(d, "exog", np.nan, (4,)), "var_weights", np.nan, (8,))
    # integer endog and a Fortran-ordered exog: the dtype / layout conversions must copy
    d["endog"] = d["endog"].astype(np.int64) if not with_nan else d["endog"]
    d["exog"] = np.asfortranarray(d["exog"])
    before = _snapshot(d)
    flags = {k: v.flags.writeable for k, v in d.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)    # the 'dropped rows' note
        res = _glm(d, missing="drop" if with_nan else "none").fit()
        _touch_results(res, np.nan_to_num(d["exog"]))
    _assert_unchanged(before, d)
    assert {k: v.flags.writeable for k, v in d.items()} == flags


@pytest.mark.parametrize("with_nan", [False, True], ids=["complete", "missing-drop"])
def test_pandas_inputs_are_not_modified(with_nan):
    d = _data()
    X = pd.DataFrame(d["exog"][:, 1:], columns=["a", "b"], index=np.arange(30) * 2)
    X.insert(0, "const", 1.0)
    X["flag"] = (X["a"] > 0)                       # bool column: converted, not written
    y = pd.Series(d["endog"].astype(np.int64), index=X.index, name="count")
    w = pd.Series(d["var_weights"], index=X.index)
    if with_nan:
        X.loc[8, "b"] = np.nan
        w.iloc[5] = np.nan
    inputs = {"y": y, "X": X, "w": w}
    before = _snapshot(inputs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = sm.GLM(y, X, family=F.Poisson(), var_weights=w,
                     missing="drop" if with_nan else "none").fit()
        _touch_results(res, X.fillna(0.0))
    _assert_unchanged(before, inputs)
    # the user's frames are still theirs to edit
    X.iloc[0, 1] = 0.5
    y.iloc[0] = 3


def test_binomial_two_column_input_is_not_modified():
    rng = np.random.default_rng(5)
    succ = rng.integers(0, 6, 25)
    y = np.column_stack([succ, 6 - succ])           # integer counts
    X = np.column_stack([np.ones(25), rng.normal(size=25)])
    before = _snapshot({"y": y, "X": X})
    res = sm.GLM(y, X, family=F.Binomial()).fit()
    _touch_results(res, X)
    _assert_unchanged(before, {"y": y, "X": X})


# ----------------------------------------------------- property-based fits
ALLOWED_WARNINGS = (ConvergenceWarning, PerfectSeparationWarning, AliasedColumnsWarning)


def _responses(family: str, n: int):
    family = family.split("-")[0]
    if family == "Poisson":
        el = st.integers(0, 30).map(float)
    elif family == "Binomial":
        el = st.integers(0, 1).map(float)
    elif family == "Gamma":
        el = st.floats(0.01, 100.0, allow_nan=False, allow_subnormal=False)
    else:
        el = st.floats(-100.0, 100.0, allow_nan=False, allow_subnormal=False)
    return hnp.arrays(np.float64, n, elements=el)


@st.composite
def problems(draw, family: str):
    n = draw(st.integers(5, 40))
    k = draw(st.integers(1, 4))
    # moderate magnitudes: 0 or 1e-4 <= |x| <= 10 (4 decimals, like measured data); a design
    # scaled by 1e-293 is checked on its own (test_tiny_scaled_design_...)
    X = draw(hnp.arrays(np.float64, (n, k), elements=st.floats(
        -10.0, 10.0, allow_nan=False, allow_infinity=False, allow_subnormal=False
    ).map(lambda v: round(v, 4))))
    if draw(st.booleans()):
        X[:, 0] = 1.0                              # most real designs have an intercept
    y = draw(_responses(family, n))
    return X, y


# canonical links. Gamma with the log link belongs here too, but ~2% of its examples hit the
# known bugs of test_gamma_log_skewed_intercept_only_reaches_the_mle and
# test_saturated_fit_deviance_is_not_negative: add
# "Gamma-log": lambda: F.Gamma(F.links.Log()) once those pass.
FAMILIES = {"Poisson": F.Poisson, "Binomial": F.Binomial, "Gamma": F.Gamma,
            "Gaussian": F.Gaussian}

# derandomize: the suite runs the same 50 examples per family every time, so it cannot flake.
# To explore, run with max_examples=2500 and derandomize=False (done when this file was
# written: what that found is pinned down by the regression tests below).
HYPO = settings(max_examples=50, deadline=timedelta(seconds=1), derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _check_fit(family_name, X, y):
    """A fit gives finite answers, NaN only where it warned, or a glmkit error."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = sm.GLM(y, X, family=FAMILIES[family_name]()).fit()
        except np.linalg.LinAlgError as e:          # a raw numpy error is not a glmkit error
            raise AssertionError(f"unhandled LinAlgError: {e}") from e
        except ValueError as e:
            assert str(e), "a glmkit error must say what is wrong"
            tb = e.__traceback__
            while tb.tb_next is not None:
                tb = tb.tb_next
            assert "glmkit" in tb.tb_frame.f_code.co_filename, f"raised outside glmkit: {e!r}"
            return None
        params = np.asarray(res.params, dtype=float)
        aliased = np.asarray(res.aliased, dtype=bool)
        bse = np.asarray(res.bse, dtype=float)
        deviance = res.deviance
        null = res.null_deviance if res.k_constant else None
    kinds = {type(w.message) for w in caught}
    unexpected = [w for w in caught if not issubclass(w.category, ALLOWED_WARNINGS)]
    # numpy RuntimeWarnings (overflow, invalid value, divide by zero) mean an unguarded path
    assert not unexpected, [f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})"
                            for w in unexpected]
    assert params.shape == (X.shape[1],)
    assert np.all(np.isnan(params[aliased])), "aliased columns get NaN (as R)"
    if aliased.any():
        assert AliasedColumnsWarning in kinds
    if not np.all(np.isfinite(params[~aliased])):
        # a non-finite coefficient is acceptable only when the user was warned about it
        assert ConvergenceWarning in kinds, (params, aliased)
    if not np.all(np.isfinite(bse[~aliased])):
        assert kinds & set(ALLOWED_WARNINGS), ("un-warned non-finite bse", bse, params)
    assert np.isfinite(deviance) and deviance >= 0, deviance
    if res.converged and null is not None and not kinds & set(ALLOWED_WARNINGS):
        # nested models: a converged fit with an intercept is at least as good as the
        # intercept-only fit (R's null deviance), else it stopped at a wrong point silently
        assert deviance <= null + 1e-7 * (abs(null) + 1.0), (deviance, null, params)
    return res


@pytest.mark.parametrize("family_name", list(FAMILIES))
def test_random_designs_fit_or_fail_clearly(family_name):
    @HYPO
    @given(problems(family_name))
    def run(problem):
        X, y = problem
        _check_fit(family_name, X, y)

    run()


def test_gamma_inverse_link_fit_emits_no_runtime_warning():
    # Regression: step-halving probes means outside (0, inf); that must be quiet (it used to
    # warn "invalid value encountered in log" on about half of ordinary Gamma fits).
    # Reference: the MLE's invariants. (statsmodels is NOT a reference here: on these data
    # it stops at a stationary point with negative fitted means, outside the Gamma range.)
    rng = np.random.default_rng(0)
    n = int(rng.integers(8, 30))
    X = np.column_stack([np.ones(n), rng.normal(size=n)])
    y = rng.gamma(2.0, 1.0 / np.abs(0.5 + 0.4 * X[:, 1]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = sm.GLM(y, X, family=F.Gamma()).fit()
    mu = np.asarray(res.fittedvalues)
    assert res.converged and np.all(mu > 0)
    # canonical link: the score is X'(y - mu) up to sign, zero at the MLE
    assert_allclose(X.T @ (y - mu), 0.0, atol=1e-8 * float(np.max(np.abs(X).T @ y)))
    assert_allclose(res.deviance, F.Gamma().deviance(y, mu), rtol=1e-10)


def test_gamma_inverse_link_zero_row_fails_clearly():
    # a row of zeros makes eta = 0 for every beta: mu = 1/0 is outside the range for every
    # coefficient vector, so the fit cannot succeed; it must say so without numpy noise
    X = np.array([[1.0, 0.5], [0.0, 0.0], [1.0, 1.5], [1.0, 2.0], [1.0, 3.0]])
    y = np.array([1.0, 2.0, 0.5, 0.7, 0.4])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = sm.GLM(y, X, family=F.Gamma()).fit()
        except ValueError as e:
            assert str(e)
            res = None
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)], \
        [str(w.message) for w in caught]
    if res is not None:
        assert any(issubclass(w.category, ConvergenceWarning) for w in caught)


def test_tiny_scaled_design_fits_without_numpy_warnings():
    # found by hypothesis (shrunk): an intercept-only Gamma model whose column is 1 on one
    # row and 4.9e-293 on the others
    X = np.array([[1.0], [4.912206550918824e-293], [4.912206550918824e-293],
                  [4.912206550918824e-293], [4.912206550918824e-293]])
    y = np.ones(5)
    _check_fit("Gamma", X, y)


@pytest.mark.parametrize("y", [
    pytest.param(np.r_[100.0, np.full(9, 0.01)], id="n10"),
    pytest.param(np.r_[59.0, np.full(4, 0.01171875)], id="n5"),
])
def test_gamma_log_skewed_intercept_only_reaches_the_mle(y):
    # found by hypothesis (Gamma, log link). Closed form: the intercept-only MLE of any GLM
    # has mu = mean(y) (the score sum(w (y - mu)) = 0), so params = log(mean(y)).
    X = np.ones((y.shape[0], 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = sm.GLM(y, X, family=F.Gamma(F.links.Log())).fit()
    assert res.converged
    assert_allclose(res.params, [np.log(y.mean())], rtol=1e-8)
    assert res.deviance <= res.null_deviance * (1 + 1e-10)


@pytest.mark.parametrize("family, y", [
    pytest.param(lambda: F.Poisson(), np.full(9, 7.0), id="Poisson-log"),
    pytest.param(lambda: F.Gamma(F.links.Log()), np.full(5, 0.01), id="Gamma-log"),
])
def test_saturated_fit_deviance_is_not_negative(family, y):
    # found by hypothesis. A constant response with an intercept is fitted exactly; the
    # deviance is a sum of unit deviances d(y, mu) >= 0, so it is >= 0 (here: 0 up to
    # rounding), and R's glm prints 0 for it
    res = sm.GLM(y, np.ones((y.shape[0], 1)), family=family()).fit()
    assert_allclose(res.deviance, 0.0, atol=1e-12)
    assert res.deviance >= 0.0


def test_poisson_all_zero_response_diverges_without_numpy_warnings():
    # found by hypothesis: y = 0 everywhere, so the MLE is at eta = -inf (R and statsmodels
    # warn and stop); the fit may warn (ConvergenceWarning, PerfectSeparationWarning) but
    # numpy must not overflow
    X = np.array([
        [-5.8206, 2.5786, 0.0, -9.5330], [0.0, 5.4206, 7.6728, -5.1235],
        [-0.7253, 0.3581, -7.1812, 7.7328], [0.0, 0.0, 2.2605, 1.5155],
        [0.0, 3.3187, -7.1987, 7.7638], [-6.1683, -8.0270, 2.4416, 8.1615],
        [0.0, 5.2519, 0.0, 0.3333], [4.2527, 9.6971, 9.1432, -6.4196],
        [0.0, 0.0001, -0.2244, -0.6368], [0.0, 0.0, -1.9000, 1.5000],
        [-8.8113, 3.4525, 0.0, 0.0]])
    _check_fit("Poisson", X, np.zeros(11))


@pytest.mark.parametrize("family_name, y", [
    ("Poisson", [0.0, 1.0, 1.0, 0.0, 3.0]), ("Binomial", [0.0, 1.0, 1.0, 0.0, 1.0]),
    ("Gamma", [1.0, 2.0, 2.0, 1.0, 4.0]), ("Gaussian", [-1.0, 0.5, 2.0, 0.0, 1.0]),
])
def test_all_zero_design_is_aliased_not_a_crash(family_name, y):
    # found by hypothesis: every column is aliased (R: coefficient NA). Expected: NaN params
    # with an AliasedColumnsWarning, or a glmkit ValueError; never a LAPACK error on a 0 x 0
    # system
    res = _check_fit(family_name, np.zeros((5, 1)), np.asarray(y))
    if res is not None:
        assert np.all(np.isnan(np.asarray(res.params)))

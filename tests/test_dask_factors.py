"""Factors of many levels in a formula on a dask DataFrame (issue 16): each partition holds
the factor as level codes and builds the in-memory formula's SplitDesign (dense runs and
a CategoricalDesign), never indicator columns. The oracle is the same formula fitted in
memory (glmkit.glm on the pandas frame), to 1e-10.
"""
from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import pandas as pd
import pytest

import glmkit
from glmkit.model import GLM

pytestmark = pytest.mark.skipif(importlib.util.find_spec("dask") is None,
                                reason="dask not installed")

RTOL = 1e-10


def _frame(n: int, levels: int, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = rng.integers(0, levels, n)
    g[:levels] = np.arange(levels)   # every level present
    df = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n),
                       "g": pd.Categorical([f"L{v:04d}" for v in g]),
                       "t": rng.uniform(0.5, 2.0, n), "c": rng.integers(0, 40, n)})
    eff = rng.normal(scale=0.3, size=levels)
    df["y"] = rng.poisson(np.exp(0.1 + 0.3 * df.x - 0.2 * df.z + eff[g]) * df.t).astype(float)
    return df


def _close(a, b, rtol=RTOL):
    a = np.asarray(a.compute() if hasattr(a, "compute") else a, dtype=float)
    b = np.asarray(b, dtype=float)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * np.max(np.abs(b)))


@pytest.fixture(scope="module")
def factor_fits():
    import dask
    import dask.dataframe as dd

    df = _frame(12_000, 1000)
    formula = "y ~ x + C(g) + z"
    fam = glmkit.families.Poisson()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = glmkit.glm(formula, df, family=fam, exposure="t").fit()
        ref_hc = ref.model.fit(cov_type="HC1")
        ref_cl = ref.model.fit(cov_type="cluster", cov_kwds={"groups": df.c.to_numpy()})
    ddf = dd.from_pandas(df, npartitions=4)
    with dask.config.set(scheduler="threads"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = GLM.from_formula(formula, ddf, family=fam, exposure="t")
        res = model.fit()
        hc = model.fit(cov_type="HC1")
        cl = model.fit(cov_type="cluster", cov_kwds={"groups": ddf.c})
        yield {"ref": ref, "ref_hc": ref_hc, "ref_cl": ref_cl, "model": model, "res": res,
               "hc": hc, "cl": cl, "ddf": ddf}


def test_factor_is_level_codes_not_indicator_columns(factor_fits):
    from glmkit.design import SplitDesign

    model, ref = factor_fits["model"], factor_fits["ref"]
    assert isinstance(ref.model.problem.X, SplitDesign)   # the in-memory formula's design
    src = model.data.source
    # Intercept, x, one column of codes, z: not 1,002 columns
    assert src.raw["X"].shape[1] == 4
    assert src.p == ref.model.problem.X.shape[1] == 1002
    assert model.exog.shape == (12_000, 1002)
    assert model.exog_names == ref.model.exog_names


def test_partition_design_bytes_do_not_grow_with_levels():
    """A partition's design takes the same bytes with 20 and with 1,000 levels (the
    indicator columns would take 8 bytes x rows x levels)."""
    import dask
    import dask.dataframe as dd

    from glmkit.design import CategoricalDesign, SplitDesign
    from glmkit.design.partitioned import Block

    sizes = {}
    for levels in (20, 1000):
        ddf = dd.from_pandas(_frame(4000, levels), npartitions=2)
        with dask.config.set(scheduler="threads"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = GLM.from_formula("y ~ x + C(g) + z", ddf, family=glmkit.families.Poisson())
            raw = model.data.source.raw["X"].blocks[0].compute()
        b = Block.from_raw(raw, np.zeros(raw.shape[0]), None, None, None, None, False,
                           float("nan"), model.data.source.layout)
        D = b.design
        assert isinstance(D, SplitDesign)
        assert any(isinstance(k, CategoricalDesign) and k.n_levels == levels
                   for k in D.blocks)
        sizes[levels] = D.nbytes
    assert sizes[20] == sizes[1000]


def test_factor_fit_equals_in_memory(factor_fits):
    import dask

    res, ref = factor_fits["res"], factor_fits["ref"]
    with dask.config.set(scheduler="threads"):
        _close(res.params, ref.params)
        _close(res.bse, ref.bse)
        for name in ("deviance", "null_deviance", "llf", "pearson_chi2", "aic"):
            _close(getattr(res, name), getattr(ref, name))
        _close(res.fittedvalues, ref.fittedvalues)
        pred, pred_ref = res.get_prediction(), ref.get_prediction()
        _close(pred.se_mean, pred_ref.se_mean)
        assert res.model.rank == ref.model.rank
        assert "C(g)[T.L0999]" in res.summary().as_text()


def test_factor_robust_covariances_equal_in_memory(factor_fits):
    import dask

    with dask.config.set(scheduler="threads"):
        _close(factor_fits["hc"].bse, factor_fits["ref_hc"].bse)
        _close(factor_fits["cl"].bse, factor_fits["ref_cl"].bse)


def test_factor_missing_rows_dropped_as_in_memory():
    import dask
    import dask.dataframe as dd

    df = _frame(3000, 60, seed=5)
    df["g"] = df["g"].astype(object)
    df.loc[[4, 900], "g"] = None
    df.loc[17, "x"] = np.nan
    fam = glmkit.families.Poisson()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = glmkit.glm("y ~ x + C(g)", df, family=fam, missing="drop").fit()
        with dask.config.set(scheduler="threads"):
            model = GLM.from_formula("y ~ x + C(g)", dd.from_pandas(df, npartitions=3),
                                     family=fam, missing="drop")
            res = model.fit()
            assert model.data.source.layout is not None
            assert res.nobs == ref.nobs == 2997
            _close(res.params, ref.params)
            _close(res.bse, ref.bse)
            with pytest.raises(ValueError, match="NaN"):
                GLM.from_formula("y ~ x + C(g)", dd.from_pandas(df, npartitions=3),
                                 family=fam).fit()


def test_factor_reference_level_offset_term_and_interaction():
    """A chosen reference level, an offset() term and a numeric interaction around the
    factor keep the in-memory column order, coding and offset."""
    import dask
    import dask.dataframe as dd

    df = _frame(3000, 45, seed=8)
    formula = "y ~ x + C(g, Treatment('L0003')) + x:z + offset(np.log(t))"
    fam = glmkit.families.Poisson()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = glmkit.glm(formula, df, family=fam).fit()
        with dask.config.set(scheduler="threads"):
            model = GLM.from_formula(formula, dd.from_pandas(df, npartitions=3), family=fam)
            res = model.fit()
            assert model.data.source.layout is not None
            assert model.exog_names == ref.model.exog_names
            _close(res.params, ref.params)
            _close(res.bse, ref.bse)
            _close(res.null_deviance, ref.null_deviance)
            assert model.data.formula_rows is not None
            new = _frame(500, 45, seed=9)   # predictions on a new dask frame, by codes too
            got = res.predict(dd.from_pandas(new, npartitions=2))
            _close(got.compute().to_numpy(), ref.predict(new))


def test_factor_by_factor_interaction_is_one_block_of_codes():
    """An interaction of two factors is one CategoricalDesign block in memory; on Dask each
    partition holds it as one column of codes (one per combination of levels, found on a
    grid of every combination) and the fit, standard errors, missing rows and predictions
    on a new frame equal the in-memory ones. Before, the term raised NotImplementedError."""
    import dask
    import dask.dataframe as dd

    from glmkit.design import CategoricalDesign

    def frame(n, seed):
        df = _frame(n, 30, seed=seed)
        rng = np.random.default_rng(seed + 1)
        df["h"] = pd.Categorical(rng.choice(["a", "b", "c", "d", "e", "f", "g"], n))
        return df

    formula = "y ~ x + C(g) + C(h) + C(g):C(h)"
    df = frame(6000, 11)
    df["h"] = df["h"].astype(object)
    df.loc[[7, 2500], "h"] = None
    fam = glmkit.families.Poisson()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = glmkit.glm(formula, df, family=fam, missing="drop").fit()
        inter = [b for b in ref.model.problem.X.blocks if isinstance(b, CategoricalDesign)]
        assert [b.shape[1] for b in inter] == [29, 29 * 6]   # C(g), then C(g):C(h)
        with dask.config.set(scheduler="threads"):
            model = GLM.from_formula(formula, dd.from_pandas(df, npartitions=3), family=fam,
                                     missing="drop")
            res = model.fit()
            src = model.data.source
            assert src.layout is not None
            # intercept, x, C(g)'s codes, C(h)'s 6 indicator columns (7 levels: dense in
            # memory too) and one column of codes for the 174 of the interaction
            assert src.raw["X"].shape[1] == 10
            assert model.exog_names == ref.model.exog_names
            assert res.nobs == ref.nobs == 5998
            _close(res.params, ref.params)
            _close(res.bse, ref.bse)
            _close(res.deviance, ref.deviance)
            new = frame(400, 12)
            got = res.predict(dd.from_pandas(new, npartitions=2))
            _close(got.compute().to_numpy(), ref.predict(new))

"""save() of a model fitted on Dask (issue 16): without its rows (remove_data=True) the file
holds what the in-memory results' file holds, so the loaded results equal the in-memory fit
(the oracle: the same model fitted on the pandas frame / NumPy arrays, to 1e-10); with its
rows, a clear error before anything is written."""
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


def _close(a, b, tol=1e-10):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol * np.max(np.abs(b)))


def _frame(n, seed):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"x": rng.normal(size=n),
                       "g": pd.Categorical(rng.choice([f"L{i:02d}" for i in range(30)], n)),
                       "t": rng.uniform(0.5, 2.0, n)})
    df["y"] = rng.poisson(np.exp(0.2 + 0.3 * df.x) * df.t).astype(float)
    return df


def test_dask_formula_model_saves_without_rows_and_loads_as_in_memory(tmp_path):
    import dask
    import dask.dataframe as dd

    df = _frame(4000, 1)
    fam = glmkit.families.Poisson()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = glmkit.glm("y ~ x + C(g)", df, family=fam, exposure="t").fit()
        with dask.config.set(scheduler="threads"):
            res = GLM.from_formula("y ~ x + C(g)", dd.from_pandas(df, npartitions=3),
                                   family=fam, exposure="t").fit()
            path = tmp_path / "dask.glmkit"
            res.save(path, remove_data=True)
    loaded = glmkit.load(path)
    _close(loaded.params, ref.params)
    _close(loaded.bse, ref.bse)
    for name in ("llf", "deviance", "null_deviance", "aic", "pearson_chi2"):
        _close(getattr(loaded, name), getattr(ref, name))
    assert list(loaded.params.index) == list(ref.params.index)
    new = _frame(300, 2)
    _close(loaded.predict(new), ref.predict(new))
    assert "C(g)[T.L29]" in loaded.summary().as_text()


def test_dask_model_save_with_rows_is_a_clear_error(tmp_path):
    import dask
    import dask.array as da

    rng = np.random.default_rng(3)
    X = np.column_stack([np.ones(600), rng.normal(size=(600, 2))])
    y = rng.poisson(np.exp(X @ [0.1, 0.2, -0.3])).astype(float)
    with dask.config.set(scheduler="synchronous"):
        res = GLM(da.from_array(y, chunks=200), da.from_array(X, chunks=(200, 3)),
                  family=glmkit.families.Poisson()).fit()
        with pytest.raises(NotImplementedError, match="remove_data=True"):
            res.save(tmp_path / "rows.glmkit")
    assert not (tmp_path / "rows.glmkit").exists()

"""The same GLM on Dask: exact distributed IRLS, on a cluster or on data larger than memory.

``GLM`` takes Dask collections (dask arrays, dask DataFrames/Series) as it takes NumPy
arrays: the model is the same class, only its data (and the passes over them) differ
(:class:`glmkit.design.dask_data.DaskModelData`). ``GLM.from_formula`` / :func:`glm` accept
a dask DataFrame:

>>> import glmkit.api as sm, dask.array as da
>>> res = sm.GLM(y, X, family=sm.families.Poisson(), offset=off).fit(client=client, verbose=True)
>>> res.params, res.bse, res.deviance          # NumPy, computed on the cluster
>>> res.fittedvalues                           # a lazy dask array

Each IRLS iteration is one pass over the partitions (:mod:`glmkit.solvers.dask_sweeper`):
every partition returns X_b'WX_b, X_b'u and its deviance terms, the sums are added on the
cluster, and the p x p solve is done on the client; nothing of size n reaches the client.
Nothing is persisted: each pass re-reads its partitions from their source, so a Parquet data
set larger than memory is streamed (:func:`read_parquet_design`). Persist the inputs
yourself (``X = X.persist()``) when they fit in the cluster's memory and passes should not
re-read them.

What costs a pass
-----------------
- the first fit (or the first statistic) runs one data pass: missing and infinite values,
  ranges, weights, rank, constant columns, and a random sample of about 50,000 rows;
- each IRLS iteration (and each step halving) is one pass; as in memory, large data
  (n >= 200,000) start from a fit on the row sample, which saves passes;
- the fit's sweeps also sum the Pearson chi2 at their means, so ``scale`` costs no pass;
  ``null_deviance``, ``llf`` and ``llnull`` come together from one more pass when first
  used (with an offset the intercept-only fit is in closed form from the data pass's
  sums for Poisson-log, Gamma-log and Gaussian-identity, and runs its own IRLS passes for
  other pairs; Gaussian-identity's llf takes one more pass for its ML scale); a robust
  covariance is one pass, none when
  ``fit(cov_type='HC0'/'HC1')`` asked for it (every sweep then also sums the meat, a
  second p x p product per partition: on persisted arrays a sweep takes ~1.8x as long,
  on data read from storage the reading dominates). So ``fit()`` followed by
  ``summary()`` costs one pass more than ``fit()`` (with an offset, for those three pairs).

Progress: ``fit(verbose=True)`` prints one line per pass (deviance and seconds);
``fit(progress=True)`` shows Dask's progress bar; ``verbose=callable`` receives a dict per pass.
The scheduler: ``fit(client=...)`` (or ``GLM(..., client=...)``), else Dask's default (the
active ``distributed.Client`` if one exists, otherwise local threads).

Dask is an optional extra: ``pip install 'glmkit[dask]'``. This module imports without it;
building a Dask model raises an ImportError with that hint.
"""
from __future__ import annotations

from typing import Any

from .dask_formula import model_from_dask_formula
from .design.dask_parquet import read_parquet_design
from .design.partitioned import INSTALL_HINT, DaskFitError, is_dask_collection
from .families import Family
from .model import GLM

__all__ = ["DaskFitError", "glm", "read_parquet_design", "INSTALL_HINT", "is_dask_collection"]


def glm(formula: str, data, family: Family | None = None, **kwargs: Any) -> GLM:
    """statsmodels.formula.api.glm on a dask DataFrame: the model of ``formula`` (call
    ``.fit()``). Keywords as :func:`glmkit.glm` (offset/exposure/weights as column names),
    plus ``client`` and ``sample_rows``.

    The formula's categorical levels are read from the whole data set in one pass; the
    model spec is built on a sample of ``sample_rows`` rows that holds every level, and
    applied to each partition in every pass. The response must be a column or
    ``cbind(successes, failures)`` of columns; stateful transforms (``center``, ``scale``,
    splines), whose state would be learnt from the sample only, are refused.
    """
    return model_from_dask_formula(GLM, formula, data, family=family, **kwargs)

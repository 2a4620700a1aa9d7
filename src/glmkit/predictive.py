"""The predictive distribution of fitted GLM results (statsmodels' ``get_distribution``)."""
from __future__ import annotations

import warnings

import numpy as np

from .families import Binomial, NegativeBinomial, Poisson


def get_distribution(res, exog=None, exposure=None, offset=None, var_weights=1.0,
                     n_trials=1.0):
    """scipy frozen distribution of the response at the predicted means of ``res``.

    Parameters
    ----------
    res : GLMResults
        Fitted results.
    exog, exposure, offset : array_like, optional
        New rows, as :meth:`GLMResults.predict`; None: the model's own rows.
    var_weights : float or array_like
        Variance weights of the rows predicted.
    n_trials : float or array_like
        Binomial number of trials (1: a Bernoulli response).

    Notes
    -----
    As statsmodels: Binomial, Poisson and NegativeBinomial use scale 1 (a UserWarning says so
    when the results' scale is not 1); other families use the results' scale.
    """
    fam = res.family
    if isinstance(fam, (Binomial, Poisson, NegativeBinomial)):
        scale = 1.0
        if res.scale != 1.0:
            warnings.warn("using scale=1, no excess dispersion in distribution", UserWarning,
                          stacklevel=3)
    else:
        scale = res.scale
    mu = np.asarray(res.predict(exog, exposure, offset, which="mean"), dtype=float)
    kwds = {}
    if np.any(np.asarray(n_trials) != 1) and isinstance(fam, Binomial):
        kwds["n_trials"] = n_trials
    return fam.get_distribution(mu, scale, var_weights=var_weights, **kwds)

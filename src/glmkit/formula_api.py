"""statsmodels.formula.api-shaped namespace: ``import glmkit.formula_api as smf``.

>>> res = smf.glm("y ~ C(g) + np.log(x)", data, family=glmkit.families.Poisson()).fit()
"""
from __future__ import annotations

import warnings
from typing import Any

from .families import Poisson, links
from .formula import model_from_formula
from .model import GLM
from .negbin import NegativeBinomialResults, _link, fit_negbin

__all__ = ["glm", "glm_nb"]


def glm(formula: str, data, family=None, **kwargs: Any):
    """statsmodels.formula.api.glm: the GLM *model* of a formula (call ``.fit()``); a dask
    DataFrame gives a model on Dask, as :meth:`GLM.from_formula`."""
    if hasattr(type(data), "__dask_graph__"):
        return GLM.from_formula(formula, data, family=family, **kwargs)
    kwargs.setdefault("_stacklevel", 4)
    return model_from_formula(GLM, formula, data, family=family, **kwargs)



def glm_nb(formula: str, data, link: str | links.Link = "log", weights=None, offset=None,
           exposure=None, init_theta: float | None = None, maxiter: int = 25,
           tol: float = 1e-10, missing: str = "none", **fit_kwds: Any) -> NegativeBinomialResults:
    """Negative binomial GLM with theta estimated by maximum likelihood (MASS's glm.nb).

    Parameters
    ----------
    formula, data : as :func:`glmkit.glm`.
    link : 'log' (default), 'sqrt', 'identity', or a link instance.
    weights : prior weights (array or column name), as R's ``weights``.
    offset, exposure : arrays or column names; ``offset(...)`` terms work in the formula.
    init_theta : starting theta (default: from a Poisson fit, as MASS).
    maxiter : most alternations between IRLS and theta.
    tol : the alternation stops when theta changes by less than ``tol`` relative and the
        log-likelihood by less than ``tol`` (relative); MASS's default is looser (1e-8 on
        the log-likelihood), so its coefficients can differ in the 7th digit.
    fit_kwds : passed to each :meth:`GLM.fit` (e.g. cov_type).

    Returns
    -------
    NegativeBinomialResults : the GLM results at the final theta, plus ``theta``,
        ``theta_se``, ``alpha`` (= 1 / theta) and ``twologlik``.
    """
    if hasattr(type(data), "__dask_graph__"):
        raise NotImplementedError(
            "glm_nb alternates many fits and theta's estimate over the rows; on a dask "
            "DataFrame fit glmkit.glm(formula, data, family=NegativeBinomial(alpha=1/theta)) "
            "with theta from glm_nb on a sample of the rows.")
    link_obj = _link(link)
    kw = {"var_weights": weights, "offset": offset, "exposure": exposure, "missing": missing}
    kw = {k: v for k, v in kw.items() if v is not None}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # no LinkFamilyWarning for the start
        poisson = glm(formula, data, family=Poisson(link_obj), _stacklevel=4, **kw)
    return fit_negbin(poisson, link_obj, init_theta, maxiter, tol, **fit_kwds)

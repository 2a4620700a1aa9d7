"""The statistics of a fit that sum over rows (Pearson chi2, null deviance, llf, llnull),
gathered in as few passes as the scale allows, on every design.

The fit's sweeps already give the deviance (and, on Dask, the Pearson chi2 at the final
means); the rest comes from ONE more pass (:func:`fit_sums`) when the scale is known
without it: a fixed scale, a family without a dispersion, ``scale='dev'``, or the Pearson
scale with the chi2 from the fit. Otherwise (Pearson scale not known, or Gaussian with the
identity link, whose llf uses the ML scale of the residual sum of squares) a first pass
gives the chi2 or that sum. The null model is the intercept (g(weighted mean of y),
known from a sum), g^-1(offset) without a constant, or, with an offset, the
intercept-only fit (its own passes).
"""
from __future__ import annotations

import numpy as np

from .families import Binomial, Gaussian, links
from .row_sums import _deviance_block, _llf_block, _null_mu_rows, _pearson_block
from .solvers.base import SolverOptions


def force_trials(res) -> bool:
    """Whether the binomial density counts trials (any row with n_trials != 1)."""
    return isinstance(res.family, Binomial) and res.model._passes.n_trials_not_one()


def offset_sums_block(b) -> dict:
    """The sums that give the intercept-only fit with an offset in closed form (see
    :func:`closed_form_intercept`)."""
    tw, off = b.total_weights, b.offset
    with np.errstate(all="ignore"):
        return {"tw_expoff": float(np.sum(tw * np.exp(off))),
                "twy_expnegoff": float(np.sum(tw * b.y * np.exp(-off))),
                "tw_off": float(np.sum(tw * off)), "tw": float(np.sum(tw)),
                "twy": float(np.sum(tw * b.y))}


def closed_form_intercept(family, sums: dict) -> float | None:
    """The intercept-only maximum with an offset where its score equation is explicit:
    Poisson-log, sum tw (y - e^(b + o)) = 0; Gamma-log, sum tw (y e^-(b + o) - 1) = 0;
    Gaussian-identity, sum tw (y - b - o) = 0. None for other pairs (or non-finite sums)."""
    from .families import Gamma, Poisson

    link = family.link
    with np.errstate(all="ignore"):
        if type(family) is Poisson and isinstance(link, links.Log):
            b = np.log(sums["twy"] / sums["tw_expoff"])
        elif type(family) is Gamma and isinstance(link, links.Log):
            b = np.log(sums["twy_expnegoff"] / sums["tw"])
        elif gaussian_ml(family):
            b = (sums["twy"] - sums["tw_off"]) / sums["tw"]
        else:
            return None
    return float(b) if np.isfinite(b) else None


def null_spec(res) -> tuple:
    """How each block forms the null model's means: ('offset',), ('const', mean) or
    ('beta', coefficient of the intercept-only fit with the offset: in closed form from
    sums the data pass made for Poisson-log, Gamma-log and Gaussian-identity, else by IRLS,
    whose passes are its own)."""
    passes = res.model._passes
    if not res.k_constant:
        return ("offset",)
    if not passes.offset_any():
        return ("const", passes.mean_y())
    b = closed_form_intercept(res.family, passes.offset_sums())
    if b is not None:
        return ("beta", np.array([b]))
    fit = passes.intercept_only(SolverOptions(maxiter=100, tol=1e-12))
    return ("beta", np.where(np.isnan(fit.params), 0.0, np.asarray(fit.params)))


def gaussian_ml(family) -> bool:
    return isinstance(family, Gaussian) and isinstance(family.link, links.Identity)


def _sums_block(b, mu, spec, family, scale, trials, parts):
    out: dict = {}
    if "chi2" in parts:
        out.update(_pearson_block(b, mu, family))
    if "ss" in parts:
        out["ss"] = float(np.sum(b.total_weights * np.square(b.y - mu)))
    if "null_deviance" in parts or "llnull" in parts:
        mu0 = _null_mu_rows(b, spec, family)
        if "null_deviance" in parts:
            out["null_deviance"] = _deviance_block(b, spec, family, mu0)["deviance"]
        if "llnull" in parts:
            out["llnull"] = _llf_block(b, mu0, family, scale["null"], trials)["llf"]
    if "llf" in parts:
        out["llf"] = _llf_block(b, mu, family, scale["fit"], trials)["llf"]
    return out


ALL = frozenset({"pearson_chi2", "null_deviance", "llf", "llnull"})


def fit_sums(res, want) -> dict:
    """The statistics named in ``want`` (a subset of :data:`ALL`): one pass over the rows
    when the scale is known (see the module notes), two otherwise."""
    passes, fam, mu = res.model._passes, res.family, res._mu
    want = set(want)
    need_ll = bool(want & {"llf", "llnull"})
    spec = res._null_spec if want & {"null_deviance", "llnull"} else None
    trials = force_trials(res) if need_ll else False
    out: dict = {}
    chi2 = passes.known_pearson(mu)
    if chi2 is not None:
        out["pearson_chi2"] = float(chi2)
    first = set()
    if "pearson_chi2" not in out and ("pearson_chi2" in want or (
            need_ll and res._scale_needs_chi2)):
        first.add("chi2")
    if "llf" in want and gaussian_ml(fam):
        first.add("ss")
    later = want & {"llf", "llnull"}
    if "null_deviance" in want:
        (first if first else later).add("null_deviance")
    ss = None
    if first:
        got = passes.total(_sums_block, mu, args=(spec, fam, None, trials, first),
                           what="fit statistics", need_X=False)
        if "chi2" in first:
            out["pearson_chi2"] = float(got.get("chi2", 0.0))
        if "null_deviance" in first:
            out["null_deviance"] = float(got.get("null_deviance", 0.0))
        ss = got.get("ss")
    if later:
        scales = None
        if need_ll:
            scale = res._scale_from(out.get("pearson_chi2"))
            scales = {"fit": float(ss / res.wnobs) if ss is not None else scale, "null": scale}
        got = passes.total(_sums_block, mu, args=(spec, fam, scales, trials, later),
                           what="fit statistics", need_X=False)
        for k in later:
            out[k] = float(got.get(k, 0.0))
    return out

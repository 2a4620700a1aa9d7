"""Statistics of a fit as sums over row blocks: each function takes one block of rows
(:class:`glmkit.design.partitioned.Block`: y, weights, offset, X of those rows) and the
per-row values of the fit on them, and returns partial sums (or per-row values). Summed
over the blocks they give the statistic, wherever the rows live.
"""
from __future__ import annotations

import numpy as np

from .families._fused import kernel_for


# ------------------------------------------------------------ per-partition functions
def _null_mu_rows(b, spec, family):
    kind = spec[0]
    if kind == "const":
        return np.full(b.n, spec[1])
    if kind == "offset":
        return family.link.inverse(b.offset)
    eta = np.ones((b.n, 1)) @ spec[1] + b.offset
    return kernel_for(family, fused=True).evaluate(b.y, eta, b.total_weights, False)[0]


def _resid_rows(b, mu, eta, family, kind, scale):
    y, pw = b.y, b.prior_weights
    if kind == "response":
        return y - mu
    if kind == "pearson":
        return (y - mu) / family.variance.sqrt(mu) * np.sqrt(pw)
    if kind == "deviance":
        return family.resid_dev(y, mu, var_weights=pw)
    if kind == "working":
        return (y - mu) / family.link.inverse_deriv(eta)
    return family.resid_anscombe(y, mu, var_weights=pw, scale=scale)


def _pearson_block(b, mu, family):
    r = (b.y - mu) / family.variance.sqrt(mu) * np.sqrt(b.prior_weights)
    return {"chi2": float(np.sum(b.freq_weights * np.square(r)))}


def _deviance_block(b, spec, family, mu=None):
    mu = _null_mu_rows(b, spec, family) if mu is None else mu
    return {"deviance": family.deviance(b.y, mu, var_weights=b.prior_weights,
                                        freq_weights=b.freq_weights)}


def _sq_block(b, mu):
    return {"ss": float(np.sum(b.total_weights * np.square(b.y - mu)))}


def _loglike_obs(b, mu, family, scale, force_trials):
    y, vw, nt = b.y, b.var_weights, b.n_trials
    if force_trials and not np.any(nt != 1.0):
        # in memory the binomial density counts trials by n_trials when ANY row of the
        # data has n_trials != 1 (Binomial.loglike_obs); one such row, dropped after, makes
        # this partition take the same branch
        ll = family.loglike_obs(np.append(y, 0.0), np.append(mu, 0.5),
                                var_weights=np.append(vw, 1.0), scale=scale,
                                n_trials=np.append(nt, 2.0))
        return ll[:-1]
    return family.loglike_obs(y, mu, var_weights=vw, scale=scale, n_trials=nt)


def _llf_block(b, mu, family, scale, force_trials):
    ll = _loglike_obs(b, mu, family, scale, force_trials)
    return {"llf": float(np.sum(ll * b.freq_weights))}


def _llf_null_block(b, spec, family, scale, force_trials):
    return _llf_block(b, _null_mu_rows(b, spec, family), family, scale, force_trials)


def _score_weights(b, eta, mu, family):
    """prior_w dmu/deta (y - mu) / V(mu), as :func:`glmkit.inference.score_weights`."""
    return b.prior_weights * family.link.inverse_deriv(eta) * (b.y - mu) / family.variance(mu)


def _kept_square(keep, B) -> np.ndarray:
    """A p x p matrix with ``B`` on the kept rows and columns, zeros elsewhere."""
    full = np.zeros((keep.shape[0], keep.shape[0]))
    full[np.ix_(keep, keep)] = B
    return full


def _hc_block(b, eta, mu, w, family, keep, cov_type, bread):
    """The HC meat of the kept columns, X' diag(omega) X from the block's design (level
    sums for a factor's columns: no dense copy)."""
    D = b.design
    u = _score_weights(b, eta, mu, family)
    fw = b.freq_weights
    omega = np.square(u) * fw
    if cov_type in ("HC2", "HC3"):
        wc = np.divide(w, fw, out=np.zeros_like(fw), where=fw > 0)
        h = D.row_quadratic(_kept_square(keep, bread)) * wc
        omega = omega / (1.0 - h) ** (1 if cov_type == "HC2" else 2)
    return {"meat": D.sandwich(omega)[np.ix_(keep, keep)], "fw_sum": float(np.sum(fw))}


def _cluster_block(b, eta, mu, labels, family, keep, combos, buckets):
    """Per combination of clustering dimensions, the partition's score sums per group,
    split into hash buckets of the group key: {(combo, bucket): DataFrame}."""
    from .design.cluster_sums import cluster_sums_block

    v = _score_weights(b, eta, mu, family) * b.freq_weights
    return cluster_sums_block(b, v, labels, keep, combos, buckets)


def _se_rows(b, keep, V):
    q = b.design.row_quadratic(_kept_square(keep, V))
    return np.sqrt(np.maximum(q, 0.0))


def _r_ll_block(b, mu, kind, disp, family):
    """Pieces of R's logLik for glm; for other families ``disp`` is the binomial flag of
    :func:`_loglike_obs`."""
    fw, vw, y = b.freq_weights, b.var_weights, b.y
    good = b.prior_weights > 0
    if kind == "gaussian":
        return {"s": float(np.sum((fw * np.log(np.where(good, vw, 1.0)))[good]))}
    if kind == "gamma":
        from scipy import stats

        tw = fw * vw
        return {"s": float(np.sum(tw * stats.gamma.logpdf(y, 1.0 / disp, scale=mu * disp)))}
    if kind == "invgauss":
        tw = fw * vw
        return {"s": float(np.sum(tw * np.log(y))), "tw": float(np.sum(tw))}
    return _llf_block(b, mu, family, 1.0, disp)



def _tw_block(b) -> dict:
    """Sum of frequency times variance weights."""
    return {"tw": float(np.sum(b.freq_weights * b.var_weights))}

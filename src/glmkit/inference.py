"""Covariances and hypothesis tests on fitted GLMs, with R's definitions.

Robust covariances follow R's sandwich package for glm objects:

    V = B M B,   B = (X'WX)^{-1},   M = sum_i omega_i u_i u_i' (HC) or sum_g U_g U_g' (cluster)

where u_i = x_i * prior_w_i * dmu/deta * (y_i - mu_i) / V(mu_i) is row i's score (the
dispersion cancels between bread and meat, as it does in sandwich). HC0: omega = 1;
HC1: n / (n - k); HC2: 1 / (1 - h); HC3: 1 / (1 - h)^2, with h the hat values of the
IRLS weights. Cluster (vcovCL defaults): U_g sums the scores of group g, each clustering
dimension is adjusted by G / (G - 1), two-way combines dimensions by inclusion-exclusion,
and no further small-sample factor is applied (vcovCL's default type for glm objects is
HC0; HC1's (n - 1) / (n - k) is its default for lm only). Frequency weights count as
repeated rows.

HAC ('hac', rows in time order): the meat sums the scores' autocovariances up to
``maxlags`` with Bartlett weights 1 - l / (maxlags + 1) (or uniform weights 1),
sandwich::NeweyWest(fit, lag, prewhite = FALSE, adjust = FALSE); ``use_correction=True`` is
adjust = TRUE, n / (n - k). Each lag's sum_t s_t s_{t-l}' comes from the design
(:meth:`DesignMatrix.lagged_cross`), so sparse, categorical and split designs need no dense
copy; :func:`hac_meat` is the same formula on the n x p scores.

statsmodels' ``cov_kwds={'use_correction': ...}`` for 'cluster' maps onto vcovCL's options:
True (statsmodels' default) is G / (G - 1) (n - 1) / (n - k), vcovCL(type="HC1");
False is no adjustment, vcovCL(type="HC0", cadjust=FALSE). Without it, glmkit's default
above, vcovCL(type="HC0").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import combinations
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

CovType = Literal["nonrobust", "eim", "oim", "HC0", "HC1", "HC2", "HC3", "cluster", "hac"]
COV_TYPES = ("nonrobust", "eim", "oim", "HC0", "HC1", "HC2", "HC3", "cluster", "hac")


# --------------------------------------------------------------- robust covariance
def score_weights(res) -> np.ndarray:
    """Per-row (per copy) score factor: prior_w dmu/deta (y - mu) / V(mu), no scale."""
    p, fam = res.model.problem, res.family
    mu, eta = res._mu, res._eta
    return p.prior_weights * fam.link.inverse_deriv(eta) * (p.y - mu) / fam.variance(mu)


def hat_values(res) -> np.ndarray:
    """Leverages h_i = w_i x_i' (X'WX)^{-1} x_i with per-copy IRLS weights w_i (R's hatvalues).

    The quadratic forms come from the design (:meth:`DesignMatrix.row_quadratic`): by
    blocks and level gathers on categorical and split designs, by pairs of nonzeros on
    sparse ones; no dense copy of X and no n x n matrix.
    """
    fw = res.model.problem.freq_weights
    w = np.divide(np.asarray(res._solver_result.working_weights), fw, out=np.zeros_like(fw), where=fw > 0)
    return row_quadratic(res.model.problem.X, res._keep, res._normalized_cov) * w


def row_quadratic(X, keep: np.ndarray, M: np.ndarray) -> np.ndarray:
    """x_i' M x_i over the kept columns for every row of the design X (M over all columns;
    the aliased columns' rows and columns are ignored)."""
    full = np.zeros_like(M)
    full[np.ix_(keep, keep)] = M[np.ix_(keep, keep)]
    return X.row_quadratic(full)


def _cluster_sums(X, keep: np.ndarray, codes: np.ndarray, G: int, v: np.ndarray) -> np.ndarray:
    """sum over the rows of each cluster of v_i x_i (G x kept columns), from the design."""
    return X.group_sums(codes, G, v)[:, keep]


def _cluster_meat(X, keep: np.ndarray, u: np.ndarray, groups: np.ndarray, fw: np.ndarray,
                  cadjust: bool = True) -> np.ndarray:
    """sum over clusters of (sum of fw u x in the cluster)(...)', times G/(G-1) when
    ``cadjust``; the sums by cluster come from the design (level sums, no dense copy)."""
    _, codes = np.unique(groups, return_inverse=True)
    codes = codes.ravel()
    G = int(codes.max()) + 1
    sums = _cluster_sums(X, keep, codes, G, u * fw)
    adj = G / (G - 1.0) if (G > 1 and cadjust) else 1.0
    return adj * sums.T @ sums


def robust_cov(res, cov_type: str, groups=None, use_correction: bool | None = None,
               maxlags: int | None = None, kernel: str = "bartlett") -> np.ndarray:
    """Sandwich covariance over the kept (non-aliased) columns.

    ``use_correction``: for 'cluster', None is glmkit's vcovCL default, True statsmodels'
    G/(G-1) (n-1)/(n-k), False no small-sample factor; for 'hac', True multiplies by
    n / (n - k). ``maxlags`` and ``kernel`` are those of 'hac'.
    """
    p = res.model.problem
    keep = res._keep
    X = p.X   # the design: HC and cluster meats are its weighted Gram and sums by cluster
    bread = res._normalized_cov[np.ix_(keep, keep)]
    u = score_weights(res)
    fw = p.freq_weights
    n = float(np.sum(fw))
    k = int(keep.sum())
    if cov_type == "hac":
        if np.any(fw != 1):
            raise ValueError("cov_type='hac' treats rows as consecutive time points; it is "
                             "not defined with freq_weights.")
        meat = design_hac_meat(X, u, int(maxlags or 0), kernel)[np.ix_(keep, keep)]
        if use_correction:
            meat *= n / (n - k)
    elif cov_type == "cluster":
        g = _check_groups(groups, X.shape[0])
        meat = np.zeros((k, k))
        dims = range(g.shape[1])
        for size in range(1, g.shape[1] + 1):
            sign = (-1.0) ** (size + 1)
            for combo in combinations(dims, size):
                key = _combine_groups(g[:, list(combo)])
                meat += sign * _cluster_meat(X, keep, u, key, fw,
                                             cadjust=use_correction is not False)
        if use_correction:
            meat *= (n - 1.0) / (n - k)
    else:
        omega = np.square(u) * fw
        if cov_type == "HC1":
            omega = omega * n / (n - res.rank)   # estimated coefficients (k less constraints)
        elif cov_type in ("HC2", "HC3"):
            h = hat_values(res)
            omega = omega / (1.0 - h) ** (1 if cov_type == "HC2" else 2)
        meat = X.sandwich(omega)[np.ix_(keep, keep)]
    cov = _bread_meat_bread(bread, meat)
    return 0.5 * (cov + cov.T)


def _bread_meat_bread(bread: np.ndarray, meat: np.ndarray) -> np.ndarray:
    """bread @ meat @ bread; small ones with BLAS at one thread, as the solvers' small
    inverses (on a loaded 2-core machine, 353 columns: 58-63 ms on threads, 13 ms on one)."""
    from ._parallel import one_blas_thread
    from .solvers._linalg import SMALL_ON_ONE_THREAD

    if bread.shape[0] > SMALL_ON_ONE_THREAD:
        return bread @ meat @ bread
    with one_blas_thread():
        return bread @ meat @ bread


def n_groups(groups, n: int) -> int:
    """The fewest clusters over the clustering dimensions (statsmodels' df_correction uses
    G - 1 of it as the residual degrees of freedom of tests)."""
    g = _check_groups(groups, n)
    return int(min(len(np.unique(g[:, j])) for j in range(g.shape[1])))


def hac_meat(U: np.ndarray, maxlags: int, kernel: str = "bartlett") -> np.ndarray:
    """sum_l w_l (G_l + G_l'), G_l = sum_t U_t U_{t-l}' (G_0 counted once); Bartlett
    weights w_l = 1 - l / (maxlags + 1), or uniform w_l = 1 (sandwich::NeweyWest with
    prewhite = FALSE, adjust = FALSE; statsmodels' cov_hac)."""
    meat = U.T @ U
    for lag in range(1, maxlags + 1):
        G = U[lag:].T @ U[:-lag]
        meat += hac_weight(lag, maxlags, kernel) * (G + G.T)
    return meat


def hac_weight(lag: int, maxlags: int, kernel: str = "bartlett") -> float:
    """The kernel weight of lag ``lag``: Bartlett 1 - lag / (maxlags + 1), uniform 1."""
    return 1.0 - lag / (maxlags + 1.0) if kernel == "bartlett" else 1.0


def design_hac_meat(X, u: np.ndarray, maxlags: int, kernel: str = "bartlett") -> np.ndarray:
    """:func:`hac_meat` of the scores s_t = x_t u_t from the design X (rows in time order)
    without forming the n x p scores: G_l = X[l:]' diag(u[l:] u[:-l]) X[:-l] by
    :meth:`DesignMatrix.lagged_cross` (level tables on categorical blocks, sparse products
    on sparse ones). All p columns."""
    n = X.shape[0]
    meat = X.lagged_cross(u * u, 0)
    for lag in range(1, min(maxlags, n - 1) + 1):
        G = X.lagged_cross(u[lag:] * u[:-lag], lag)
        meat += hac_weight(lag, maxlags, kernel) * (G + G.T)
    return meat


def _check_groups(groups, n: int) -> np.ndarray:
    if groups is None:
        raise ValueError("cov_type='cluster' needs cov_kwds={'groups': labels} with one label "
                         "per row (or two columns for two-way clustering).")
    g = np.asarray(groups.to_numpy() if isinstance(groups, (pd.Series, pd.DataFrame)) else groups)
    if g.ndim == 1:
        g = g[:, None]
    if g.ndim != 2 or g.shape[0] != n:
        raise ValueError(f"groups must have one label per row ({n}), got shape {g.shape}.")
    if g.dtype.kind == "f" and np.isnan(g).any():
        raise ValueError("groups contain NaN; every row needs a cluster label.")
    return g


def _combine_groups(g: np.ndarray) -> np.ndarray:
    if g.shape[1] == 1:
        return g[:, 0]
    codes = [np.unique(g[:, j], return_inverse=True)[1] for j in range(g.shape[1])]
    key = np.zeros(g.shape[0], dtype=np.int64)
    for c in codes:
        key = key * (int(c.max()) + 1) + c
    return key


# ------------------------------------------------------------------- contrasts
_SIGN = re.compile(r"\s*([+-]?)\s*")


def _parse_side(side: str, names: list[str]) -> tuple[np.ndarray, float]:
    """A linear combination like '2*x1 - x2 + 3' -> (coefficients, constant)."""
    coef = np.zeros(len(names))
    const = 0.0
    s = side.strip()
    if not s:
        raise ValueError("empty side in a linear hypothesis")
    pos = 0
    # names may contain characters the tokenizer does not know: match them literally first
    ordered = sorted(names, key=len, reverse=True)
    while pos < len(s):
        lead = _SIGN.match(s, pos)
        assert lead is not None  # the pattern matches the empty string
        sign = -1.0 if lead.group(1) == "-" else 1.0
        pos = lead.end()
        m = re.match(r"(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)\s*(\*)?\s*", s[pos:])
        num = 1.0
        has_num = False
        if m:
            num, has_num = float(m.group(1)), True
            pos += m.end()
        name = next((nm for nm in ordered if s.startswith(nm, pos)), None)
        if name is not None:
            coef[names.index(name)] += sign * num
            pos += len(name)
        elif has_num:
            const += sign * num
        else:
            raise ValueError(f"cannot read {s[pos:]!r} in a hypothesis; parameter names are "
                             f"{names}")
        while pos < len(s) and s[pos].isspace():
            pos += 1
        if pos < len(s) and s[pos] not in "+-":
            raise ValueError(f"cannot read {s[pos:]!r} in a hypothesis")
    return coef, const


def _split_equations(text: str) -> list[str]:
    """Split 'a = 0, b = c' at the commas that are not inside brackets or quotes
    (formula names such as C(g, Treatment('b'))[T.a] contain commas)."""
    parts: list[str] = []
    depth, quote, start = 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [part for part in parts if part.strip()]


def parse_constraints(spec, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """R, q for the hypothesis R b = q from a string ('x1 = 0, x2 = x3'), a list of such
    strings, a matrix R (q = 0), or a tuple (R, q)."""
    if isinstance(spec, str):
        spec = _split_equations(spec)
    if isinstance(spec, (list, tuple)) and spec and all(isinstance(s, str) for s in spec):
        rows, qs = [], []
        for eq in spec:
            lhs, _, rhs = eq.partition("=")
            a, ca = _parse_side(lhs, names)
            if rhs.strip():
                b, cb = _parse_side(rhs, names)
            else:
                b, cb = np.zeros(len(names)), 0.0
            rows.append(a - b)
            qs.append(cb - ca)
        return np.array(rows), np.array(qs)
    if isinstance(spec, tuple) and len(spec) == 2:
        R = np.atleast_2d(np.asarray(spec[0], dtype=float))
        q = np.asarray(spec[1], dtype=float).ravel()
    else:
        R = np.atleast_2d(np.asarray(spec, dtype=float))
        q = np.zeros(R.shape[0])
    if R.shape[1] != len(names) or q.shape[0] != R.shape[0]:
        raise ValueError(f"the restriction matrix must have {len(names)} columns and q one "
                         f"value per row; got R {R.shape}, q {q.shape}.")
    return R, q


@dataclass(frozen=True)
class ContrastResults:
    """Result of a Wald, t or F test. ``statistic`` is chi2 or F (Wald) or t (t_test)."""

    statistic: float | np.ndarray
    pvalue: float | np.ndarray
    df_num: float | None = None
    df_denom: float | None = None
    distribution: str = "chi2"
    effect: np.ndarray | None = None
    sd: np.ndarray | None = None

    @property
    def tvalue(self):
        return self.statistic

    @property
    def fvalue(self):
        return self.statistic

    def conf_int(self, alpha: float = 0.05) -> np.ndarray:
        if self.effect is None or self.sd is None:
            raise ValueError("intervals exist for t_test results only")
        dist = stats.t(float(self.df_denom or np.inf)) if self.distribution == "t" else stats.norm
        q = dist.ppf(1 - alpha / 2)
        return np.column_stack([self.effect - q * self.sd, self.effect + q * self.sd])

    def summary(self) -> str:
        if self.effect is not None:
            lines = [f"{'effect':>12}{'std err':>12}{self.distribution:>10}{'P>|' + self.distribution + '|':>10}"]
            for e, s, t, p in zip(self.effect, np.asarray(self.sd), np.atleast_1d(self.statistic),
                                  np.atleast_1d(self.pvalue)):
                lines.append(f"{e:12.6g}{s:12.6g}{t:10.4f}{p:10.4g}")
            return "\n".join(lines)
        return (f"<{self.distribution} test: statistic={float(self.statistic):.6g}, "
                f"p-value={float(self.pvalue):.6g}, df_num={self.df_num}, df_denom={self.df_denom}>")

    __str__ = summary


def _restricted(res, spec):
    names = res.model.exog_names
    R, q = parse_constraints(spec, names)
    b = np.asarray(res._params)
    V = res._cov
    used = np.any(R != 0, axis=0)
    if np.any(used & ~res._keep):
        raise ValueError("the hypothesis involves aliased (NaN) coefficients.")
    Rk = R[:, res._keep]
    return Rk @ b[res._keep] - q, Rk @ V[np.ix_(res._keep, res._keep)] @ Rk.T, R


def wald_test(res, spec, use_f: bool | None = None, scalar: bool = True) -> ContrastResults:
    """Joint Wald test of R b = q: chi2 (or F = chi2 / J with df_resid when ``use_f``)."""
    d, RVR, R = _restricted(res, spec)
    stat, J = _wald_form(d, RVR, res)
    if use_f is None:
        use_f = res.use_t
    if use_f:
        F = stat / J
        df = getattr(res, "df_resid_inference", res.df_resid)
        return ContrastResults(F, float(stats.f.sf(F, J, df)), J, df, "F")
    # statsmodels keeps the number of constraints in df_denom for a chi2 test
    return ContrastResults(stat, float(stats.chi2.sf(stat, J)), J, J, "chi2")


def _wald_form(d: np.ndarray, RVR: np.ndarray, res) -> tuple[float, int]:
    """d' (R V R')^{-1} d and its degrees of freedom.

    Under ``fit_constrained`` the coefficients have no variance in the constrained
    directions, so a hypothesis on them has a singular R V R': as statsmodels, the
    pseudo-inverse is used and the degrees of freedom are its rank (with a warning).
    """
    J = int(RVR.shape[0])
    if not getattr(res, "k_constr", 0):
        return float(d @ np.linalg.solve(RVR, d)), J
    rank = int(np.linalg.matrix_rank(RVR))
    if rank < J:
        import warnings

        warnings.warn(f"the covariance of the {J} hypotheses has rank {rank} under the "
                      f"model's constraints: the constrained directions are not tested and "
                      f"the test has {rank} degrees of freedom.", UserWarning, stacklevel=4)
    return float(d @ np.linalg.pinv(RVR) @ d), rank


def t_test(res, spec) -> ContrastResults:
    """One test per row of R b = q, with t (df_resid) or normal reference as ``res.use_t``."""
    d, RVR, _ = _restricted(res, spec)
    sd = np.sqrt(np.diag(RVR))
    t = d / sd
    if res.use_t:
        df = getattr(res, "df_resid_inference", res.df_resid)
        return ContrastResults(t, 2 * stats.t.sf(np.abs(t), df), None, df,
                               "t", effect=d, sd=sd)
    return ContrastResults(t, 2 * stats.norm.sf(np.abs(t)), None, None, "z", effect=d, sd=sd)


def f_test(res, spec) -> ContrastResults:
    return wald_test(res, spec, use_f=True)


@dataclass(frozen=True)
class LikelihoodRatioResults:
    statistic: float
    df: float
    pvalue: float


def lr_test(res_small, res_big) -> LikelihoodRatioResults:
    """Likelihood-ratio test of nested models as R's anova(small, big, test='LRT'):
    (deviance_small - deviance_big) / scale_big on df_small - df_big degrees of freedom."""
    df = res_small.df_resid - res_big.df_resid
    if df <= 0:
        raise ValueError("the first model must be nested in the second (fewer parameters).")
    stat = (res_small.deviance - res_big.deviance) / res_big.scale
    return LikelihoodRatioResults(float(stat), float(df), float(stats.chi2.sf(stat, df)))


def rao_statistic(res_small, X_big) -> float:
    """Unscaled score statistic of the small fit against the bigger design (R's Rao):
    r' W X (X'WX)^{-1} X' W r with the working residuals r and IRLS weights W of res_small.
    ``X_big`` is an array or a DesignMatrix (its X'(w r) and X'WX: no dense copy)."""
    w = np.asarray(res_small._solver_result.working_weights)
    r = np.asarray(res_small._resid_response) / res_small.family.link.inverse_deriv(res_small._eta)
    if isinstance(X_big, np.ndarray):
        Xw = X_big * w[:, None]
        s, G = Xw.T @ r, X_big.T @ Xw
    else:
        s, G = X_big.rmatvec(w * r), X_big.sandwich(w)
    sol, *_ = np.linalg.lstsq(G, s, rcond=None)
    return float(s @ sol)


def check_robust_options(cov_type: str, kwds: dict) -> tuple[str, dict]:
    """Errors that say what to fix for get_robustcov_results(cov_type, **kwds); returns
    the normalised (cov_type, kwds) (see :func:`glmkit.fit_args.check_cov`)."""
    from .fit_args import check_cov

    return check_cov(cov_type, kwds)


def conf_int(res, alpha: float = 0.05, cols=None, method: str = "wald"):
    """Confidence intervals: ``method='wald'`` params -/+ q bse (t quantiles when
    ``use_t``), or ``'profile'``: profile-likelihood intervals as MASS's confint.glm (for a
    ``method='firth'`` fit: the profile penalized likelihood, logistf's intervals)."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}.")
    if method == "wald":
        q = res._dist.ppf(1.0 - alpha / 2.0)
        ci = np.column_stack([res._params - q * res._bse, res._params + q * res._bse])
    elif method == "profile":
        res._in_memory_only("conf_int(method='profile')", "the profile refits the model "
                             "at many values of each coefficient; use method='wald'.")
        if res._constraints is not None:
            raise ValueError("profile intervals are not available for fit_constrained "
                             "results; use method='wald', or profile "
                             "results_constrained (the free coefficients).")
        if res._solver_result.method == "firth":   # the Jeffreys-penalized likelihood
            from .firth_profile import firth_profile_conf_int

            ci = firth_profile_conf_int(res, alpha)
        else:
            from .profile import profile_conf_int

            ci = profile_conf_int(res, alpha)
    else:
        raise ValueError(f"method must be 'wald' or 'profile', got {method!r}.")
    if cols is not None:
        ci = ci[np.asarray(cols)]
    if res.model.data.is_pandas:
        names = np.asarray(res.model.exog_names)
        idx = names if cols is None else names[np.asarray(cols)]
        return pd.DataFrame(ci, index=idx, columns=[0, 1])
    return ci

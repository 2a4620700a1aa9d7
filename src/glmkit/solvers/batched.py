"""Batched IRLS: many small GLM fits of one family advanced together.

Two layouts of the batch (:class:`BatchData`):

- ``X`` of shape (B, m, p): one design per member (the groups of ``glmkit.glm_by``, rows
  padded to the largest group with zero weight);
- ``X`` of shape (n, p), shared by all members, with a (B, n) matrix of total weights
  and, for a parametric bootstrap, a (B, n) matrix of responses (``glmkit.bootstrap``:
  resamples are frequency weights on the same X, no stacked copies of it).

Every iteration forms all members' X'WX and scores in one pass (a batched matmul, or for a
shared X one (B, n) x (n, p^2) product with the row outer products x_i x_i'), factors all
p x p matrices with one vectorized Cholesky (a member whose pivot fails is flagged, not
raised), and halves steps member by member.

A member stops when both of glmkit's rules hold (solvers/irls.py, solvers/certify.py):
R's rule |dev - dev_old| / (|dev| + 0.1) < tol (on the change the Newton step predicts,
delta' score, as solvers/irls.py, or the last step's), and the Newton step from its point,
against the observed information H, is below ``step_tol`` standard errors,
sqrt(delta' H delta / scale) < step_tol (scale = deviance / n for dispersion families).
The certified step (already solved) is then added, so members end at the maximum to
rounding rather than within the certificate of it. Members that fail (a Gram that is not positive
definite, i.e. rank deficiency; means leaving the family's range; no convergence within
``maxiter``) are reported with a status, never returned as converged: callers refit them
with glmkit's ordinary solver.

Conventions
-----------
``tw`` : total row weights, freq_weights * prior_weights (0 for padding rows).
``offset`` : includes log exposure.
Status codes: 0 converged, 1 Gram not positive definite (rank deficient), 2 no step kept
the means in range / the deviance rose after all halvings, 3 maxiter reached.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy import special

from ..families import Family
from ..families import links as L
from ..families._fused import GenericKernel
from ..families.family import Binomial, Gaussian, Poisson

_EXP_MAX = L._EXP_MAX
_EPS = np.finfo(float).eps
_LOG_EPS = float(np.log(_EPS))

CONVERGED, NOT_PD, NO_STEP, MAXITER = 0, 1, 2, 3
#: Smallest equilibrated Cholesky pivot accepted (solvers/_linalg.py's ALIAS_TOL).
PIVOT_TOL = 1e-12


@dataclass
class BatchData:
    """The rows of every member. See the module docstring for the two layouts."""

    X: np.ndarray            # (B, m, p) or shared (n, p)
    y: np.ndarray            # (B, m) / (B, n) / shared (n,)
    tw: np.ndarray           # (B, m) / (B, n): freq_weights * prior_weights, 0 = no row
    offset: np.ndarray       # like y
    n_eff: np.ndarray        # (B,): sum of frequency weights (the stopping rule's n)
    #: eta put on padding rows (a point inside the range); None: their eta, 0, is inside
    pad_eta: float | None = None

    def __post_init__(self):
        self.shared = self.X.ndim == 2
        self._has_offset = bool(np.any(self.offset != 0))
        p = self.X.shape[-1]
        if self.shared:
            n = self.X.shape[0]
            # row outer products: X'WX of every member is one GEMM, W @ XX
            self._XX = (self.X[:, :, None] * self.X[:, None, :]).reshape(n, p * p)
            self.pad = None
            return
        # per member (p, m): rows contiguous, so eta, scores and Grams are contiguous sums
        self._XT = np.ascontiguousarray(self.X.transpose(0, 2, 1))
        self.X = None   # the transposed copy is what is used
        self.pad = self.tw <= 0
        self._p = p

    @property
    def B(self) -> int:
        return self.tw.shape[0]

    @property
    def p(self) -> int:
        return self.X.shape[-1] if self.shared else self._p

    def rows(self, arr: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """The members ``idx`` of a per-row array (shared 1-d arrays broadcast)."""
        if arr.ndim == 1:
            return np.broadcast_to(arr, (len(idx), arr.shape[0]))
        return arr[idx]

    def _take(self, a: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return a if len(idx) == a.shape[0] and idx[0] == 0 and idx[-1] == len(idx) - 1 \
            else a[idx]

    def eta(self, beta: np.ndarray, idx: np.ndarray) -> np.ndarray:
        if self.shared:
            eta = beta @ self.X.T
            return eta + self.offset if self._has_offset else eta
        eta = np.einsum("gpm,gp->gm", self._take(self._XT, idx), beta)
        if self._has_offset:
            eta += self.offset[idx]
        if self.pad_eta is not None:
            eta = np.where(self.pad[idx], self.pad_eta, eta)
        return eta

    def gram(self, w: np.ndarray, idx: np.ndarray) -> np.ndarray:
        p = self.p
        if self.shared:
            return (w @ self._XX).reshape(len(idx), p, p)
        XT = self._take(self._XT, idx)
        return np.matmul(XT * w[:, None, :], XT.transpose(0, 2, 1))

    def score(self, u: np.ndarray, idx: np.ndarray) -> np.ndarray:
        if self.shared:
            return u @ self.X
        return np.einsum("gpm,gm->gp", self._take(self._XT, idx), u)


@dataclass
class BatchResult:
    params: np.ndarray       # (B, p), NaN where status != 0 and no valid point
    deviance: np.ndarray     # (B,)
    pearson_chi2: np.ndarray  # (B,)
    gram: np.ndarray         # (B, p, p) expected X'WX at params (the covariance's bread)
    status: np.ndarray       # (B,) int, see module docstring
    n_iter: np.ndarray       # (B,)
    newton_decrement: np.ndarray   # (B,) sqrt(delta' H delta / scale) certified at the end

    @property
    def converged(self) -> np.ndarray:
        return self.status == CONVERGED


def _fast_kind(family: Family) -> str | None:
    """The canonical pairs with a closed-form per-row kernel (their observed information
    is the expected one, and the link keeps the mean in range by construction)."""
    link = type(family.link)
    if isinstance(family, Binomial) and link is L.Logit:
        return "logit"
    if isinstance(family, Poisson) and link is L.Log:
        return "log"
    if isinstance(family, Gaussian) and link is L.Identity:
        return "identity"
    return None


class _Rows:
    """Per-row family quantities at eta, for a sub-batch: summed per member (dev,
    pearson) or per row (w, w_obs, u)."""

    def __init__(self, family: Family, y, eta, tw, observed: bool, const=None,
                 pearson: bool = True):
        kind = _fast_kind(family)
        if kind is not None and const is not None:
            self._fast(kind, y, eta, tw, const, pearson)
            return
        link = family.link
        with np.errstate(all="ignore"):
            mu = link.inverse(eta)
            mu_eta = link.inverse_deriv(eta)
            var = family.variance(mu)
            unit = family.unit_deviance(y, mu)
            pos = tw > 0
            self.dev = np.sum(np.where(pos, tw * unit, 0.0), axis=1)
            resid = y - mu
            self.w = np.where(pos, tw * mu_eta**2 / var, 0.0)
            self.u = np.where(pos, tw * mu_eta * resid / var, 0.0)
            self.pearson = np.sum(np.where(pos, tw * resid**2 / var, 0.0), axis=1)
            if observed:
                d2 = link.inverse_deriv2(eta)
                corr = tw * resid * (d2 / var - mu_eta**2 * family.variance.deriv(mu) / var**2)
                self.w_obs = self.w - np.where(pos, corr, 0.0)
            else:
                self.w_obs = self.w
        self.eta, self.mu = eta, mu
        self.valid = _valid(family, eta, mu, tw) & np.isfinite(self.dev)

    def _fast(self, kind: str, y, eta, tw, const, pearson: bool):
        """Closed forms (equal to the generic formulas; tests compare with glmkit's fit).
        ``const``: (each member's sum of the deviance terms that do not depend on eta,
        tw * y with 0 where tw = 0), see :func:`_deviance_constant`."""
        const, ty = const
        with np.errstate(all="ignore"):
            if kind == "logit":
                mu = special.expit(eta)
                v = mu - mu * mu
                if np.abs(eta).max(initial=0.0) > 30.0:
                    v = np.maximum(v, _EPS)   # the Logit link's inverse_deriv
                self.w = tw * v
                tm = tw * mu
                self.u = ty - tm
                # 2 sum tw [log(1 + e^eta) - y eta] + the constant
                dev = 2.0 * (np.einsum("gm,gm->g", tw, np.logaddexp(0.0, eta))
                             - np.einsum("gm,gm->g", ty, eta))
                pear = (self.u * self.u / self.w) if pearson else None
            elif kind == "log":
                big = eta.max(initial=0.0) > _EXP_MAX
                mu = np.exp(np.minimum(eta, _EXP_MAX) if big else eta)
                if eta.min(initial=0.0) < _LOG_EPS:
                    mu = np.maximum(mu, _EPS)   # the Log link's inverse
                self.w = tw * mu
                self.u = ty - self.w
                # 2 sum tw [mu - y eta] + the constant
                dev = 2.0 * (self.w.sum(axis=1) - np.einsum("gm,gm->g", ty, eta))
                pear = (self.u * self.u / self.w) if pearson else None
            else:
                mu = eta
                r = y - eta
                self.u = tw * r
                self.w = np.array(np.broadcast_to(tw, eta.shape), dtype=float)
                dev = np.einsum("gm,gm->g", self.u, r)
                pear = self.u * r if pearson else None
            self.w_obs = self.w
            bad = ~np.isfinite(dev)
            if bad.any():   # rows without weight may hold anything
                unit = (np.logaddexp(0.0, eta[bad]) - y[bad] * eta[bad] if kind == "logit"
                        else mu[bad] - y[bad] * eta[bad] if kind == "log"
                        else 0.5 * (y[bad] - eta[bad]) ** 2)
                dev[bad] = 2.0 * np.sum(np.where(tw[bad] > 0, tw[bad] * unit, 0.0), axis=1)
            self.dev = dev + const
            if pear is not None:
                self.pearson = np.sum(np.where(tw > 0, pear, 0.0), axis=1)
        self.eta, self.mu = eta, mu
        self.valid = np.isfinite(self.dev)


def _deviance_constant(family: Family, y, tw):
    """For the fast kernels: (per member, the deviance terms that do not depend on eta;
    tw * y, 0 where tw = 0); None for the others."""
    kind = _fast_kind(family)
    if kind is None:
        return None
    with np.errstate(all="ignore"):
        pos = tw > 0
        ty = np.where(pos, tw * y, 0.0)
        if kind == "logit":
            c = 2.0 * (special.xlogy(y, y) + special.xlogy(1.0 - y, 1.0 - y))
        elif kind == "log":
            c = 2.0 * (special.xlogy(y, y) - y)
        else:
            return np.zeros(tw.shape[0]), ty
        return np.sum(np.where(pos, tw * c, 0.0), axis=1), ty


def _valid(family: Family, eta, mu, tw) -> np.ndarray:
    """Per member: every row with weight inside the link's and family's range."""
    pos = tw > 0
    e = np.where(pos, eta, eta[pos][0] if pos.any() else 0.0)
    m = np.where(pos, mu, mu[pos][0] if pos.any() else 1.0)
    if family.link.valid_eta(e) and family.valid_mu(m):
        return np.ones(eta.shape[0], dtype=bool)
    out = np.empty(eta.shape[0], dtype=bool)
    for g in range(eta.shape[0]):   # only when some member left the range
        k = pos[g]
        out[g] = bool(k.any()) and family.link.valid_eta(eta[g, k]) and family.valid_mu(mu[g, k])
    return out


def batched_cholesky(A: np.ndarray):
    """Cholesky factors of a stack of symmetric p x p matrices, equilibrated.

    Returns (L, s, ok): A_g = D L L' D with D = diag(s)^-1, and ok[g] False where a pivot
    of the equilibrated matrix is below PIVOT_TOL (not positive definite, or rank
    deficient); those members' factors are garbage and must not be used.
    """
    d = np.einsum("gii->gi", A)
    ok = np.all(d > 0, axis=1) & np.all(np.isfinite(A), axis=(1, 2))
    s = np.where(d > 0, 1.0 / np.sqrt(np.where(d > 0, d, 1.0)), 1.0)
    S = A * s[:, :, None] * s[:, None, :]
    S = np.where(ok[:, None, None], S, np.eye(A.shape[1]))
    p = A.shape[1]
    L = np.zeros_like(S)
    for j in range(p):
        piv = S[:, j, j] - np.einsum("gk,gk->g", L[:, j, :j], L[:, j, :j])
        bad = ~(piv >= PIVOT_TOL)
        ok &= ~bad
        piv = np.where(bad, 1.0, piv)
        L[:, j, j] = np.sqrt(piv)
        if j + 1 < p:
            L[:, j + 1:, j] = (S[:, j + 1:, j] - np.einsum(
                "gik,gk->gi", L[:, j + 1:, :j], L[:, j, :j])) / L[:, j, j][:, None]
    return L, s, ok


def batched_solve(L: np.ndarray, s: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x with A x = b for the factors of :func:`batched_cholesky` (b of shape (B, p))."""
    p = L.shape[1]
    c = b * s
    z = np.empty_like(c)
    for i in range(p):   # forward: L z = c
        z[:, i] = (c[:, i] - np.einsum("gk,gk->g", L[:, i, :i], z[:, :i])) / L[:, i, i]
    x = np.empty_like(z)
    for i in range(p - 1, -1, -1):   # backward: L' x = z
        x[:, i] = (z[:, i] - np.einsum("gk,gk->g", L[:, i + 1:, i], x[:, i + 1:])) / L[:, i, i]
    return x * s


def batched_inverse(A: np.ndarray):
    """Inverses of a stack of SPD matrices (NaN where not positive definite)."""
    L, s, ok = batched_cholesky(A)
    B, p, _ = A.shape
    inv = np.empty_like(A)
    eye = np.eye(p)
    for j in range(p):
        inv[:, :, j] = batched_solve(L, s, np.broadcast_to(eye[j], (B, p)))
    inv[~ok] = np.nan
    return inv, ok


def _start(data: BatchData, family: Family, prior_weights, idx, const):
    """R's first IRLS solve from its starting means: beta = (X'WX)^-1 X'W z."""
    y = data.rows(data.y, idx)
    mu0 = family.starting_mu(y, prior_weights[idx] if prior_weights.ndim == 2 else prior_weights)
    with np.errstate(all="ignore"):
        eta0 = family.link(mu0)
    if data.pad is not None and data.pad_eta is not None:
        eta0 = np.where(data.pad[idx], data.pad_eta, eta0)
    r = _Rows(family, y, eta0, data.tw[idx], False, const, pearson=False)
    off = data.rows(data.offset, idx)
    rhs = data.score(r.w * (eta0 - off) + r.u, idx)
    L, s, ok = batched_cholesky(data.gram(r.w, idx))
    beta = batched_solve(L, s, rhs)
    return np.where(ok[:, None], beta, 0.0), ok & r.valid


def batched_irls(data: BatchData, family: Family, start: np.ndarray | None = None,
                 prior_weights: np.ndarray | None = None, maxiter: int = 100,
                 tol: float = 1e-8, step_tol: float = 1e-8, max_halvings: int = 30,
                 covariance: bool = True, alt_start: np.ndarray | None = None
                 ) -> BatchResult:
    """Fit every member of ``data``; see the module docstring.

    ``start``: (B, p) or (p,) starting coefficients; None for R's starting means (which
    need ``prior_weights``, the per-row prior weights in the layout of ``y``; given with a
    ``start``, members whose start is outside the range begin from R's start instead).
    ``alt_start``: (B, p) coefficients for members whose R start fails (without ``start``).
    ``covariance``: form X'WX and Pearson's chi2 at the solutions (False: params and
    deviances only, e.g. bootstrap replicates).
    """
    B, p = data.B, data.p
    kernel = GenericKernel(family)
    observed = not kernel.fisher_is_newton
    status = np.full(B, MAXITER)
    n_iter = np.zeros(B, dtype=int)
    all_idx = np.arange(B)
    const = _deviance_constant(family, data.rows(data.y, all_idx), data.tw)
    cst = (lambda ix: None) if const is None else (lambda ix: (const[0][ix], const[1][ix]))
    if start is None:
        beta, ok = _start(data, family, prior_weights, all_idx, cst(all_idx))
        if alt_start is not None:
            # members whose first solve failed or left the range start from alt_start
            eta = data.eta(beta, all_idx)
            with np.errstate(all="ignore"):
                bad = ~ok | ~_valid(family, eta, family.link.inverse(eta), data.tw)
            beta[bad], ok[bad] = alt_start[bad], True
        status[~ok] = NOT_PD
    else:
        beta = np.array(np.broadcast_to(start, (B, p)), dtype=float)
        ok = np.ones(B, dtype=bool)
    rows = _Rows(family, data.rows(data.y, all_idx), data.eta(beta, all_idx), data.tw,
                 observed, cst(all_idx), pearson=False)
    if start is not None and prior_weights is not None and not rows.valid.all():
        # a given start outside the range for some members: R's start for those
        bad = all_idx[~rows.valid]
        b2, ok2 = _start(data, family, prior_weights, bad, cst(bad))
        beta[bad] = b2
        status[bad[~ok2]] = NOT_PD
        rows = _Rows(family, data.rows(data.y, all_idx), data.eta(beta, all_idx), data.tw,
                     observed, cst(all_idx), pearson=False)
    status[ok & (status == MAXITER) & ~rows.valid] = NO_STEP
    dev = rows.dev.copy()
    dev_old = np.full(B, np.inf)
    decrement = np.full(B, np.inf)
    w, w_obs, u = rows.w, rows.w_obs, rows.u
    scale_free = family.has_free_scale
    active = all_idx[status == MAXITER]
    gram = np.full((B, p, p), np.nan)
    pearson = np.full(B, np.nan)
    # per-row state of the active members, aligned with ``active``
    st_w, st_wo, st_u = w[active], w_obs[active], u[active]
    for it in range(1, maxiter + 1):
        if active.size == 0:
            break
        H = data.gram(st_wo, active)
        L, s, okH = batched_cholesky(H)
        if observed and not okH.all():
            # observed information not positive definite there: Fisher scoring for those
            bad = ~okH
            Lf, sf, okf = batched_cholesky(data.gram(st_w[bad], active[bad]))
            L[bad], s[bad], okH[bad] = Lf, sf, okf
            exact = okH.copy()
            exact[bad] = False   # a Fisher step is not the distance to the maximum
        else:
            exact = okH
        g = data.score(st_u, active)
        delta = batched_solve(L, s, np.where(okH[:, None], g, 0.0))
        dec = np.einsum("gp,gp->g", delta, g)
        sc = np.maximum(dev[active] / np.maximum(data.n_eff[active], 1.0), 1e-300) \
            if scale_free else 1.0
        dec_se = np.sqrt(np.maximum(dec, 0.0) / sc)
        # R's rule on the deviance change the Newton step predicts, delta' score (as
        # glmkit's own stop rule, solvers/irls.py), or on the last step's actual change
        d_abs = np.abs(dev[active]) + 0.1
        r_rule = (np.abs(dec) < tol * d_abs) | (
            np.abs(dev[active] - dev_old[active]) < tol * d_abs)
        done = okH & exact & r_rule & (dec_se < step_tol)
        status[active[~okH]] = NOT_PD
        decrement[active] = dec_se
        n_iter[active] = it
        if done.any():
            # certified: the point is within step_tol standard errors of the maximum; its
            # Newton step (already solved) takes it to the maximum itself, to rounding. The
            # deviance moves by dec / 2 < step_tol^2 scale / 2 and X'WX by O(step_tol)
            # relative over that step, so both are kept from the certified point (as
            # glmkit's own fit keeps them), and no pass over the rows is needed
            fin = active[done]
            beta[fin] += delta[done]
            status[fin] = CONVERGED
            if covariance:
                gram[fin] = H[done] if not observed else data.gram(st_w[done], fin)
                with np.errstate(all="ignore"):
                    pearson[fin] = np.sum(np.where(st_w[done] > 0, st_u[done] ** 2
                                                   / st_w[done], 0.0), axis=1)
        # the others take the step, halving it member by member
        step_ok = okH & ~done
        idx = active[step_ok]
        if idx.size == 0:
            break
        b_old = beta[idx]
        b_new = b_old + delta[step_ok]
        d_ref = dev[idx]
        new = _Rows(family, data.rows(data.y, idx), data.eta(b_new, idx), data.tw[idx],
                    observed, cst(idx), pearson=False)
        good = new.valid & (new.dev - d_ref <= tol * (np.abs(d_ref) + 0.1))
        halvings = 0
        while not good.all() and halvings < max_halvings:
            halvings += 1
            bad = ~good
            b_new[bad] = 0.5 * (b_new[bad] + b_old[bad])
            sub = _Rows(family, data.rows(data.y, idx[bad]), data.eta(b_new[bad], idx[bad]),
                        data.tw[idx[bad]], observed, cst(idx[bad]), pearson=False)
            for name in ("dev", "w", "u", "w_obs", "valid"):
                getattr(new, name)[bad] = getattr(sub, name)
            good[bad] = sub.valid & (sub.dev - d_ref[bad] <= tol * (np.abs(d_ref[bad]) + 0.1))
        status[idx[~good]] = NO_STEP
        upd = idx[good]
        dev_old[upd] = dev[upd]
        beta[upd] = b_new[good]
        dev[upd] = new.dev[good]
        # members still running, with their new per-row state
        active = upd
        st_w, st_wo, st_u = new.w[good], new.w_obs[good], new.u[good]
    params = beta.copy()
    params[status == NOT_PD] = np.nan
    return BatchResult(params=params, deviance=dev, pearson_chi2=pearson, gram=gram,
                       status=status, n_iter=n_iter, newton_decrement=decrement)


def concat_results(parts: list[BatchResult]) -> BatchResult:
    """One BatchResult from the results of consecutive chunks of members."""
    if len(parts) == 1:
        return parts[0]
    return BatchResult(*(np.concatenate([getattr(r, f) for r in parts]) for f in (
        "params", "deviance", "pearson_chi2", "gram", "status", "n_iter",
        "newton_decrement")))


def chunks(B: int, elements: int) -> list[tuple[int, int]]:
    """Consecutive ranges of members, one per thread glmkit uses for ``elements`` values
    per pass (glmkit._parallel): members are independent, so chunks run on threads."""
    from .._parallel import threads_for

    k = max(1, min(threads_for(elements), B))
    cuts = np.linspace(0, B, k + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in itertools.pairwise(cuts) if b > a]

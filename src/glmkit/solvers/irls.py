"""Iteratively reweighted least squares, the way R's glm.fit does it, plus Newton.

Each iteration is ONE sweep over the row blocks of X (:meth:`DesignMatrix.row_blocks`):
for a block, eta = X_b beta + offset, the family kernel gives mu, the deviance terms, the
working weights w and score weights u, and X_b'WX_b and X_b'u are accumulated while the
block is in cache. The sweep at the new coefficients both checks convergence and supplies
X'WX for the next step; the covariance uses X'WX at the solution. Updates are solved as increments (beta += (X'WX)^{-1} X'u), so
accuracy is set by the score, not by the conditioning of X'WX.

Stopping: R's rule |dev - dev_old| / (|dev| + 0.1) < tol, then (at most ``refine_iter``
more sweeps) until the last step is below ``step_tol`` standard errors: Fisher scoring on
a non-canonical link converges only linearly, and R's rule alone can leave coefficients
1e-4 (relative) from the maximum. Each sweep's X'WX and score also give the next step
before it is taken: when that step would pass both rules (its predicted deviance decrease
delta' score, and its size in standard errors), the fit stops at the current point without
another pass. When the step is larger but the previous one shows the steps shrinking fast
enough that the point after it is within ``step_tol`` standard errors of the maximum
(:func:`_stop_rule`), the fit takes it and stops: that point's deviance, mean and weights
cost one X @ b (``sweeper.at``), not a sweep. So a fit reports k iterations when it formed
X'WX k times (k solves).

Step-halving (R's glm.fit, and glm2 for a rising deviance): when the deviance is not
finite, the mean or linear predictor leaves the family's range, or the deviance rises, the
step is halved (at most ``max_halvings`` times). A first step from the starting means that
leaves the range is halved towards the intercept-only fit.

When Fisher scoring crawls (deviance decreases shrinking by less than half per sweep), the
remaining steps use the observed information where it is positive definite.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..families._fused import kernel_for
from ..problem import GLMProblem
from ._linalg import diagonal_mask, diagonal_positions, find_aliased, try_factor
from .base import LazyGram, SolverOptions, SolverResult, frozen
from .sweeper import InMemorySweeper, Sweep
from .warm_start import subsample_start


def _scale(problem: GLMProblem, dev, n_eff) -> float:
    """The dispersion the stopping rules measure standard errors with (deviance / n)."""
    return max(dev / max(n_eff, 1.0), 1e-300) if problem.family.has_free_scale else 1.0


def _is_slow(devs: list[float]) -> bool:
    """Whether the last deviance decreases shrink by less than half per pass."""
    if len(devs) < 5:
        return False
    d1, d2 = devs[-3] - devs[-2], devs[-2] - devs[-1]
    return d1 > 0 and d2 > 0.5 * d1


#: float32 Grams (DenseDesign.add_sandwich(low=True)) only for designs of this many
#: elements or more.
LOW_PRECISION_MIN_ELEMENTS = 1 << 22
#: ... and only when every column keeps this share of its norm after projecting on the
#: earlier ones (the first, float64, Cholesky pivots of the equilibrated X'WX).
LOW_PRECISION_MIN_PIVOT = 1e-5


def _rounded_elements(X) -> int:
    """Elements of X whose X'WX a float32 Gram would compute (the design's
    ``rounded_elements``: a split design's categorical blocks are float64 bincounts
    whatever the flag; with factors of 50 and 300 levels beside 3 columns, float32 saved
    nothing and cost the covariance one more pass after the fit); n p for other inputs."""
    r = getattr(X, "rounded_elements", None)
    return int(np.prod(X.shape)) if r is None else int(r)


class _Counted:
    """A sweeper that counts its passes over the data (history['passes'])."""

    def __init__(self, sweeper):
        self._sw = sweeper
        self.passes = 0

    def sweep(self, *args, **kwargs):
        self.passes += 1
        return self._sw.sweep(*args, **kwargs)

    def expected_gram(self, *args):
        self.passes += 1
        return self._sw.expected_gram(*args)

    def at(self, *args):
        self.passes += 1
        return self._sw.at(*args)

    def __getattr__(self, name):
        return getattr(self._sw, name)


class _State:
    """The accepted iterate: coefficients (None before the first solve) and its sweep."""

    def __init__(self, beta, sw: Sweep):
        self.beta = beta
        self.sw = sw


def irls(problem: GLMProblem, start: np.ndarray | None = None,
         options: SolverOptions = SolverOptions(), hessian: str = "expected",
         sweeper=None, start_mu=None, start_eta=None) -> SolverResult:
    """Fit by Fisher scoring (``hessian='expected'``) or Newton (``'observed'``).

    ``sweeper`` does the per-row work (default: :class:`InMemorySweeper`); this function
    only steers: solves, step-halving, stopping. ``start_mu`` replaces R's starting means
    (``start_eta``: their linear predictor). A sweeper with a ``warm_start(options,
    observed)`` method supplies the subsample start of large data (Dask).
    """
    sw = _Counted(sweeper if sweeper is not None else InMemorySweeper(problem, fused=options.fused))
    p = problem.X.shape[1]
    observed = hessian == "observed"
    # where the observed information is positive definite by construction (Gamma and
    # Tweedie with a log link), take Newton steps forming only the observed X'WX; the
    # expected one, for R's covariance, is formed once at the end
    can_regram = hasattr(sw._sw, "expected_gram")   # in memory: X'WX at a sweep's weights
    newton_only = bool(options.newton_steps and can_regram
                       and getattr(getattr(sw, "kernel", None), "observed_pd", False))
    observed = observed or newton_only
    only_observed = {"expected": False} if newton_only else {}
    n_eff = sw.n_eff
    messages: list[str] = []
    # float32 X'WX for the steps: a step's direction needs ~7 digits, the fixed point is set
    # by the float64 score, and the covariance's X'WX is float64 (formed when first needed).
    # The first sweep stays float64 (the rank of X is decided on it) unless a subsample
    # start has shown full rank and no near-collinearity.
    low_ok = bool(options.low_precision_gram and can_regram
                  and _rounded_elements(problem.X) >= LOW_PRECISION_MIN_ELEMENTS)
    low = {"low": True} if low_ok else {}

    cur = None
    if start is None and start_mu is not None:
        start_eta = problem.family.link(start_mu)
    if start is None and start_eta is not None:
        cur = _State(None, sw.sweep(None, start_eta, observed))
    if cur is None and start is None and options.subsample and hasattr(sw._sw, "warm_start"):
        warm = sw._sw.warm_start(options, observed)
        if warm is not None:   # checked valid by that sweep (the sweeper keeps it: no pass)
            cur = _State(warm, sw.sweep(warm, None, observed))
    if cur is None and start is None and options.subsample and sweeper is None:
        warm_start = subsample_start(problem, options, irls)
        if warm_start is not None:
            warm, pivot = warm_start
            if low_ok and pivot < LOW_PRECISION_MIN_PIVOT:
                low_ok, low = False, {}   # nearly collinear columns: float64 throughout
            first = sw.sweep(warm, None, observed, **only_observed, **low)
            if np.isfinite(first.deviance) and first.valid:
                cur = _State(warm, first)
    if cur is None and start is None and hasattr(sw._sw, "null_start") \
            and sw.kernel.start_anywhere:
        # the intercept-only point g(mean y): usually one sweep nearer the maximum than R's
        # starting means, and, the log-likelihood being concave, the same maximum
        null = sw.null_start()
        if null is not None:
            first = sw.sweep(null, None, observed, **only_observed)
            if np.isfinite(first.deviance) and first.valid:
                cur = _State(null, first)
    if cur is None and start is None:
        cur = _State(None, sw.sweep(None, sw.start_eta(), observed))
    elif cur is None:
        beta0 = np.asarray(start, dtype=float).copy()
        cur = _State(beta0, sw.sweep(beta0, None, observed, **only_observed))
    history: dict[str, Any] = {"deviance": [cur.sw.deviance], "step_halvings": [],
                               "params": [_plain(cur.beta, p)]}
    spare = None  # a sweep whose n-vectors may be overwritten (no allocation per iteration)
    diag_mask = diagonal_mask(problem)
    # the rank of X: on X'WX, or for Newton-only kernels on the observed X'WX (positive
    # weights too, so the same rank)
    first_gram = cur.sw.gram if cur.sw.gram is not None else cur.sw.gram_observed
    first_factor: list = []   # the rank check's factor of first_gram, for the first solve
    if cur.sw.low:   # only after a subsample start of full rank: so is the full design
        keep = np.ones(p, dtype=bool)
    else:
        keep = ~find_aliased(first_gram, diag=diagonal_positions(diag_mask),
                             factor_out=first_factor)
    diag = diagonal_positions(diag_mask, keep)   # a block of X'WX that is diagonal
    all_kept = bool(keep.all())
    if cur.beta is not None and np.any(cur.beta[~keep] != 0):
        # a start (intercept-only, subsample or the user's) with weight on a column that is
        # aliased here: steps never touch it, so it would bias the kept coefficients
        cur.beta = np.where(keep, cur.beta, 0.0)
        cur.sw = sw.sweep(cur.beta, None, observed, **only_observed)
        history["deviance"][0] = cur.sw.deviance
        history["params"][0] = _plain(cur.beta, p)
    converged = certified = False
    fisher_is_newton = bool(getattr(sw.kernel, "fisher_is_newton", False))
    refine_left = options.refine_iter
    # stop on the step a sweep predicts, not the one it took (saves the last pass); not
    # when the caller asked for R's stopping point exactly
    predict_stop = options.tol_criterion == "deviance" and options.refine_iter > 0
    prev_step = None   # the last full (not halved) step, which shows how fast steps shrink
    prev_dec = None    # the last step's decrement, in units of step_tol^2 scale
    n_iter = 0
    for n_iter in range(1, options.maxiter + 1):
        likely_last = False
        if not observed and _is_slow(history["deviance"]):
            observed = True   # Fisher scoring crawls: Newton steps from here on
            history["switched_to_newton_at"] = n_iter
            prev_step = None
            cur.sw = sw.sweep(cur.beta, None, True) if cur.beta is not None else cur.sw
        if cur.sw.gram is None and (cur.beta is None or cur.sw.gram_observed is None):
            cur.sw.gram = sw.expected_gram(cur.sw)
        Gk = None if cur.sw.gram is None else (
            cur.sw.gram if all_kept else cur.sw.gram[np.ix_(keep, keep)])
        H = Gk
        fac = None
        newton = fisher_is_newton   # H is the negative Hessian: its step is Newton's
        if observed and cur.beta is not None and cur.sw.gram_observed is not None:
            Go = cur.sw.gram_observed if all_kept else cur.sw.gram_observed[np.ix_(keep, keep)]
            fac = _factor(Go, diag, first_gram, first_factor, n_iter)
            if fac is not None:
                H, newton = Go, True
            elif Gk is None:
                cur.sw.gram = sw.expected_gram(cur.sw)
                H = cur.sw.gram[np.ix_(keep, keep)]
        if fac is None:
            fac = _factor(H, diag, first_gram, first_factor, n_iter)
        if low_ok and n_iter == 1 and fac is not None and not cur.sw.low \
                and np.min(fac.pivots(), initial=1.0) < LOW_PRECISION_MIN_PIVOT:
            # nearly collinear columns (1 - R^2 below 1e-5): float32 rounding would be a
            # large error along them, so every Gram of this fit is float64
            low_ok, low = False, {}
        if fac is None and cur.sw.low:
            # the float32 Gram may be what failed: float64 from here on
            low_ok, low = False, {}
            cur.sw = sw.sweep(cur.beta, None if cur.beta is not None else cur.sw.eta, observed,
                              **only_observed if cur.beta is not None else {})
            if cur.sw.gram is None and cur.beta is None:
                cur.sw.gram = sw.expected_gram(cur.sw)
            newton = fisher_is_newton or cur.sw.gram is None
            H = cur.sw.gram if cur.sw.gram is not None else cur.sw.gram_observed
            H = H if all_kept else H[np.ix_(keep, keep)]
            fac = try_factor(H, diag)
        if fac is None:
            messages.append("the weighted Gram matrix X'WX is not positive definite")
            break
        if cur.beta is None:
            # first solve from the starting means: the working response z, not an increment
            base = None
            beta_new = np.zeros(p)
            beta_new[keep] = fac.solve(cur.sw.score[keep])
        else:
            base = cur.beta
            score = cur.sw.score if all_kept else cur.sw.score[keep]
            delta = fac.solve(score)
            stop = _stop_rule(problem, options, delta, prev_step, score, H.diagonal(),
                              cur.sw.deviance, n_eff) if predict_stop else None
            unit = options.step_tol ** 2 * _scale(problem, cur.sw.deviance, n_eff)
            dec = float(delta @ score) / unit if predict_stop and unit > 0 else np.inf
            # the sweep after this step is likely the last (the stop rule 'here' there):
            # its decrement, extrapolated quadratically from the last two (d^3 / d_prev^2),
            # is below LAST_MARGIN (a wrong guess costs the meat's sums on one more sweep,
            # or one pass after the fit; never a wrong number)
            likely_last = predict_stop and (stop == "after" or (
                prev_dec is not None and dec > 0 and prev_dec > 0
                and dec < LAST_MARGIN ** (1 / 3) * prev_dec ** (2 / 3)))   # no overflow
            prev_dec, dec_before = dec, prev_dec
            if stop == "here" and newton:
                # the Newton step from here would change neither the deviance (R's rule)
                # nor any coefficient by step_tol standard errors: this point is the maximum
                # to that accuracy (its score and information say so), and its sweep
                # already holds X'WX for the covariance
                converged = certified = True
                break
            if stop is not None and not newton:
                # a Fisher-scoring step (expected information, non-canonical link) is not
                # the distance to the maximum: certify with the observed information
                if observed and cur.sw.gram_observed is not None:
                    messages.append("the observed information is not positive definite at "
                                    "the last point: it is not a maximum of the likelihood")
                    break
                observed, prev_step = True, None
                prev_dec = dec_before   # the same point again: extrapolate from the last
                _expect_last(sw)   # once per fit: often the last (the Newton step is nil)
                cur.sw = sw.sweep(cur.beta, None, True)
                continue
            if all_kept:
                beta_new = cur.beta + delta
            else:
                beta_new = cur.beta.copy()
                beta_new[keep] += delta
            if stop == "after" and hasattr(sw._sw, "at"):
                _expect_last(sw)
                # the point after this step is within step_tol standard errors of the
                # maximum (as the last two steps show): its deviance, mean, weights and
                # score cost one X @ b and one X'u, not a sweep. The score there, with the
                # information here, certifies it; X'WX there is formed when the covariance
                # needs it
                last = sw.at(beta_new)
                if np.isfinite(last.deviance) and last.valid and last.deviance \
                        - cur.sw.deviance <= options.tol * (abs(cur.sw.deviance) + 0.1) \
                        and _stop_rule(problem, options, fac.solve(
                            last.score if all_kept else last.score[keep]), None,
                            last.score if all_kept else last.score[keep], H.diagonal(),
                            last.deviance, n_eff) == "here":
                    cur = _State(beta_new, last)
                    history["deviance"].append(last.deviance)
                    history["params"].append(_plain(beta_new, p))
                    history["step_halvings"].append(0)
                    history["last_step_unswept"] = True
                    converged = certified = True
                    break
        grams = {}
        if can_regram:
            # the current Gram is factored: its buffers take the next sweep's sums (one
            # p x p Gram alive, not two); a fit that ends on a refused step forms it again
            grams["grams"] = (cur.sw.gram, cur.sw.gram_observed)
            cur.sw.gram = cur.sw.gram_observed = None
        if likely_last:
            _expect_last(sw)
        new = sw.sweep(beta_new, None, observed, reuse=spare, **grams, **only_observed, **low)
        halvings = 0
        out_of_range = False
        while (not (np.isfinite(new.deviance) and new.valid)
               or (cur.beta is not None
                   and new.deviance - cur.sw.deviance > options.tol * (abs(cur.sw.deviance) + 0.1))):
            if halvings >= options.max_halvings:
                break
            halvings += 1
            low_ok, low = False, {}   # a refused step: no approximations from here on
            out_of_range = out_of_range or not (np.isfinite(new.deviance) and new.valid)
            if base is None:
                base = sw.null_coefficients(keep)
                if base is None:
                    base = False
            if base is False:   # no valid coefficients to halve towards: halve in eta
                new = sw.sweep(None, sw.midpoint(new.eta, cur.sw.eta), observed, reuse=new)
            else:
                beta_new = 0.5 * (beta_new + base)
                new = sw.sweep(beta_new, None, observed, reuse=new, **only_observed)
        history["step_halvings"].append(halvings)
        if not (np.isfinite(new.deviance) and new.valid):
            messages.append(f"iteration {n_iter}: no step kept the mean inside the family's "
                            f"range after {halvings} halvings; stopped at the last valid point")
            break
        if cur.beta is not None and new.deviance - cur.sw.deviance > \
                options.tol * (abs(cur.sw.deviance) + 0.1):
            messages.append(f"iteration {n_iter}: the deviance rose after {halvings} step "
                            "halvings; stopped at the last point that lowered it")
            break
        consistent = base is not False
        dev_old = cur.sw.deviance
        step = None if cur.beta is None else (
            beta_new - cur.beta if all_kept else (beta_new - cur.beta)[keep])
        prev_step = step if halvings == 0 else None
        prev_dec = prev_dec if halvings == 0 else None
        spare = cur.sw
        cur = _State(beta_new if consistent else None, new)
        history["deviance"].append(new.deviance)
        history["params"].append(_plain(cur.beta, p))
        if not consistent:
            continue
        history["boundary"] = out_of_range
        if _converged(options, new.deviance, dev_old, step,
                      beta_new if all_kept else beta_new[keep]):
            if not predict_stop:
                converged = True   # R's rule, as asked: certified afterwards (solve())
                break
            # R's rule is met; the next pass's first solve decides, from the score and the
            # information at this point, whether it is the maximum (the stop rule "here")
            if refine_left <= 0:
                messages.append(f"R's deviance rule was met, but {options.refine_iter} more "
                                "iterations did not bring the coefficients within "
                                f"{options.step_tol:g} standard errors of the maximum")
                break
            refine_left -= 1

    spare = new = None   # noqa: F841  (their p x p and n-sized buffers are not needed now)
    if hasattr(sw._sw, "finish"):
        sw._sw.finish(cur.sw)   # mu and w at the solution (sweeps keep only eta)
    history["passes"] = sw.passes
    gram = cur.sw.gram
    if gram is None or cur.sw.low:
        # the covariance's float64 X'WX at the solution: one pass, when first needed (not
        # stored on the sweep, which the LazyGram holds: no reference cycle)
        final, inner = cur.sw, sw._sw if can_regram else sw
        gram = LazyGram(lambda: inner.expected_gram(final))
    beta = cur.beta if cur.beta is not None else np.full(p, np.nan)
    params = beta.copy()
    params[~keep] = np.nan
    gram = gram if all_kept else _kept(gram, keep)
    return SolverResult(
        params=frozen(params), aliased=frozen(~keep), eta=frozen(cur.sw.eta),
        mu=frozen(cur.sw.mu), working_weights=frozen(cur.sw.w), gram=frozen(gram),
        deviance=float(cur.sw.deviance), n_iter=n_iter, converged=converged,
        method="newton" if hessian == "observed" else "IRLS",
        history={**history, "certified": certified},
        messages=tuple(messages),
    )


def _expect_last(sw) -> None:
    """Tell a sweeper that wants to know (Dask: it then also sums the HC meat and cluster
    sums asked in fit()) that its next sweep is likely the fit's last."""
    hint = getattr(sw._sw, "expect_last", None)
    if hint is not None:
        hint()


def _plain(beta, p: int) -> list:
    """Coefficients as a plain list for the history (NaN when a step was made in eta)."""
    return [float("nan")] * p if beta is None else [float(b) for b in beta]


def _kept(gram, keep):
    """The kept rows and columns of a Gram (lazily for a LazyGram)."""
    if isinstance(gram, LazyGram):
        return LazyGram(lambda: np.asarray(gram)[np.ix_(keep, keep)])
    return gram[np.ix_(keep, keep)]


def _factor(H, diag, first_gram, first_factor: list, n_iter: int):
    """try_factor(H), or on the first iteration the rank check's factor of the same Gram
    (later sweeps reuse its buffer, so only then)."""
    if n_iter == 1 and first_factor and H is first_gram:
        return first_factor.pop()
    return try_factor(H, diag)


#: The sweep after a step is expected to be the fit's last (:func:`_expect_last`) when the
#: quadratic extrapolation of the Newton decrement there is below this many step_tol^2
#: scale (Fisher-scoring steps before it make the extrapolation up to ~10x low).
LAST_MARGIN = 100.0

#: The step-size ratio up to which the last two steps are trusted to estimate the distance
#: to the maximum (a rate of 0.1 per step or faster).
MAX_RATE = 0.1


def _stop_rule(problem, options, delta, prev_step, score, diag, dev, n_eff) -> str | None:
    """Whether to stop at the point where ``delta`` (solved from ``score``) was computed.

    Both need the deviance decrease the quadratic model predicts for ``delta``, delta'
    score, to pass R's rule. Then ``'here'``: the step in the metric of the covariance,
    sqrt(delta' H delta / scale), is below ``step_tol``, so no coefficient (nor any linear
    combination) would move by ``step_tol`` standard errors. ``'after'``: the point after ``delta`` is that close to the
    maximum, estimated coefficient by coefficient from the ratio r_j of this step to the
    previous one (at most MAX_RATE): the steps left after it sum to r_j / (1 - r_j) |delta_j|
    for a linear rate, less for Newton's quadratic one. (A ratio of the largest steps would
    mix coefficients: a review found a Gaussian-log fit stopped 7.7e-8 SE from the maximum.)
    ``'near'``: R's rule is met but the step is not negligible; None: R's rule is not met.
    Either way: take the step and sweep again.
    """
    decrement = float(delta @ score)   # delta' H delta: the Newton decrement, squared
    if abs(decrement) >= options.tol * (abs(dev) + 0.1):
        return None
    scale = _scale(problem, dev, n_eff)
    if decrement < options.step_tol ** 2 * scale:
        # |c' delta| <= sqrt(delta' H delta) sqrt(c' H^-1 c) for every c: no coefficient
        # and no contrast moves by step_tol of its standard error
        return "here"
    per_se = np.sqrt(np.maximum(diag, 0.0) / scale)   # 1 / marginal standard errors
    size = np.abs(delta) * per_se
    if prev_step is None:
        return "near"
    prev = np.abs(prev_step) * per_se
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(prev > 0, size / prev, np.inf)
        left = np.where(rate < 1.0, rate / (1.0 - rate) * size, np.inf)
    settled = size < options.step_tol * 1e-3   # steps too small to matter, whatever their rate
    if np.all(settled | ((rate <= MAX_RATE) & (left < options.step_tol))):
        return "after"
    return "near"


def _converged(options: SolverOptions, dev, dev_old, step, beta) -> bool:
    if options.tol_criterion == "params":
        if step is None:
            return False
        return bool(np.all(np.abs(step) <= options.tol * (np.abs(beta) + 1e-8)))
    return abs(dev - dev_old) / (abs(dev) + 0.1) < options.tol


def _working(problem: GLMProblem, eta, mu, observed: bool):
    """Working weights w, observed weights and score weights u at (eta, mu) (generic path)."""
    kernel = kernel_for(problem.family, fused=False)
    _, _, w, u, w_obs = kernel.evaluate(problem.y, eta, problem.total_weights, observed)
    return w, w_obs, u

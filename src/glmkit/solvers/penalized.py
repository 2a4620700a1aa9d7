"""Penalized IRLS: the elastic net on any design, one pass over the rows per outer step.

Each outer step sweeps the rows once at the current coefficients (a sweeper's
``sweep(beta, None, False)``: X'WX, the score X'u and the deviance), then minimizes the
penalized quadratic model of the objective by coordinate descent on p x p quantities
(:mod:`glmkit.solvers._cd`). Dense, sparse, categorical, split and Dask designs differ only
in their sweeper. Later steps may keep an earlier X'WX and form only the score (a cheaper
pass); with a non-natural link the observed X'WX is used where it is positive definite.

Conventions
-----------
The objective, as glmnet's and statsmodels' ``fit_regularized`` (dispersion fixed at 1):

    F(b) = D(b) / (2 N) + sum_j ( l1_j |b_j| + l2_j / 2 b_j^2 ),  lo_j <= b_j <= hi_j,

D the deviance (-2 log-likelihood up to a constant, with every weight in it), N the total
frequency weight of the rows with non-zero prior weight. For a path at penalty ``lam``
with glmnet's penalty factors ``pf`` and mixing ``L1_wt``: l1 = lam L1_wt pf and
l2 = lam (1 - L1_wt) pf. The gradient of D / (2N) is -score / N.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._cd import solve_quadratic


@dataclass(frozen=True)
class Penalty:
    """Per-column elastic-net weights and box constraints (all p-vectors).

    l1, l2 : non-negative; the objective adds l1_j |b_j| + l2_j / 2 b_j^2.
    lower, upper : bounds with lower <= 0 <= upper (+-inf for none).
    """

    l1: np.ndarray
    l2: np.ndarray
    lower: np.ndarray
    upper: np.ndarray

    def value(self, b: np.ndarray) -> float:
        return float(np.sum(self.l1 * np.abs(b)) + 0.5 * np.sum(self.l2 * b * b))


@dataclass
class PenalizedResult:
    """The answer of :func:`penalized_irls` (``kkt``: the largest KKT violation)."""

    params: np.ndarray
    deviance: float
    objective: float
    converged: bool
    kkt: float
    n_sweeps: int
    #: the last point: its score (X'u) and X'WX warm-start the next fit along a path
    point: _Point | None = None
    messages: list = field(default_factory=list)
    #: passes over the rows of any kind (``n_sweeps`` counts those that formed X'WX)
    n_passes: int = 0
    #: accepted steps (each solved one quadratic model; at most ``maxiter``)
    n_steps: int = 0

    def __post_init__(self):
        if self.point is not None:   # a path keeps every answer: not their n-vectors
            self.point.sweep = None

    @property
    def score(self) -> np.ndarray:
        assert self.point is not None
        return self.point.score


def kkt_violations(score: np.ndarray, b: np.ndarray, n: float, pen: Penalty) -> np.ndarray:
    """Per coordinate, how far ``b`` is from the KKT conditions of F (0 where they hold).

    With g = -score / N + l2 b the gradient of the smooth part, the one-sided derivatives
    of F along +e_j and -e_j are D+ = g_j + l1_j s+ and D- = -g_j + l1_j s- (s+ = 1 if
    b_j >= 0 else -1, s- = 1 if b_j <= 0 else -1). At the minimum D+ >= 0 unless b_j is at
    its upper bound and D- >= 0 unless at its lower bound; the violation is the most
    negative of the two that apply.
    """
    g = -score / n + pen.l2 * b
    up = g + pen.l1 * np.where(b >= 0, 1.0, -1.0)
    down = -g + pen.l1 * np.where(b <= 0, 1.0, -1.0)
    v_up = np.where(b < pen.upper, np.maximum(-up, 0.0), 0.0)
    v_down = np.where(b > pen.lower, np.maximum(-down, 0.0), 0.0)
    return np.maximum(v_up, v_down)


def _quadratic_score(sw, beta, new):
    """Score and deviance at ``new`` from the sweep at ``beta`` when the deviance is
    exactly quadratic (Gaussian, identity link): no pass over the rows."""
    d = new - beta
    Gd = sw.gram @ d
    score = sw.score - Gd
    dev = sw.deviance - 2.0 * float(sw.score @ d) + float(d @ Gd)
    return score, max(dev, 0.0)


class _Point:
    """A point with what the objective and the next step need: the deviance and score at
    ``beta`` and an X'WX, formed at ``beta`` (``fresh``) or carried from an earlier point."""

    def __init__(self, beta, deviance, score, gram, valid=True, fresh=True, sweep=None,
                 cols=None):
        self.beta, self.deviance, self.score, self.gram = beta, deviance, score, gram
        self.valid, self.fresh = valid, fresh
        self.halvings = 0
        #: the score pass's sweep (eta, mu, w), while X'WX may still be wanted here
        self.sweep = sweep
        #: the columns ``gram`` is over (sorted positions: the working set), None for all;
        #: ``score`` is always over every column
        self.cols = cols
        #: Cholesky factors of ``gram``'s blocks, kept while points share it
        #: (:func:`glmkit.solvers._cd.solve_quadratic`'s ``cache``)
        self.factors: dict = {}


def _covers(pt: _Point, cols) -> bool:
    """Whether ``pt``'s X'WX is over every column of ``cols`` (None: all). A larger one is
    used as it is: the quadratic over its columns, those outside the working set held at
    zero, has the same minimum, and its Cholesky factors stay valid."""
    if pt.gram is None:   # released (a path keeps its passed points without it)
        return False
    if pt.cols is None:
        return True
    if cols is None:
        return False
    pos = np.searchsorted(pt.cols, cols)
    return bool(np.all(pos < pt.cols.size)
                and np.array_equal(pt.cols[np.minimum(pos, pt.cols.size - 1)], cols))


#: a working set X'WX is formed over (on a path) is padded with the columns nearest to
#: entering it (largest |score_j| / (N l1_j)): this share of its size, at least
#: ``_PAD_MIN``; the next alphas' sets then fall within it and carry its X'WX (a pass
#: forming X'WX over a set costs tens of score passes)
_PAD_SHARE = 0.25
_PAD_MIN = 16


def _padded(cols, score: np.ndarray, n: float, pen: Penalty, allowed: np.ndarray):
    """``cols`` with the padding described at ``_PAD_SHARE`` (None when the padded set
    would hold more than ``WORKING_SET_SHARE`` of the columns: X'WX over all of them)."""
    if cols is None:
        return None
    p = allowed.shape[0]
    rest = pen.l1 > 0
    rest[cols] = False
    m = min(max(_PAD_MIN, int(_PAD_SHARE * cols.size)), int(rest.sum()))
    if p > MAX_GRAM_COLUMNS:
        m = min(m, MAX_GRAM_COLUMNS - cols.size)
    elif cols.size + m > WORKING_SET_SHARE * p:
        return None
    if m <= 0:
        return cols
    idx = np.flatnonzero(rest)
    ratio = np.abs(score[idx]) / (n * pen.l1[idx])
    top = idx[np.argpartition(-ratio, m - 1)[:m]] if m < idx.size else idx
    return np.union1d(cols, top)


def _cols_kw(cols) -> dict:
    return {} if cols is None else {"cols": cols}


def _refresh(sweeper, pt: _Point, cols=None, exact: bool = False) -> _Point:
    """X'WX at ``pt`` (over ``cols``, None: all): from the working weights its score pass
    left (a pass with no X @ b and no kernel) when it has them and the expected X'WX is
    the one used; else a sweep."""
    sw = pt.sweep
    if sw is not None and sw.w is not None and _hessian_kind(sweeper) == "expected" \
            and hasattr(sweeper, "expected_gram"):
        low = {} if exact else _low(sweeper)
        gram = np.asarray(sweeper.expected_gram(sw, **low, **_cols_kw(cols)), dtype=float)
        return _Point(pt.beta, pt.deviance, pt.score, gram, pt.valid, True, cols=cols)
    return _at(sweeper, pt.beta, cols=cols, exact=exact)


def _at(sweeper, beta, base: _Point | None = None, mode: str = "sweep",
        cols=None, exact: bool = False) -> _Point:
    """The point at ``beta``: ``'sweep'`` forms X'WX there (one pass; over the columns
    ``cols`` only when given), ``'score'`` only the deviance and score (a cheaper pass:
    X b and X'u) and keeps ``base``'s X'WX, ``'quadratic'`` updates ``base`` without a
    pass (exact for Gaussian identity; only with X'WX over every column). ``exact``: X'WX
    in float64 (the quadratic updates take the score from it, so its rounding is theirs)."""
    if mode == "quadratic":
        assert base is not None and base.cols is None
        score, dev = _quadratic_score(base, base.beta, beta)
        return _Point(beta, dev, score, base.gram, True, True)
    if mode == "score":
        assert base is not None
        sw = sweeper.at(beta)
        pt = _Point(beta, float(sw.deviance), np.asarray(sw.score, dtype=float), base.gram,
                    bool(sw.valid), False, sw, base.cols)
        pt.factors = base.factors   # the same X'WX
        return pt
    kind = _hessian_kind(sweeper)
    kw = _cols_kw(cols)
    if kind == "expected":
        sw = sweeper.sweep(beta, None, False, **({} if exact else _low(sweeper)), **kw)
        gram = np.asarray(sw.gram, dtype=float)
    elif kind == "observed only":
        sw = sweeper.sweep(beta, None, True, expected=False, **kw)
        gram = np.asarray(sw.gram_observed, dtype=float)
    else:
        sw = sweeper.sweep(beta, None, True, **kw)
        gram = np.asarray(sw.gram_observed, dtype=float)
        if not _positive_definite(gram):
            gram = np.asarray(sw.gram, dtype=float)
    return _Point(beta, float(sw.deviance), np.asarray(sw.score, dtype=float), gram,
                  bool(sw.valid), True, cols=cols)


def _low(sweeper) -> dict:
    """In memory, X'WX from float32 blocks (about 30% less time per sweep): the quadratic
    model only steers the steps, the float64 score sets the answer and the KKT test."""
    from .sweeper import InMemorySweeper

    return {"low": True} if isinstance(sweeper, InMemorySweeper) else {}


def _hessian_kind(sweeper) -> str:
    """Which X'WX the quadratic model uses. Fisher scoring converges only linearly with a
    non-natural link, and slowly under a strong penalty (the score is far from 0 at the
    answer, so the observed information is far from the expected one): there the observed
    X'WX is used where it is positive definite. 'observed only' for kernels whose observed
    information is positive definite everywhere (in memory, which can skip the expected)."""
    kernel = getattr(sweeper, "kernel", None)
    if kernel is None or kernel.fisher_is_newton:
        return "expected"
    from .sweeper import InMemorySweeper

    if kernel.observed_pd and isinstance(sweeper, InMemorySweeper):
        return "observed only"
    return "observed"


def _positive_definite(G: np.ndarray) -> bool:
    d = np.sqrt(np.maximum(np.diag(G), 1e-300))
    try:
        np.linalg.cholesky(G / np.outer(d, d) + 1e-12 * np.eye(G.shape[0]))
    except np.linalg.LinAlgError:
        return False
    return bool(np.all(np.diag(G) > 0))


#: X'WX is formed over the working set only (the columns that may move, and the non-zero
#: ones) on designs of at least this many columns when the set holds at most
#: ``WORKING_SET_SHARE`` of them (the quadratic model, its solve and the KKT floor then
#: work on the set; the score, and so the KKT check, on every column)
WORKING_SET_MIN_COLUMNS = 256
WORKING_SET_SHARE = 0.5
#: the most columns X'WX is formed over (20,000: 3.2 GB); wider designs always use a
#: working set, which must not be larger
MAX_GRAM_COLUMNS = 20_000


def working_set(allowed: np.ndarray, beta: np.ndarray) -> np.ndarray | None:
    """The sorted columns X'WX is formed over (the allowed and the non-zero ones), or None
    for every column (narrow designs, or a set that holds most of them).

    Raises
    ------
    ValueError
        When the set exceeds ``MAX_GRAM_COLUMNS`` columns (its X'WX would not fit)."""
    p = allowed.shape[0]
    cols = np.flatnonzero(allowed | (beta != 0))
    if cols.size > MAX_GRAM_COLUMNS and (p > MAX_GRAM_COLUMNS or cols.size == p):
        raise ValueError(
            f"this penalized fit needs X'WX over {cols.size:,} columns (the working set: "
            f"those that may be non-zero; {8 * cols.size ** 2 / 1e9:.1f} GB), more than the "
            f"{MAX_GRAM_COLUMNS:,} glmkit forms. On a path, stop it before that many columns "
            "enter: raise alpha_min_ratio or lower n_alphas (or pass larger alphas); with "
            "fit_regularized, use fit_path (its working sets grow with the path) or a larger "
            "alpha.")
    if p > MAX_GRAM_COLUMNS:
        return cols
    if p >= WORKING_SET_MIN_COLUMNS and cols.size <= WORKING_SET_SHARE * p:
        return cols
    return None


def _rhs(pt: _Point) -> np.ndarray:
    """score + X'WX b at the point, over the columns of its X'WX (b is zero outside them)."""
    if pt.cols is None:
        return pt.score + pt.gram @ pt.beta
    return pt.score[pt.cols] + pt.gram @ pt.beta[pt.cols]


def _minimize_model(gram, rhs, b0, n, pen: Penalty, allowed, cols,
                    factors: dict | None = None, kkt_tol: float = 0.0) -> np.ndarray:
    """The minimum of the penalized quadratic model 1/2 b'(X'WX/N)b - (rhs/N)'b + penalty
    (``rhs`` and ``gram`` over every column, or over ``cols`` with the others fixed at b0,
    zero). ``kkt_tol``: the quadratic's optimality conditions to this, at least (its
    minimum's residuals are the next point's KKT violations once the steps settle).

    Solved as N times that quadratic (X'WX and rhs as they are, the penalty and the
    tolerances times N: the same minimum) so that no p x p X'WX / N is formed: on a wide
    path that copy was 0.8 s and a p x p matrix of the peak memory."""
    cache = _factors(factors, n)
    if cols is None:
        b, _ = solve_quadratic(gram, rhs, b0, n * pen.l1, n * pen.l2, pen.lower, pen.upper,
                               allowed, tol=1e-24 * n, cache=cache, kkt_tol=n * kkt_tol)
        return b
    bw, _ = solve_quadratic(gram, rhs, b0[cols], n * pen.l1[cols], n * pen.l2[cols],
                            pen.lower[cols], pen.upper[cols], allowed[cols], tol=1e-24 * n,
                            cache=cache, kkt_tol=n * kkt_tol)
    out = b0.copy()
    out[cols] = bw
    return out


def _factors(factors: dict | None, n: float) -> dict | None:
    """The factor cache of X'WX (+ N diag(l2)) (emptied when ``n`` differs)."""
    if factors is None:
        return None
    if factors.get("n") != n:
        factors.clear()
        factors["n"] = n
    return factors


def penalized_irls(sweeper, n: float, pen: Penalty, beta0: np.ndarray | None,
                   allowed: np.ndarray, tol: float = 1e-10, maxiter: int = 100,
                   max_halvings: int = 30, quadratic: bool = False,
                   start: _Point | None = None) -> PenalizedResult:
    """Minimize F by penalized IRLS from ``beta0`` (or from IRLS's starting means).

    Parameters
    ----------
    sweeper : an object with ``sweep(beta, eta0, observed)`` (InMemorySweeper, DaskSweeper)
        and ``start_eta()``.
    n : N, the total frequency weight.
    pen : the penalty and bounds.
    beta0 : a start within the bounds whose means are valid, or None.
    allowed : bool p-vector; other coordinates stay at ``beta0`` (zero when None).
    tol : converged when every KKT violation exceeds its rounding floor (:func:`kkt_floor`)
        by at most ``tol``.
    maxiter : most outer steps (each a pass over the rows).
    quadratic : the deviance is exactly quadratic (Gaussian identity): one sweep, then the
        score and deviance of each point follow from it.
    start : the evaluated point at ``beta0`` when the caller has it (warm starts).

    Returns
    -------
    PenalizedResult

    Notes
    -----
    Each step minimizes 1/2 d'Hd - (score/N)'d + penalty(b + d), H = X'WX / N (the
    expected information: Fisher scoring), by coordinate descent, then halves the step
    while F does not decrease or the means are invalid. Convergence is never assumed: the
    KKT conditions are checked with the score at the last point.

    When the sweeper can form the score alone (``sweeper.at``: X b and X'u, about a fifth
    of a Gram pass at p = 100), steps after the first keep the X'WX they have (from this
    point's start, or an earlier alpha of a path) and only the score is formed afresh; X'WX
    is formed again at the current point when a step shrinks the KKT violation less than
    ``1 / _SLOW``-fold (with many free columns see :func:`_too_slow`), or fails to
    descend. The fixed point is that of the score, so the answer is the same; only the
    number of passes changes.
    """
    p = allowed.shape[0]
    sweeps = 0
    msgs: list[str] = []
    # an exactly quadratic deviance needs one X'WX for the whole fit (no pass after it)
    # when it is over every column: working sets only when the design is too wide for it
    cols = None if quadratic and p <= MAX_GRAM_COLUMNS else \
        working_set(allowed, np.zeros(p) if beta0 is None else np.asarray(beta0))
    quadratic = quadratic and cols is None   # its updates need X'WX's every column
    if start is not None:
        if _covers(start, cols):   # its X'WX (and factors) as they are, over its columns
            cols = start.cols
            cur = start
        else:   # the start's X'WX does not cover the working set: a pass
            cols = _padded(cols, start.score, n, pen, allowed)
            cur = _refresh(sweeper, start, cols, exact=quadratic)
            sweeps += 1
    elif beta0 is None:
        # IRLS's first step from the starting means: the sweep's score field is X'Wz
        sw = sweeper.sweep(None, sweeper.start_eta(), False, **_cols_kw(cols))
        sweeps += 1
        xwz = np.asarray(sw.score, dtype=float)
        b = _minimize_model(np.asarray(sw.gram, dtype=float),
                            xwz if cols is None else xwz[cols], np.zeros(p), n, pen, allowed,
                            cols, kkt_tol=_INNER * tol)
        cur = _at(sweeper, b, cols=cols, exact=quadratic)
        sweeps += 1
    else:
        cur = _at(sweeper, np.array(beta0, dtype=float), cols=cols, exact=quadratic)
        sweeps += 1
    if not (cur.valid and np.isfinite(cur.deviance)):
        return PenalizedResult(cur.beta, cur.deviance, np.inf, False, np.inf, sweeps, cur,
                               ["the start gives invalid means"], sweeps)
    obj = cur.deviance / (2 * n) + pen.value(cur.beta)
    # X'WX is formed again only when a step with a carried one made slow progress (the
    # fixed point is set by the score, which every pass forms afresh)
    cheap = hasattr(sweeper, "at") and not quadratic
    wide = int(np.count_nonzero(allowed)) >= _WIDE_GRAM   # see _too_slow
    passes = sweeps
    last_kkt = np.inf
    steps = 0
    for _ in range(2 * maxiter + 2):   # a refresh of X'WX is not a step
        kkt, excess = _kkt(cur, n, pen, allowed)
        if excess <= _target(cur, tol, wide):
            return PenalizedResult(cur.beta, cur.deviance, obj, True, kkt, sweeps, cur, msgs,
                                   passes, steps)
        if steps >= maxiter:
            break
        if not cur.fresh and _too_slow(kkt, last_kkt, excess, _target(cur, tol, wide),
                                       wide):
            cur = _refresh(sweeper, cur, cols)
            sweeps, passes = sweeps + 1, passes + 1
            continue
        new = _minimize_model(cur.gram, _rhs(cur), cur.beta, n, pen, allowed, cols,
                              cur.factors, kkt_tol=_INNER * _target(cur, tol, wide))
        mode = "quadratic" if quadratic else ("score" if cheap else "sweep")
        nxt, new_obj, ok = _halve(sweeper, cur, new, n, pen, obj, max_halvings, mode, kkt,
                                  allowed)
        used = 0 if quadratic else 1 + nxt.halvings
        passes += used
        sweeps += used if mode == "sweep" else 0
        if not ok and not cur.fresh:
            cur = _refresh(sweeper, cur, cols)   # the carried X'WX gave no descent: form it
            sweeps, passes = sweeps + 1, passes + 1
            continue
        if not ok:
            msgs.append("step-halving could not decrease the penalized objective")
            break
        if new_obj >= obj and np.array_equal(nxt.beta, cur.beta):
            msgs.append("no further progress at rounding level")
            cur = nxt
            break
        cur.sweep = None   # n-vectors: keep only the current point's
        cur, obj, last_kkt = nxt, new_obj, kkt
        steps += 1
    kkt, excess = _kkt(cur, n, pen, allowed)
    return PenalizedResult(cur.beta, cur.deviance, obj, excess <= tol, kkt, sweeps, cur, msgs,
                           passes, steps)


#: the inner quadratic is solved to this fraction of the KKT tolerance (its residuals become
#: the KKT violations of the outer problem where the steps settle)
_INNER = 0.01

#: a step with a carried X'WX that shrinks the KKT violation by less than this factor asks
#: for X'WX at the current point
_SLOW = 0.01
#: where at least ``_WIDE_GRAM`` columns may move, a pass that forms X'WX (and the
#: factor of the next solve, k^3 / 3 flops) costs tens of score passes (25 on a CSR
#: 100,000 x 2,000 at 0.5%): there a carried X'WX is kept while each step shrinks the
#: violation at least ``1 / _SLOW_WIDE``-fold and at most ``_MAX_CARRIED_STEPS`` more such
#: steps are foreseen
_SLOW_WIDE = 0.5
_WIDE_GRAM = 256
_MAX_CARRIED_STEPS = 12


#: where a wide carried X'WX steers the steps (they converge linearly, stopping just
#: below their target where Newton's steps overshoot it by orders), they continue to this
#: share of ``tol``: the answer is then as far inside the tolerance as a fresh X'WX's
_CARRIED_MARGIN = 0.01


def _target(pt: _Point, tol: float, wide: bool) -> float:
    """The KKT excess at which the steps stop at ``pt`` (``tol``, or less: see
    ``_CARRIED_MARGIN``); every answer within ``tol`` is reported converged."""
    if pt.fresh or not wide:
        return tol
    return tol * _CARRIED_MARGIN


def _too_slow(kkt: float, last_kkt: float, excess: float, tol: float, wide: bool) -> bool:
    """Whether a step that carried X'WX shrank the KKT violation too little (from
    ``last_kkt`` to ``kkt``) for the carried X'WX to be kept: X'WX at the current point
    is formed next. ``wide``: at least ``_WIDE_GRAM`` columns may move."""
    if not wide:
        return kkt > _SLOW * last_kkt
    rate = kkt / last_kkt if last_kkt > 0 else np.inf
    if rate > _SLOW_WIDE:
        return True
    # the steps this rate needs to bring the excess to tol (a rate of 0 needs one)
    need = np.log(max(excess, tol) / tol) / -np.log(max(rate, 1e-300))
    return bool(need > _MAX_CARRIED_STEPS)


def kkt_floor(gram: np.ndarray, b: np.ndarray, n: float, rows=None) -> np.ndarray:
    """What rounding alone leaves in each gradient entry: 1e-13 (|X'WX| |b|)_j / N (for
    the coordinates ``rows`` only, when given). A response in the millions has
    coefficients whose H b carries 1e-10 of rounding, which no solver can remove; the KKT
    test allows for it."""
    nz = np.flatnonzero(b)   # a lasso path's b is mostly zeros: only those columns
    size = b.shape[0] if rows is None else len(rows)
    if nz.size == 0:
        return np.zeros(size)
    out = np.zeros(size)
    for s in range(0, nz.size, _FLOOR_CHUNK):   # |G| of a few columns at a time, not p x nz
        c = nz[s:s + _FLOOR_CHUNK]
        G = gram[:, c] if rows is None else gram[np.ix_(rows, c)]
        out += np.abs(G) @ np.abs(b[c])
    return 1e-13 * out / n


#: columns of X'WX taken at a time by kkt_floor (p x 256 doubles: 4 MB at p = 2,000, where the
#: whole |X'WX[:, b != 0]| and its copy were 2 x 28 MB of a 200k x 2,000 path's 180 MB peak)
_FLOOR_CHUNK = 256


def kkt_excess(pt: _Point, n: float, pen: Penalty, where: np.ndarray | None = None
               ) -> np.ndarray:
    """The KKT violations beyond the rounding floor (converged: all <= tol). With X'WX
    over a working set only, columns outside it (all zero) get no floor: a violation
    there beyond ``tol`` makes them join the set, whose next X'WX gives their floor.
    ``where`` (bool p-vector): the floor is formed only there (elsewhere the violation is
    returned, an upper bound of the excess); a full floor is a p x |b != 0| product."""
    viol = kkt_violations(pt.score, pt.beta, n, pen)
    if pt.cols is None:
        rows = None if where is None else np.flatnonzero(where)
        if rows is None:
            return viol - kkt_floor(pt.gram, pt.beta, n)
        viol[rows] -= kkt_floor(pt.gram, pt.beta, n, rows)
        return viol
    if where is None:
        viol[pt.cols] -= kkt_floor(pt.gram, pt.beta[pt.cols], n)
        return viol
    rows = np.flatnonzero(where[pt.cols])
    viol[pt.cols[rows]] -= kkt_floor(pt.gram, pt.beta[pt.cols], n, rows)
    return viol


def _kkt(pt: _Point, n: float, pen: Penalty, allowed: np.ndarray) -> tuple[float, float]:
    """(largest KKT violation, largest excess over the rounding floor) on ``allowed``.

    The floor (1e-13 (|X'WX| |b|)_j / N) is formed only where it can decide the largest
    excess: with the Cauchy-Schwarz bound |G_jk| <= sqrt(G_jj G_kk), viol_j - bound_j is
    a lower bound L of the largest excess, and a coordinate whose violation is below L
    cannot reach it (a full floor is a p x |b != 0| product on every check)."""
    viol = kkt_violations(pt.score, pt.beta, n, pen)
    viol[~allowed] = 0.0
    top = float(np.max(viol, initial=0.0))
    if pt.cols is None:
        return top, _excess(viol, pt.gram, pt.beta, n)
    inside = viol[pt.cols]
    viol[pt.cols] = 0.0   # outside the working set b is 0: no floor (see kkt_excess)
    return top, max(_excess(inside, pt.gram, pt.beta[pt.cols], n),
                    float(np.max(viol, initial=0.0)))


def _excess(viol: np.ndarray, gram: np.ndarray, b: np.ndarray, n: float) -> float:
    """The largest of ``viol`` less its rounding floor (``gram``, ``b`` over the same
    columns), the floor formed only where it can decide (see :func:`_kkt`)."""
    top = float(np.max(viol, initial=0.0))
    nz = np.flatnonzero(b)
    if nz.size == 0 or top == 0.0:
        return top
    root = np.sqrt(np.maximum(np.diag(gram), 0.0))
    bound = 1e-13 * root * float(root[nz] @ np.abs(b[nz])) / n
    low = float(np.max(viol - bound))
    rows = np.flatnonzero(viol >= low)
    floor = kkt_floor(gram, b, n, rows)
    return max(float(np.max(viol[rows] - floor)), 0.0)


def _halve(sweeper, cur: _Point, new: np.ndarray, n: float, pen: Penalty, obj: float,
           max_halvings: int, mode: str, kkt: float, allowed: np.ndarray):
    """The point at ``new``, halved towards ``cur`` (bounds are kept: the segment lies in
    the box) while F rises beyond rounding or the means are invalid.

    Near the answer F's decrease (about violation^2 / curvature) falls below the rounding
    of the deviance, a sum whose terms can be 1e4 times the total (large counts): there
    the full step is also taken when F stays within 1e-10 of its value and the KKT
    violation shrinks."""
    slack = 1e-13 * (abs(obj) + 1e-300)
    b = new
    for h in range(max_halvings + 1):
        pt = _at(sweeper, b, cur, mode, cols=cur.cols)
        pt.halvings = h
        if pt.valid and np.isfinite(pt.deviance):
            f = pt.deviance / (2 * n) + pen.value(b)
            if f <= obj + slack:
                return pt, f, True
            if h == 0 and f <= obj + 1e-10 * abs(obj) and _kkt(pt, n, pen, allowed)[0] < kkt:
                return pt, f, True
        b = 0.5 * (cur.beta + b)
    return cur, obj, False

"""Coordinate descent for the elastic net on a p x p quadratic (glmnet's covariance mode).

The inner problem of penalized IRLS (:mod:`glmkit.solvers.penalized`) is

    minimize_b  1/2 b'Hb - g'b + sum_j ( l1_j |b_j| + l2_j / 2 b_j^2 ),  lo <= b <= hi,

with H = X'WX / N and g = (X'u + X'WX b0) / N from one sweep over the rows. Nothing here
touches the rows: every design (dense, sparse, categorical, split, Dask) shares it.
"""
from __future__ import annotations

import numpy as np


def soft_threshold(z: float, t: float) -> float:
    """sign(z) max(|z| - t, 0)."""
    if z > t:
        return z - t
    if z < -t:
        return z + t
    return 0.0


def _sweep_once(H, diag, r, b, l1, l2, lo, hi, coords) -> float:
    """One cycle over ``coords``; ``r`` = g - H b is kept current. Returns the largest
    H_jj (change)^2, glmnet's measure of a cycle's progress."""
    big = 0.0
    for j in coords:
        bj = b[j]
        hjj = diag[j]
        z = r[j] + hjj * bj
        t = l1[j]
        if z > t:   # soft_threshold(z, t), inlined: this loop is the inner problem's cost
            new = (z - t) / (hjj + l2[j])
        elif z < -t:
            new = (z + t) / (hjj + l2[j])
        else:
            new = 0.0
        if new < lo[j]:
            new = lo[j]
        elif new > hi[j]:
            new = hi[j]
        d = new - bj
        if d != 0.0:
            b[j] = new
            r -= d * H[j]   # H is symmetric: its row is contiguous
            v = hjj * d * d
            big = max(big, v)
    return big


def kkt_violation(r, b, l1, l2, lo, hi, coords) -> float:
    """The largest violation of the quadratic's optimality conditions over ``coords``
    (an index array), from ``r`` = g - H b: on a free coordinate |r_j - l2_j b_j -
    l1_j sign(b_j)|, at zero the excess of |r_j - l2_j b_j| over l1_j in a direction the
    bounds allow, at a bound the pull back inside."""
    if coords.size == 0:
        return 0.0
    bj, z, t = b[coords], r[coords] - l2[coords] * b[coords], l1[coords]
    lo_j, hi_j = lo[coords], hi[coords]
    v = np.zeros(coords.size)
    pos, neg, zero = bj > 0, bj < 0, bj == 0
    v[pos] = np.where(bj[pos] < hi_j[pos], np.abs(z[pos] - t[pos]),
                      np.maximum(t[pos] - z[pos], 0.0))
    v[neg] = np.where(bj[neg] > lo_j[neg], np.abs(z[neg] + t[neg]),
                      np.maximum(z[neg] + t[neg], 0.0))
    up = np.where(hi_j[zero] > 0, np.maximum(z[zero] - t[zero], 0.0), 0.0)
    down = np.where(lo_j[zero] < 0, np.maximum(-z[zero] - t[zero], 0.0), 0.0)
    v[zero] = np.maximum(up, down)
    return float(v.max())


def _objective(H, g, b, l1, l2) -> float:
    """1/2 b'Hb - g'b + sum_j (l1_j |b_j| + l2_j / 2 b_j^2)."""
    return float(0.5 * b @ (H @ b) - g @ b + l1 @ np.abs(b) + 0.5 * l2 @ (b * b))


def _polish(H, g, b, l1, l2, lo, hi, allowed, rounds: int = 20,
            cache: dict | None = None) -> np.ndarray | None:
    """Move to the quadratic's minimum on the face of b's free coordinates (non-zero,
    strictly inside their bounds; signs fixed), stopping where a coordinate reaches zero
    or a bound on the way, fixing it there and solving again on the smaller face (at most
    ``rounds`` times): every move lowers the objective, each face's minimum is exact. None
    when no move lowers it (then coordinate descent's answer stands).

    Coordinate descent alone crawls where the free columns are nearly collinear (more
    non-zeros than rows, late on a lasso path): coordinates that belong at zero approach
    it at a rate near 1 per cycle. The stops at zero take them out in one solve each.
    ``cache``: the factor cache of this H (:func:`_factored_solve`; each smaller face
    reuses the last one's factor)."""
    from scipy.linalg import LinAlgError

    b = b.astype(float).copy()
    start = _objective(H, g, b, l1, l2)
    moved = False
    for _ in range(rounds):
        free = allowed & (b != 0) & (b > lo) & (b < hi)
        if not free.any():
            break
        F = np.flatnonzero(free)
        fixed = np.flatnonzero(~free & (b != 0))
        sign = np.sign(b[F])
        rhs = g[F] - l1[F] * sign - H[np.ix_(F, fixed)] @ b[fixed]
        bf: np.ndarray | None
        try:
            bf = _factored_solve(H, l2, F, rhs, cache, strict=True)
        except LinAlgError:   # collinear free columns
            A = _block(H, l2, F)
            bf = np.linalg.lstsq(A, rhs, rcond=None)[0]
            ns = rhs - A @ bf
            if np.linalg.norm(ns) > 1e-9 * (np.linalg.norm(rhs) + 1e-300):
                # no minimum on this face: the objective falls along its null direction
                # ns until a coordinate reaches zero (the stops below find where)
                reach = np.max(np.abs(b[F])) + 1.0
                bf = b[F] + ns * (1e8 * reach / np.max(np.abs(ns)))
        if bf is None or not np.all(np.isfinite(bf)):
            break
        cur = b[F]
        d = bf - cur
        # the largest step along d that keeps every sign and bound
        with np.errstate(divide="ignore", invalid="ignore"):
            to_zero = np.where(np.sign(bf) != sign, cur / (cur - bf), np.inf)
            to_hi = np.where(bf > hi[F], (hi[F] - cur) / d, np.inf)
            to_lo = np.where(bf < lo[F], (lo[F] - cur) / d, np.inf)
        stops = np.minimum(np.minimum(to_zero, to_hi), to_lo)
        t = float(min(1.0, np.min(stops)))
        trial = b.copy()
        trial[F] = cur + t * d
        hit = stops <= t
        trial[F[hit & (to_zero <= t)]] = 0.0
        trial[F[hit & (to_hi <= t)]] = hi[F][hit & (to_hi <= t)]
        trial[F[hit & (to_lo <= t)]] = lo[F][hit & (to_lo <= t)]
        if _objective(H, g, trial, l1, l2) > start:
            break
        b, moved = trial, True
        start = _objective(H, g, b, l1, l2)
        if t >= 1.0:
            break
    return b if moved else None


def _block(H: np.ndarray, l2: np.ndarray, F: np.ndarray) -> np.ndarray:
    """(H + diag(l2))[F, F] as a new array, the ridge added on its diagonal in place (a
    k x k diag(l2) per call was 0.3 s of a 2,000-column path)."""
    A = H[np.ix_(F, F)]
    if np.any(l2[F]):
        A.flat[::F.size + 1] += l2[F]
    return A


def _spd_solve(A: np.ndarray, rhs: np.ndarray) -> np.ndarray | None:
    """A x = rhs for a symmetric A: by Cholesky (half of LU's flops; A is X'WX / N on the
    free coordinates plus a ridge, positive definite unless they are collinear), else by
    LU; None when A is singular."""
    from scipy.linalg import LinAlgError, cho_factor, cho_solve

    try:
        return cho_solve(cho_factor(A, check_finite=False), rhs, check_finite=False)
    except LinAlgError:
        pass
    try:
        return np.linalg.solve(A, rhs)
    except np.linalg.LinAlgError:
        return None


#: a cached factor over a superset of the wanted coordinates is used (the extra ones held
#: at zero by a Schur complement, 2 k^2 flops each) while they are at most this share of
#: the set; beyond it the set is factored afresh (k^3 / 3 flops)
_MAX_DROPPED_SHARE = 0.1


def _factored_solve(H, l2, F, rhs, cache: dict | None,
                    strict: bool = False) -> np.ndarray | None:
    """(H + diag(l2))[F, F] x = rhs by Cholesky, reusing ``cache``'s factor of an earlier
    set of the same H (a step that carries X'WX, the next active-set round, a polish):
    the factor is extended by F's new coordinates' block (k |F|^2 flops instead of
    |F|^3 / 3), and coordinates it covers that have left F are held at zero (see
    :func:`_solve_without`). Otherwise as :func:`_spd_solve`; ``strict``: raise
    LinAlgError when F's block is not positive definite instead."""
    from scipy.linalg import LinAlgError, cholesky

    if cache is None:
        if strict:
            return _solve_without(cholesky(_block(H, l2, F), overwrite_a=True,
                                           check_finite=False), rhs, np.zeros(0, np.intp))
        return _spd_solve(_block(H, l2, F), rhs)
    old, U = cache.get("order"), cache.get("U")
    try:
        dropped = None
        if old is not None and np.array_equal(cache["l2"], l2[old]):
            inside = np.isin(old, F)
            dropped = np.flatnonzero(~inside)
            if dropped.size > _MAX_DROPPED_SHARE * F.size:
                dropped = None
        if dropped is not None and old is not None and U is not None:
            new = np.setdiff1d(F, old, assume_unique=True)
            order = np.concatenate([old, new])
            if new.size:
                U = _extend(U, H, l2, old, new)
        else:
            order, dropped = F, np.zeros(0, dtype=np.intp)
            U = cholesky(_block(H, l2, F), overwrite_a=True, check_finite=False)
    except LinAlgError:
        for key in ("order", "U", "l2"):
            cache.pop(key, None)
        if strict:
            raise
        return _spd_solve(_block(H, l2, F), rhs)
    assert U is not None
    if cache.get("U") is not U:   # a new factor: the dropped columns' solves are stale
        cache["AE"] = {}
    cache.update(order=order, U=U, l2=l2[order].copy())
    keep = np.ones(order.size, dtype=bool)
    keep[dropped] = False
    pos = np.searchsorted(F, order[keep])   # F is sorted: where each kept one sits in F
    full = np.zeros(order.size)
    full[keep] = rhs[pos]
    x = _solve_without(U, full, dropped, cache["AE"])
    out = np.empty(F.size)
    out[pos] = x[keep]
    return out


def _extend(U: np.ndarray, H, l2, old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """The upper Cholesky factor over ``old`` then ``new`` from ``U``, ``old``'s."""
    from scipy.linalg import cholesky, solve_triangular

    U12 = solve_triangular(U, H[np.ix_(old, new)], trans="T", check_finite=False)
    A22 = _block(H, l2, new) - U12.T @ U12
    U22 = cholesky(A22, overwrite_a=True, check_finite=False)
    k = old.size + new.size
    Un = np.zeros((k, k))
    Un[:old.size, :old.size] = U
    Un[:old.size, old.size:] = U12
    Un[old.size:, old.size:] = U22
    return Un


def _solve_without(U: np.ndarray, rhs: np.ndarray, dropped: np.ndarray,
                   columns: dict | None = None) -> np.ndarray:
    """A x = rhs with x held at zero on the positions ``dropped`` (their equations left
    out), A = U'U: x = A^-1 (rhs + E lam), E the dropped unit columns, lam such that
    x_dropped = 0, i.e. lam = -(A^-1)_dd^-1 (A^-1 rhs)_d; the kept rows of A x then equal
    rhs. That is the solve on the kept coordinates' block, by the factor of the larger.
    ``columns``: A^-1 e_j by position j, kept between calls with the same U (the later
    steps of a fit drop the same coordinates: one k-vector solve each, not k x m)."""
    from scipy.linalg import cho_solve

    x = cho_solve((U, False), rhs, check_finite=False)
    if dropped.size == 0:
        return x
    columns = {} if columns is None else columns
    missing = [j for j in dropped.tolist() if j not in columns]
    if missing:
        E = np.zeros((rhs.size, len(missing)))
        E[missing, np.arange(len(missing))] = 1.0
        AE = cho_solve((U, False), E, check_finite=False)
        for i, j in enumerate(missing):
            columns[j] = AE[:, i]
    AE = np.column_stack([columns[j] for j in dropped.tolist()])
    lam = np.linalg.solve(AE[dropped], -x[dropped])
    x = x + AE @ lam
    x[dropped] = 0.0
    return x


def _active_set(H, g, b0, l1, l2, lo, hi, allowed, max_rounds: int = 8,
                cache: dict | None = None) -> np.ndarray | None:
    """The quadratic's exact minimum by active-set rounds, when they find it: solve on the
    non-zero coordinates with their signs fixed, add the zero ones whose gradient exceeds
    their L1 weight (with the sign that lowers the objective), repeat. None when a round
    would flip a sign, cross a bound or not settle: coordinate descent then decides. A warm
    start along a path usually needs one or two rounds (two p x p products and solves)
    where the cycles take a Python loop over every coordinate."""
    b = b0.astype(float).copy()
    movable = allowed & (np.diag(H) > 0)
    sign = np.where(b > 0, 1.0, np.where(b < 0, -1.0, 0.0))
    sign[~movable] = 0.0
    for _ in range(max_rounds):
        free = sign != 0
        if free.any():   # the minimum on the free coordinates, their signs fixed
            F = np.flatnonzero(free)
            fixed = np.flatnonzero(~free & (b != 0))   # zeros add nothing to the right side
            rhs = g[F] - l1[F] * sign[F] - H[np.ix_(F, fixed)] @ b[fixed]
            bf = _factored_solve(H, l2, F, rhs, cache)
            if bf is None:
                return None
            pen = l1[F] > 0
            if not np.all(np.isfinite(bf)) or np.any(np.sign(bf[pen]) != sign[F][pen]) \
                    or np.any(bf <= lo[F]) or np.any(bf >= hi[F]):
                return None
            b[F] = bf
        grad = H @ b - g + l2 * b
        zero = movable & ~free
        # the rounding slack, on the zeros that pass without it only (few), needs |H|
        # only on b's non-zeros
        rows = np.flatnonzero(zero & (np.abs(grad) > l1))
        if rows.size == 0:
            return b
        nz = np.flatnonzero(b)
        slack = 1e-12 * (np.abs(g[rows]) + np.abs(H[np.ix_(rows, nz)]) @ np.abs(b[nz])) \
            + 1e-300
        gr = grad[rows]
        up = np.zeros_like(zero)
        down = np.zeros_like(zero)
        up[rows] = (-gr > l1[rows] + slack) & (hi[rows] > 0)      # would move up from 0
        down[rows] = (gr > l1[rows] + slack) & (lo[rows] < 0)     # would move down
        if not (up.any() or down.any()):
            return b
        sign[up], sign[down] = 1.0, -1.0
    return None


def solve_quadratic(H: np.ndarray, g: np.ndarray, b0: np.ndarray, l1: np.ndarray,
                    l2: np.ndarray, lo: np.ndarray, hi: np.ndarray, allowed: np.ndarray,
                    tol: float = 1e-24, max_cycles: int = 10_000,
                    cache: dict | None = None,
                    kkt_tol: float = 0.0) -> tuple[np.ndarray, int]:
    """See :func:`_solve_quadratic`; BLAS is held at one thread meanwhile: its products
    here are p-sized, and threaded BLAS on them is 5-30 times slower on a busy machine
    (a 100 x 100 solve: 65 us on one thread, 0.4-1.8 ms on two). ``cache``: a dict kept
    with this H between calls (its Cholesky factors are reused)."""
    from .._parallel import one_blas_thread

    with one_blas_thread():
        return _solve_quadratic(H, g, b0, l1, l2, lo, hi, allowed, tol, max_cycles, cache,
                                kkt_tol)


def _solve_quadratic(H: np.ndarray, g: np.ndarray, b0: np.ndarray, l1: np.ndarray,
                     l2: np.ndarray, lo: np.ndarray, hi: np.ndarray, allowed: np.ndarray,
                     tol: float = 1e-24, max_cycles: int = 10_000,
                     cache: dict | None = None,
                     kkt_tol: float = 0.0) -> tuple[np.ndarray, int]:
    """Minimize the elastic-net quadratic by coordinate descent with active sets.

    Parameters
    ----------
    H : (p, p) positive semi-definite matrix (X'WX / N).
    g : (p,) linear term.
    b0 : (p,) start (warm start along a path); must lie within the bounds.
    l1, l2 : (p,) non-negative L1 and L2 weights per coordinate.
    lo, hi : (p,) bounds, lo <= 0 <= hi (infinite allowed).
    allowed : (p,) bool, the coordinates that may move (others stay at ``b0``).
    tol : a cycle whose largest H_jj (change)^2 is below ``tol`` ends the descent.
    max_cycles : most cycles.
    kkt_tol : the descent also ends when no optimality condition of the quadratic is
        violated by more than this (:func:`kkt_violation`; 0: only ``tol`` ends it). On a
        nearly singular H (more active columns than rows) the cycles converge slowly, and
        the step size ``tol`` asks for can take thousands of cycles after the conditions
        a caller checks are met.

    Returns
    -------
    (b, cycles)

    Notes
    -----
    As glmnet: a full cycle over the allowed coordinates, then cycles over the active set
    (the non-zero ones) until they settle, then a full cycle again; done when a full cycle
    changes nothing beyond ``tol``. The settled active set is then solved exactly (signs
    fixed) when that keeps its signs and bounds, so that the answer is the quadratic's
    minimum to rounding error rather than to the cycles' tolerance.
    """
    if not np.any((b0 != 0) & ((b0 == lo) | (b0 == hi))):
        fast = _active_set(H, g, b0, l1, l2, lo, hi, allowed, cache=cache)
        if fast is not None:
            return fast, 0
    b = b0.astype(float).copy()
    diag = np.ascontiguousarray(np.diag(H)).copy()
    r = g - H @ b
    coords_all = [int(j) for j in np.flatnonzero(allowed & (diag > 0))]
    # Python floats: the cycles read them one at a time (numpy scalars are slower)
    per = (diag.tolist(), np.asarray(l1).tolist(), np.asarray(l2).tolist(),
           np.asarray(lo).tolist(), np.asarray(hi).tolist())
    # the active cycles need only find the active set and its signs: the exact solve
    # finishes; only when it cannot (a sign or bound would change) must they reach ``tol``
    settle = max(tol, 1e-12 * float(np.max(diag, initial=0.0)))
    cycles = 0
    tried: set = set()

    def active_known(active: list) -> bool:
        """True the first time this active set is met (each set is polished once, so a
        failing polish cannot repeat forever)."""
        key = tuple(active)
        if key in tried:
            return False
        tried.add(key)
        return True

    coords_arr = np.asarray(coords_all, dtype=np.intp)

    def met(coords) -> bool:
        return kkt_tol > 0 and kkt_violation(r, b, l1, l2, lo, hi, coords) <= kkt_tol

    while cycles < max_cycles:
        big = _sweep_once(H, per[0], r, b, *per[1:], coords_all)
        cycles += 1
        # a change of b_j by its rounding (1e-16 |b_j|) is H_jj b_j^2 1e-32: no cycle can
        # go below that, whatever ``tol`` asks
        floor = 1e-30 * float(np.max(diag * b * b, initial=0.0))
        if big < max(tol, floor) or met(coords_arr):
            break
        active = [j for j in coords_all if b[j] != 0.0]
        if active_known(active):
            # a warm start along a path usually keeps its active set and signs: the exact
            # solve on it, then a full cycle to confirm, replaces the cycles that settle it
            polished = _polish(H, g, b, l1, l2, lo, hi, allowed, cache=cache)
            if polished is not None:
                b = polished
                r = g - H @ b
                continue
        active_arr = np.asarray(active, dtype=np.intp)
        while cycles < max_cycles:
            big = _sweep_once(H, per[0], r, b, *per[1:], active)
            cycles += 1
            if big < max(settle, floor) or met(active_arr):
                break
        polished = _polish(H, g, b, l1, l2, lo, hi, allowed, cache=cache)
        if polished is not None:
            b = polished
            r = g - H @ b
        else:
            settle = tol
    return b, cycles

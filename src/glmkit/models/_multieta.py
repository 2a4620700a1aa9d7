"""One pass over the rows for a likelihood with several linear predictors (and scalar
parameters such as log theta): the log-likelihood, its score and observed information.

Conventions
-----------
A model is a list of :class:`Block`: a block with a design D (n x k) gives each row the
coordinate D_i b + offset_i; a block without a design is one scalar parameter shared by
all rows. A row kernel returns, per row, the log-likelihood l, its gradient G[a] and Hessian
H[a][b] in the coordinates (``None`` where identically zero). Then

    score_a = D_a' (w G[a]),   Hessian_ab = D_a' diag(w H[a][b]) D_b,

with a scalar block's D a column of ones. The information returned is minus the Hessian.
Frequency weights w: weight k equals k repeated rows.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

CHUNK = 65536


@dataclass(frozen=True)
class Block:
    design: np.ndarray | None          # (n, k), or None for a scalar parameter
    offset: np.ndarray | None = None   # added to the coordinate (design blocks only)

    @property
    def size(self) -> int:
        return 1 if self.design is None else int(self.design.shape[1])


Arr = np.ndarray
RowTerms = tuple[Arr, list, list]
Kernel = Callable[[slice, list], RowTerms]


def split_params(params: np.ndarray, blocks: Sequence[Block]) -> list[np.ndarray]:
    out, s = [], 0
    for b in blocks:
        out.append(params[s:s + b.size])
        s += b.size
    return out


def coordinates(parts: list[np.ndarray], blocks: Sequence[Block], sl: slice) -> list:
    coords = []
    for p, b in zip(parts, blocks):
        if b.design is None:
            coords.append(float(p[0]))
        else:
            c = b.design[sl] @ p
            coords.append(c if b.offset is None else c + b.offset[sl])
    return coords


def _cross(Da: Arr | None, h: Arr, Db: Arr | None) -> Arr:
    if Da is None and Db is None:
        return np.array([[h.sum()]])
    if Da is None:
        return (h @ Db)[None, :]
    if Db is None:
        return (Da.T @ h)[:, None]
    return Da.T @ (Db * h[:, None])


def evaluate(params: np.ndarray, blocks: Sequence[Block], kernel: Kernel, n: int,
             w: np.ndarray | None) -> tuple[float, np.ndarray, np.ndarray]:
    """(llf, score, information) at ``params``; -inf and NaNs where the likelihood is not
    finite (a step too far)."""
    parts = split_params(params, blocks)
    starts = np.cumsum([0] + [b.size for b in blocks])
    k = int(starts[-1])
    llf, score, hess = 0.0, np.zeros(k), np.zeros((k, k))
    m = len(blocks)
    for s in range(0, n, CHUNK):
        sl = slice(s, min(s + CHUNK, n))
        with np.errstate(all="ignore"):
            l, G, H = kernel(sl, coordinates(parts, blocks, sl))
        wc = None if w is None else w[sl]
        if not np.all(np.isfinite(l)):
            return -np.inf, np.full(k, np.nan), np.full((k, k), np.nan)
        llf += float(l.sum() if wc is None else wc @ l)
        D = [None if b.design is None else b.design[sl] for b in blocks]
        for a in range(m):
            if G[a] is None:
                continue
            g = G[a] if wc is None else wc * G[a]
            Da = D[a]
            score[starts[a]:starts[a + 1]] += g.sum() if Da is None else Da.T @ g
            for b in range(a, m):
                if H[a][b] is None:
                    continue
                h = H[a][b] if wc is None else wc * H[a][b]
                hess[starts[a]:starts[a + 1], starts[b]:starts[b + 1]] += _cross(D[a], h, D[b])
    iu = np.triu_indices(k, 1)
    hess.T[iu] = hess[iu]
    if not (np.all(np.isfinite(score)) and np.all(np.isfinite(hess))):
        return -np.inf, np.full(k, np.nan), np.full((k, k), np.nan)
    return llf, score, -hess


def row_loglik(params: np.ndarray, blocks: Sequence[Block], kernel: Kernel,
               n: int) -> np.ndarray:
    """The log-likelihood of each row (unweighted)."""
    parts = split_params(params, blocks)
    out = np.empty(n)
    for s in range(0, n, CHUNK):
        sl = slice(s, min(s + CHUNK, n))
        with np.errstate(all="ignore"):
            out[sl] = kernel(sl, coordinates(parts, blocks, sl))[0]
    return out


def row_scores(params: np.ndarray, blocks: Sequence[Block], kernel: Kernel,
               n: int) -> np.ndarray:
    """(n, k) per-row scores (unweighted): the sandwich's meat is their weighted cross
    product."""
    parts = split_params(params, blocks)
    k = sum(b.size for b in blocks)
    out = np.zeros((n, k))
    starts = np.cumsum([0] + [b.size for b in blocks])
    for s in range(0, n, CHUNK):
        sl = slice(s, min(s + CHUNK, n))
        with np.errstate(all="ignore"):
            _, G, _ = kernel(sl, coordinates(parts, blocks, sl))
        for a, b in enumerate(blocks):
            if G[a] is None:
                continue
            cols = slice(starts[a], starts[a + 1])
            out[sl, cols] = G[a][:, None] if b.design is None else b.design[sl] * G[a][:, None]
    return out

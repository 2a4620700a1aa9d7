"""X' diag(d) X of a sparse matrix from its pairs of nonzeros, the pairs found once.

Row i of a CSR matrix with m_i nonzeros adds d_i x_ij x_ik to G[j, k] for each of its
m_i (m_i + 1) / 2 pairs j <= k: the Gram costs sum_i m_i^2 / 2 multiply-adds, the work the
sparsity allows. The pairs do not change between IRLS passes, only d does, so they are
found once per design and kept as a sparse "pair matrix" P: one row per occupied key
j p + k of the upper triangle, one column per row of X, the value x_ij x_ik. Then

    upper(G) = P d        (one sparse matrix-vector product per pass, scipy's C loop)
    x_i' B x_i = sum over the pairs of row i of x_ij x_ik B_jk (2 off the diagonal) = P' b

Keys number the upper triangle (j p - j (j - 1) / 2 + k - j: half the space of j p + k).
Keeping P sorted by key makes the product write G in order and read d (n values) from
cache: on 200k x 2,000 at 0.5 % (12M pairs), on the shared 2-core machine, P d took
0.06-0.1 s where scipy's X' D X took 2.2-2.6 s, the same pairs in row order (P' as CSC)
0.2-0.4 s and a bincount over them 0.7-1.2 s. Building P (once) costs about as much as ten
passes of P d; it costs 12 bytes per pair (value and row). It is built in row blocks of at
most ``_BLOCK_PAIRS`` pairs, so the build's temporaries stay bounded, on threads, and the
blocks' products run on threads too (numpy and scipy release the GIL).
"""
from __future__ import annotations

import threading

import numpy as np
from scipy import sparse

#: Pairs per block of P (the build's temporaries are a few times 12 bytes per pair).
_BLOCK_PAIRS = 1 << 23
#: The pairs are kept in row order (Q' as CSC) for the first passes and sorted by key (P as
#: CSR) from this pass on. Sorted, a pass is 2-3x faster (writes in order), but the sort
#: costs about as much as six unsorted passes (200k x 2,000 at 0.5 %, 12M pairs, under
#: load: build 0.4-1.8 s, unsorted pass 0.53 s, sort 1.7 s, sorted pass 0.2-0.26 s), so
#: short fits never pay for it and long ones (and the statistics after them) get it.
_SORT_AFTER_PASSES = 4
_SORT_BY_KEY = False
#: Triangles (p (p + 1) / 2 keys) up to this size are used whole; larger ones are reduced
#: to the keys that occur.
_DIRECT_KEYS = 1 << 25
#: guards the p x p buffer a PairGram keeps for writing its triangle
_BUFFER_LOCK = threading.Lock()


class PairGram:
    """The pair matrices of a canonical CSR matrix (sorted indices, no duplicates).

    ``col_map`` gives each column's position in the Gram the products are added to (the
    sparse columns of a design whose dense columns are held apart).
    """

    def __init__(self, X: sparse.csr_matrix, col_map: np.ndarray | None = None,
                 width: int | None = None):
        n, p = X.shape
        col_map = np.arange(p) if col_map is None else np.asarray(col_map)
        self.width = p if width is None else int(width)
        nnz = np.diff(X.indptr).astype(np.int64)
        pairs = nnz * (nnz + 1) // 2
        self.n_pairs = int(pairs.sum())
        cum = np.cumsum(pairs)
        ends = np.searchsorted(cum, np.arange(1, 1 + self.n_pairs // _BLOCK_PAIRS)
                               * _BLOCK_PAIRS)
        bounds = np.unique(np.concatenate([[0], ends + 1, [n]]).clip(0, n))
        spans = [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
        tri = p * (p + 1) // 2
        direct = tri <= _DIRECT_KEYS
        k = _threads(len(spans), self.n_pairs)
        built = _on_threads(lambda part: [_pair_block(X, nnz, a, b, direct) for a, b in part],
                            [spans[i::k] for i in range(k)])
        blocks = [None] * len(spans)
        for i, part in enumerate(built):
            blocks[i::k] = part
        if direct:   # keys: positions in the whole triangle
            j, k = np.triu_indices(p)
        else:        # keys: positions among the (j, k) that occur, j p + k sorted
            occurring = np.unique(np.concatenate([b[0] for b in blocks]))
            blocks = [(np.searchsorted(occurring, kb), P, rows) for kb, P, rows in blocks]
            j, k = np.divmod(occurring, p)
            tri = occurring.size
        self.n_keys = tri
        self.p, self.col_map, self.direct = p, col_map, direct
        self._buffers: dict = {}   # the triangle's buffer and mask, made on first use
        self.passes = 0
        self.J = col_map[j].astype(np.int32 if self.width < 2**31 else np.int64)
        self.K = col_map[k].astype(self.J.dtype)
        self.blocks = blocks

    @property
    def nbytes(self) -> int:
        own = sum(P.data.nbytes + P.indices.nbytes + P.indptr.nbytes + r.nbytes
                  + (0 if k is None else k.nbytes) for k, P, r in self.blocks)
        return int(own + self.J.nbytes + self.K.nbytes)

    def add_gram(self, d: np.ndarray, out: np.ndarray, low: bool = False) -> None:
        """out += X' diag(d) X (in the positions ``col_map`` gives); float64 whatever
        ``low`` (a stored pass is a sparse product, which float32 would not shorten)."""
        self.passes += 1
        if self.passes == _SORT_AFTER_PASSES:
            for i in range(len(self.blocks)):   # one block's copy at a time
                self.blocks[i] = _sorted(*self.blocks[i])

        def add(group) -> np.ndarray:
            acc = np.zeros(self.n_keys)
            for keys, M, rows in group:   # a fixed order: the same sum on every run
                if keys is None:
                    acc += M @ d[rows]
                else:
                    acc[keys] += M @ d[rows]
            return acc

        k = _threads(len(self.blocks), self.n_pairs)
        accs = _on_threads(add, [self.blocks[i::k] for i in range(k)])
        acc = accs[0]
        for other in accs[1:]:
            acc += other
        if self.direct:
            self._add_triangle(acc, out)
            return
        out[self.J, self.K] += acc
        off = self.J != self.K
        out[self.K[off], self.J[off]] += acc[off]

    def _add_triangle(self, acc: np.ndarray, out: np.ndarray) -> None:
        add_triangle(acc, out, self.p, self.col_map, self._buffers)

    def row_quadratic(self, B: np.ndarray, n: int) -> np.ndarray:
        """x_i' B x_i for every row (B symmetric, in the positions ``col_map`` gives)."""
        coef = B[self.J, self.K] * np.where(self.J == self.K, 1.0, 2.0)
        q = np.zeros(n)
        for keys, P, rows in self.blocks:
            q[rows] += P.T @ (coef if keys is None else coef[keys])
        return q


def add_triangle(acc: np.ndarray, out: np.ndarray, p: int, cols: np.ndarray,
                 buffers: dict) -> None:
    """out += the symmetric p x p matrix whose upper triangle (row-major) is ``acc``, in the
    rows and columns ``cols`` of ``out``: the triangle is written with a boolean mask into a
    kept p x p buffer (``buffers``; its lower half stays zero), then added twice (once
    transposed) into the columns' places (a slice when they are consecutive, as a design's
    sparse columns usually are)."""
    with _BUFFER_LOCK:   # the kept buffer: one thread at a time (fit_cv's fold threads)
        if "U" not in buffers:
            buffers["U"] = np.zeros((p, p))
            buffers["mask"] = np.triu(np.ones((p, p), dtype=bool))
        U = buffers["U"]
        U[buffers["mask"]] = acc
        if p and cols[-1] - cols[0] == p - 1:
            target = out[cols[0]:cols[-1] + 1, cols[0]:cols[-1] + 1]
            target += U
            target += U.T
            target[np.diag_indices(p)] -= np.diagonal(U)
        else:
            G = U + U.T
            G[np.diag_indices(p)] -= np.diagonal(U)
            out[np.ix_(cols, cols)] += G


def _threads(items: int, work: int) -> int:
    """Threads for ``items`` pieces of ``work`` elements in all: glmkit's count for the work,
    one inside a thread of glmkit's pool (a sweep's chunk: the pool must not wait on itself)."""
    from .._parallel import threads_for

    if threading.current_thread().name.startswith("glmkit"):
        return 1
    return max(1, min(items, threads_for(work)))


def _on_threads(fn, items: list) -> list:
    """[fn(x) for x in items], the items on threads side by side."""
    from .._parallel import map_chunks

    return [fn(x) for x in items] if len(items) <= 1 else map_chunks(fn, items)


def _pair_block(X, nnz: np.ndarray, start: int, stop: int, direct: bool):
    """(keys, P with one column per row of the block in the order ``rows``, rows) for the
    rows start:stop. Rows are taken in groups of equal m, whose pairs are the same (a, b)
    positions in every row of the group (no Python loop over rows). ``direct``: keys are
    positions in the upper triangle, else j p + k (compressed by the caller)."""
    p = X.shape[1]
    m_of = nnz[start:stop]
    big = not direct or p * p >= 2**31
    kdt = np.int64 if big else np.int32
    if direct:   # row-major upper triangle: key = j p - j (j - 1) / 2 + (k - j)
        j = np.arange(p, dtype=kdt)
        base = j * p - (j * (j - 1)) // 2 - j
    else:        # key = j p + k
        base = np.arange(p, dtype=kdt) * p
    ms = [int(m) for m in np.unique(m_of) if m > 0]
    groups = [start + np.flatnonzero(m_of == m) for m in ms]
    sizes = [g.size * m * (m + 1) // 2 for g, m in zip(groups, ms)]
    K = np.empty(sum(sizes), dtype=kdt)
    V = np.empty(sum(sizes))
    at = 0
    for m, rows_m, size in zip(ms, groups, sizes):
        pos = X.indptr[rows_m][:, None] + np.arange(m)
        a, b = np.triu_indices(m)
        c, v = X.indices[pos].astype(kdt), X.data[pos]
        out_k = K[at:at + size].reshape(rows_m.size, a.size)
        out_v = V[at:at + size].reshape(rows_m.size, a.size)
        np.add(np.take(base[c], a, axis=1), np.take(c, b, axis=1), out=out_k)
        np.multiply(np.take(v, a, axis=1), np.take(v, b, axis=1), out=out_v)
        at += size
    if not ms:
        return (np.zeros(0, dtype=np.int64), sparse.csr_matrix((0, 0)),
                np.zeros(0, dtype=np.int64))
    rows = np.concatenate(groups)
    counts = np.repeat([m * (m + 1) // 2 for m in ms], [g.size for g in groups])
    indptr = np.concatenate([[0], np.cumsum(counts)])
    if direct:
        occurring, width = None, p * (p + 1) // 2
    else:
        occurring, K = np.unique(K, return_inverse=True)
        width = occurring.size
    # Q: one row per row of X, one column per key; its transpose in CSR is P (sorted by
    # key: a linear-time conversion)
    Q = sparse.csr_matrix((V, K, indptr), shape=(rows.size, width))
    del K, V
    if not _SORT_BY_KEY:   # Q' (a CSC view): its product scatters into the triangle
        return (None if occurring is None else occurring), Q.T, rows
    return _sorted(occurring, Q.T, rows)


def _sorted(keys, Mt, rows):
    """A block with its pairs sorted by key: P = Mt as CSR (a linear-time conversion),
    without the keys that do not occur when they are few."""
    if isinstance(Mt, sparse.csr_matrix):
        return keys, Mt, rows
    P = Mt.tocsr()
    del Mt
    occurring = keys
    width = P.shape[0]
    nz = np.flatnonzero(np.diff(P.indptr))
    if occurring is None and nz.size >= width // 2:   # mostly occupied: keep every key (a
        return None, P, rows                          # dense add instead of a scatter)
    present = nz if occurring is None else occurring[nz]
    Pc = sparse.csr_matrix((P.data, P.indices, np.append(P.indptr[nz], P.indptr[-1])),
                           shape=(nz.size, rows.size))
    return present.astype(np.int64), Pc, rows

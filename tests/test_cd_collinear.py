"""The elastic-net quadratic on nearly collinear columns (more non-zeros than rows, late on a
lasso path), where coordinate descent alone crawls: the face solves with stops at zero
(glmkit.solvers._cd._polish) finish it.

Sources: the quadratic's optimality (KKT) conditions, checked from their closed form, and
the path's KKT conditions from the model's own score (test_working_set._path_kkt)."""
import numpy as np
import scipy.sparse as sp
from test_working_set import _path_kkt

import glmkit
from glmkit.solvers._cd import _objective, _solve_quadratic, kkt_violation


def _collinear_quadratic(seed: int, n: int = 40, p: int = 120):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * (rng.random((n, p)) < 0.3)
    w = np.exp(rng.normal(scale=0.3, size=n))
    H = X.T @ (X * w[:, None]) / n
    g = X.T @ (w * rng.normal(size=n)) / n
    return H, g, p


def test_quadratic_on_more_columns_than_rows_meets_its_conditions():
    for seed in range(6):
        H, g, p = _collinear_quadratic(seed)
        lam = 0.02 * np.max(np.abs(g))      # late on the path: many non-zeros
        l1, l2 = np.full(p, lam), np.zeros(p)
        lo, hi = np.full(p, -np.inf), np.full(p, np.inf)
        allowed = np.ones(p, dtype=bool)
        b, cycles = _solve_quadratic(H, g, np.zeros(p), l1, l2, lo, hi, allowed,
                                     kkt_tol=1e-12)
        # the face solves end it in a few cycles (7-10 here); cycles alone took 1,100-5,200
        assert cycles < 100
        r = g - H @ b
        assert kkt_violation(r, b, l1, l2, lo, hi, np.arange(p)) <= 1e-11
        # no lower point among small moves of single coordinates (a minimum)
        f = _objective(H, g, b, l1, l2)
        for j in np.flatnonzero(b)[:10]:
            for e in (1e-6, -1e-6):
                c = b.copy()
                c[j] += e
                assert _objective(H, g, c, l1, l2) >= f - 1e-15


def test_quadratic_with_bounds_on_collinear_columns():
    H, g, p = _collinear_quadratic(11)
    lam = 0.05 * np.max(np.abs(g))
    l1, l2 = np.full(p, lam), np.full(p, 0.01 * lam)
    lo, hi = np.full(p, -0.05), np.full(p, np.inf)
    lo[::3] = 0.0
    allowed = np.ones(p, dtype=bool)
    b, _ = _solve_quadratic(H, g, np.zeros(p), l1, l2, lo, hi, allowed, kkt_tol=1e-12)
    assert np.all(b >= lo - 1e-15)
    assert kkt_violation(g - H @ b, b, l1, l2, lo, hi, np.arange(p)) <= 1e-11


def test_sparse_poisson_path_with_more_columns_than_rows():
    rng = np.random.default_rng(2)
    n, p = 150, 1500
    X = sp.random(n, p, density=0.02, format="csr", random_state=rng)
    X = sp.hstack([np.ones((n, 1)), X]).tocsr()
    y = rng.poisson(1.0, n).astype(float)
    model = glmkit.GLM(y, X, family=glmkit.families.Poisson())
    path = model.fit_path(n_alphas=60)
    assert path.df.max() > n / 2            # deep into the collinear part of the path
    assert path.converged.all() and path.kkt.max() <= 1e-10
    assert _path_kkt(model, path) <= 1e-9

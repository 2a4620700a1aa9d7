"""Cross-validated elastic-net paths, as R's ``cv.glmnet``: :func:`fit_cv`, :class:`CVResults`.

The path is fitted on all rows (its alphas are every fold's alphas), then once per fold on
the other rows, each fold's path warm-started along the alphas from its own null fit with
one sweeper. A fold's training rows are the model's rows with the held-out ones at
frequency weight 0, so every in-memory design (dense, sparse, categorical, split) is
cross-validated without copying it; only the held-out rows are taken out to predict.
Held-out losses are summarized as cv.glmnet does (:mod:`glmkit._cv_measures`).
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from . import _cv_measures as cvm_
from ._parallel import one_blas_thread
from .path import PathResults, _alpha_sequence, _PathProblem, fit_path, solve_sequence

__all__ = ["CVResults", "fit_cv"]


def _fold_ids(foldid, n_folds, seed, nobs: int) -> tuple[np.ndarray, np.ndarray]:
    """(the fold labels as given or drawn, fold numbers 0..K-1 per row)."""
    if foldid is None:
        if isinstance(n_folds, bool) or not isinstance(n_folds, (int, np.integer)) \
                or n_folds < 3:
            raise ValueError(f"n_folds must be an integer of at least 3 (cv.glmnet's "
                             f"nfolds; 10 is usual), got {n_folds!r}.")
        if n_folds > nobs:
            raise ValueError(f"n_folds ({n_folds}) exceeds the number of rows ({nobs}).")
        rng = np.random.default_rng(seed)
        labels = rng.permutation(np.resize(np.arange(1, int(n_folds) + 1), nobs))
    else:
        labels = np.asarray(foldid).ravel()
        if labels.shape[0] != nobs:
            raise ValueError(f"foldid must have one entry per row of the model ({nobs}), "
                             f"got {labels.shape[0]}.")
        if labels.dtype.kind == "f" and np.any(np.isnan(labels)):
            raise ValueError("foldid must not contain missing values.")
    _, fold = np.unique(labels, return_inverse=True)
    if fold.max(initial=-1) + 1 < 3:
        raise ValueError("foldid must name at least 3 folds (cv.glmnet's rule).")
    return labels, fold.astype(np.intp)


def _held_out_eta(X, offset: np.ndarray, rows: np.ndarray, B: np.ndarray) -> np.ndarray:
    """(held-out rows, alphas) linear predictors, offset included."""
    Xt = X.take_rows(rows)
    if hasattr(Xt, "array"):
        eta = np.asarray(Xt.array, dtype=float) @ B.T
    else:
        eta = np.column_stack([Xt.matvec(b) for b in B])
    return eta + offset[rows][:, None]


def _fold_path(model, pp_args: tuple, fold: np.ndarray, i: int, seq: np.ndarray,
               own: tuple | None, gammas: np.ndarray | None = None,
               threads: int | None = None):
    """The path on the rows outside fold ``i`` at the alphas ``seq``: a list of (alphas x
    p) coefficients (the penalized path; with ``gammas``, then its relaxed blends at each),
    their KKT convergence per alpha (likewise), and the passes over the rows. ``own`` =
    (n_alphas, ratio or None, early_stop): as cv.glmnet without a lambda, the fold fits its
    own sequence (from its own alpha_max, ended early as glmnet ends it) and its
    coefficients at ``seq`` are interpolated (glmnet's lambda.interp: past its last alpha,
    its last fit)."""
    train = fold != i
    if model._lazy:   # the same Dask inputs, held-out rows at frequency weight 0
        from .cv_dask import fold_model

        pp = _PathProblem(fold_model(model, train), *pp_args)
    else:
        prob = model.problem
        fw = np.asarray(prob.freq_weights, dtype=float) * train
        pp = _PathProblem(model, *pp_args, problem=dataclasses.replace(prob, freq_weights=fw),
                          threads=threads)
    null = pp.null_fit()
    amax = pp.alpha_max(null)
    fseq, stop = seq, False
    if own is not None:
        n_alphas, ratio, stop = own
        if ratio is None:   # glmnet: 1e-2 when the fold has fewer rows than columns
            ratio = 1e-2 if int(train.sum()) < int((~pp.const).sum()) else 1e-4
        fseq = _alpha_sequence(amax, n_alphas, ratio)
    points = solve_sequence(pp, fseq, null, amax, stop)
    fseq = fseq[:len(points)]   # a fold's own sequence may end early, as glmnet's
    B = np.array([r.params for r in points])
    ok = np.array([r.converged for r in points])
    Bs, oks = [B], [ok]
    if gammas is not None:
        from .relax import blend, relaxed_fits

        Br, _, ok_r, _ = relaxed_fits(pp, points, int(train.sum()))
        Bs += [blend(B, Br, g) for g in gammas]
        oks += [ok & (ok_r | (g >= 1.0)) for g in gammas]
    if own is not None:   # blends are linear: interpolating them is blending interpolations
        left, right, frac = lambda_interp(fseq, seq)
        Bs = [frac[:, None] * b[left] + (1 - frac[:, None]) * b[right] for b in Bs]
        oks = [o[left] & o[right] for o in oks]
    return Bs, oks, sum(r.n_passes for r in points)


def _fold_paths(model, pp_args, fold, k, seq, own, gammas, n_jobs: int):
    """Every fold's :func:`_fold_path`, in fold order: one after another, or ``n_jobs`` at
    once on threads (in memory), each fold's sweeps on its own thread."""
    if n_jobs == 1 or k == 1 or model._lazy:   # Dask folds run on the cluster already
        return (_fold_path(model, pp_args, fold, i, seq, own, gammas) for i in range(k))
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(n_jobs, k), thread_name_prefix="glmkit-fold") as ex:
        futures = [ex.submit(_fold_path, model, pp_args, fold, i, seq, own, gammas, 1)
                   for i in range(k)]
        return [f.result() for f in futures]


def _response_and_weights(model) -> tuple[np.ndarray, np.ndarray]:
    """The response and row weights (prior x frequency) as NumPy vectors."""
    if model._lazy:
        from .cv_dask import response_and_weights

        return response_and_weights(model)
    prob = model.problem
    return np.asarray(prob.y, dtype=float), np.asarray(prob.total_weights, dtype=float)


def lambda_interp(lam: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """glmnet's lambda.interp: for each ``s``, the neighbouring positions (left, right) in
    the decreasing ``lam`` and the weight ``frac`` of left, linear in lambda; ``s`` outside
    [lam[-1], lam[0]] takes the end point."""
    k = lam.shape[0]
    if k == 1:
        z = np.zeros(s.shape[0], dtype=np.intp)
        return z, z, np.ones(s.shape[0])
    span = lam[0] - lam[-1]
    pos = (lam[0] - lam) / span
    sfrac = np.clip((lam[0] - s) / span, pos.min(), pos.max())
    coord = np.interp(sfrac, pos, np.arange(k, dtype=float))
    left, right = np.floor(coord).astype(np.intp), np.ceil(coord).astype(np.intp)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = (sfrac - pos[right]) / (pos[left] - pos[right])
    frac[(left == right) | (np.abs(pos[left] - pos[right]) < np.finfo(float).eps)] = 1.0
    return left, right, frac


def fit_cv(model, L1_wt: float = 1.0, n_folds: int = 10, foldid=None, alphas=None,
           measure: str = "deviance", seed=None, n_alphas: int = 100,
           alpha_min_ratio: float | None = None, penalty_weights=None, bounds=None,
           standardize: bool = False, grouped: bool = True, keep: bool = False,
           tol: float = 1e-10, max_iter: int = 100, early_stop: bool = True,
           relax: bool = False, gamma=None, n_jobs: int = 1) -> CVResults:
    """K-fold cross-validation of the elastic-net path (see :meth:`glmkit.GLM.fit_cv`).

    ``relax=True``: cv.glmnet's relax, also the relaxed fits blended at each ``gamma``
    (default 0, 0.25, 0.5, 0.75, 1) are cross-validated (``CVResults.relaxed``, a
    :class:`glmkit.relax.RelaxedCV`); the main curve stays the penalized path's.

    ``n_jobs``: folds fitted at once on threads (in memory; each fold's sweeps then stay on
    its thread and BLAS at one thread). The default 1 fits them one after another, whose
    sweeps use glmkit's row threads instead; on the 2-core benchmark machine fold threads
    did not pay (benchmarks/CV_PARALLEL.md). The answers do not depend on it."""
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive integer, got {n_jobs!r}.")
    prob = model.problem
    if model._lazy:   # rows in Dask partitions: glmkit.cv_dask
        from . import cv_dask

        n = model.nobs
        labels, fold = _fold_ids(cv_dask.given_fold_ids(model, foldid), n_folds, seed, n)
    else:
        n = prob.y.shape[0]
        labels, fold = _fold_ids(foldid, n_folds, seed, n)
    k = int(fold.max()) + 1
    measure, grouped = cvm_.resolve(model.family, str(measure), grouped, n, k)
    gammas = None
    if relax:
        from .relax import GAMMAS, check_gammas

        gammas = check_gammas(GAMMAS if gamma is None else gamma)
    elif gamma is not None:
        raise ValueError("gamma is for relaxed fits: pass relax=True too.")
    path = fit_path(model, L1_wt, alphas, n_alphas, alpha_min_ratio, penalty_weights, bounds,
                    standardize, tol, max_iter, early_stop, relax=bool(relax))
    seq = path.alphas
    # cv.glmnet: without a given lambda each fold fits its own sequence
    own = (int(n_alphas), alpha_min_ratio, bool(early_stop)) if alphas is None else None
    pp_args = (L1_wt, penalty_weights, bounds, bool(standardize), tol, max_iter)
    y, w = _response_and_weights(model)
    off = None if model._lazy else np.asarray(prob.offset, dtype=float)
    n_fits = 1 + (0 if gammas is None else gammas.size)
    scorers = [cvm_.Scorer(model.family, measure, grouped, y, w, fold, k, seq.size)
               for _ in range(n_fits)]
    preval = np.full((n, seq.size), np.nan) if keep else None
    fold_ok = np.zeros((n_fits, k, seq.size), dtype=bool)
    passes = 0
    with one_blas_thread():   # as fit_path: many small products
        for i, (Bs, oks, used) in enumerate(_fold_paths(model, pp_args, fold, k, seq, own,
                                                         gammas, int(n_jobs))):
            passes += used
            rows = np.flatnonzero(fold == i)
            for j, (B, ok) in enumerate(zip(Bs, oks)):
                fold_ok[j, i] = ok
                if off is None:   # Dask: the partitions predict their held-out rows
                    from .cv_dask import held_out_eta

                    eta = held_out_eta(model, fold == i, B)
                else:
                    eta = _held_out_eta(prob.X, off, rows, B)
                if preval is not None and j == 0:
                    preval[rows] = eta
                scorers[j].add(i, rows, eta)
    mean, sd = scorers[0].summary()
    out = CVResults(path, measure, mean, sd, labels, fold_ok[0], passes, preval,
                    cvm_.measure_name(model.family, measure), grouped)
    if gammas is not None:
        from .relax import RelaxedCV

        stats = [sc.summary() for sc in scorers[1:]]
        out.relaxed = RelaxedCV(gammas, seq, np.array([s[0] for s in stats]),
                                np.array([s[1] for s in stats]), measure, fold_ok[1:])
    return out


class CVResults:
    """A cross-validated elastic-net path (R's ``cv.glmnet`` object).

    Attributes
    ----------
    alphas : (m,) the path's penalties, decreasing (glmnet's ``lambda``).
    cv_mean, cvm : (m,) mean held-out loss (the folds' weighted means, weighted by the
        folds' total weights).
    cv_se, cvsd : (m,) its standard error (cv.glmnet's ``cvsd``).
    cvup, cvlo : cvm + cvsd, cvm - cvsd.
    nzero : (m,) non-zero penalized coefficients of the fit on all rows (glmnet's nzero).
    alpha_min, alpha_1se : the alpha with the best cvm (largest such), and the largest
        alpha whose cvm is within one cvsd of it (glmnet's lambda.min, lambda.1se).
    index_min, index_1se : their positions in ``alphas``.
    measure, name : the loss (``'deviance'``, ``'mse'``, ``'mae'``, ``'class'``, ``'auc'``)
        and glmnet's label of it.
    path : :class:`~glmkit.path.PathResults`, the path on all rows (glmnet.fit).
    foldid : the fold of each row (as given, or drawn: 1..K).
    fold_converged : (K, m) bool, each fold's fit met the KKT conditions at each alpha.
    fit_preval : (n, m) held-out linear predictors (offset included), with ``keep=True``.
    n_passes : passes over the rows of all the folds' fits.
    relaxed : with ``fit_cv(relax=True)``, the relaxed fits' cross-validation
        (:class:`glmkit.relax.RelaxedCV`: ``alpha_min``, ``gamma_min``, ...); else None.
    """

    def __init__(self, path: PathResults, measure: str, cvm: np.ndarray, cvsd: np.ndarray,
                 foldid: np.ndarray, fold_converged: np.ndarray, n_passes: int,
                 fit_preval: np.ndarray | None, name: str, grouped: bool = True):
        self.path = path
        self.grouped = grouped
        self.alphas = path.alphas
        self.measure, self.name = measure, name
        self.cvm = self.cv_mean = cvm
        self.cvsd = self.cv_se = cvsd
        self.cvup, self.cvlo = cvm + cvsd, cvm - cvsd
        self.nzero = path.df
        self.foldid = foldid
        self.fold_converged = fold_converged
        self.n_passes = int(n_passes)
        self.fit_preval = fit_preval
        self.index_min, self.index_1se = cvm_.choose(self.alphas, cvm, cvsd, measure)
        self.alpha_min = float(self.alphas[self.index_min])
        self.alpha_1se = float(self.alphas[self.index_1se])
        #: with ``fit_cv(relax=True)``: :class:`glmkit.relax.RelaxedCV`; else None
        self.relaxed: Any = None

    def remeasure(self, measure: str, grouped: bool | None = None) -> CVResults:
        """The same folds and fits judged by another measure (needs ``keep=True``: the
        held-out predictions ``fit_preval``); no refitting."""
        if self.fit_preval is None:
            raise ValueError("remeasure needs the held-out predictions: fit with "
                             "fit_cv(..., keep=True).")
        model = self.path.model
        _, fold = np.unique(self.foldid, return_inverse=True)
        k = int(fold.max()) + 1
        grouped = self.grouped if grouped is None else grouped
        measure, grouped = cvm_.resolve(model.family, str(measure), grouped, fold.size, k)
        y, w = _response_and_weights(model)
        scorer = cvm_.Scorer(model.family, measure, grouped, y, w, fold, k, self.alphas.size)
        for i in range(k):
            rows = np.flatnonzero(fold == i)
            scorer.add(i, rows, self.fit_preval[rows])
        mean, sd = scorer.summary()
        return CVResults(self.path, measure, mean, sd, self.foldid, self.fold_converged,
                         self.n_passes, self.fit_preval,
                         cvm_.measure_name(model.family, measure), grouped)

    def _alpha(self, alpha) -> float:
        if isinstance(alpha, str):
            if alpha in ("min", "alpha_min", "lambda.min"):
                return self.alpha_min
            if alpha in ("1se", "alpha_1se", "lambda.1se"):
                return self.alpha_1se
            raise ValueError(f"alpha must be 'min', '1se' or a number, got {alpha!r}.")
        return float(alpha)

    def fit_at(self, alpha: Any = "1se", refit: bool = False, gamma: float = 1.0):
        """The fit on all rows at ``alpha`` ('1se' as glmnet's default ``s``, 'min', or a
        number): :class:`~glmkit.regularized.RegularizedResults`, or with ``refit=True``
        the selected columns refitted without a penalty (post-selection inference).
        ``gamma`` < 1 (``relax=True`` fits): the relaxed blend, e.g.
        ``fit_at(cv.relaxed.alpha_min, gamma=cv.relaxed.gamma_min)``."""
        return self.path.fit_at(self._alpha(alpha), refit=refit, gamma=gamma)

    @property
    def results_min(self):
        """The fit on all rows at ``alpha_min``."""
        return self.fit_at("min")

    @property
    def results_1se(self):
        """The fit on all rows at ``alpha_1se``."""
        return self.fit_at("1se")

    @property
    def params(self) -> pd.DataFrame:
        """Coefficients of the fit on all rows at every alpha (the path's)."""
        return self.path.params

    def coef(self, alpha: Any = "1se") -> pd.Series:
        """Coefficients at ``alpha`` (R's ``coef(cvfit, s = ...)``)."""
        res = self.fit_at(alpha)
        return pd.Series(np.asarray(res._res.params), index=list(self.path.params.columns))

    def predict(self, exog=None, alpha: Any = "1se", exposure=None, offset=None,
                which: str = "mean"):
        """Predictions of the fit on all rows at ``alpha``."""
        return self.fit_at(alpha).predict(exog, exposure=exposure, offset=offset, which=which)

    def to_frame(self) -> pd.DataFrame:
        """alpha, cvm, cvsd, cvup, cvlo and nzero, one row per alpha (print(cvfit)'s table)."""
        return pd.DataFrame({"alpha": self.alphas, "cvm": self.cvm, "cvsd": self.cvsd,
                             "cvup": self.cvup, "cvlo": self.cvlo, "nzero": self.nzero})

    def plot(self, ax=None):
        """glmnet's plot(cvfit): cvm with cvlo-cvup bars against log(alpha), dotted lines
        at alpha_min and alpha_1se."""
        try:
            import matplotlib.pyplot as plt
        except ImportError as e:   # pragma: no cover - depends on the environment
            raise ImportError("CVResults.plot needs matplotlib: pip install matplotlib") from e
        if ax is None:
            _, ax = plt.subplots()
        x = np.log(np.where(self.alphas > 0, self.alphas, np.nan))
        ax.errorbar(x, self.cvm, yerr=self.cvsd, fmt="o", color="red", ecolor="grey",
                    markersize=3, capsize=2)
        for a in (self.alpha_min, self.alpha_1se):
            if a > 0:
                ax.axvline(np.log(a), linestyle=":", color="black")
        ax.set_xlabel("log(alpha)")
        ax.set_ylabel(self.name)
        return ax

    def __repr__(self) -> str:
        return (f"CVResults({self.measure}, {self.foldid.size} rows in "
                f"{self.fold_converged.shape[0]} folds; alpha_min={self.alpha_min:.4g} "
                f"(nzero {self.nzero[self.index_min]}), alpha_1se={self.alpha_1se:.4g} "
                f"(nzero {self.nzero[self.index_1se]}))")

"""The benchmark problems: where their definitions live, their cached data, their designs.

The definitions are ``shared/bench/problems.py``, found beside the repository
(``<repo>/../shared/bench/problems.py``) or under ``$GLMKIT_SHARED`` (the ``shared``
directory, its ``bench`` directory, or the file itself). They are imported at run time, never
copied.

Data are generated once per (problem, size) and cached as ``.npz`` under
``benchmarks/.cache/``; the cache key hashes the problem definition file and the spec, so a
change to ``problems.py`` regenerates the data and the reference coefficients.

Coefficient order. Every library's estimate is mapped to one canonical order before it is
compared: ``[intercept, x_1 .. x_p, level_1 .. level_{L-1}]`` (the categorical levels, level 0
dropped, only for problems e and e_small).
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
DEFAULT_CACHE = BENCH_DIR / ".cache"

PROBLEM_NAMES = ["a", "b", "c", "d", "e", "e_small", "f"]

#: Sizes of the --quick versions (smoke tests: seconds in total).
QUICK = {
    "a": dict(n=10_000),
    "b": dict(n=10_000),
    "c": dict(n=10_000),
    "d": dict(n=10_000),
    "e": dict(n=10_000, levels=100),
    "e_small": dict(n=5_000, levels=100),
    "f": dict(),
}

FAMILY_LABEL = {
    "poisson": "Poisson, log link",
    "binomial": "Binomial, logit link",
    "gamma": "Gamma, log link",
    "tweedie": "Tweedie(1.5), log link",
}


class ProblemsNotFound(RuntimeError):
    pass


def problems_path() -> Path:
    """Path of shared/bench/problems.py (beside the repo, else under $GLMKIT_SHARED)."""
    candidates = [REPO_DIR.parent / "shared" / "bench" / "problems.py"]
    env = os.environ.get("GLMKIT_SHARED")
    if env:
        e = Path(env).expanduser()
        candidates += [e, e / "problems.py", e / "bench" / "problems.py"]
    for c in candidates:
        if c.is_file():
            return c.resolve()
    raise ProblemsNotFound(
        "cannot find the benchmark problem definitions: looked for "
        + ", ".join(str(c) for c in candidates)
        + ". Clone the repository with shared/ beside it, or set GLMKIT_SHARED to the shared "
        "directory."
    )


_MODULE = None


def problems_module():
    """Import problems.py from its path (once per process)."""
    global _MODULE
    if _MODULE is None:
        path = problems_path()
        spec = importlib.util.spec_from_file_location("glmkit_bench_problems", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)  # type: ignore[union-attr]
        _MODULE = mod
    return _MODULE


def problem_spec(name: str, quick: bool = False) -> dict:
    spec = dict(problems_module().PROBLEMS[name])
    if quick:
        spec.update(QUICK.get(name, {}))
    return spec


def generate_spec(spec: dict) -> dict:
    """Run problems.generate on an arbitrary spec (a quick size or a scaling point).

    The spec is registered under a temporary key of the imported module's PROBLEMS dict
    (in memory only) so the generator itself is used unchanged.
    """
    mod = problems_module()
    key = "__glmkit_bench_tmp__"
    mod.PROBLEMS[key] = spec
    try:
        return mod.generate(key)
    finally:
        del mod.PROBLEMS[key]


def cache_key(name: str, quick: bool = False) -> str:
    spec = problem_spec(name, quick)
    h = hashlib.sha256(problems_path().read_bytes())
    h.update(json.dumps(spec, sort_keys=True).encode())
    return f"{name}{'-quick' if quick else ''}-{h.hexdigest()[:10]}"


def data_path(name: str, quick: bool, cache_dir: Path) -> Path:
    return Path(cache_dir) / f"{cache_key(name, quick)}.npz"


def ensure_data(name: str, quick: bool, cache_dir: Path) -> Path:
    """Generate and cache the problem's arrays (no-op when cached)."""
    path = data_path(name, quick, cache_dir)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    spec = problem_spec(name, quick)
    d = generate_spec(spec)
    arrays = {"X": d["X"], "y": d["y"], "beta": np.asarray(d["beta"]),
              "intercept": np.asarray(d["intercept"], dtype=float)}
    if "offset" in d:
        arrays["offset"] = d["offset"]
    if "codes" in d:
        arrays["codes"] = d["codes"]
    tmp = path.with_name(path.stem + ".partial.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)
    return path


def load_data(name: str, quick: bool, cache_dir: Path) -> dict:
    with np.load(data_path(name, quick, cache_dir)) as z:
        out = {k: z[k] for k in z.files}
    out["X"] = np.ascontiguousarray(out["X"])
    spec = problem_spec(name, quick)
    out["spec"] = spec
    out["family"] = spec["family"]
    out["levels"] = spec.get("levels")
    return out


def describe(name: str, quick: bool = False) -> str:
    s = problem_spec(name, quick)
    fam = FAMILY_LABEL[s["family"]]
    if s.get("cat"):
        k = 1 + s["p"] + s["levels"] - 1
        return (f"{fam}, n={s['n']:,}, {s['p']} numeric + 1 categorical with {s['levels']:,} "
                f"levels ({k:,} coefficients incl. intercept)")
    extra = ", offset = log(exposure)" if s.get("offset") else ""
    return f"{fam}, n={s['n']:,}, p={s['p']} dense{extra} ({s['p'] + 1} coefficients incl. intercept)"


def n_coefficients(name: str, quick: bool = False) -> int:
    s = problem_spec(name, quick)
    return 1 + s["p"] + (s["levels"] - 1 if s.get("cat") else 0)


# ------------------------------------------------------------------ designs

def with_constant(X: np.ndarray) -> np.ndarray:
    """[1, X] as a new C-ordered array (what glmkit / statsmodels are handed)."""
    n, p = X.shape
    out = np.empty((n, p + 1))
    out[:, 0] = 1.0
    out[:, 1:] = X
    return out


def dense_onehot_design(X: np.ndarray, codes: np.ndarray, levels: int,
                        constant: bool = True) -> np.ndarray:
    """[1, X, D] with D the treatment-coded one-hot of ``codes`` (level 0 dropped)."""
    n, p = X.shape
    c0 = 1 if constant else 0
    out = np.zeros((n, c0 + p + levels - 1))
    if constant:
        out[:, 0] = 1.0
    out[:, c0:c0 + p] = X
    rows = np.flatnonzero(codes > 0)
    out[rows, c0 + p + codes[rows] - 1] = 1.0
    return out


def sparse_onehot_design(X: np.ndarray, codes: np.ndarray, levels: int):
    """CSR [X, D] (no constant column) for libraries that take scipy.sparse input."""
    import scipy.sparse as sp

    n, p = X.shape
    rows = np.flatnonzero(codes > 0)
    D = sp.csr_matrix((np.ones(rows.size), (rows, codes[rows].astype(np.int64) - 1)),
                      shape=(n, levels - 1))
    return sp.hstack([sp.csr_matrix(X), D], format="csr")


def rel_diff(params, ref) -> float:
    """max_j |b_j - r_j| / max(|r_j|, 0.01): relative error, absolute below 0.01."""
    b = np.asarray(params, dtype=float)
    r = np.asarray(ref, dtype=float)
    if b.shape != r.shape:
        return float("nan")
    return float(np.max(np.abs(b - r) / np.maximum(np.abs(r), 0.01)))

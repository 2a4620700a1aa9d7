"""The machine's floor for one IRLS iteration, measured in the same run as the fits.

One iteration of a dense GLM fit must at least form X'WX (n p^2 multiply-adds counted as
n p^2 flops, the symmetric half of the 2 n p^2 of a full product: what BLAS syrk does) and
read X once (8 n p bytes). The floor is the larger of the two times at the machine's
measured peaks:

- flops at the best rate of a large square matrix product (float64 and float32), the rate
  BLAS reaches here on its best-shaped work;
- bytes at the best memory read bandwidth: a matrix-vector product over a 1 GiB array
  (BLAS, all cores) or numpy's sum over it, whichever reads faster.

glmkit's time per iteration divided by the float32 floor (its passes may form X'WX in
float32) is the "× floor" figure of the tables; the float64 floor is shown beside it.
"""
from __future__ import annotations

import time

import numpy as np


def measure(quick: bool = False, reps: int = 3) -> dict:
    """Peak GEMM rates (GFLOP/s, float64 and float32) and read bandwidth (GB/s)."""
    size = 1000 if quick else 4000
    rng = np.random.default_rng(0)
    out = {"gemm_size": size}
    for dtype, key in ((np.float64, "gemm64_gflops"), (np.float32, "gemm32_gflops")):
        A = rng.standard_normal((size, size)).astype(dtype)
        B = rng.standard_normal((size, size)).astype(dtype)
        A @ B   # warm up the BLAS threads
        best = np.inf
        for _ in range(reps):
            t0 = time.perf_counter()
            A @ B
            best = min(best, time.perf_counter() - t0)
        out[key] = 2.0 * size**3 / best / 1e9
        del A, B
    rows = (1 << (24 if quick else 27)) // 64   # 128 MiB quick, 1 GiB otherwise
    M = rng.standard_normal((rows, 64))
    v = np.ones(64)
    nbytes = M.nbytes
    best = np.inf
    for f in (lambda: M @ v, lambda: M.sum()):
        f()
        for _ in range(reps + 2):
            t0 = time.perf_counter()
            f()
            best = min(best, time.perf_counter() - t0)
    out["bandwidth_gbs"] = nbytes / best / 1e9
    out["bandwidth_bytes"] = int(nbytes)
    return out


def floor(shape: dict, machine: dict) -> dict | None:
    """Seconds per iteration at the machine's peaks for a design of ``shape`` (n, p_dense:
    dense columns including the intercept, levels: categorical levels or 0), float64 and
    float32: max(flops / peak, bytes / bandwidth)."""
    if not shape or not machine:
        return None
    n, p = float(shape["n"]), float(shape["p_dense"])
    levels = float(shape.get("levels") or 0)
    flops = n * p * p + (n * p if levels else 0.0)   # per-level sums: one add per cell
    nbytes = 8.0 * n * p + (8.0 * n if levels else 0.0)   # X, and the level codes
    read = nbytes / (machine["bandwidth_gbs"] * 1e9)
    return {"flops": flops, "bytes": nbytes,
            "f64": max(flops / (machine["gemm64_gflops"] * 1e9), read),
            "f32": max(flops / (machine["gemm32_gflops"] * 1e9), read)}


def describe(machine: dict) -> str:
    return (f"peak GEMM {machine['gemm64_gflops']:.0f} GFLOP/s float64, "
            f"{machine['gemm32_gflops']:.0f} GFLOP/s float32 ({machine['gemm_size']}² "
            f"products); read bandwidth {machine['bandwidth_gbs']:.1f} GB/s "
            f"({machine['bandwidth_bytes'] / 2**30:.2g} GiB)")

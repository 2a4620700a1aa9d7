"""EM for the zero-inflated model (pscl's ``EM = TRUE``): starting values when Newton from
pscl's start does not reach a certified maximum. Each step raises the likelihood.

Notes
-----
E-step: the probability that a zero is an excess zero, r = pi / (pi + (1 - pi) f(0)) (0 for
positive counts). M-step: the count model with weights w (1 - r) and the binary model of r
with weights w, each maximized by Newton.
"""
from __future__ import annotations

from functools import partial

import numpy as np

from ._countdist import count_terms, zero_terms
from ._countframe import CountInputs
from ._countkernels import binary_kernel, count_kernel, zeroinfl_kernel
from ._multieta import Block, evaluate, split_params
from ._newton import maximize


def em_start(inp: CountInputs, dist: str, link: str, start: np.ndarray,
             maxiter: int = 1000, reltol: float = 1e-9) -> np.ndarray:
    y, n = inp.y, inp.n
    w = np.ones(n) if inp.weights is None else inp.weights
    nb = dist == "negbin"
    cblocks = [Block(inp.X, inp.x_offset)] + ([Block(None)] if nb else [])
    zblocks = [Block(inp.Z, inp.z_offset)]
    full = cblocks[:1] + zblocks + cblocks[1:]
    kx = inp.X.shape[1]
    params = np.asarray(start, dtype=float).copy()
    fkernel = zeroinfl_kernel(y, dist, link)
    llf = evaluate(params, full, fkernel, n, w)[0]
    for _ in range(maxiter):
        parts = split_params(params, full)
        beta, gamma, lt = parts[0], parts[1], (parts[2] if nb else None)
        eta = inp.X @ beta + (0.0 if inp.x_offset is None else inp.x_offset)
        zeta = inp.Z @ gamma + (0.0 if inp.z_offset is None else inp.z_offset)
        with np.errstate(all="ignore"):
            zt = zero_terms(link, zeta)
            l0 = count_terms(dist, np.zeros(n), eta, None if lt is None else lt[0]).L
            r = np.where(y > 0, 0.0, np.exp(zt.log_pi - np.logaddexp(zt.log_pi, zt.log1m + l0)))
        cstart = np.concatenate([beta] + ([lt] if nb else []))
        cr = maximize(partial(evaluate, blocks=cblocks, kernel=count_kernel(y, dist), n=n,
                              w=w * (1 - r)), cstart, 50)
        zr = maximize(partial(evaluate, blocks=zblocks, kernel=binary_kernel(r, link), n=n,
                              w=w), gamma, 50)
        new = np.concatenate([cr.params[:kx], zr.params, cr.params[kx:]])
        new_llf = evaluate(new, full, fkernel, n, w)[0]
        if not np.isfinite(new_llf) or new_llf < llf - 1e-9 * abs(llf):
            break
        params, done = new, abs(new_llf - llf) <= reltol * abs(llf)
        llf = new_llf
        if done:
            break
    return params

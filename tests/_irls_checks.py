"""Shared check of the IRLS tests: a fit whose early sweeps form X'WX in float32 ends at the
fit with float64 Grams throughout (the invariant: the float64 score and the last float64
sweep fix the answer, whatever the precision of the steps' Grams)."""
from __future__ import annotations

import importlib

import numpy as np
import pytest

from glmkit.solvers import SolverOptions


def assert_float32_steps_match_float64(problem, lows: list) -> None:
    """Fit ``problem`` with and without float32 step Grams (``lows`` records each sweep's
    ``low`` flag from a spy) and check both converge to the same params, deviance and Gram."""
    irls_module = importlib.import_module("glmkit.solvers.irls")   # the module, not the function
    fast = irls_module.irls(problem, None, SolverOptions())
    assert any(lows) and not all(lows)   # float32 early, float64 at the end
    exact = irls_module.irls(problem, None, SolverOptions(low_precision_gram=False))
    assert fast.converged and exact.converged
    np.testing.assert_allclose(fast.params, exact.params, rtol=1e-10, atol=1e-13)
    assert fast.deviance == pytest.approx(exact.deviance, rel=1e-14)
    np.testing.assert_allclose(fast.gram, exact.gram, rtol=1e-10)

"""Smoke test of the benchmark harness (benchmarks/): one quick problem, glmkit only.

Speed is measured by ``python -m benchmarks.run``, never asserted here: this only checks
that the harness runs end to end (data generation, reference, a fit in a child process,
the lower bound, the RESULTS.md writer) and that peers which are not installed are skipped
with a reason.
"""
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import harness, libs, problemdata  # noqa: E402


def _need_problems():
    try:
        problemdata.problems_path()
    except problemdata.ProblemsNotFound as exc:
        pytest.skip(str(exc))


def test_quick_problem_glmkit_only(tmp_path):
    _need_problems()
    s = harness.Settings(problems=["a"], libs=["glmkit"], quick=True, batch=True, repeats=1,
                         cache_dir=tmp_path, out=tmp_path / "RESULTS.md",
                         json_out=tmp_path / "results.json", scaling=False,
                         log=lambda msg: None)
    results = harness.run_benchmarks(s)
    (prob,) = results["problems"]
    (row,) = prob["rows"]
    assert row["variant"] == "glmkit"
    assert row["status"] == "ok", row
    assert row["n_iter"] >= 1 and row["converged"] is True
    assert row["rel_diff"] < 1e-6
    assert row["peak_bytes"] is not None
    assert prob["lower_bound"]["dense"]["pass"] > 0
    text = (tmp_path / "RESULTS.md").read_text()
    assert "| glmkit |" in text and "lower bound" in text
    assert (tmp_path / "results.json").exists()


def test_missing_peers_are_skipped_with_a_reason(monkeypatch):
    monkeypatch.setattr(libs, "_importable", lambda mod: mod not in ("glum", "sklearn"))
    for variant in ("glum", "glum-cat", "sklearn"):
        reason = libs.skip_reason(variant, "a")
        assert reason and reason.startswith("not installed")
    assert libs.skip_reason("glmkit", "a") is None
    assert libs.skip_reason("sklearn", "d") is not None


def test_merging_a_run_of_some_libraries_keeps_the_other_libraries_rows():
    old = {"name": "a", "lower_bound": {"x": 1}, "rows": [
        {"variant": "glmkit", "median": 2.0}, {"variant": "glum", "median": 3.0}]}
    new = {"name": "a", "lower_bound": {"x": 2}, "rows": [{"variant": "glmkit", "median": 1.0}]}
    out = harness._merged_problem(old, new)
    assert out["rows"] == [{"variant": "glmkit", "median": 1.0}, {"variant": "glum", "median": 3.0}]
    assert out["lower_bound"] == {"x": 2}
    assert harness._merged_problem(None, new) is new


def test_sparse_bench_child_runs_both_workloads_small():
    """benchmarks/sparse_bench.py's child on tiny versions of the issue-17 workloads (glmkit
    only): the fit agrees with the same fit on the dense array, the statistics are there."""
    import numpy as np

    import glmkit
    from benchmarks import sparse_bench

    X, y = sparse_bench.sparse_data(3000, p=60, density=0.05)
    out = sparse_bench.run_sparse("glmkit", X, y)
    dense = glmkit.GLM(y, X.toarray(), family=glmkit.families.Poisson()).fit()
    np.testing.assert_allclose(out["coef"], dense.params, rtol=1e-8, atol=1e-10)
    out = sparse_bench.child("factor", "glmkit", 3000)
    assert out["seconds"] > 0 and out["peak_mib"] >= 0
    assert len(out["hc1"]) == len(out["coef"]) and len(out["pred_se"]) == 20
    assert np.all(np.isfinite(out["hc1"])) and np.all(np.asarray(out["pred_se"]) > 0)

"""statsmodels' own tests of MNLogit, the zero-inflated models and OrderedModel, run against
glmkit (issue 15's drop-in promise, measured), as ``test_statsmodels_suite.py`` does for the
GLM.

At test time the installed statsmodels' ``discrete/tests/{test_discrete,test_count_model}.py``
and ``miscmodels/tests/test_ordinal_model.py`` (with their ``results/`` packages) are copied
into a temporary directory, their imports rewritten so that every name glmkit offers comes
from glmkit (``MNLogit``, ``OrderedModel``, ``ZeroInflatedPoisson``,
``ZeroInflatedNegativeBinomialP``, ``add_constant``, ...; ``statsmodels.api`` through the
same shim), and run with pytest in a subprocess. Only the tests of the classes glmkit
replaces are selected (``SELECT``): test_discrete.py's MNLogit classes, the zero-inflated
Poisson and NB-P classes of test_count_model.py (not statsmodels' generalized-Poisson or
hurdle models, which glmkit does not replace), and all of test_ordinal_model.py.

Outcomes are compared with ``expected_failures_models.txt``: one line per test expected to
fail, with the reason. A failing test not on the list, or a listed test that passes, fails.
Run ``pytest tests/statsmodels_suite/test_statsmodels_models_suite.py -s`` for the counts.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_statsmodels_suite import CONFTEST, MODULE_MAP, SHIM, SHIMS, rewrite_imports

HERE = Path(__file__).resolve().parent
EXPECTED = HERE / "expected_failures_models.txt"
LIST_VERSION = "statsmodels 0.15.0"

#: package in the temporary directory -> (statsmodels test package, its test files)
SUITES = {
    "smdiscrete": ("statsmodels.discrete.tests", ("test_discrete.py", "test_count_model.py")),
    "smmisc": ("statsmodels.miscmodels.tests", ("test_ordinal_model.py",)),
}
MODELS_MAP = {**MODULE_MAP,
              "statsmodels.discrete.discrete_model": "glmkit.api",
              "statsmodels.discrete.count_model": "glmkit.api",
              "statsmodels.miscmodels.ordinal_model": "glmkit.api"}
#: the tests of the classes glmkit replaces (pytest -k)
SELECT = ("(MNLogit or not test_discrete) and not GeneralizedPoisson and not Hurdle "
          "and not TestPandasOffset and not TestGenericCount")


def build(dest: Path) -> None:
    import importlib

    for pkg, (module, files) in SUITES.items():
        src = Path(importlib.import_module(module).__file__).resolve().parent
        out = dest / pkg
        out.mkdir()
        (out / "__init__.py").write_text("")
        shutil.copytree(src / "results", out / "results",
                        ignore=shutil.ignore_patterns("__pycache__"))
        for name in files:
            (out / name).write_text(rewrite_imports((src / name).read_text(), MODELS_MAP))
    for module, shim in SHIMS.items():
        (dest / f"{shim}.py").write_text(SHIM.format(sm=module, gk=MODULE_MAP[module]))
    (dest / "conftest.py").write_text(CONFTEST)
    (dest / "pytest.ini").write_text("[pytest]\n")


def read_expected() -> dict[str, str]:
    out = {}
    for raw in EXPECTED.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        nodeid, _, reason = line.partition(" | ")
        if not reason.strip():
            raise ValueError(f"expected_failures_models.txt: no reason on line {raw!r}")
        out[nodeid.strip()] = reason.strip()
    return out


def run(tmp: Path) -> tuple[dict[str, str], dict[str, str]]:
    build(tmp)
    out = tmp / "outcomes.json"
    import glmkit

    env = dict(os.environ)
    root = str(Path(glmkit.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([root, str(tmp)]
                                        + [p for p in [env.get("PYTHONPATH")] if p])
    env["GLMKIT_SM_SUITE_OUT"] = str(out)
    env.setdefault("MPLBACKEND", "Agg")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-header",
           "-o", "addopts=", "--rootdir", str(tmp), "-W", "ignore::DeprecationWarning",
           "-k", SELECT, *SUITES]
    proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=900,
                          check=False)
    (tmp / "pytest.log").write_text(proc.stdout + proc.stderr)
    if not out.exists():
        raise RuntimeError("statsmodels' suites did not run:\n" + proc.stdout[-3000:]
                           + proc.stderr[-3000:])
    return (json.loads(out.read_text()), json.loads(Path(str(out) + ".msg").read_text()))


def test_statsmodels_models_suites(tmp_path):
    statsmodels = pytest.importorskip("statsmodels", reason="statsmodels is not installed")
    outcomes, messages = run(tmp_path)
    expected = read_expected()
    failed = {k for k, v in outcomes.items() if v == "failed"}
    counts = {o: sum(v == o for v in outcomes.values())
              for o in ("passed", "failed", "skipped", "xfailed", "xpassed")}
    print(f"\nstatsmodels {statsmodels.__version__} MNLogit / zero-inflated / OrderedModel "
          f"suites against glmkit: {len(outcomes)} tests, {counts}; {len(expected)} expected "
          f"failures. Log: {tmp_path / 'pytest.log'}")
    unexpected = sorted(failed - set(expected))
    now_pass = sorted(k for k in expected if outcomes.get(k) in ("passed", "xpassed"))
    missing = sorted(k for k in expected if k not in outcomes)
    msg = []
    if unexpected:
        msg.append(f"{len(unexpected)} failing tests not in expected_failures_models.txt:\n  "
                   + "\n  ".join(f"{k}: {messages.get(k, '')[:160]}" for k in unexpected))
    if now_pass:
        msg.append(f"{len(now_pass)} listed tests now pass (remove them):\n  "
                   + "\n  ".join(now_pass))
    if missing:
        msg.append(f"{len(missing)} listed tests were not run:\n  " + "\n  ".join(missing))
    assert not msg, (f"statsmodels {statsmodels.__version__} (the list was made with "
                     f"{LIST_VERSION}):\n" + "\n".join(msg))

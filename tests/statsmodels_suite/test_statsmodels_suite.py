"""statsmodels' own GLM tests, run against glmkit (the drop-in promise, measured).

At test time this module copies statsmodels' GLM test files from the *installed* statsmodels
(``statsmodels/genmod/tests/{test_glm,test_glm_weights,test_constrained,test_score_test}.py``
and the ``results/`` package they read) into a temporary directory, rewrites only their import
statements so that every name glmkit offers comes from glmkit (``statsmodels.api`` ->
``glmkit.api`` name by name, ``statsmodels.genmod.generalized_linear_model.GLM`` ->
``glmkit.api.GLM``, families, links, ``add_constant``, warnings, ...), and runs them with pytest
in a subprocess. Names glmkit does not have (datasets, OLS, numerical-derivative tools, results
data) still come from statsmodels.

The outcome is compared with ``expected_failures.txt`` beside this file: one line per test
that is expected to fail, with the README "Conventions" row (or the issue) that explains it.
The test fails when a test not on the list fails, and also when a listed test passes, so the
list stays honest. No statsmodels test code lives in this repository.

Run ``pytest tests/statsmodels_suite -s`` to see the counts.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
EXPECTED = HERE / "expected_failures.txt"
TEST_FILES = ("test_glm.py", "test_glm_weights.py", "test_constrained.py", "test_score_test.py")
PACKAGE = "smsuite"   # the copied tests live in <tmp>/smsuite/
LIST_VERSION = "statsmodels 0.15.0"   # whose test files expected_failures.txt was made from

# statsmodels module -> glmkit module that may hold the same public names.
MODULE_MAP = {
    "statsmodels.api": "glmkit.api",
    "statsmodels.genmod.generalized_linear_model": "glmkit.api",
    "statsmodels.tools.tools": "glmkit.api",
    "statsmodels.tools.sm_exceptions": "glmkit.exceptions",
    "statsmodels.genmod": "glmkit",
    "statsmodels.genmod.families": "glmkit.families",
    "statsmodels.genmod.families.family": "glmkit.families",
    "statsmodels.genmod.families.links": "glmkit.families.links",
    "statsmodels.iolib.summary": "glmkit.summary",
    "statsmodels.formula.api": "glmkit.formula_api",
    "statsmodels.base.elastic_net": "glmkit.regularized",
}

# A namespace module: every name of the statsmodels module, overridden by glmkit's where
# glmkit has it. ``import statsmodels.api as sm`` becomes ``import _sm_api as sm``.
SHIM = '''"""Generated: {sm} with the names {gk} also has taken from {gk}."""
import importlib as _il

_sm = _il.import_module("{sm}")
_gk = _il.import_module("{gk}")
for _name in dir(_sm):
    if not _name.startswith("__"):
        globals()[_name] = getattr(_sm, _name)
for _name in getattr(_gk, "__all__", [n for n in dir(_gk) if not n.startswith("_")]):
    globals()[_name] = getattr(_gk, _name)
'''

SHIMS = {"statsmodels.api": "_sm_api", "statsmodels.formula.api": "_sm_formula_api"}

# Collects one outcome per test (the worst phase wins) into the file named by the env var.
CONFTEST = '''
import json, os

# statsmodels runs its tests with its own conftest (markers, close_figures, ...): so do we.
pytest_plugins = ["statsmodels.conftest"]

_OUT = {}
_MSG = {}
_RANK = {"passed": 0, "skipped": 1, "xfailed": 1, "xpassed": 2, "failed": 3}


def pytest_runtest_logreport(report):
    if report.when == "call" or report.outcome != "passed":
        if hasattr(report, "wasxfail"):
            outcome = "xfailed" if report.skipped else "xpassed"
        else:
            outcome = report.outcome
        old = _OUT.get(report.nodeid)
        if old is None or _RANK[outcome] > _RANK[old]:
            _OUT[report.nodeid] = outcome
            crash = getattr(report.longrepr, "reprcrash", None)
            if outcome == "failed" and crash is not None:
                _MSG[report.nodeid] = crash.message.splitlines()[0][:300] if crash.message else ""


def pytest_sessionfinish(session, exitstatus):
    with open(os.environ["GLMKIT_SM_SUITE_OUT"], "w") as f:
        json.dump(_OUT, f)
    with open(os.environ["GLMKIT_SM_SUITE_OUT"] + ".msg", "w") as f:
        json.dump(_MSG, f)
'''


def _glmkit_names(module: str) -> set[str]:
    import importlib

    mod = importlib.import_module(module)
    return set(getattr(mod, "__all__", ())) | {n for n in dir(mod) if not n.startswith("_")}


def _rewrite_from(match: re.Match, module_map: dict[str, str] | None = None) -> str:
    indent, module, names = match.group(1), match.group(2), match.group(3)
    if module in SHIMS:
        return f"{indent}from {SHIMS[module]} import {names}"
    target = (module_map or MODULE_MAP).get(module)
    if target is None:
        return match.group(0)
    parts = [p.strip() for p in names.strip("() \n").split(",") if p.strip()]
    have = _glmkit_names(target)
    ours = [p for p in parts if p.split(" as ")[0].strip() in have]
    theirs = [p for p in parts if p not in ours]
    lines = []
    if ours:
        lines.append(f"{indent}from {target} import {', '.join(ours)}")
    if theirs:
        lines.append(f"{indent}from {module} import {', '.join(theirs)}")
    return "\n".join(lines)


def rewrite_imports(source: str, module_map: dict[str, str] | None = None) -> str:
    """Swap statsmodels imports for glmkit's where glmkit has the name; nothing else.
    ``module_map`` (default ``MODULE_MAP``): statsmodels module -> glmkit module."""
    from_re = re.compile(r"^([ \t]*)from\s+(statsmodels[\w.]*)\s+import\s+(\([^)]*\)|[^\n]+)$",
                         re.M)
    source = from_re.sub(lambda m: _rewrite_from(m, module_map), source)
    for module, shim in SHIMS.items():
        source = re.sub(rf"^([ \t]*)import {re.escape(module)} as (\w+)",
                        rf"\1import {shim} as \2", source, flags=re.M)
    return source


def build_suite(dest: Path) -> Path:
    import statsmodels.genmod.tests as smtests

    src = Path(smtests.__file__).resolve().parent
    pkg = dest / PACKAGE
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    shutil.copytree(src / "results", pkg / "results",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in TEST_FILES:
        (pkg / name).write_text(rewrite_imports((src / name).read_text()))
    for module, shim in SHIMS.items():
        gk = MODULE_MAP[module]
        (dest / f"{shim}.py").write_text(SHIM.format(sm=module, gk=gk))
    (dest / "conftest.py").write_text(CONFTEST)
    (dest / "pytest.ini").write_text("[pytest]\n")
    return pkg


def read_expected() -> dict[str, str]:
    """nodeid -> reason, from lines ``<nodeid> | <reason>`` (``#`` starts a comment)."""
    out = {}
    for raw in EXPECTED.read_text().splitlines():
        line = raw.split("#", 1)[0].strip() if raw.lstrip().startswith("#") else raw.strip()
        if not line:
            continue
        nodeid, _, reason = line.partition(" | ")
        if not reason.strip():
            raise ValueError(f"expected_failures.txt: no reason on line {raw!r}")
        out[nodeid.strip()] = reason.strip()
    return out


def run_suite(tmp: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Build the suite in ``tmp`` and run it: (nodeid -> outcome, nodeid -> failure line)."""
    build_suite(tmp)
    out = tmp / "outcomes.json"
    import glmkit

    env = dict(os.environ)
    glmkit_root = str(Path(glmkit.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([glmkit_root, str(tmp)]
                                        + [p for p in [env.get("PYTHONPATH")] if p])
    env["GLMKIT_SM_SUITE_OUT"] = str(out)
    env.setdefault("MPLBACKEND", "Agg")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-header",
           "-o", "addopts=", "--rootdir", str(tmp), "-W", "ignore::DeprecationWarning",
           PACKAGE]
    proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=900)
    (tmp / "pytest.log").write_text(proc.stdout + proc.stderr)
    if not out.exists():
        raise RuntimeError("statsmodels' suite did not run:\n" + proc.stdout[-3000:]
                           + proc.stderr[-3000:])
    outcomes = json.loads(out.read_text())
    messages = json.loads(Path(str(out) + ".msg").read_text())
    strip = PACKAGE + "/"
    return ({k.removeprefix(strip): v for k, v in outcomes.items()},
            {k.removeprefix(strip): v for k, v in messages.items()})


def test_statsmodels_glm_suite(tmp_path):
    statsmodels = pytest.importorskip("statsmodels", reason="statsmodels is not installed: "
                                      "its GLM test suite cannot be run against glmkit")
    outcomes, messages = run_suite(tmp_path)
    expected = read_expected()
    failed = {k for k, v in outcomes.items() if v == "failed"}
    counts = {o: sum(v == o for v in outcomes.values())
              for o in ("passed", "failed", "skipped", "xfailed", "xpassed")}
    print(f"\nstatsmodels {statsmodels.__version__} GLM suite against glmkit: "
          f"{len(outcomes)} tests, {counts}; "
          f"{len(expected)} expected failures. Log: {tmp_path / 'pytest.log'}")
    unexpected = sorted(failed - set(expected))
    now_pass = sorted(k for k in expected if outcomes.get(k) in ("passed", "xpassed"))
    missing = sorted(k for k in expected if k not in outcomes)
    msg = []
    if unexpected:
        msg.append(f"{len(unexpected)} failing tests not in expected_failures.txt:\n  "
                   + "\n  ".join(f"{k}: {messages.get(k, '')[:160]}" for k in unexpected))
    if now_pass:
        msg.append(f"{len(now_pass)} tests in expected_failures.txt now pass (remove them):\n  "
                   + "\n  ".join(now_pass))
    if missing:
        msg.append(f"{len(missing)} tests in expected_failures.txt were not run:\n  "
                   + "\n  ".join(missing))
    assert not msg, (f"statsmodels {statsmodels.__version__} (the list was made with "
                     f"{LIST_VERSION}):\n" + "\n".join(msg))

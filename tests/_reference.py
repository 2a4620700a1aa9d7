"""Shared helpers of the R reference tests: reading a case and building its family.

The reference JSON files name R's family and link (see tests/reference/*/README.md).
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import glmkit.api as sm

#: R's link names -> glmkit link classes
LINKS = {
    "identity": "Identity",
    "log": "Log",
    "logit": "Logit",
    "probit": "Probit",
    "cloglog": "CLogLog",
    "cauchit": "Cauchy",
    "sqrt": "Sqrt",
    "inverse": "InversePower",
    "inverse_squared": "InverseSquared",
}


@lru_cache(maxsize=None)
def load_ref(ref_dir: Path, case: str) -> dict:
    with open(ref_dir / f"ref_{case}.json", encoding="utf-8") as fh:
        return json.load(fh)


def make_family(spec: dict):
    """The glmkit family of a reference file's family spec."""
    link = getattr(sm.families.links, LINKS[spec["link"]])()
    name = spec["name"]
    simple = {"gaussian": sm.families.Gaussian, "binomial": sm.families.Binomial,
              "poisson": sm.families.Poisson, "gamma": sm.families.Gamma,
              "inverse_gaussian": sm.families.InverseGaussian}
    if name in simple:
        return simple[name](link=link)
    if name == "tweedie":
        return sm.families.Tweedie(var_power=spec["var_power"], link=link)
    if name == "negative_binomial":
        return sm.families.NegativeBinomial(alpha=1.0 / spec["theta"], link=link)
    raise ValueError(f"unknown family in reference file: {name!r}")

"""Data and R reference values of tests/reference/models (made by make_reference.R)."""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pandas as pd

REF_DIR = Path(__file__).parent / "reference" / "models"

HOUSING_LEVELS = {"Sat": ["Low", "Medium", "High"], "Infl": ["Low", "Medium", "High"],
                  "Type": ["Tower", "Apartment", "Atrium", "Terrace"], "Cont": ["Low", "High"]}


@cache
def reference() -> dict:
    with open(REF_DIR / "ref_models.json", encoding="utf-8") as fh:
        return json.load(fh)


def sim() -> pd.DataFrame:
    d = pd.read_csv(REF_DIR / "data_sim.csv")
    d["o"] = pd.Categorical(d["o"], categories=["none", "low", "some", "many"], ordered=True)
    return d


def housing() -> pd.DataFrame:
    h = pd.read_csv(REF_DIR / "data_housing.csv")
    for col, levels in HOUSING_LEVELS.items():
        h[col] = pd.Categorical(h[col], categories=levels, ordered=col == "Sat")
    return h


NEW = pd.DataFrame({"x1": [-1.0, 0.0, 1.5], "x2": [0.0, 1.0, -0.5], "g": ["a", "b", "c"]})

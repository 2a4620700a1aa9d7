"""Small data sets bundled with glmkit."""
from __future__ import annotations

from importlib import resources

import pandas as pd


def load_scotland() -> pd.DataFrame:
    """Scottish parliament vote (1997): share voting YES and council-level covariates.

    32 rows; response ``YES``; covariates COUTAX, UNEMPF, MOR, ACT, GDP, AGE,
    COUTAX_FEMALEUNEMP. The classic Gamma GLM example of statsmodels' documentation.
    """
    with resources.files(__package__).joinpath("scotland.csv").open("r") as fh:
        return pd.read_csv(fh)

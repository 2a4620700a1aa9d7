"""Coefficient-indexed values labelled as the user's data were: pandas in, pandas out."""
from __future__ import annotations

import numpy as np
import pandas as pd


class CoefficientLabels:
    """Mixed into the results classes (fitted, and loaded without rows): needs ``model``
    with ``data.is_pandas`` and ``exog_names``."""

    def _params_like(self, a: np.ndarray):
        if self.model.data.is_pandas:
            return pd.Series(a, index=self.model.exog_names, name=None)
        return a

    def _matrix_like(self, a: np.ndarray):
        if self.model.data.is_pandas:
            names = self.model.exog_names
            return pd.DataFrame(a, index=names, columns=names)
        return a

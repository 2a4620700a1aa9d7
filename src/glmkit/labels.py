"""Coefficient-indexed values labelled as the user's data were: pandas in, pandas out."""
from __future__ import annotations

import numpy as np
import pandas as pd


class CoefficientLabels:
    """Mixed into the results classes (fitted, and loaded without rows): needs ``model``
    with ``data.is_pandas`` and ``exog_names``."""

    def _names_index(self) -> pd.Index:
        """The coefficient names as one pandas Index, made once (pandas' string Index of a
        few hundred names costs ~6 ms to build; a summary labels a dozen vectors). Kept
        in the instance's dict, as a cached property would be (results are frozen)."""
        names = self.model.exog_names
        cached = self.__dict__.get("_coef_index")
        if cached is None or cached[0] != tuple(names):
            cached = (tuple(names), pd.Index(names))
            self.__dict__["_coef_index"] = cached
        return cached[1]

    def _params_like(self, a: np.ndarray):
        if self.model.data.is_pandas:
            return pd.Series(a, index=self._names_index(), name=None)
        return a

    def _matrix_like(self, a: np.ndarray):
        if self.model.data.is_pandas:
            names = self._names_index()
            return pd.DataFrame(a, index=names, columns=names)
        return a

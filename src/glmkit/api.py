"""statsmodels-shaped namespace: ``import glmkit.api as sm`` works like statsmodels.api."""
from types import SimpleNamespace

from . import families
from ._data import add_constant
from .model import GLM
from .models import (
    MNLogit, OrderedModel, ZeroInflatedNegativeBinomialP, ZeroInflatedPoisson,
)
from .loading import load

#: statsmodels.api's ``genmod`` package, for its GLM names: ``sm.genmod.families.Poisson()``.
genmod = SimpleNamespace(families=families, GLM=GLM)

__all__ = ["GLM", "MNLogit", "OrderedModel", "ZeroInflatedPoisson", "ZeroInflatedNegativeBinomialP",
           "families", "add_constant", "load", "genmod"]

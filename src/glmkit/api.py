"""statsmodels-shaped namespace: ``import glmkit.api as sm`` works like statsmodels.api."""
from . import families
from ._data import add_constant
from .model import GLM
from .models import MNLogit, OrderedModel
from .persistence import load

__all__ = ["GLM", "MNLogit", "OrderedModel", "families", "add_constant", "load"]

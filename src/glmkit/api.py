"""statsmodels-shaped namespace: ``import glmkit.api as sm`` works like statsmodels.api."""
from . import families
from ._data import add_constant
from .model import GLM
from .persistence import load

__all__ = ["GLM", "families", "add_constant", "load"]

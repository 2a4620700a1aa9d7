"""glmkit: generalized linear models with statsmodels' interface and R's numbers.

>>> import glmkit.api as sm
>>> res = sm.GLM(y, sm.add_constant(X), family=sm.families.Poisson()).fit()
"""
from . import families
from ._data import add_constant
from .exceptions import (
    AliasedColumnsWarning,
    ConvergenceWarning,
    DomainWarning,
    MissingDataError,
    PerfectSeparationWarning,
)
from .anova import anova
from .inference import lr_test
from .model import GLM
from .results import GLMResults

__version__ = "0.1.0"

__all__ = [
    "GLM", "GLMResults", "anova", "lr_test", "families", "add_constant", "ConvergenceWarning",
    "PerfectSeparationWarning", "AliasedColumnsWarning", "MissingDataError", "DomainWarning",
    "__version__",
]

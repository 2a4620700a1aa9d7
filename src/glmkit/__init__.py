"""glmkit: generalized linear models with statsmodels' interface and R's numbers.

>>> import glmkit.api as sm
>>> res = sm.GLM(y, sm.add_constant(X), family=sm.families.Poisson()).fit()
>>> res = glmkit.glm("y ~ C(region) + np.log(age)", df, family=sm.families.Poisson()).fit()
>>> res.save("model.glmkit"); res = glmkit.load("model.glmkit")
"""
from . import families
from ._data import add_constant
from .exceptions import (
    AliasedColumnsWarning,
    ConvergenceWarning,
    DomainWarning,
    HessianInversionWarning,
    MissingDataError,
    ModelFileError,
    ModelVersionError,
    ModelWarning,
    PerfectSeparationWarning,
    SpecificationWarning,
    ValueWarning,
)
from .anova import anova
from .bootstrap import bootstrap
from . import checks
from .crossval import cross_validate
from .grouped import glm_by
from .inference import lr_test
from .formula_api import glm, glm_nb
from .model import GLM
from .models import (
    CountModelResults, MNLogit, MNLogitResults, OrderedModel, OrderedResults, brant, hurdle,
    multinom, polr, vuong, zeroinfl,
)
from .negbin import anova_nb
from .selection import add1, drop1, step
from .tweedie import tweedie_profile
from .loading import load
from .results import GLMResults

from ._version import __version__

__all__ = [
    "GLM", "GLMResults", "glm", "glm_by", "bootstrap", "cross_validate", "checks", "multinom",
    "polr", "MNLogit", "OrderedModel", "zeroinfl", "hurdle", "CountModelResults", "vuong", "brant",
    "MNLogitResults", "OrderedResults", "glm_nb", "anova_nb", "drop1", "add1", "step", "tweedie_profile",
    "load", "anova", "lr_test", "families", "add_constant",
    "ConvergenceWarning", "PerfectSeparationWarning", "AliasedColumnsWarning", "MissingDataError",
    "DomainWarning", "ModelFileError", "ModelVersionError", "ModelWarning", "ValueWarning",
    "SpecificationWarning", "HessianInversionWarning", "__version__",
]

"""statsmodels.formula.api-shaped namespace: ``import glmkit.formula_api as smf``.

>>> res = smf.glm("y ~ C(g) + np.log(x)", data, family=glmkit.families.Poisson()).fit()
"""
from .formula import glm

__all__ = ["glm"]

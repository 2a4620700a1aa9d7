"""Families (what is fitted): each Family has-a Link and has-a VarianceFunction.

Used as in statsmodels: ``families.Poisson(link=families.links.Log())``.
"""
from . import links, varfuncs
from .family import (
    Binomial,
    Family,
    Gamma,
    Gaussian,
    InverseGaussian,
    LinkFamilyWarning,
    NegativeBinomial,
    Poisson,
    Tweedie,
)
from .quasi import QuasiBinomial, QuasiPoisson

__all__ = [
    "links", "varfuncs", "Family", "Gaussian", "Binomial", "Poisson", "Gamma",
    "InverseGaussian", "NegativeBinomial", "Tweedie", "QuasiPoisson", "QuasiBinomial",
    "LinkFamilyWarning",
]

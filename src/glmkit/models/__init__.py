"""Likelihood models beyond one response distribution (issue 15): multinomial logit and
ordinal regression, fitted by Newton's method with the convergence certificate of the GLM
(sqrt(delta' H delta) < 1e-8 for the Newton step delta from the answer)."""
from .brant import brant
from .multinomial import MNLogit, multinom
from .multinomial_results import MNLogitResults
from .ordinal import OrderedModel, polr
from .ordinal_results import OrderedResults
from .vuong import vuong
from .zeroinfl import hurdle, zeroinfl
from .zeroinfl_results import CountModelResults
from .zeroinfl_sm import (
    ZeroInflatedNegativeBinomialP,
    ZeroInflatedPoisson,
    ZeroInflatedResults,
)

__all__ = ["CountModelResults", "MNLogit", "MNLogitResults", "OrderedModel", "OrderedResults", "ZeroInflatedNegativeBinomialP", "ZeroInflatedPoisson", "ZeroInflatedResults", "brant", "hurdle", "multinom", "polr", "vuong", "zeroinfl"]

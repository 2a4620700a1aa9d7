"""Likelihood models beyond one response distribution (issue 15): multinomial logit and
ordinal regression, fitted by Newton's method with the convergence certificate of the GLM
(sqrt(delta' H delta) < 1e-8 for the Newton step delta from the answer)."""
from .multinomial import MNLogit, multinom
from .multinomial_results import MNLogitResults
from .ordinal import OrderedModel, polr
from .ordinal_results import OrderedResults
from .zeroinfl import hurdle, zeroinfl
from .zeroinfl_results import CountModelResults
from .vuong import vuong
from .brant import brant
from .zeroinfl_sm import ZeroInflatedNegativeBinomialP, ZeroInflatedPoisson, ZeroInflatedResults

__all__ = ["ZeroInflatedNegativeBinomialP", "ZeroInflatedPoisson", "ZeroInflatedResults", "brant", "CountModelResults", "hurdle", "vuong", "zeroinfl", "MNLogit", "MNLogitResults", "OrderedModel", "OrderedResults", "multinom", "polr"]

"""Warnings and errors glmkit raises; results record the warnings too.

The warning classes statsmodels' users filter on keep statsmodels' names and hierarchy
(``statsmodels.tools.sm_exceptions``): every model warning derives from
:class:`ModelWarning`, itself a ``UserWarning``, so ``warnings.simplefilter("ignore",
ModelWarning)`` silences them all as it does in statsmodels.
"""


class ModelWarning(UserWarning):
    """Base class of glmkit's model warnings (statsmodels' name), for filtering them at once."""


class ConvergenceWarning(ModelWarning):
    """The solver stopped before meeting its tolerance."""


class PerfectSeparationWarning(ModelWarning):
    """Fitted probabilities (or rates) reached 0 or 1: perfect or quasi-complete separation."""


class AliasedColumnsWarning(ModelWarning):
    """Some design columns are linear combinations of earlier ones; their coefficients are NaN."""


class DomainWarning(ModelWarning):
    """A requested combination may leave a family's domain."""


class ValueWarning(ModelWarning):
    """A value was not given and a default was used, or a value is out of its usual range
    (statsmodels' name: e.g. ``NegativeBinomial()`` without ``alpha``)."""


class SpecificationWarning(ModelWarning):
    """A model specification that works but may not mean what was intended."""


class HessianInversionWarning(ModelWarning):
    """The Hessian could not be inverted: no standard errors from it."""


class IterationLimitWarning(ModelWarning):
    """An iteration limit was reached (statsmodels' name)."""


class EstimationWarning(ModelWarning):
    """An unexpected condition during estimation (statsmodels' name)."""


class MissingDataError(ValueError):
    """Missing values were found and ``missing='raise'`` was asked for."""


class PerfectSeparationError(ValueError):
    """Perfect separation where it cannot be only a warning (statsmodels' name)."""


class ModelFileError(ValueError):
    """A file given to :func:`glmkit.load` is not a glmkit model file, or is damaged."""


class ModelVersionError(ModelFileError):
    """A model file was written by another glmkit version (or file format version)."""

"""Warnings and errors glmkit raises; results record the warnings too."""


class ConvergenceWarning(UserWarning):
    """The solver stopped before meeting its tolerance."""


class PerfectSeparationWarning(UserWarning):
    """Fitted probabilities (or rates) reached 0 or 1: perfect or quasi-complete separation."""


class AliasedColumnsWarning(UserWarning):
    """Some design columns are linear combinations of earlier ones; their coefficients are NaN."""


class MissingDataError(ValueError):
    """Missing values were found and ``missing='raise'`` was asked for."""


class DomainWarning(UserWarning):
    """A requested combination may leave a family's domain."""


class ModelFileError(ValueError):
    """A file given to :func:`glmkit.load` is not a glmkit model file, or is damaged."""


class ModelVersionError(ModelFileError):
    """A model file was written by another glmkit version (or file format version)."""

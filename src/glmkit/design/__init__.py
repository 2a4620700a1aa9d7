"""Design matrices (where the numbers live): the protocol and its implementations."""
from .base import DesignMatrix
from .dense import DenseDesign

__all__ = ["DesignMatrix", "DenseDesign", "as_design"]


def as_design(X) -> DesignMatrix:
    """Wrap an array (or pass a DesignMatrix through)."""
    if isinstance(X, DesignMatrix):
        return X
    return DenseDesign(X)

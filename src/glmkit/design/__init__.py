"""Design matrices (where the numbers live): the protocol and its implementations."""
from scipy import sparse as _sparse

from .base import DesignMatrix
from .categorical import CategoricalDesign
from .dense import DenseDesign
from .sparse import SparseDesign
from .split import SplitDesign

__all__ = ["DesignMatrix", "DenseDesign", "SparseDesign", "CategoricalDesign", "SplitDesign",
           "as_design"]


def as_design(X) -> DesignMatrix:
    """Wrap an array or a scipy sparse matrix (a DesignMatrix passes through)."""
    if isinstance(X, DesignMatrix):
        return X
    if _sparse.issparse(X):
        return SparseDesign(X)
    return DenseDesign(X)

"""scikit-learn estimators on glmkit's engine (``pip install 'glmkit[sklearn]'``).

:class:`GLMRegressor`, :class:`GLMClassifier` (``_estimators.py``: conventions there) and
:class:`GLMRegressorCV`, :class:`GLMClassifierCV` (``_cv.py``: the penalty chosen by
cross-validated deviance over the path).
"""
from ._cv import GLMClassifierCV, GLMRegressorCV
from ._estimators import GLMClassifier, GLMRegressor

__all__ = ["GLMClassifier", "GLMClassifierCV", "GLMRegressor", "GLMRegressorCV"]

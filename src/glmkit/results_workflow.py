"""The results' shortcuts to the rest of the workflow: ``res.plot()``, ``res.to_html()``,
``res.drop1()``, ``res.add1()``, ``res.step()``, ``res.bootstrap()``, ``res.checks()``,
``res.to_onnx()``.

Each is the module-level function of the same name with the results as first argument; the
modules are imported when called (matplotlib only for a picture).
"""
from __future__ import annotations

from typing import Any


class WorkflowMethods:
    """Mixed into the results classes; every method delegates."""

    def plot(self, kind: str = "diagnostics", **kwargs: Any):
        """A picture of the fit: ``kind`` 'diagnostics' (R's ``plot(glm)`` panels),
        'halfnormal', 'calibration', 'rootogram', 'influence', 'added_variable',
        'partial_residuals' (see :mod:`glmkit.plotting`). Returns the matplotlib Figure."""
        self._in_memory_only("res.plot()", "pictures of every row (matplotlib)")
        from .plotting import plot
        return plot(self, kind, **kwargs)

    def plot_influence(self, id_n: int = 3, ax=None):
        """Residuals against leverage, point areas by Cook's distance (car's
        ``influencePlot``; statsmodels' ``get_influence().plot_influence()``)."""
        self._in_memory_only("res.plot_influence()", "pictures of every row (matplotlib)")
        from .plotting import plot_influence
        return plot_influence(self, id_n=id_n, ax=ax)

    def to_html(self, path=None, title: str | None = None, alpha: float = 0.05,
                plots: bool = True) -> str:
        """A self-contained HTML report (:func:`glmkit.report.to_html`); written to
        ``path`` too when one is given."""
        self._in_memory_only("res.to_html()", "the report draws every row; use summary()")
        from .report import to_html
        html = to_html(self, title=title, alpha=alpha, plots=plots)
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(html)
        return html

    def drop1(self, scope=None, test: str | None = None, k: float = 2.0):
        """R's ``drop1(fit)``: see :func:`glmkit.drop1`."""
        self._in_memory_only("drop1", "each candidate model is refitted in memory")
        from .selection import drop1
        return drop1(self, scope=scope, test=test, k=k)

    def add1(self, scope, test: str | None = None, k: float = 2.0, data=None):
        """R's ``add1(fit, scope)``: see :func:`glmkit.add1`."""
        self._in_memory_only("add1", "each candidate model is refitted in memory")
        from .selection import add1
        return add1(self, scope, test=test, k=k, data=data)

    def step(self, scope=None, direction: str = "both", k: float = 2.0, **kwargs: Any):
        """R's ``step(fit)``: see :func:`glmkit.step`."""
        self._in_memory_only("step", "each candidate model is refitted in memory")
        from .selection import step
        return step(self, scope=scope, direction=direction, k=k, **kwargs)

    def bootstrap(self, n_boot: int = 1000, method: str = "pairs", seed=None, **kwargs: Any):
        """Bootstrap replicates of the coefficients: see :func:`glmkit.bootstrap`."""
        self._in_memory_only("bootstrap", "the replicates are refitted in memory")
        from .bootstrap import bootstrap
        return bootstrap(self, n_boot=n_boot, method=method, seed=seed, **kwargs)

    def checks(self, endog=None, exog=None, offset=None, exposure=None):
        """Model checks (Brier score, AUC, Hosmer-Lemeshow, dispersion test, rootogram,
        D^2, ...) on the fit's rows or on new ``endog`` / ``exog``: a
        :class:`glmkit.checks.ModelChecks`."""
        if endog is None:
            self._in_memory_only("checks()", "the checks read every row; pass new endog/exog")
        from .checks import ModelChecks
        return ModelChecks(self, endog, exog, offset, exposure)

    def to_onnx(self, path=None, offset: bool | None = None):
        """The prediction as an ONNX model (inputs X and offset; outputs mu and eta);
        needs ``pip install 'glmkit[onnx]'``. See :func:`glmkit.export_onnx.to_onnx`."""
        from .export_onnx import to_onnx
        return to_onnx(self, path, offset)

"""Text and HTML summary tables in statsmodels' layout."""
from __future__ import annotations

import datetime as _dt
import html

import numpy as np

_WIDTH = 78


def _fmt(x: float, width: int = 10) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "nan".rjust(width)
    ax = abs(x)
    if ax != 0 and (ax < 1e-3 or ax >= 1e6):
        return f"{x:.3e}".rjust(width)
    return f"{x:.4f}".rjust(width)


def _sig(x: float) -> str:
    return "nan" if np.isnan(x) else f"{x:.5g}"


class Summary:
    """A fitted model's summary: ``str()``/``as_text()`` and ``as_html()``."""

    def __init__(self, res, yname=None, xname=None, title=None, alpha=0.05):
        self.res = res
        self.yname = yname or res.model.endog_names
        self.xname = list(xname) if xname is not None else res.model.exog_names
        if len(self.xname) != len(np.asarray(res._params)):
            raise ValueError("xname must have one name per coefficient.")
        self.title = title or "Generalized Linear Model Regression Results"
        self.alpha = alpha
        self.now = _dt.datetime.now()
        #: Notes above the fit's warnings (statsmodels' name): the constraints of
        #: fit_constrained results.
        self.extra_txt: list[str] = []
        lc = getattr(res, "constraints", None)
        if lc is not None:
            self.extra_txt.append("Model has been estimated subject to linear equality "
                                  "constraints: " + "; ".join(str(lc).splitlines()) + ".")

    def _header_pairs(self):
        r = self.res
        link = type(r.family.link).__name__
        left = [
            ("Dep. Variable:", str(self.yname)),
            ("Model:", "GLM"),
            ("Model Family:", r.family.name),
            ("Link Function:", link),
            ("Method:", r.method),
            ("Date:", self.now.strftime("%a, %d %b %Y")),
            ("Time:", self.now.strftime("%H:%M:%S")),
            ("No. Iterations:", str(r.n_iter)),
            ("Covariance Type:", r.cov_type),
        ]
        right = [
            ("No. Observations:", str(r.nobs)),
            ("Df Residuals:", f"{r.df_resid:g}"),
            ("Df Model:", f"{r.df_model:g}"),
            ("Scale:", _sig(r.scale)),
            ("Log-Likelihood:", _sig(r.llf)),
            ("Deviance:", _sig(r.deviance)),
            ("Pearson chi2:", f"{r.pearson_chi2:.3g}"),
            ("AIC:", _sig(r.aic)),
            ("Pseudo R-squ. (CS):", _sig(r.pseudo_rsquared("cs"))),
        ]
        return left, right

    def _coef_rows(self):
        r = self.res
        ci = np.asarray(r.conf_int(self.alpha))
        params, bse = np.asarray(r._params), np.asarray(r._bse)
        t, p = np.asarray(r.tvalues, dtype=float), np.asarray(r.pvalues, dtype=float)
        return [(n, params[i], bse[i], t[i], p[i], ci[i, 0], ci[i, 1])
                for i, n in enumerate(self.xname)]

    def as_text(self) -> str:
        left, right = self._header_pairs()
        half = _WIDTH // 2
        lines = [self.title.center(_WIDTH), "=" * _WIDTH]
        for (lk, lv), (rk, rv) in zip(left, right):
            lines.append(f"{lk:<18}{lv:>{half - 20}}  {rk:<20}{rv:>{half - 20}}")
        stat = "t" if self.res.use_t else "z"
        lo, hi = f"[{self.alpha / 2:.3f}", f"{1 - self.alpha / 2:.3f}]"
        namew = max(12, max(len(n) for n in self.xname) + 2)
        width = namew + 6 * 11
        lines.append("=" * width)
        lines.append(" " * namew + "".join(h.rjust(11) for h in
                                          ("coef", "std err", stat, f"P>|{stat}|", lo, hi)))
        lines.append("-" * width)
        for name, *vals in self._coef_rows():
            lines.append(name.ljust(namew) + "".join(" " + _fmt(v) for v in vals))
        lines.append("=" * width)
        notes = self.extra_txt + list(self.res.fit_warnings)
        if notes:
            lines.append("Notes:")
            lines.extend(f"[{i + 1}] {msg}" for i, msg in enumerate(notes))
        return "\n".join(lines)

    def as_html(self) -> str:
        left, right = self._header_pairs()
        rows = "".join(
            f"<tr><th>{html.escape(lk)}</th><td>{html.escape(lv)}</td>"
            f"<th>{html.escape(rk)}</th><td>{html.escape(rv)}</td></tr>"
            for (lk, lv), (rk, rv) in zip(left, right))
        stat = "t" if self.res.use_t else "z"
        head = "".join(f"<th>{h}</th>" for h in
                       ("", "coef", "std err", stat, f"P&gt;|{stat}|",
                        f"[{self.alpha / 2:.3f}", f"{1 - self.alpha / 2:.3f}]"))
        body = "".join(
            "<tr><th>" + html.escape(name) + "</th>" + "".join(f"<td>{_fmt(v).strip()}</td>" for v in vals)
            + "</tr>" for name, *vals in self._coef_rows())
        return (f"<table class=\"simpletable\"><caption>{html.escape(self.title)}</caption>{rows}"
                f"</table><table class=\"simpletable\"><tr>{head}</tr>{body}</table>")

    def _repr_html_(self) -> str:
        return self.as_html()

    def __str__(self) -> str:
        return self.as_text()

    __repr__ = __str__

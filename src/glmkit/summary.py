"""The ``summary()`` of GLM results: text, HTML, LaTeX and CSV in statsmodels' layout."""
from __future__ import annotations

import datetime as _dt
import html

import numpy as np

from .tables import SimpleTable, latex_escape

_WIDTH = 78


def _family_notes(res) -> list[str]:
    """The family's own parameters, which the header's family name does not show."""
    fam = res.family
    theta = getattr(res, "theta", None)
    if theta is not None:   # glm_nb: theta estimated (MASS's summary lines)
        return [f"Theta: {theta:.5g}, Std. Err.: {res.theta_se:.5g} (estimated by maximum "
                f"likelihood; alpha = 1/theta = {1.0 / theta:.5g}); 2 x log-likelihood: "
                f"{2.0 * res.llf:.3f}."]
    name = type(fam).__name__
    if name == "NegativeBinomial":
        return [f"NegativeBinomial alpha = {fam.alpha:.5g} (theta = {1.0 / fam.alpha:.5g}), "
                "fixed, not estimated."]
    if name == "Tweedie":
        return [f"Tweedie var_power = {fam.var_power:.5g}" + (
            " (extended quasi-likelihood)." if getattr(fam, "eql", False) else ".")]
    return []


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
    """A fitted model's summary, shaped like statsmodels' ``iolib.summary.Summary``.

    Parameters
    ----------
    res : GLMResults
        The fitted results.
    yname : str, optional
        Name of the response; default the model's ``endog_names``.
    xname : list of str, optional
        One name per coefficient; default the model's ``exog_names``.
    title : str, optional
        Default "Generalized Linear Model Regression Results".
    alpha : float
        Level of the confidence intervals (``1 - alpha`` coverage).

    Attributes
    ----------
    tables : list of SimpleTable
        The model table (four columns: label, value, label, value) and the coefficient
        table (headers coef, std err, z or t, P>|z| or P>|t|, and the interval bounds).
    extra_txt : list of str or None
        Notes written below the tables: the fit's warnings and what ``add_extra_txt`` adds.
    """

    def __init__(self, res, yname=None, xname=None, title=None, alpha=0.05):
        self.res = res
        self.yname = yname or res.model.endog_names
        self.xname = list(xname) if xname is not None else res.model.exog_names
        if len(self.xname) != len(np.asarray(res._params)):
            raise ValueError("xname must have one name per coefficient.")
        self.title = title or "Generalized Linear Model Regression Results"
        self.alpha = alpha
        self.now = _dt.datetime.now()
        # notes below the tables (statsmodels' extra_txt): the constraints of
        # fit_constrained results, then the fit's warnings; None when there are none
        notes = []
        lc = getattr(res, "constraints", None)
        if lc is not None:
            notes.append("Model has been estimated subject to linear equality "
                         "constraints: " + "; ".join(str(lc).splitlines()) + ".")
        notes += _family_notes(res)
        notes += list(res.fit_warnings)
        self.extra_txt: list[str] | None = notes or None
        left, right = self._header_pairs()
        # the coefficient rows formatted once, for the tables, the text and the HTML
        self._coef_text = [(name, [_fmt(v) for v in vals])
                           for name, *vals in self._coef_rows()]
        self.tables = [
            SimpleTable([[lk, lv, rk, rv] for (lk, lv), (rk, rv) in zip(left, right)],
                        title=self.title, align="l"),
            SimpleTable([[v.strip() for v in vals] for _, vals in self._coef_text],
                        headers=self._coef_headers(), stubs=self.xname),
        ]

    def add_extra_txt(self, etext) -> None:
        """Append lines of text below the tables (statsmodels' ``add_extra_txt``).

        Parameters
        ----------
        etext : list of str
            The lines to add.
        """
        lines = [str(t) for t in etext]
        self.extra_txt = (self.extra_txt or []) + lines

    def _coef_headers(self) -> list[str]:
        stat = "t" if self.res.use_t else "z"
        return ["coef", "std err", stat, f"P>|{stat}|", f"[{self.alpha / 2:.3f}",
                f"{1 - self.alpha / 2:.3f}]"]

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
        cols = [c.tolist() for c in (params, bse, t, p, ci[:, 0], ci[:, 1])]  # floats
        return [(n, *(c[i] for c in cols)) for i, n in enumerate(self.xname)]

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
        for name, vals in self._coef_text:
            lines.append(name.ljust(namew) + "".join(" " + v for v in vals))
        lines.append("=" * width)
        if self.extra_txt:
            lines.append("Notes:")
            lines.extend(f"[{i + 1}] {msg}" for i, msg in enumerate(self.extra_txt))
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
            "<tr><th>" + html.escape(name) + "</th>" + "".join(f"<td>{v.strip()}</td>" for v in vals)
            + "</tr>" for name, vals in self._coef_text)
        notes = "".join(f"<br/>[{i + 1}] {html.escape(m)}" for i, m in
                        enumerate(self.extra_txt or []))
        return (f"<table class=\"simpletable\"><caption>{html.escape(self.title)}</caption>{rows}"
                f"</table><table class=\"simpletable\"><tr>{head}</tr>{body}</table>"
                + (f"<br/>Notes:{notes}" if notes else ""))

    def as_latex(self) -> str:
        """The tables as LaTeX ``tabular`` environments in a ``table``, notes below."""
        tabs = "\n".join(t.as_latex_tabular() for t in self.tables)
        notes = "".join(f"\n[{i + 1}] {latex_escape(m)} \\newline"
                        for i, m in enumerate(self.extra_txt or []))
        return ("\\begin{table}\n\\caption{" + latex_escape(self.title) + "}\n\\centering\n"
                + tabs + "\n\\end{table}" + notes)

    def as_csv(self) -> str:
        """The tables as comma-separated values, one block per table."""
        return "\n\n".join(t.as_csv() for t in self.tables)

    def _repr_html_(self) -> str:
        return self.as_html()

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return str(type(self)) + '\n"""\n' + self.as_text() + '\n"""'

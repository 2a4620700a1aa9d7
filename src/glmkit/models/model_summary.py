"""statsmodels' Summary object for the models of this package (multinomial, ordinal,
zero-inflated, hurdle): a header table and one coefficient table per equation or part,
written as text, HTML, LaTeX or CSV with :class:`glmkit.tables.SimpleTable`, as the GLM's
:class:`glmkit.summary.Summary`."""
from __future__ import annotations

import datetime as _dt
import html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..summary import Summary, _fmt
from ..tables import SimpleTable

_WIDTH = 78
Pairs = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class CoefBlock:
    """One coefficient table: its title (an equation, a part) and the rows of
    ``table`` (columns coef, std err, z, P>|z|, lower, upper), indexed by name."""
    title: str
    table: pd.DataFrame


def header_pairs(res, method: str, model: str, extra_right: Pairs = ()) -> tuple[list, list]:
    """statsmodels' discrete-model header (left and right columns) from a results object
    with llf, llnull, nobs, df_resid, df_model, aic, converged, cov_type."""
    now = _dt.datetime.now()

    def g(x) -> str:
        return "nan" if x is None or not np.isfinite(x) else f"{x:.5g}"

    left = [("Dep. Variable:", str(res._endog_label())), ("Model:", model),
            ("Method:", method), ("Date:", now.strftime("%a, %d %b %Y")),
            ("Time:", now.strftime("%H:%M:%S")), ("converged:", str(bool(res.converged))),
            ("Covariance Type:", str(res.cov_type))]
    right = [("No. Observations:", f"{float(res.nobs):g}"),
             ("Df Residuals:", f"{float(res.df_resid):g}"),
             ("Df Model:", f"{float(res.df_model):g}"),
             ("Pseudo R-squ.:", g(res.prsquared)), ("Log-Likelihood:", g(res.llf)),
             ("LL-Null:", g(res.llnull)), ("LLR p-value:", g(res.llr_pvalue)),
             ("AIC:", g(res.aic))] + list(extra_right)
    while len(left) < len(right):
        left.append(("", ""))
    while len(right) < len(left):
        right.append(("", ""))
    return left, right


class ModelSummary(Summary):
    """A fitted model's summary, shaped like statsmodels' ``iolib.summary.Summary`` (a
    :class:`glmkit.summary.Summary`, built from a header and coefficient blocks rather than
    from GLM results).

    Attributes
    ----------
    tables : list of SimpleTable
        The model table (label, value, label, value), then one coefficient table per
        block (an equation of a multinomial logit, the count and zero parts, ...).
    extra_txt : list of str or None
        Notes below the tables (``add_extra_txt`` appends).
    """

    def __init__(self, title: str, left: Pairs, right: Pairs, blocks: Sequence[CoefBlock],
                 alpha: float = 0.05, notes: Sequence[str] = ()):
        self.title = title
        self.alpha = alpha
        self._pairs = list(zip(left, right))
        self._blocks = list(blocks)
        self.extra_txt: list[str] | None = list(notes) or None
        self.tables = [SimpleTable([[lk, lv, rk, rv] for (lk, lv), (rk, rv) in self._pairs],
                                   title=title, align="l")]
        for b in self._blocks:
            self.tables.append(SimpleTable(
                [[_fmt(float(v)).strip() for v in row] for row in b.table.to_numpy()],
                headers=self._headers(), stubs=[str(i) for i in b.table.index],
                title=b.title))

    def _headers(self) -> list[str]:
        a = self.alpha
        return ["coef", "std err", "z", "P>|z|", f"[{a / 2:.3f}", f"{1 - a / 2:.3f}]"]

    def add_extra_txt(self, etext) -> None:
        """Append lines of text below the tables (statsmodels' ``add_extra_txt``)."""
        self.extra_txt = (self.extra_txt or []) + [str(t) for t in etext]

    def as_text(self) -> str:
        half = _WIDTH // 2
        lines = [self.title.center(_WIDTH), "=" * _WIDTH]
        for (lk, lv), (rk, rv) in self._pairs:
            lines.append(f"{lk:<18}{lv:>{half - 20}}  {rk:<20}{rv:>{half - 20}}")
        for b in self._blocks:
            namew = max(12, len(b.title) + 2, *(len(str(i)) + 2 for i in b.table.index))
            width = namew + 6 * 11
            lines.append("=" * width)
            lines.append(b.title.ljust(namew) + "".join(h.rjust(11) for h in self._headers()))
            lines.append("-" * width)
            for name, row in zip(b.table.index, b.table.to_numpy()):
                lines.append(str(name).ljust(namew) + "".join(" " + _fmt(float(v))
                                                               for v in row))
        lines.append("=" * _WIDTH)
        if self.extra_txt:
            lines.append("Notes:")
            lines.extend(f"[{i + 1}] {m}" for i, m in enumerate(self.extra_txt))
        return "\n".join(lines)

    def as_html(self) -> str:
        rows = "".join(f"<tr><th>{html.escape(lk)}</th><td>{html.escape(lv)}</td>"
                       f"<th>{html.escape(rk)}</th><td>{html.escape(rv)}</td></tr>"
                       for (lk, lv), (rk, rv) in self._pairs)
        out = [(f'<table class="simpletable"><caption>{html.escape(self.title)}</caption>'
                f"{rows}</table>")]
        for b in self._blocks:
            head = "".join(f"<th>{html.escape(h)}</th>" for h in [b.title] + self._headers())
            body = "".join("<tr><th>" + html.escape(str(name)) + "</th>"
                           + "".join(f"<td>{_fmt(float(v)).strip()}</td>" for v in row)
                           + "</tr>" for name, row in zip(b.table.index, b.table.to_numpy()))
            out.append(f'<table class="simpletable"><tr>{head}</tr>{body}</table>')
        notes = "".join(f"<br/>[{i + 1}] {html.escape(m)}"
                        for i, m in enumerate(self.extra_txt or []))
        return "".join(out) + (f"<br/>Notes:{notes}" if notes else "")

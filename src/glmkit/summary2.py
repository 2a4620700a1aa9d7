"""``results.summary2()``: the summary as data frames, like statsmodels' ``iolib.summary2``.

:class:`Summary` keeps its tables as pandas DataFrames (``tables``), so the numbers can be
read back, and writes them as text, HTML or LaTeX. :func:`summary_model` and
:func:`summary_params` build the two tables of a GLM fit.
"""
from __future__ import annotations

import datetime as _dt
import textwrap

import numpy as np
import pandas as pd

from .tables import SimpleTable, latex_escape


def _cell(x, float_format: str) -> str:
    if isinstance(x, (float, np.floating)):
        return float_format % x
    return str(x)


class Summary:
    """Summary tables held as DataFrames (statsmodels' ``iolib.summary2.Summary``).

    Attributes
    ----------
    tables : list of DataFrame
        Tables added with :meth:`add_df`, :meth:`add_array` or :meth:`add_dict`.
    settings : list of dict
        How each table is written: ``index``, ``header``, ``float_format``, ``align``.
    extra_txt : list of str
        Notes written below the tables.
    title : str or None
        Title written above the tables.
    """

    def __init__(self):
        self.tables: list[pd.DataFrame] = []
        self.settings: list[dict] = []
        self.extra_txt: list[str] = []
        self.title: str | None = None

    def add_df(self, df: pd.DataFrame, index: bool = True, header: bool = True,
               float_format: str = "%.4f", align: str = "r") -> None:
        """Add a DataFrame as a table (row labels when ``index``, column labels when
        ``header``; floats written with ``float_format``)."""
        self.tables.append(df)
        self.settings.append({"index": index, "header": header,
                              "float_format": float_format, "align": align})

    def add_array(self, array, align: str = "r", float_format: str = "%.4f") -> None:
        """Add a 2-d array as a table without labels."""
        self.add_df(pd.DataFrame(array), index=False, header=False,
                    float_format=float_format, align=align)

    def add_dict(self, d: dict, ncols: int = 2, align: str = "l",
                 float_format: str = "%.4f") -> None:
        """Add key-value pairs as a table of ``ncols`` key-value column pairs."""
        pairs = [[_cell(k, float_format), _cell(v, float_format)] for k, v in d.items()]
        if len(pairs) % ncols:
            pairs += [["", ""]] * (ncols - len(pairs) % ncols)
        rows = len(pairs) // ncols
        data = [sum((pairs[c * rows + r] for c in range(ncols)), []) for r in range(rows)]
        self.add_array(np.array(data, dtype=object).reshape(rows, 2 * ncols), align=align)

    def add_text(self, string: str) -> None:
        """Append a note below the tables."""
        self.extra_txt.append(string)

    def add_title(self, title: str | None = None, results=None) -> None:
        """Set the title: ``title``, or "Results: Generalized linear model" from results."""
        if isinstance(title, str):
            self.title = title
        elif results is not None:
            self.title = "Results: Generalized linear model"
        else:
            self.title = ""

    def add_base(self, results, alpha: float = 0.05, float_format: str = "%.4f",
                 title: str | None = None, xname=None, yname=None) -> None:
        """Add the model table and the coefficient table of ``results``."""
        param = summary_params(results, alpha=alpha, use_t=results.use_t)
        info = summary_model(results)
        if xname is not None:
            param.index = list(xname)
        if yname is not None:
            info["Dependent Variable:"] = yname
        self.add_dict(info, align="l")
        self.add_df(param, float_format=float_format)
        self.add_title(title=title, results=results)

    def _simple_tables(self) -> list[SimpleTable]:
        out = []
        for df, st in zip(self.tables, self.settings):
            data = [[_cell(v, st["float_format"]) for v in row] for row in df.to_numpy()]
            headers = [str(c) for c in df.columns] if st["header"] else None
            stubs = [str(i) for i in df.index] if st["index"] else None
            out.append(SimpleTable(data, headers=headers, stubs=stubs, align=st["align"]))
        return out

    def as_text(self) -> str:
        """Text: the title, the tables between rules of '=', then the notes."""
        tabs = [t.as_text(sep="  ") for t in self._simple_tables()]
        widest = max((len(ln) for t in tabs for ln in t.splitlines()), default=0)
        rule = "=" * widest
        body = ("\n" + "-" * widest + "\n").join(tabs)
        title = (self.title or "").center(widest).rstrip()
        notes = "\n".join("\n".join(textwrap.wrap(x, widest) or [""]) for x in self.extra_txt)
        return f"{title}\n{rule}\n{body}\n{rule}\n{notes}"

    def as_html(self) -> str:
        """HTML tables, notes below."""
        tabs = "\n".join(t.as_html() for t in self._simple_tables())
        notes = "<br/>\n".join(x.replace("\n", "<br/>\n") for x in self.extra_txt)
        return f"{tabs}<br/>\n{notes}"

    def as_latex(self, label: str = "") -> str:
        """A LaTeX ``table`` with a caption, the label and one ``tabular`` per table."""
        caption = "\\caption{" + latex_escape(self.title or "") + "}"
        tabs = "\n\n".join(t.as_latex_tabular() for t in self._simple_tables())
        body = "\n".join(["\\begin{table}", caption, "\\label{" + label + "}", tabs,
                          "\\end{table}"])
        return body + "\n\\bigskip\n" + " \\newline \n".join(self.extra_txt)

    def _repr_html_(self) -> str:
        return self.as_html()

    def _repr_latex_(self) -> str:
        return self.as_latex()

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return str(type(self)) + '\n"""\n' + self.as_text() + '\n"""'


def summary_model(results) -> dict:
    """The model table of a GLM fit as an ordered dict of label -> formatted value."""
    info = {
        "Model:": "GLM",
        "Model Family:": type(results.family).__name__,
        "Link Function:": type(results.family.link).__name__,
        "Dependent Variable:": results.model.endog_names,
        "Date:": _dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "No. Observations:": f"{int(results.nobs):#6d}",
        "Df Model:": f"{int(results.df_model):#6d}",
        "Df Residuals:": f"{int(results.df_resid):#6d}",
        "Converged:": str(results.converged),
        "No. Iterations:": str(results.n_iter),
        "Method:": results.method,
    }
    for label, fmt, get in (("AIC:", "{:8.4f}", lambda r: r.aic),
                            ("BIC:", "{:8.4f}", lambda r: r.bic),
                            ("Log-Likelihood:", "{:#8.5g}", lambda r: r.llf),
                            ("LL-Null:", "{:#8.5g}", lambda r: r.llnull),
                            ("Deviance:", "{:#8.5g}", lambda r: r.deviance),
                            ("Pearson chi2:", "{:#6.3g}", lambda r: r.pearson_chi2),
                            ("Scale:", "{:#8.5g}", lambda r: r.scale)):
        try:
            info[label] = fmt.format(get(results))
        except (AttributeError, NotImplementedError, ValueError):
            pass   # e.g. a log-likelihood the family does not define
    return info


def summary_params(results, alpha: float = 0.05, use_t: bool | None = None) -> pd.DataFrame:
    """Coefficient table: Coef., Std.Err., t or z, P>|t| or P>|z| and the interval."""
    use_t = results.use_t if use_t is None else use_t
    stat = "t" if use_t else "z"
    data = np.column_stack([np.asarray(results.params, dtype=float),
                            np.asarray(results.bse, dtype=float),
                            np.asarray(results.tvalues, dtype=float),
                            np.asarray(results.pvalues, dtype=float),
                            np.asarray(results.conf_int(alpha), dtype=float)])
    columns = ["Coef.", "Std.Err.", stat, f"P>|{stat}|", f"[{alpha / 2}", f"{1 - alpha / 2}]"]
    return pd.DataFrame(data, index=list(results.model.exog_names), columns=columns)


def summary2(res, yname: str | None = None, xname: list[str] | None = None,
             title: str | None = None, alpha: float = 0.05, float_format: str = "%.4f"):
    """The summary of ``res`` with its tables as DataFrames (statsmodels' ``summary2``)."""
    smry = Summary()
    smry.add_base(results=res, alpha=alpha, float_format=float_format, xname=xname,
                  yname=yname, title=title)
    if getattr(res, "constraints", None) is not None:   # as statsmodels' summary2
        smry.add_text("Model has been estimated subject to linear equality constraints.")
    return smry

"""A small text table with the output methods of statsmodels' ``SimpleTable``.

:class:`SimpleTable` holds rows of already formatted strings, optional column headers and
row stubs, and writes them as text, HTML, LaTeX ``tabular`` or CSV. The summary objects of
:mod:`glmkit.summary` and :mod:`glmkit.summary2` are lists of these.
"""
from __future__ import annotations

import csv
import html
import io
from collections.abc import Sequence

_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                  "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                  "^": r"\textasciicircum{}"}


def latex_escape(text: str) -> str:
    """``text`` with LaTeX's special characters escaped."""
    return "".join(_LATEX_SPECIAL.get(c, c) for c in text)


class SimpleTable(list):
    """Rows of formatted cells with optional headers and stubs (statsmodels' ``SimpleTable``).

    Parameters
    ----------
    data : sequence of sequence of str
        The body: one sequence of cell strings per row.
    headers : sequence of str, optional
        Column headers (without the stub column's).
    stubs : sequence of str, optional
        One label per row, written in a first column.
    title : str, optional
        A caption written above the table.
    align : {"l", "r"}
        Alignment of the body's cells in text output; stubs are left-aligned.

    Notes
    -----
    The table is a list of its rows (stub first when there are stubs), as statsmodels'
    ``SimpleTable`` is, so ``len(table)`` and ``table[i]`` work.
    """

    def __init__(self, data: Sequence[Sequence[str]], headers: Sequence[str] | None = None,
                 stubs: Sequence[str] | None = None, title: str = "", align: str = "r"):
        self.data = [[str(c) for c in row] for row in data]
        self.headers = [str(h) for h in headers] if headers is not None else None
        self.stubs = [str(s) for s in stubs] if stubs is not None else None
        if self.stubs is not None and len(self.stubs) != len(self.data):
            raise ValueError("stubs must have one label per row.")
        self.title = title
        self.align = align
        super().__init__(self._full_rows(with_header=False))

    def _full_rows(self, with_header: bool = True) -> list[list[str]]:
        rows = []
        if with_header and self.headers is not None:
            rows.append(([""] if self.stubs is not None else []) + list(self.headers))
        for i, row in enumerate(self.data):
            rows.append(([self.stubs[i]] if self.stubs is not None else []) + row)
        return rows

    def _widths(self) -> list[int]:
        rows = self._full_rows()
        ncol = max((len(r) for r in rows), default=0)
        return [max((len(r[j]) for r in rows if j < len(r)), default=0) for j in range(ncol)]

    def as_text(self, sep: str = " ") -> str:
        """Fixed-width text: header, a rule, the rows."""
        widths = self._widths()
        has_stub = self.stubs is not None

        def line(row: list[str]) -> str:
            cells = []
            for j, c in enumerate(row):
                left = (j == 0 and has_stub) or self.align == "l"
                cells.append(c.ljust(widths[j]) if left else c.rjust(widths[j]))
            return sep.join(cells).rstrip()

        total = sum(widths) + len(sep) * max(len(widths) - 1, 0)
        out = [self.title.center(total)] if self.title else []
        if self.headers is not None:
            out.append(line(self._full_rows()[0]))
            out.append("-" * total)
        out.extend(line(r) for r in self._full_rows(with_header=False))
        return "\n".join(out)

    def as_html(self) -> str:
        """An HTML ``<table class="simpletable">``."""
        parts = ['<table class="simpletable">']
        if self.title:
            parts.append(f"<caption>{html.escape(self.title)}</caption>")
        if self.headers is not None:
            stub = "<th></th>" if self.stubs is not None else ""
            parts.append("<tr>" + stub + "".join(f"<th>{html.escape(h)}</th>"
                                                 for h in self.headers) + "</tr>")
        for i, row in enumerate(self.data):
            stub = (f"<th>{html.escape(self.stubs[i])}</th>" if self.stubs is not None else "")
            parts.append("<tr>" + stub + "".join(f"<td>{html.escape(c.strip())}</td>"
                                                 for c in row) + "</tr>")
        parts.append("</table>")
        return "\n".join(parts)

    def as_latex_tabular(self) -> str:
        """A LaTeX ``tabular`` environment (booktabs-free: ``\\hline`` rules)."""
        rows = self._full_rows()
        ncol = max((len(r) for r in rows), default=1)
        spec = ("l" if self.stubs is not None else "") + "r" * (ncol - (self.stubs is not None))
        out = [f"\\begin{{tabular}}{{{spec}}}", "\\hline"]
        if self.title:
            out.insert(0, f"\\textbf{{{latex_escape(self.title)}}} \\\\")
        for i, r in enumerate(rows):
            out.append(" & ".join(latex_escape(c.strip()) for c in r) + " \\\\")
            if i == 0 and self.headers is not None:
                out.append("\\hline")
        out += ["\\hline", "\\end{tabular}"]
        return "\n".join(out)

    def as_csv(self) -> str:
        """Comma-separated values, header row first."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        for r in self._full_rows():
            writer.writerow([c.strip() for c in r])
        return buf.getvalue().rstrip("\n")

    def __str__(self) -> str:
        return self.as_text()

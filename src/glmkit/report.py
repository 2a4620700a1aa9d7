"""A self-contained HTML report of a fitted GLM: ``glmkit.report.to_html(res)``.

One page, no network fetches (styles inline, pictures embedded as PNG data): the model,
coefficients with confidence intervals and, for log and logit links, exponentiated
effects (rate or odds ratios), fit statistics, the sequential analysis of deviance, the
diagnostic pictures when matplotlib is installed, and the fit's warnings with what to do
about each.
"""
from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import warnings

import numpy as np

from .families import links

__all__ = ["to_html"]

_CSS = """
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:2rem auto;
max-width:980px;color:#1d2330;line-height:1.45;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;
border-bottom:2px solid #e3e7ef;padding-bottom:.25rem}
.sub{color:#5b6476;margin-top:0}code{background:#f3f5f9;padding:.1rem .3rem;border-radius:3px}
table{border-collapse:collapse;margin:.5rem 0;font-size:.92rem}
th,td{padding:.3rem .7rem;text-align:right;border-bottom:1px solid #e8ebf1}
th{background:#f6f8fb;font-weight:600}td:first-child,th:first-child{text-align:left}
tr.sig td{background:#f4fbf5}.grid{display:grid;grid-template-columns:repeat(auto-fill,
minmax(210px,1fr));gap:.4rem 1.2rem}.stat{display:flex;justify-content:space-between;
border-bottom:1px dotted #d6dbe5}.stat span:last-child{font-variant-numeric:tabular-nums}
.warn{background:#fff7e6;border-left:4px solid #f0a020;padding:.6rem .9rem;margin:.5rem 0}
.ok{background:#eef8f0;border-left:4px solid #3a9d4f;padding:.6rem .9rem}
img{max-width:100%;border:1px solid #e3e7ef;margin:.4rem 0}.note{color:#5b6476;font-size:.85rem}
"""

#: What to do about each kind of warning a fit records.
_ADVICE = {
    "ConvergenceWarning": "Check the model (separation, a link that leaves the family's "
                          "range), raise maxiter, or give start_params from a simpler fit.",
    "PerfectSeparationWarning": "Some coefficients diverge: a predictor separates the "
                                "outcomes. Use fit(method='firth') for finite estimates, or "
                                "merge the separating levels.",
    "AliasedColumnsWarning": "Columns are linear combinations of others; drop them or "
                             "change the coding. Their coefficients are reported as NaN.",
    "DomainWarning": "The fit stopped at the edge of the family's range; try the family's "
                     "canonical link.",
}


def _num(x, digits: int = 4) -> str:
    if x is None:
        return ""
    x = float(x)
    if not np.isfinite(x):
        return "NaN" if np.isnan(x) else ("inf" if x > 0 else "-inf")
    ax = abs(x)
    if ax != 0 and (ax < 10 ** -(digits - 1) or ax >= 1e7):
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}f}"


def _p(x) -> str:
    x = float(x)
    return "NaN" if np.isnan(x) else ("&lt;1e-16" if x < 1e-16 else f"{x:.3g}")


def _table(header: list[str], rows: list[list[str]], classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{classes[i]}"' if classes and classes[i] else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _coefficients(res, alpha: float) -> str:
    names = list(res.model.exog_names)
    b, se = np.asarray(res.params, float), np.asarray(res.bse, float)
    t, p = np.asarray(res.tvalues, float), np.asarray(res.pvalues, float)
    ci = np.asarray(res.conf_int(alpha), float)
    link = res.family.link
    ratio = "rate ratio" if isinstance(link, links.Log) else (
        "odds ratio" if isinstance(link, links.Logit) else None)
    level = f"{100 * (1 - alpha):g}%"
    header = ["", "estimate", "std. error", "t" if res.use_t else "z", "p-value",
              f"{level} low", f"{level} high"]
    if ratio:
        header += [ratio, f"{level} low", f"{level} high"]
    rows, classes = [], []
    for j, name in enumerate(names):
        row = [f"<code>{html.escape(str(name))}</code>", _num(b[j]), _num(se[j]), _num(t[j], 3),
               _p(p[j]), _num(ci[j, 0]), _num(ci[j, 1])]
        if ratio:
            with np.errstate(over="ignore"):   # a diverging coefficient: its ratio is inf
                row += [_num(np.exp(b[j])), _num(np.exp(ci[j, 0])), _num(np.exp(ci[j, 1]))]
        rows.append(row)
        classes.append("sig" if p[j] < alpha else "")
    note = (f"<p class=note>Highlighted rows: p &lt; {alpha:g}. Tests use the "
            f"{'t distribution with ' + format(res.df_resid, 'g') + ' df' if res.use_t else 'normal distribution'}"
            f"; covariance: {html.escape(res.cov_type)}.</p>")
    return _table(header, rows, classes) + note


def _statistics(res) -> str:
    items = [("Observations", f"{res.nobs:d}"), ("Df residuals", f"{res.df_resid:g}"),
             ("Df model", f"{res.df_model:g}"), ("Dispersion (scale)", _num(res.scale)),
             ("Deviance", _num(res.deviance)), ("Null deviance", _num(res.null_deviance)),
             ("Pearson chi2", _num(res.pearson_chi2)), ("Log-likelihood", _num(res.llf)),
             ("AIC", _num(res.aic)), ("BIC", _num(res.bic)),
             ("Deviance explained", _num(1 - res.deviance / res.null_deviance, 3)
              if res.null_deviance > 0 else "NaN"),
             ("Iterations", f"{res.n_iter:d}")]
    theta = getattr(res, "theta", None)
    if theta is not None:
        items.append(("theta (NB)", f"{_num(theta)} (SE {_num(res.theta_se)})"))
    cells = "".join(f'<div class=stat><span>{html.escape(k)}</span><span>{v}</span></div>'
                    for k, v in items)
    return f"<div class=grid>{cells}</div>"


def _anova(res) -> str:
    from .anova import anova

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = anova(res, test="F" if res.family.has_free_scale else "Chisq")
    except Exception as exc:   # noqa: BLE001 - the report still shows the rest
        return f"<p class=note>The analysis of deviance could not be computed: {html.escape(str(exc))}</p>"
    header = [""] + [str(c) for c in table.columns]
    def cell(c, v):
        if not np.isfinite(v):
            return ""
        if str(c).startswith("Pr("):
            return _p(v)
        return f"{v:g}" if "Df" in str(c) else _num(v)

    rows = [[html.escape(str(idx))] + [cell(c, v) for c, v in zip(table.columns, row)]
            for idx, row in zip(table.index, table.to_numpy(float))]
    return _table(header, rows) + ("<p class=note>Terms added in order (R's anova.glm).</p>")


def _pictures(res) -> str:
    try:
        import matplotlib
    except ImportError:
        return ("<p class=note>Install matplotlib (<code>pip install 'glmkit[plot]'</code>) "
                "to see the diagnostic plots here.</p>")
    from . import plotting

    backend = matplotlib.get_backend()
    out = []
    try:
        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt

        figures = [plotting.plot_diagnostics(res)]
        if res.family.name == "Binomial":
            figures.append(plotting.plot_calibration(res))
        elif res.family.name in ("Poisson", "NegativeBinomial"):
            figures.append(plotting.plot_rootogram(res))
        for fig in figures:
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
            plt.close(fig)
            data = base64.b64encode(buf.getvalue()).decode("ascii")
            out.append(f'<img alt="diagnostic plot" src="data:image/png;base64,{data}">')
    finally:
        matplotlib.use(backend, force=True)
    return "".join(out)


def _overdispersion(res) -> str:
    """A note when a family with dispersion fixed at 1 shows Pearson chi2 / df well above 1
    (what a statistician checks before believing the standard errors)."""
    if res.family.has_free_scale or res.df_resid <= 0:
        return ""
    ratio = res.pearson_chi2 / res.df_resid
    if ratio < 1.5:
        return ""
    alt = ("families.QuasiPoisson() or glmkit.glm_nb(...)" if res.family.name == "Poisson"
           else "families.QuasiBinomial()" if res.family.name == "Binomial"
           else "a model with an estimated dispersion")
    return (f"<div class=warn><b>Overdispersion</b>: Pearson chi2 / df = {ratio:.3g} where "
            f"the {html.escape(res.family.name)} family assumes 1, so the standard errors are "
            f"too small by about a factor {np.sqrt(ratio):.2g}.<br><i>What to do:</i> "
            f"{html.escape(alt)}, or robust standard errors (cov_type='HC0').</div>")


def _warnings(res) -> str:
    notes = list(res.fit_warnings)
    over = _overdispersion(res)
    if not notes:
        return over or "<div class=ok>No warnings: the fit converged to the maximum.</div>"
    out = [over] if over else []
    for note in notes:
        kind, _, msg = note.partition(": ")
        advice = _ADVICE.get(kind, "")
        out.append(f"<div class=warn><b>{html.escape(kind)}</b>: {html.escape(msg)}"
                   + (f"<br><i>What to do:</i> {html.escape(advice)}" if advice else "")
                   + "</div>")
    return "".join(out)


def to_html(res, title: str | None = None, alpha: float = 0.05, plots: bool = True) -> str:
    """The report as one HTML document (a string); see the module notes."""
    fam, link = res.family.name, type(res.family.link).__name__
    formula = getattr(res.model.formula_info, "formula", None)
    title = title or (formula or f"GLM of {res.model.endog_names}")
    now = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    parts = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
        f"<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p class=sub>{html.escape(fam)} family, {html.escape(link)} link &middot; "
        f"method {html.escape(res.method)} &middot; {now} &middot; glmkit</p>",
        "<h2>Warnings</h2>", _warnings(res),
        "<h2>Coefficients</h2>", _coefficients(res, alpha),
        "<h2>Fit</h2>", _statistics(res),
    ]
    if formula is not None or res.model.terms is not None:
        parts += ["<h2>Analysis of deviance</h2>", _anova(res)]
    if plots:
        parts += ["<h2>Diagnostics</h2>", _pictures(res)]
    parts.append("</body></html>\n")
    return "\n".join(parts)

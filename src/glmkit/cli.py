"""The ``glmkit`` command: fit a GLM to a CSV or Parquet file, predict from a saved model.

::

    glmkit fit DATA --formula "y ~ C(region) + np.log(age)" --family poisson \\
        [--link log] [--offset COL | --exposure COL] [--weights COL] \\
        [--cov-type HC0 | --cluster COL] [--format text|json|html] [-o FILE] \\
        [--plot FILE] [--save MODEL]
    glmkit predict MODEL DATA [--se] [-o FILE]
    glmkit demo

``-o``/``--output`` names the file a command writes (stdout without it), in every command;
``--format`` says what ``fit`` writes (from the file's extension when not given). The
family ``negbin`` estimates theta by maximum likelihood (MASS's glm.nb);
``negative_binomial`` takes a fixed ``--alpha``.

Errors are one line on stderr (``glmkit: error: ...``) and exit code 1 (2 for a wrong
command line); warnings are one line each (``glmkit: warning: ...``). Set
``GLMKIT_DEBUG=1`` to get the Python traceback instead.

Reading the data (and the notes on memory) is :mod:`glmkit.cli_data`.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import warnings
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from .cli_data import (CLIError, check_file, csv_options, is_parquet, iter_data,
                       pyarrow_parquet, read_data)

FAMILIES = ("gaussian", "binomial", "poisson", "gamma", "inverse_gaussian",
            "negative_binomial", "negbin", "tweedie", "quasipoisson", "quasibinomial")
_FORMATS = ("text", "json", "html")
_COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3")
_FAMILY_ALIASES = {"normal": "gaussian", "inverse.gaussian": "inverse_gaussian",
                   "inversegaussian": "inverse_gaussian", "negativebinomial": "negative_binomial",
                   "nb": "negative_binomial", "quasi_poisson": "quasipoisson",
                   "quasi_binomial": "quasibinomial"}
LINKS = {"identity": "Identity", "log": "Log", "logit": "Logit", "probit": "Probit",
         "cloglog": "CLogLog", "loglog": "LogLog", "cauchit": "Cauchy", "logc": "LogC",
         "sqrt": "Sqrt", "inverse": "InversePower", "1/mu^2": "InverseSquared",
         "inverse_squared": "InverseSquared"}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"glmkit: error: {message} (see '{self.prog} --help')", file=sys.stderr)
        raise SystemExit(2)


# ------------------------------------------------------------------------ family
def make_family(name: str, link: str | None = None, alpha: float | None = None,
                var_power: float | None = None):
    from . import families

    key = name.lower().replace("-", "_")
    key = _FAMILY_ALIASES.get(key, key)
    if key not in FAMILIES:
        raise CLIError(f"unknown family {name!r}; choose one of {', '.join(FAMILIES)}.")
    link_obj = None
    if link is not None:
        lk = link.lower()
        if lk not in LINKS:
            raise CLIError(f"unknown link {link!r}; choose one of {', '.join(LINKS)}.")
        link_obj = getattr(families.links, LINKS[lk])()
    if alpha is not None and key != "negative_binomial":
        raise CLIError("--alpha is only used with --family negative_binomial (negbin "
                       "estimates it).")
    if var_power is not None and key != "tweedie":
        raise CLIError("--var-power is only used with --family tweedie.")
    if key == "negbin":   # theta estimated: the model is built on Poisson, see fit_file
        return families.Poisson(link_obj, check_link=False)
    if key == "negative_binomial":
        return families.NegativeBinomial(link_obj, alpha=1.0 if alpha is None else alpha)
    if key == "tweedie":
        if var_power is None:
            raise CLIError("--family tweedie needs --var-power (e.g. 1.5).")
        return families.Tweedie(link_obj, var_power=var_power)
    cls = {"gaussian": families.Gaussian, "binomial": families.Binomial,
           "poisson": families.Poisson, "gamma": families.Gamma,
           "inverse_gaussian": families.InverseGaussian, "quasipoisson": families.QuasiPoisson,
           "quasibinomial": families.QuasiBinomial}[key]
    return cls(link_obj)


# ---------------------------------------------------------------------------- fit
def _header(path: str) -> list[str] | None:
    """The file's column names (for a formula with R's '.')."""
    check_file(path, "DATA")
    if is_parquet(path):
        return list(pyarrow_parquet().read_schema(path).names)
    return [str(c) for c in pd.read_csv(path, nrows=0, **csv_options(path)).columns]


def _fit_columns(args: argparse.Namespace) -> list[str]:
    from .formula import formula_columns, uses_dot

    available = _header(args.data) if uses_dot(args.formula) else None
    cols = formula_columns(args.formula, available)
    for extra in (args.offset, args.exposure, args.weights, args.freq_weights, args.cluster):
        if extra is not None and extra not in cols:
            cols.append(extra)
    return cols


def fit_file(args: argparse.Namespace):
    """Read DATA and fit the formula; returns the results."""
    from .formula import model_from_formula
    from .model import GLM

    family = make_family(args.family, args.link, args.alpha, args.var_power)
    if args.offset is not None and args.exposure is not None:
        raise CLIError("give either --offset or --exposure, not both.")
    data = read_data(args.data, _fit_columns(args))
    try:
        model = model_from_formula(GLM, args.formula, data, family=family, offset=args.offset,
                                   exposure=args.exposure, var_weights=args.weights,
                                   freq_weights=args.freq_weights, missing=args.missing)
    except ValueError as exc:
        raise CLIError(str(exc).replace("pass missing='drop'", "use --missing drop")) from None
    groups = None if args.cluster is None else data[args.cluster].to_numpy()
    if groups is not None and model.n_dropped:
        raise CLIError("--cluster with rows dropped for missing values: drop them from the "
                       "file first, or use --missing none.")
    del data  # the model holds the design; the raw columns can go before the fit
    cov = {"cov_type": "cluster", "cov_kwds": {"groups": groups}} if groups is not None \
        else {"cov_type": args.cov_type}
    if _family_key(args.family) == "negbin":
        from .families import links
        from .negbin import fit_negbin

        link = model.family.link if args.link is not None else links.Log()
        return fit_negbin(model, link, **cov)
    return model.fit(**cov)


def _family_key(name: str) -> str:
    key = name.lower().replace("-", "_")
    return _FAMILY_ALIASES.get(key, key)


def _num(x: Any) -> Any:
    x = float(x)
    return x if math.isfinite(x) else None


def results_json(res, formula: str | None = None) -> dict[str, Any]:
    params = np.asarray(res.params, dtype=float)
    bse = np.asarray(res.bse, dtype=float)
    ci = np.asarray(res.conf_int(), dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = params / bse
    pv = np.asarray(res.pvalues, dtype=float)
    rows = [{"name": n, "coef": _num(params[i]), "std_err": _num(bse[i]),
             "statistic": _num(stat[i]), "p_value": _num(pv[i]),
             "ci_lower": _num(ci[i, 0]), "ci_upper": _num(ci[i, 1])}
            for i, n in enumerate(res.model.exog_names)]
    return {
        "formula": formula, "response": res.model.endog_names,
        "family": res.family.name, "link": type(res.family.link).__name__,
        "nobs": int(res.nobs), "n_dropped": int(getattr(res.model, "n_dropped", 0) or 0),
        "df_model": _num(res.df_model), "df_resid": _num(res.df_resid),
        "scale": _num(res.scale), "deviance": _num(res.deviance),
        "null_deviance": _num(res.null_deviance), "pearson_chi2": _num(res.pearson_chi2),
        "llf": _num(res.llf), "aic": _num(res.aic), "bic": _num(res.bic),
        "converged": bool(res.converged), "n_iter": int(res.n_iter), "method": res.method,
        "cov_type": res.cov_type, "statistic": "t" if res.use_t else "z",
        "warnings": list(res.fit_warnings), "params": rows,
    }


def _save_plot(res, path: str) -> None:
    """R's four diagnostic panels to an image file (format from its extension)."""
    try:
        import matplotlib
    except ImportError:
        raise CLIError("--plot needs matplotlib: pip install 'glmkit[plot]'") from None
    matplotlib.use("Agg")
    from .plotting import plot_diagnostics

    fig = plot_diagnostics(res)
    fig.savefig(path, dpi=110)
    print(f"glmkit: wrote the diagnostic plots to {path}", file=sys.stderr)


def _output_format(args: argparse.Namespace) -> tuple[str, str | None]:
    """(format, file or None): ``--format``, else the extension of ``-o FILE``, else text.
    ``-o text|json|html`` (the old meaning of ``--output`` for fit) is read as a format."""
    path, fmt = args.output, args.format
    if path in _FORMATS and fmt is None:
        return path, None
    if fmt is None and path is not None:
        ext = os.path.splitext(path)[1].lower()
        fmt = {".json": "json", ".html": "html", ".htm": "html"}.get(ext, "text")
    return fmt or "text", path


def _cmd_fit(args: argparse.Namespace) -> int:
    fmt, path = _output_format(args)
    res = fit_file(args)
    n_dropped = int(getattr(res.model, "n_dropped", 0) or 0)
    if fmt == "json":
        text = json.dumps(results_json(res, args.formula), indent=2) + "\n"
    elif fmt == "html":
        from .report import to_html

        text = to_html(res, title=f"{args.formula}  ({os.path.basename(args.data)})")
    else:
        text = str(res.summary()) + "\n"
        theta = getattr(res, "theta", None)
        if theta is not None:
            text += f"theta (negative binomial): {theta:.6g}, SE {res.theta_se:.4g}\n"
        if n_dropped:
            text += f"({n_dropped} row(s) with missing values dropped)\n"
    if path is None:
        print(text, end="")
    else:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        print(f"glmkit: wrote {path}", file=sys.stderr)
    if args.plot:
        _save_plot(res, args.plot)
    if args.save:
        res.save(args.save, remove_data=not args.save_data)
        print(f"glmkit: saved the model to {args.save}", file=sys.stderr)
    return 0


# ------------------------------------------------------------------------ predict
def _predict_frame(res, chunk: pd.DataFrame, se: bool, which: str, alpha: float,
                   ids: list[str]) -> pd.DataFrame:
    name = "mean" if which == "mean" else "linear"
    out = pd.DataFrame({c: chunk[c].to_numpy() for c in ids}, index=chunk.index)
    if se:
        pr = res.get_prediction(chunk, which=which)
        ci = pr.conf_int(alpha=alpha)
        out[name] = np.asarray(pr.predicted)
        out[f"{name}_se"] = np.asarray(pr.se)
        out[f"{name}_ci_lower"] = ci[:, 0]
        out[f"{name}_ci_upper"] = ci[:, 1]
    else:
        out[name] = np.asarray(res.predict(chunk, which=which))
    return out


def _cmd_predict(args: argparse.Namespace) -> int:
    from .loading import load

    check_file(args.model, "MODEL")
    res = load(args.model)
    info = res.model.formula_info
    if info is None:
        raise CLIError(f"{args.model} was not fitted from a formula; 'glmkit predict' needs "
                       "a formula model (glmkit fit, or glmkit.glm(...) in Python).")
    if not 0 < args.alpha < 1:
        raise CLIError(f"--alpha must be in (0, 1), got {args.alpha}.")
    columns = list(dict.fromkeys(args.id + info.required_columns))
    out = sys.stdout if args.output in (None, "-") else None
    tmp = None
    if out is None:
        tmp = f"{args.output}.part"
        out = open(tmp, "w", newline="")
    try:
        first = True
        for chunk in iter_data(args.data, columns, args.chunksize):
            frame = _predict_frame(res, chunk, args.se, args.which, args.alpha, args.id)
            frame.to_csv(out, index=False, header=first)
            first = False
        if first:
            raise CLIError(f"{args.data} has no rows.")
    finally:
        if tmp is not None:
            out.close()
    if tmp is not None:
        if first:
            os.remove(tmp)
        else:
            os.replace(tmp, args.output)
    return 0


# --------------------------------------------------------------------------- demo
DEMO_FORMULA = "YES ~ COUTAX + UNEMPF + MOR + ACT + GDP + AGE + COUTAX_FEMALEUNEMP"


def _cmd_demo(args: argparse.Namespace) -> int:
    from importlib import resources

    ref = resources.files("glmkit.datasets").joinpath("scotland.csv")
    with resources.as_file(ref) as path:
        print("Scottish parliament vote, 1997: share voting YES ~ council covariates, "
              "Gamma GLM")
        ns = argparse.Namespace(data=str(path), formula=DEMO_FORMULA, family="gamma",
                                link=None, alpha=None, var_power=None, offset=None,
                                exposure=None, weights=None, freq_weights=None,
                                missing="drop", output=None, format="text", save=None,
                                save_data=False, cov_type="nonrobust", cluster=None, plot=None)
        code = _cmd_fit(ns)
        print(f"\nThe same from the shell:\n  glmkit fit {path} --family gamma "
              f"--formula \"{DEMO_FORMULA}\"")
    return code


# --------------------------------------------------------------------------- main
_FIT_EPILOG = """examples:
  glmkit fit claims.csv -f "n ~ C(region, Treatment('north')) * age" --family poisson \\
      --exposure years --save claims.glmkit
  glmkit fit trials.csv -f "cbind(success, fail) ~ dose + C(lab)" --family binomial \
      --format json
  glmkit fit data.parquet -f "y ~ np.log(x) + I(x**2)" --family gamma --link log \
      -o report.html --plot diagnostics.png
  glmkit fit counts.csv -f "y ~ x + C(g)" --family negbin --cluster site

formulas: R's syntax via formulaic: C(g) or factor(g) for categorical variables,
  a:b and a*b interactions, offset(...), cbind(s, f) responses, '.' for all other
  columns, backticks for names with spaces (`my col`).
CSV files: comma, semicolon (with decimal commas), tab or | separated, possibly
  .gz/.bz2/.xz compressed; empty cells and NA are missing values.
memory: DATA is read once, only the columns the formula and options name, text
  columns as categoricals; the design (rows x columns x 8 bytes) is built once and
  the raw columns are released before the fit.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="glmkit", description="Generalized linear models: fit a formula "
                     "to a CSV or Parquet file, predict from a saved model.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("fit", help="fit a GLM to a data file", description=(
        "Fit a GLM to DATA (CSV, or Parquet with pyarrow) and print its summary."),
        epilog=_FIT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", metavar="DATA", help="CSV or Parquet file")
    p.add_argument("--formula", "-f", required=True,
                   help="R-style formula, e.g. \"y ~ C(region, Treatment('b')) + np.log(x) + "
                        "offset(np.log(t))\"; cbind(s, f) ~ ... for a binomial")
    p.add_argument("--family", required=True, metavar="NAME",
                   help=f"one of {', '.join(FAMILIES)}")
    p.add_argument("--link", metavar="NAME", help=f"one of {', '.join(LINKS)} "
                   "(default: the family's canonical link)")
    p.add_argument("--alpha", type=float, help="negative_binomial: alpha (= 1/theta), default 1")
    p.add_argument("--var-power", type=float, help="tweedie: variance power (required)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--offset", metavar="COL", help="column added to the linear predictor")
    g.add_argument("--exposure", metavar="COL", help="column whose log is the offset "
                   "(log link)")
    p.add_argument("--weights", metavar="COL", help="prior (variance) weights, as R's "
                   "glm(weights=)")
    p.add_argument("--freq-weights", metavar="COL", help="frequency weights (row counts)")
    p.add_argument("--missing", choices=("drop", "none", "raise"), default="drop",
                   help="rows with missing values: drop them and say how many (default, "
                        "as R), or stop with an error")
    p.add_argument("--cov-type", choices=_COV_TYPES, default="nonrobust",
                   help="covariance of the coefficients (R's sandwich: HC0-HC3)")
    p.add_argument("--cluster", metavar="COL", help="cluster-robust covariance by the "
                   "groups in this column (sandwich::vcovCL)")
    p.add_argument("--format", choices=_FORMATS, help="what to write: text summary "
                   "(default), json, or a self-contained html report")
    p.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout "
                   "(the format from its extension unless --format is given)")
    p.add_argument("--plot", metavar="FILE", help="save R's four diagnostic plots to FILE "
                   "(.png, .pdf, .svg; needs matplotlib)")
    p.add_argument("--save", metavar="MODEL", help="save the fitted model to this file "
                   "(for glmkit predict, or glmkit.load in Python)")
    p.add_argument("--save-data", action="store_true",
                   help="keep the training rows in the saved model (default: left out)")
    p.set_defaults(func=_cmd_fit)

    p = sub.add_parser("predict", help="predict from a saved model", description=(
        "Predict from MODEL (saved by glmkit fit --save or results.save) for the rows of "
        "DATA; writes CSV."))
    p.add_argument("model", metavar="MODEL", help="saved model file")
    p.add_argument("data", metavar="DATA", help="CSV or Parquet file with the model's columns")
    p.add_argument("--se", action="store_true",
                   help="add standard errors and confidence intervals")
    p.add_argument("--which", choices=("mean", "linear"), default="mean",
                   help="predict the mean (default) or the linear predictor")
    p.add_argument("--alpha", type=float, default=0.05, help="1 - confidence level (0.05)")
    p.add_argument("--id", action="append", default=[], metavar="COL",
                   help="copy this column of DATA to the output (repeatable)")
    p.add_argument("--output", "-o", metavar="PATH", help="CSV file to write (default stdout)")
    p.add_argument("--chunksize", type=int, default=200_000, help="rows per chunk (200000)")
    p.set_defaults(func=_cmd_predict)

    p = sub.add_parser("demo", help="fit a Gamma GLM on the bundled Scottish vote data")
    p.set_defaults(func=_cmd_demo)
    return parser


def _one_line(exc: BaseException) -> str:
    from .formula import _ANSI

    text = " ".join(_ANSI.sub("", str(exc)).split())
    if isinstance(exc, (CLIError, ValueError, OSError, MemoryError)) and text:
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a command-line error (2), already printed
        return int(exc.code or 0)
    caught: list[warnings.WarningMessage] = []
    error, code = None, 1
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code = int(args.func(args))
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:  # e.g. glmkit predict ... | head
        code = 0
    except MemoryError as exc:
        error = (_one_line(exc) if str(exc) else "out of memory: the needed columns and the "
                 "design (rows x columns x 8 bytes) do not fit (see 'glmkit fit --help')")
    except Exception as exc:
        if os.environ.get("GLMKIT_DEBUG"):
            raise
        error = _one_line(exc)
    seen = set()
    for w in caught:
        msg = " ".join(str(w.message).split())
        if msg not in seen:
            seen.add(msg)
            print(f"glmkit: warning: {msg}", file=sys.stderr)
    if error is not None:
        print(f"glmkit: error: {error}", file=sys.stderr)
        code = 1
    return code


if __name__ == "__main__":
    sys.exit(main())

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

Memory
------
``glmkit fit`` reads the file once and only the columns it needs (those the formula and
the ``--offset``/``--exposure``/``--weights`` options name: ``usecols`` for CSV, column
projection for Parquet). Text columns are read straight into pandas categoricals (integer
codes and one copy of each level, not a Python string per row): the CSV reader is told
their dtype from a 1,000-row sample, Parquet text columns are read dictionary-encoded.
Parquet goes through pyarrow's ``to_pandas(self_destruct=True)``, which frees each Arrow
column once it is converted, so the file's data are not held twice. Numeric columns keep
their float64/int64 values (narrower types would change the fit). The formula interface
then fills the n x k float64 design column by column, once, the raw frame is released
before the fit, and the solver works on the design without copying it. The peak is about
the needed columns plus the design, not several copies of the file; data that do not fit
in memory once need the out-of-core engine (issue 5).

``glmkit predict`` streams: it reads the data in chunks of rows (``--chunksize``, CSV
chunks or Parquet record batches), predicts each chunk and appends it to the output, so
its memory does not grow with the file.
"""
from __future__ import annotations

import argparse
import csv
import bz2
import gzip
import json
import lzma
import math
import os
import re
import sys
import warnings
from collections.abc import Iterator
from typing import Any, NoReturn

import numpy as np
import pandas as pd

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
_SAMPLE_ROWS = 1000
_PARQUET_HINT = ("reading Parquet files needs pyarrow: pip install 'glmkit[parquet]' "
                 "(or pip install pyarrow)")


class CLIError(Exception):
    """An error to report as one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"glmkit: error: {message} (see '{self.prog} --help')", file=sys.stderr)
        raise SystemExit(2)


# -------------------------------------------------------------------- reading data
def _is_parquet(path: str) -> bool:
    if path.lower().endswith((".parquet", ".pq", ".parq")):
        return True
    with open(path, "rb") as fh:
        return fh.read(4) == b"PAR1"


def _check_file(path: str, what: str) -> None:
    if not os.path.exists(path):
        raise CLIError(f"{what} file {path!r} does not exist.")
    if os.path.isdir(path):
        raise CLIError(f"{what} {path!r} is a directory, not a file.")


_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_SPREADSHEETS = (".xlsx", ".xls", ".xlsm", ".ods", ".numbers")


def _head_lines(path: str, n: int = 21) -> list[str]:
    opener: Any = next((f for ext, f in _OPENERS.items() if path.lower().endswith(ext)), open)
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as fh:
            return [line for _, line in zip(range(n), fh)]
    except OSError:
        return []


def csv_options(path: str) -> dict[str, Any]:
    """Separator (and decimal mark) of a delimited text file: the candidate among
    , ; tab | that splits the first lines into the same number of fields; ';' files
    with numbers like 1,5 use the decimal comma (R's read.csv2)."""
    if path.lower().endswith(_SPREADSHEETS):
        raise CLIError(f"{path} looks like a spreadsheet; glmkit reads CSV and Parquet "
                       "files: save it as CSV first.")
    lines = [ln.rstrip("\r\n") for ln in _head_lines(path)]
    lines = [ln for ln in lines[:-1] or lines if ln.strip()]
    best, score = ",", 0
    for sep in (",", ";", "\t", "|"):
        counts = [ln.count(sep) for ln in lines]
        if counts and counts[0] > score and all(c == counts[0] for c in counts):
            best, score = sep, counts[0]
    body = "\n".join(lines[1:])
    decimal_comma = best == ";" and re.search(r"(^|;)\s*-?\d+,\d+\s*(?=;|$)", body, re.M)
    return {"sep": best, "decimal": "," if decimal_comma else "."}


def _check_row_lengths(path: str, opts: dict[str, Any]) -> None:
    """Every row has as many fields as the header. pandas fills a short row with missing
    values, and the fit would silently drop it (a ragged file once fitted 2 of its rows);
    an empty cell is written as an empty field, not as a missing one. One streaming pass
    with the csv module, quoted fields included; blank lines are skipped as pandas does."""
    opener: Any = next((f for ext, f in _OPENERS.items() if path.lower().endswith(ext)), open)
    with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as fh:
        rows = csv.reader(fh, delimiter=opts["sep"])
        header = next(rows, None)
        if header is None:
            return
        width = len(header)
        for line, row in enumerate(rows, start=2):
            if row and len(row) != width and any(f.strip() for f in row):
                raise CLIError(f"{path}: row {line} has {len(row)} field(s) but the header "
                               f"has {width}; the file is malformed (a missing or extra "
                               f"'{opts['sep']}', or an unclosed quote). Empty cells are "
                               "missing values; fields themselves must not be left out.")


def _check_columns(needed: list[str], available: list[str], path: str) -> None:
    lacking = [c for c in needed if c not in available]
    if lacking:
        shown = ", ".join(available[:20]) + (", ..." if len(available) > 20 else "")
        raise CLIError(f"{path} has no column(s) {', '.join(map(repr, lacking))} (its "
                       f"columns: {shown}).")


def _csv_text_columns(path: str, needed: list[str], opts: dict[str, Any]) -> list[str]:
    """Columns the first rows show as text (read as categoricals); checks they exist."""
    try:
        sample = pd.read_csv(path, nrows=_SAMPLE_ROWS, **opts)
    except pd.errors.EmptyDataError:
        raise CLIError(f"{path} is empty.") from None
    _check_columns(needed, [str(c) for c in sample.columns], path)
    return [c for c in needed if not (pd.api.types.is_numeric_dtype(sample[c].dtype)
                                      or pd.api.types.is_bool_dtype(sample[c].dtype))]


def _pyarrow_parquet():
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise CLIError(_PARQUET_HINT) from None
    return pq


def _parquet_columns(pq, path: str, needed: list[str]) -> list[str]:
    import pyarrow as pa

    schema = pq.read_schema(path)
    _check_columns(needed, list(schema.names), path)
    return [c for c in needed
            if pa.types.is_string(schema.field(c).type)
            or pa.types.is_large_string(schema.field(c).type)]


def _release_arrow_memory() -> None:
    """Give the memory Arrow's pool keeps after the conversion back to the system."""
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except (ImportError, AttributeError):  # pragma: no cover - old pyarrow
        pass


def read_data(path: str, columns: list[str]) -> pd.DataFrame:
    """Read only ``columns`` of a CSV or Parquet file, text as categoricals (see the
    module notes on memory)."""
    _check_file(path, "DATA")
    if _is_parquet(path):
        pq = _pyarrow_parquet()
        text = _parquet_columns(pq, path, columns)
        table = pq.read_table(path, columns=columns, read_dictionary=text)
        frame = table.to_pandas(self_destruct=True, split_blocks=True)
        del table
        _release_arrow_memory()
        # dictionary order is the order of first appearance; levels sort as R's factor()
        return frame.assign(**{c: frame[c].cat.reorder_categories(
            sorted(frame[c].cat.categories)) for c in text})
    opts = csv_options(path)
    _check_row_lengths(path, opts)
    text = _csv_text_columns(path, columns, opts)
    frame = pd.read_csv(path, usecols=columns, dtype={c: "category" for c in text}, **opts)
    _check_numeric(frame, [c for c in columns if c not in text], path)
    return frame


def _check_numeric(frame: pd.DataFrame, columns: list[str], path: str) -> None:
    """Columns numeric in the first rows must stay numeric: one stray word ('n/a') would
    otherwise turn a number column into a categorical variable with a level per value."""
    for c in columns:
        col = frame[c]
        if pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
            continue
        bad = col[pd.to_numeric(col, errors="coerce").isna() & col.notna()]
        where = f"row {bad.index[0] + 2} of the file" if len(bad) else "a row"
        value = bad.iloc[0] if len(bad) else "?"
        raise CLIError(f"column {c!r} of {path} is numeric in its first {_SAMPLE_ROWS} rows but "
                       f"holds {value!r} at {where}; leave missing values empty (or NA) or "
                       "fix the value.")


def iter_data(path: str, columns: list[str], chunksize: int) -> Iterator[pd.DataFrame]:
    """``columns`` of a CSV or Parquet file in chunks of rows."""
    _check_file(path, "DATA")
    if _is_parquet(path):
        pq = _pyarrow_parquet()
        _parquet_columns(pq, path, columns)
        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunksize, columns=columns):
            yield batch.to_pandas()
        return
    opts = csv_options(path)
    _check_row_lengths(path, opts)
    _csv_text_columns(path, columns, opts)
    with pd.read_csv(path, usecols=columns, chunksize=chunksize, **opts) as reader:
        yield from reader


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
    _check_file(path, "DATA")
    if _is_parquet(path):
        return list(_pyarrow_parquet().read_schema(path).names)
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
    from .persistence import load

    _check_file(args.model, "MODEL")
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

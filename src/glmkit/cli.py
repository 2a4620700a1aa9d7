"""The ``glmkit`` command."""
from __future__ import annotations

import argparse
import sys


def _demo(args: argparse.Namespace) -> int:
    from . import api as sm
    from .datasets import load_scotland

    data = load_scotland()
    X = sm.add_constant(data.drop(columns="YES"))
    res = sm.GLM(data["YES"], X, family=sm.families.Gamma()).fit()
    print("Scottish parliament vote, 1997: share voting YES ~ council covariates, Gamma GLM")
    print(res.summary())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="glmkit", description="Generalized linear models.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="fit a Gamma GLM on the bundled Scottish vote data")
    p_demo.set_defaults(func=_demo)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (ValueError, TypeError, OSError) as exc:
        print(f"glmkit: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

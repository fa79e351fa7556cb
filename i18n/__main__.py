"""`python -m i18n update`: merge the code's messages into the catalogs; `check`: list what a
catalog lacks (exit status 1 if anything)."""

from __future__ import annotations

import argparse
import sys

from . import LANGUAGES, SOURCE
from .catalog import problems, update


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m i18n", description=__doc__)
    parser.add_argument("command", choices=("update", "check"))
    args = parser.parse_args(argv)
    if args.command == "update":
        for path in update():
            print(f"updated {path}")
        return 0
    missing = [f"{lang}: {p}" for lang in LANGUAGES if lang != SOURCE for p in problems(lang)]
    print("\n".join(missing) or "every message is translated")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())

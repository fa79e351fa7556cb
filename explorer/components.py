"""The page's custom components' sources: each module is explorer/payload.js then its own."""

from __future__ import annotations

from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent


@cache
def source(name: str) -> str:
    return (HERE / name).read_text()


def script(name: str) -> str:
    """A component's ES module: the shared payload reader and MLPs, then its own code."""
    return source("payload.js") + "\n" + source(name)

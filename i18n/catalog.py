"""The message catalogs from the code: extract every marked message with Babel, and merge them
into each language's .po file (`python -m i18n update`), where a new one waits, untranslated,
for its translation; `python -m i18n check` lists what is missing.

Messages are marked with `_()`, `ngettext()`, `N_()`, `lazy()` and `lazy_ngettext()` (see i18n) in the Python
code; the browser components' words are messages of explorer/words.py, sent with their data.
"""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from . import LANGUAGES, LOCALES, SOURCE, catalog_path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("explorer", "training", "vae_core", "i18n")  # and app.py
KEYWORDS = {"_": None, "N_": None, "lazy": None, "ngettext": (1, 2), "lazy_ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"\{(\w*)(?:[:!][^}]*)?\}")


def _sources():
    yield from extract_from_dir(
        ROOT,
        method_map=[("app.py", "python"), *((f"{p}/**.py", "python") for p in PACKAGES)],
        keywords=KEYWORDS,
        comment_tags=("TRANSLATORS:",),
        strip_comment_tags=True,
    )


def extract() -> Catalog:
    """Every message the code marks, with where it is used and its translators' comments."""
    template = Catalog(project="VAE latent explorer", fuzzy=False)
    for filename, lineno, message, comments, context in _sources():
        flags = ("python-brace-format",) if _placeholders(message) else ()
        template.add(
            message,
            locations=[(filename, lineno)],
            auto_comments=comments,
            context=context,
            flags=flags,
        )
    return template


def _placeholders(message) -> set[str]:
    parts = message if isinstance(message, (tuple, list)) else (message,)
    return {name for part in parts if part for name in PLACEHOLDER.findall(part)}


def read(language: str) -> Catalog:
    with catalog_path(language).open("rb") as po:
        return read_po(po, locale=LOCALES[language])


def update() -> list[Path]:
    """Each language's catalog merged with the code's messages; returns the files written."""
    template = extract()
    written = []
    for language in LANGUAGES:
        if language == SOURCE:
            continue
        path = catalog_path(language)
        if path.exists():
            catalog = read(language)
        else:
            catalog = Catalog(locale=LOCALES[language], project=template.project)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.fuzzy = False  # the header is ours, not a guess: a fuzzy one would be dropped
        catalog.copyright_holder = "the VAE latent explorer's authors"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as po:
            write_po(po, catalog, width=100, omit_header=False, ignore_obsolete=True)
        written.append(path)
    return written


def problems(language: str) -> list[str]:
    """What keeps the catalog from covering the code: messages missing, untranslated, fuzzy,
    or translated with other placeholders than their English."""
    catalog = read(language)
    found = []
    for message in extract():
        if not message.id:  # the header
            continue
        entry = catalog.get(message.id, message.context)
        name = message.id if isinstance(message.id, str) else message.id[0]
        if entry is None:
            found.append(f"not in the catalog: {name!r} (run `python -m i18n update`)")
        elif entry.fuzzy:
            found.append(f"fuzzy: {name!r}")
        elif not entry.string or not all(_strings(entry)):
            found.append(f"untranslated: {name!r}")
        elif any(_placeholders(s) != _placeholders(entry.id) for s in _strings(entry)):
            found.append(f"placeholders differ from the English: {name!r}")
    return found


def _strings(entry) -> tuple[str, ...]:
    return tuple(entry.string) if isinstance(entry.string, (tuple, list)) else (entry.string,)

"""Every word the explorer shows, in English (the source) and in 简体中文.

The words are gettext messages: the code writes them in English inside `_()`, `ngettext()`,
`N_()` or `lazy()`, Babel extracts them (`python -m i18n update`), and each language's catalog
(i18n/locale/<locale>/LC_MESSAGES/messages.po) holds their translations. Placeholders are
named `{fields}` filled by `str.format`, so a translation may put them in any order.

Which language a message is shown in is asked of a resolver when it is shown: the page
registers one that reads the browser session's choice (explorer.language), and without one
everything is English. Code without a page (vae_core, training) raises and reports `lazy()`
messages, which are translated only when a page shows them, in that page's language: one
training watched by two pages reads in each page's own language.
"""

from __future__ import annotations

import functools
import gettext
import io
from collections.abc import Callable
from pathlib import Path

# The languages offered, by the code a link's `lang=` takes, with the name each has in itself.
LANGUAGES = {"en": "English", "zh": "中文"}
SOURCE = "en"  # the language the code is written in; it needs no catalog
# The CLDR locale of each language: its catalog's directory, and how it writes numbers.
LOCALES = {"en": "en", "zh": "zh_CN"}
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"

_resolver: Callable[[], str] = lambda: SOURCE  # noqa: E731 (replaced by `use`)


def use(resolver: Callable[[], str]) -> None:
    """Let `resolver()` say which language to show messages in from now on."""
    global _resolver
    _resolver = resolver


def current() -> str:
    """The language messages are shown in now (a key of LANGUAGES)."""
    language = _resolver()
    return language if language in LANGUAGES else SOURCE


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / LOCALES[language] / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The language's catalog, compiled in memory from its .po file on first use (a few ms),
    so the repository holds no compiled file that could fall behind its source."""
    if language == SOURCE:
        return gettext.NullTranslations()
    # Babel only here: a training worker, which shows no words, never pays its import.
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with catalog_path(language).open("rb") as po:
        catalog = read_po(po, locale=LOCALES[language], domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)  # a fuzzy guess is never shown
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def _(message: str) -> str:
    """`message` in the current language."""
    return translations(current()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for `n`, in the current language (Chinese has one form)."""
    return translations(current()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks `message` for the catalog where it is defined (a constant, a table) and returns it
    unchanged; it is translated with `_()` where it is shown."""
    return message


def label_of(options, name: Callable[[object], str] = _) -> Callable[[object], str]:
    """A widget's `format_func`: each option's label, translated now, while the page runs (a
    widget may format its value again outside the run, where no language is known: AppTest
    does)."""
    return {option: name(option) for option in options}.__getitem__


class Deferred(str):
    """A message that must be a `str` where it is defined (a cached function's spinner, fixed
    at import before any session's language is known), translated whenever it is shown, which
    Streamlit does with `str()`."""

    def __str__(self) -> str:
        return _(str.__str__(self))


class Text:
    """A message translated when it is shown, in the language of whoever reads it.

    `str(text)` (and so an f-string, or `str(exc)` of an exception raised with one) gives it
    in the current language. It survives a trip through JSON between processes as
    `to_message()` / `from_message()`. With a `plural`, it is that message's singular or
    plural form for the field `n`.
    """

    __slots__ = ("message", "plural", "fields")

    def __init__(self, message: str, plural: str | None = None, /, **fields) -> None:
        self.message = message
        self.plural = plural
        self.fields = fields

    def __str__(self) -> str:
        shown = {k: str(v) if isinstance(v, Text) else v for k, v in self.fields.items()}
        if self.plural is None:
            return _(self.message).format(**shown)
        return ngettext(self.message, self.plural, self.fields["n"]).format(**shown)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __repr__(self) -> str:
        return f"Text({self.message!r}, **{self.fields!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Text):
            return (self.message, self.plural, self.fields) == (
                other.message,
                other.plural,
                other.fields,
            )
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.message)

    def to_message(self) -> dict:
        fields = {
            k: v.to_message() if isinstance(v, Text) else v if _plain(v) else str(v)
            for k, v in self.fields.items()
        }
        plural = {} if self.plural is None else {"plural": self.plural}
        return {"text": self.message, **plural, "fields": fields}

    @classmethod
    def from_message(cls, message) -> Text | str:
        """A message sent by `to_message()`; a plain string (an older worker's) as it is."""
        if not (isinstance(message, dict) and isinstance(message.get("text"), str)):
            return str(message)
        fields = {
            k: cls.from_message(v) if isinstance(v, dict) else v
            for k, v in dict(message.get("fields") or {}).items()
        }
        plural = message.get("plural")
        return cls(message["text"], plural if isinstance(plural, str) else None, **fields)


def _plain(value) -> bool:
    return isinstance(value, (str, int, float, bool)) or value is None


def lazy(message: str, **fields) -> Text:
    """`message` with its `{fields}`, translated when shown (see Text)."""
    return Text(message, **fields)


def lazy_ngettext(singular: str, plural: str, n: int, **fields) -> Text:
    """The form of the message for `n` (a field too), translated when shown (see Text)."""
    return Text(singular, plural, n=n, **fields)


def said(exc: BaseException) -> Text | str:
    """What an exception says: the message it was raised with if that is a Text (so shown in
    its reader's language), else its string."""
    message = exc.args[0] if len(exc.args) == 1 else None
    return message if isinstance(message, Text) else str(exc)


def message_of(value) -> dict | str:
    """What a process sends for a message or an exception: a Text as data, else its string."""
    if isinstance(value, BaseException):
        value = said(value)
    return value.to_message() if isinstance(value, Text) else str(value)


# How an example is called on the page (vae_core.datasets: "digit" for MNIST, else "image"):
# the word alone, its plural, and with its article, for messages' {noun}, {nouns}, {a_noun}.
NOUNS = {
    "digit": (N_("digit"), N_("digits"), N_("a digit")),
    "image": (N_("image"), N_("images"), N_("an image")),
}


def nouns(noun: str) -> dict[str, str]:
    """{"noun", "nouns", "a_noun"} for `noun` in the current language, for `.format(**...)`."""
    one, many, with_article = NOUNS.get(noun, NOUNS["image"])
    return {"noun": _(one), "nouns": _(many), "a_noun": _(with_article)}

"""The message catalogs and the messages translated when shown."""

import json

import pytest

import i18n
from i18n import N_, Text, _, catalog, lazy, message_of, ngettext, nouns


@pytest.fixture
def chinese():
    """Messages shown in Chinese for the test; English again after it."""
    i18n.use(lambda: "zh")
    yield
    i18n.use(lambda: i18n.SOURCE)


@pytest.mark.parametrize("language", [lang for lang in i18n.LANGUAGES if lang != i18n.SOURCE])
def test_every_message_of_the_code_is_translated(language):
    """Fails on a new English message without its translation, a fuzzy guess, or one whose
    {placeholders} differ from the English (run `python -m i18n update`, then translate)."""
    missing = catalog.problems(language)
    assert not missing, "\n".join(missing[:30])


def test_the_catalog_holds_no_message_the_code_no_longer_has():
    marked = {m.id for m in catalog.extract()}
    kept = {m.id for m in catalog.read("zh") if m.id}
    assert kept <= marked, sorted(str(k) for k in kept - marked)[:20]


def test_the_source_language_is_the_code_itself():
    assert _("Model") == "Model"
    assert ngettext("one model", "{n} models", 3) == "{n} models"
    assert nouns("digit") == {"noun": "digit", "nouns": "digits", "a_noun": "a digit"}
    assert nouns("image")["a_noun"] == "an image"


def test_chinese_reads_the_catalog(chinese):
    assert _("Model") == "模型"
    assert _("Latent plane") == "隐空间平面"
    assert nouns("digit")["noun"] == "数字"
    assert _("a message no catalog has") == "a message no catalog has"


def test_a_lazy_message_is_shown_in_the_readers_language(chinese):
    text = lazy(
        "Training {model} failed: {problem}. The page still shows the previous model.",
        model="VAE",
        problem=lazy("estimating…"),
    )
    chinese_text = str(text)
    i18n.use(lambda: "en")
    english = f"{text}"
    assert english == ("Training VAE failed: estimating…. The page still shows the previous model.")
    assert chinese_text != english and "VAE" in chinese_text


def test_a_message_survives_a_trip_between_processes():
    exc = ValueError(lazy("between {lo} and {hi}", lo=0, hi=lazy("a number")))
    sent = json.loads(json.dumps({"error": message_of(exc)}))["error"]
    received = Text.from_message(sent)
    assert received == exc.args[0] and str(received) == "between 0 and a number"
    assert message_of(OSError("disk full")) == "disk full"
    assert Text.from_message("an older worker's words") == "an older worker's words"


def test_N_marks_without_translating(chinese):
    assert N_("Model") == "Model"

"""The page in Chinese through AppTest: every tab, the switch, a link's `lang=`."""

import json
import re

import pytest
from google.protobuf.json_format import MessageToDict
from streamlit.testing.v1 import AppTest

import i18n
from explorer import language
from explorer.tabs import TABS
from tests.test_app import run_app

# Three English words in a row is a sentence (or its start) left untranslated. Notation,
# code, names and links are not sentences: they are taken out first.
SENTENCE = re.compile(r"[A-Za-z][a-z]+(?:[ -][A-Za-z][a-z]+){2,}")
NOT_SENTENCES = [
    re.compile(p)
    for p in (
        r"`[^`]*`",  # code: commands, file names, query keys
        r"\$[^$]*\$",  # maths
        r"https?://\S+",
        r"\[([^\]]*)\]\([^)]*\)",  # a link's target; its words are checked by the credits test
        r"(?s)<style>.*?</style>",
        r"<[^>]+>",  # HTML tags and attributes
        r"\b[\w.-]+\.(?:py|pt|txt|md|gz)\b",
    )
]
# Proper names and works cited by their titles stay as they are.
NAMES = re.compile(
    r"Fashion-MNIST|MNIST|Auto-Encoding Variational Bayes|Importance Weighted Autoencoders|"
    r"Learning Structured Output Representation using Deep Conditional Generative Models|"
    r"Semi-supervised Learning with Deep Generative Models|Sohn et al\.|Kingma|Welling|"
    r"Burda|Grosse|Salakhutdinov|Rezende|Mohamed|Wierstra|Jimenez|Stochastic Backpropagation"
)
# Fields of the page's messages that hold no words a person reads.
SKIP = {"id", "formId", "key", "bytes", "cssClass", "componentName", "type", "theme", "url"}
SKIP |= {"jsContent", "cssContent"}  # a component's source: its words come with its data


def strings(value, key: str = ""):
    """Every string in a proto's dict, JSON strings (a figure, a component's data) opened."""
    if key in SKIP:
        return
    if isinstance(value, dict):
        for k, v in value.items():
            yield from strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v, key)
    elif isinstance(value, str):
        if value[:1] in "{[":
            try:
                yield from strings(json.loads(value), key)
                return
            except ValueError:
                pass
        yield value


def nodes(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from nodes(child)


def english_sentences(at: AppTest) -> list[str]:
    found = []
    for node in nodes(at._tree):
        proto = getattr(node, "proto", None)
        if proto is None or not hasattr(proto, "DESCRIPTOR"):
            continue
        for text in strings(MessageToDict(proto)):
            for pattern in NOT_SENTENCES:
                text = pattern.sub(" ", text)
            text = NAMES.sub(" ", text)
            found += SENTENCE.findall(text)
    return found


@pytest.mark.parametrize(
    "tags, expected",
    [
        ("zh-CN", "zh"),
        ("zh-Hans-CN", "zh"),
        ("en-GB,en;q=0.9", "en"),
        ("fr-FR,fr;q=0.9,zh-TW;q=0.8,en;q=0.5", "zh"),
        ("fr-FR", None),
        ("", None),
        (None, None),
    ],
)
def test_the_browsers_preferred_language_is_the_first_one_offered(tags, expected):
    assert language.preferred(tags) == expected


@pytest.mark.slow
def test_every_tab_reads_in_chinese_without_an_english_sentence():
    at = run_app({"lang": "zh", "digit": "3"})
    assert at.session_state["lang"] == "zh"
    assert at.query_params["lang"] == "zh"
    labels = [t.label for t in at.tabs]
    assert labels[:2] == ["隐空间平面", "后验"] and "Posterior" not in labels
    for index in range(len(TABS)):
        at.session_state["tab"] = labels[index]
        at.run()
        assert not at.exception, (TABS[index], at.exception)
        left = english_sentences(at)
        assert not left, (TABS[index], left[:10])


@pytest.mark.slow
def test_switching_the_language_keeps_the_view():
    at = run_app({"z1": "1.25", "z2": "-0.5", "digit": "42"})
    assert at.session_state["lang"] == "en"
    at.session_state["tab"] = "Posterior"
    at.run()
    at.segmented_control(key="lang").set_value("zh").run()
    assert not at.exception, at.exception
    ss = at.session_state
    assert (ss["z1"], ss["z2"], ss["selected_row"]) == (1.25, -0.5, 42)
    assert ss["tab"] == "后验"  # the same tab, by its Chinese name
    assert [t.label for t in at.tabs][1] == "后验"
    assert at.query_params["lang"] == "zh" and at.query_params["digit"] == "42"
    assert at.sidebar.header[0].value == "模型"
    at.segmented_control(key="lang").set_value("en").run()
    assert at.session_state["tab"] == "Posterior" and at.sidebar.header[0].value == "Model"


def test_a_link_naming_a_language_not_offered_says_so_and_shows_english():
    at = run_app({"lang": "fr"})
    assert at.session_state["lang"] == i18n.SOURCE
    assert any("`lang` must be one of en, zh" in w.value for w in at.warning)

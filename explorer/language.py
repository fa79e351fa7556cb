"""The page's language: a link's `lang=`, else the browser's preferred language, else English;
then the sidebar's switch. The words themselves live in the i18n package's catalogs.

The choice is st.session_state["lang"] (a key of i18n.LANGUAGES). Switching reruns the page in
the other language and keeps the whole view: z, the selection, the model, and the open tab,
whose label (the tabs' state) is carried over to the same tab in the new language.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

import i18n
from i18n import _

from .tabs import TABS


def _session_language() -> str:
    """The resolver i18n asks: this session's language, English outside a page's run."""
    if get_script_run_ctx(suppress_warning=True) is None:
        return i18n.SOURCE
    return st.session_state.get("lang", i18n.SOURCE)


def install() -> None:
    """Show every message in the language of the session it is shown to."""
    i18n.use(_session_language)


def preferred(tags: str | None) -> str | None:
    """The first of i18n.LANGUAGES among `tags`, a browser's language or its Accept-Language
    header ("zh-CN,zh;q=0.9,en;q=0.8"), in the browser's order; None if it names none."""
    for tag in (tags or "").split(","):
        code = tag.split(";")[0].strip().lower().replace("_", "-").split("-")[0]
        if code in i18n.LANGUAGES:
            return code
    return None


def browser_language() -> str:
    """The browser's preferred language where we offer it, else English."""
    context = st.context
    return (
        preferred(context.locale)
        or preferred(context.headers.get("Accept-Language"))
        or i18n.SOURCE
    )


def tab_label(index: int) -> str:
    """The label of tab `index` in the current language."""
    return _(TABS[index])


def tab_index() -> int:
    """The open tab's index in TABS, its label in whichever language (the first until the page
    has drawn its tabs)."""
    tab = st.session_state.get("tab")
    for language in i18n.LANGUAGES:
        labels = [i18n.translations(language).gettext(t) for t in TABS]
        if tab in labels:
            return labels.index(tab)
    return 0


def _on_switch() -> None:
    """The open tab's label, carried to the same tab in the language just chosen."""
    if "tab" in st.session_state:
        st.session_state.tab = tab_label(tab_index())


def switch() -> None:
    """The sidebar's 中文 / English control."""
    st.segmented_control(
        _("Language"),
        list(i18n.LANGUAGES),
        format_func=i18n.LANGUAGES.__getitem__,
        key="lang",
        on_change=_on_switch,
        required=True,
        label_visibility="collapsed",
    )

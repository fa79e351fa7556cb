"""The outlier lens: the test images the model finds least likely, and where any image stands.

A VAE's −ELBO is an upper bound on −log p(x): high for images unlike the training data, so it
serves for anomaly detection. With a 2-D latent, exact −log p(x) is within reach too, and it
ranks the unusual images differently from the bound, since the gap KL(q(z|x) ‖ p(z|x)) varies
from image to image. A conditional VAE (Sohn et al. 2015) scores each image given its own
class: −log p(x|y), how unusual it is as a member of its class. Below, another dataset's test
images go through the model (explorer/ood_lens.py): does its likelihood tell them apart?
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from i18n import N_, Deferred, _, nouns
from vae_core import decode, exact_log_px

from .. import images, lenses, ood_lens, state
from ..lenses import lens_of, own_classes, percentile
from ..model_view import ModelView, Shown

CANDIDATES = 500  # images, least likely by −ELBO first, re-ranked by exact −log p(x)
EXACT_GRID = 400  # cells a side of the quadrature behind that ranking
GALLERY = 12
# The gallery's title, by what one image is called (an English plural made capital).
TITLES = {
    "digit": N_("Digits the model finds unusual"),
    "image": N_("Images the model finds unusual"),
}


def rankings(view: ModelView) -> dict[str, str]:
    """The rankings offered, by key, as the page names them."""
    px = "p(x|y)" if view.conditional else "p(x)"
    return {
        "elbo": _("−ELBO, all {count} test {nouns}").format(
            count=f"{len(view.labels):,}", **nouns(view.noun)
        ),
        "exact": _("exact −log {px}, among the {candidates} least likely by −ELBO").format(
            px=px, candidates=CANDIDATES
        ),
    }


@lens_of(show_spinner=Deferred(N_("Computing exact log p(x) by quadrature…")), max_entries=8)
def exact_ranking(shown: Shown) -> tuple[np.ndarray, np.ndarray]:
    """(rows, −log p(x)) of the CANDIDATES least likely images by −ELBO, by exact −log p(x)
    (a conditional model's −log p(x|y), given each image's own class)."""
    rows = np.argsort(-lenses.neg_elbo(shown))[:CANDIDATES]
    pixels = shown.view.images[rows]
    scores = -exact_log_px(shown.model, pixels, own_classes(shown, rows), n=EXACT_GRID)
    order = np.argsort(-scores)
    return rows[order], scores[order]


def least_likely(shown: Shown, ranking: str, k: int = GALLERY) -> list[tuple[int, float]]:
    """The k least likely test images as (row, score in nats), least likely first."""
    if ranking == "exact":
        rows, scores = exact_ranking(shown)
        return [(int(r), float(s)) for r, s in zip(rows[:k], scores[:k], strict=True)]
    scores = lenses.neg_elbo(shown)
    rows = np.argsort(-scores)[:k]
    return [(int(r), float(scores[r])) for r in rows]


MARK_COLOURS = ["#ef4444", "#16a34a"]  # the selected image, the drawing


def histogram(scores: np.ndarray, marks: list[tuple[float, str]], noun: str) -> go.Figure:
    """The test images' −ELBO, with a labelled line at each of `marks`: (value, label); `noun`
    is what one image is called."""
    tests = _("test {nouns}").format(**nouns(noun))
    fig = go.Figure(go.Histogram(x=scores, nbinsx=80, marker_color="#60a5fa", name=tests))
    for (value, label), colour in zip(marks, MARK_COLOURS, strict=False):
        fig.add_vline(x=value, line_width=2, line_color=colour)
        fig.add_annotation(
            x=value, y=1, yref="paper", text=label, showarrow=False, yshift=8, font_color=colour
        )
    fig.update_layout(
        xaxis_title="−ELBO (nats)",
        yaxis_title=tests,
        height=240,
        margin=dict(l=10, r=10, t=24, b=10),
        showlegend=False,
    )
    return fig


def _select(row: int) -> None:
    st.session_state.selected_row = row


def section(shown: Shown) -> None:
    """The gallery and the histogram, with the selected image and the drawing pad's image (if
    it holds one) marked."""
    ss, model, view = st.session_state, shown.model, shown.view
    row, drawn, theme = ss.selected_row, None, state.page_theme()
    if ss.drawn is not None:
        drawn = lenses.drawing(shown, ss.drawn, state.chosen_class(view.conditional), theme)
    noun = view.noun
    scores = lenses.neg_elbo(shown)
    st.subheader(_(TITLES.get(noun, TITLES["image"])))
    offered = rankings(view)
    ranking = st.radio(
        _("Rank by"),
        list(offered),
        format_func=offered.get,
        horizontal=True,
        key="outlier_ranking",
    )
    found = least_likely(shown, ranking)
    rows = [r for r, _score in found]
    originals = view.images[rows] / 255.0
    # At the posterior means, in one batch; a conditional model's given each image's class.
    reconstructions = decode(model, view.mu[rows], own_classes(shown, rows))
    pictures = {
        r: np.stack(pair) for r, *pair in zip(rows, originals, reconstructions, strict=True)
    }
    for start in range(0, len(found), 6):
        for cell, (r, score) in zip(st.columns(6), found[start : start + 6], strict=False):
            with cell.container(key=f"outlier_{start // 6}_{r}"):
                st.image(
                    images.png(images.themed(images.tile(pictures[r], cols=2), theme), scale=3),
                    alt=_("test image #{row}, {called}, and its reconstruction").format(
                        row=r, called=images.called(view, view.labels[r])
                    ),
                )
                st.caption(
                    # TRANSLATORS: under a gallery picture: test image #{row}, its class ("a 7"),
                    # its score.
                    _("#{row}, {called} · {score:.1f} nats").format(
                        row=r, called=images.called(view, view.labels[r]), score=score
                    )
                )
                st.button(_("Select"), key=f"select_outlier_{r}", on_click=_select, args=(r,))
    if view.conditional:
        note = _(
            "Each pair: the test image and its reconstruction (decoded at the posterior mean). "
            "A conditional VAE scores each image given its own class: how unusual it is as one "
            "of that class, −log p(x|y)."
        )
    else:
        note = _(
            "Each pair: the test image and its reconstruction (decoded at the posterior mean)."
        )
    st.caption(note)
    value = float(scores[row])
    marks = [(value, f"#{row}: {value:.1f}")]
    lines = [
        _(
            "The selected test image #{row} ({called}) has −ELBO {value:.1f} nats: more "
            "unusual than {share:.0f} % of test {nouns}."
        ).format(
            row=row,
            called=images.called(view, view.labels[row]),
            value=value,
            share=percentile(scores, value),
            **nouns(noun),
        )
    ]
    if drawn is not None:
        mine = drawn["neg_elbo"]
        yours = _("your digit: {value:.1f}") if noun == "digit" else _("your drawing: {value:.1f}")
        marks.append((mine, yours.format(value=mine)))
        lines.append(
            _(
                "Your drawing has −ELBO {value:.1f} nats: more unusual than {share:.0f} % of "
                "test {nouns}."
            ).format(value=mine, share=drawn["percentile"], **nouns(noun))
        )
    st.plotly_chart(histogram(scores, marks, noun), key="outlier_histogram")
    st.markdown("  \n".join(lines))
    ood_lens.part(shown)

"""The Posterior tab: the selected test image's exact p(z|x) beside the encoder's q(z|x), with
log p(x), IWAE, the ELBO and their gap (explorer/posterior_lens.py computes and draws them).
"""

from __future__ import annotations

import streamlit as st

from i18n import _, nouns

from .. import images, lenses
from ..model_view import Shown
from ..posterior_lens import lens, show
from ..state import page_theme


def section(shown: Shown) -> None:
    view, row = shown.view, st.session_state.selected_row
    # The selection panel's ELBO of this image (cached): the same figure on both.
    elbo = -lenses.details(shown, row, page_theme())["neg_elbo"]
    label = int(view.labels[row])
    st.subheader(
        _("The true posterior of test image #{row}: {called}").format(
            row=row, called=images.called(view, label)
        )
    )
    st.caption(
        _(
            "The ELBO is the selection panel's, over {samples} draws of z. "
            "Click another {noun} on the latent plane to see its posterior."
        ).format(samples=lenses.SELECTION_SAMPLES, **nouns(view.noun))
    )
    given = view.classes[label] if view.conditional else None
    show(lens(shown, row), elbo, key="posterior", given=given)

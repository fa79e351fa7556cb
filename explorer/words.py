"""The words the page's browser components show, in the page's language.

The latent view (explorer/web/latent_view/) and the drawing pad (explorer/web/drawing.js)
draw their own text: titles, labels, tooltips, the lines over the plane. Their words are
gettext messages like every other on the page; these functions give them translated, as one
flat {name: text} object that travels with each mount's small JSON data on every run (never
inside the per-model payloads, which cross the wire once per model whatever the language).

A text is either final, or a template whose `{fields}` only the browser knows (a test image's
row, a class's name, an epoch): the browser fills those with `fill()` (explorer/web/payload.js).
What depends on the data's noun ("digit" for MNIST, else "image") is chosen here, so the
browser only looks its words up. A language switch sends new words: the components then
redraw their text and keep their view (zoom, z, the selection, the drawing).
"""

from __future__ import annotations

from i18n import _, nouns


def latent_view(noun: str) -> dict[str, str]:
    """The latent view's words for data whose examples are called `noun`. Templates: `hover`
    ({row}, {name}), `chip_title` ({name}), `training` ({epoch}, {epochs}), `inset_title`
    ({row}), `inset_scale` ({width}), `decoded_at` ({z1}, {z2}), `live_point` ({z1}, {z2},
    {nearest}), `live_selected` ({what})."""
    n = nouns(noun)
    digits = noun == "digit"
    return {
        # TRANSLATORS: the latent view's bar: the title before the colouring's two buttons.
        "colour": _("colour"),
        # TRANSLATORS: accessible name of the latent view's colouring buttons.
        "colour_by": _("colour the {nouns} by").format(**n),
        # TRANSLATORS: the latent view's legend title and button colouring points by their
        # class; for MNIST a class is a digit.
        "class_word": _("digit") if digits else _("class"),
        "by_elbo_title": _(
            "Colour each test {noun} by its −ELBO: the model finds the bright ones unusual"
        ).format(**n),
        # TRANSLATORS: accessible name of the latent view's legend of class chips.
        "classes_shown": _("digit classes shown") if digits else _("classes shown"),
        # TRANSLATORS: tooltip of a class's chip in the latent view's legend; {name} is the
        # class's name ("7", "Sneaker").
        "chip_title": (
            _("{name}: click to hide or show; double-click to show this digit alone")
            if digits
            else _("{name}: click to hide or show; double-click to show this class alone")
        ),
        # TRANSLATORS: the latent view's switch to class colours colour-blind viewers tell apart.
        "palette": _("colour-blind safe"),
        "palette_title": _("Class colours told apart with any colour vision"),
        "zoom_in": _("Zoom in"),
        "zoom_out": _("Zoom out"),
        # TRANSLATORS: accessible name of the latent view's group of zoom buttons.
        "zoom_tools": _("zoom"),
        "reset_title": _("Show the whole plane"),
        # TRANSLATORS: the latent view's button showing the whole plane again after a zoom.
        "reset": _("reset"),
        # TRANSLATORS: accessible name of the latent plane, said when it takes the focus.
        "plane": _(
            "latent plane: arrow keys move the point and decode it, Shift moves further, "
            "Enter chooses the nearest {noun}, + and − zoom, Escape goes back"
        ).format(**n),
        # TRANSLATORS: what a screen reader calls the latent plane's kind of element.
        "plane_role": _("interactive plot"),
        "loading": _("Loading the model…"),
        # TRANSLATORS: accessible name of the picture decoded at the latent point.
        "decoded": _("decoded {noun}").format(**n),
        # TRANSLATORS: text alternative of the decoded picture; {z1}, {z2} are its point.
        "decoded_at": _("decoded at z = ({z1}, {z2})"),
        # TRANSLATORS: the latent view's hint beside the plane.
        "hint": _(
            "Hover the plane to decode any point. Click empty space or release a slider to set "
            "the point; click {a_noun} to inspect it. Scroll to zoom, drag to pan. On a touch "
            "screen: tap to set or choose, touch and hold to decode under your finger, two "
            "fingers to pan and zoom."
        ).format(**n),
        # TRANSLATORS: the tip over the test point under the pointer: its row and its digit.
        "hover": (_("test image #{row}, a {name}") if digits else _("test image #{row}: {name}")),
        # TRANSLATORS: marked on the plane while it shows a model still training.
        "training": _("training: epoch {epoch} of {epochs}"),
        # TRANSLATORS: under the decoded picture: where its z comes from.
        "source_pointer": _("under the pointer (click to set)"),
        "source_sliders": _("from the sliders"),
        "source_keys": _("from the arrow keys"),
        # TRANSLATORS: said by a screen reader as the latent point moves; {nearest} lists the
        # classes of the test images nearest the point ("7, 9").
        "live_point": _("z = ({z1}, {z2}), nearest: {nearest}"),
        # TRANSLATORS: said by a screen reader when a test image is chosen; {what} is the
        # tip's words ("test image #12, a 7").
        "live_selected": _("selected {what}"),
        "source_point": _("the current point"),
        # TRANSLATORS: beside the drawing's q(z|x) on the plane.
        "your_drawing": _("your {noun}").format(**n),
        # TRANSLATORS: the posterior inset's title: the selected test image's row.
        "inset_title": _("q(z|x) of #{row}: μ ± 4σ"),
        # TRANSLATORS: the posterior inset's foot: its ellipses and the width it spans in z.
        "inset_scale": _("ellipses: 1σ, 2σ · width {width}"),
    }


def drawing(noun: str, conditional: bool = False) -> dict[str, str]:
    """The drawing pad's words, for data whose examples are called `noun`, drawn for a
    conditional model (which reads the drawing with a class: q(z|x, y)) or a plain one."""
    n = nouns(noun)
    if conditional:
        empty = _("Draw {a_noun} in the box: its q(z|x, y) appears on the plane as you draw.")
    else:
        empty = _("Draw {a_noun} in the box: its q(z|x) appears on the plane as you draw.")
    return {
        # TRANSLATORS: the drawing pad's slider of the brush's width.
        "brush": _("brush"),
        "undo": _("undo"),
        "undo_title": _("Take back the last stroke"),
        "clear": _("clear"),
        "clear_title": _("Start again"),
        "seen": _("the drawing as the encoder sees it"),
        "pad": _("drawing pad: draw {a_noun} with the mouse, a pen or a finger").format(**n),
        "loading": _("Loading the encoder…"),
        "empty": empty.format(**n),
    }


def duration(seconds: float | None) -> str:
    if seconds is None:
        return _("estimating…")
    seconds = int(round(seconds))
    if seconds < 60:
        return _("{seconds} s").format(seconds=seconds)
    return _("{minutes} min {seconds:02d} s").format(minutes=seconds // 60, seconds=seconds % 60)

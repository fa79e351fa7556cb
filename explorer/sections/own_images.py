"""Your own images (issue 32): a zip, a folder or pictures a class at a time, shown as the
model will see them, then trained on like any other data.

The sidebar's button opens a dialog. What the browser sends is prepared as MNIST was
(vae_core.uploads) within the operator's limits, previewed (the pictures as 28x28 grey, the
classes, the split, what was skipped and why), and kept only once the learner asks for a
model of it. From then on the upload is one more dataset of this page, named in its link by
the key of its prepared pictures.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import numpy as np
import streamlit as st

from i18n import N_, _, ngettext, said
from vae_core.uploads import Upload, UploadError, read_upload

from .. import images, model_requests, own_data, state
from ..server import limits, session_id

PREVIEW_A_CLASS = 12  # pictures a class in the preview's grid
PREVIEW_CLASSES = 20  # classes in the grid; the table lists them all
SKIPPED_LISTED = 100  # skipped files named in the preview; the rest are counted
PICTURE_TYPES = ["png", "jpg", "jpeg", "webp", "gif", "bmp"]

HOW = {
    "zip": N_("A zip or pictures"),
    "folder": N_("A folder"),
    "class": N_("A class at a time"),
}


def open_button() -> None:
    """The sidebar's way in, and the way out for the upload shown."""
    ss = st.session_state
    if "data" in ss.hide or "training" in ss.hide:
        return
    own_data.prune_at_start()
    if st.button(_("📤 Your own images…"), key="own_open", width="stretch"):
        st.dialog(_("Your own images"), width="large", on_dismiss=_forget_unsent)(_dialog)()
    if ss.settings.data in ss.own_sent:
        # Only the page that sent them: a shared link lets others see them, not delete them.
        st.button(
            _("🗑️ Delete these pictures"),
            key="own_delete",
            on_click=_delete,
            args=(ss.settings.data,),
            width="stretch",
            help=_(
                "Removes the pictures you sent from this server, with every model trained on "
                "them. Links to them then open the default data."
            ),
        )


def _delete(key: str) -> None:
    ss = st.session_state
    own_data.delete(key)
    ss.own = [k for k in ss.own if k != key]
    model_requests.forget_data(key)
    ss.notices = [*ss.notices, _("Your pictures and their models are deleted from this server.")]


def _limits_text() -> str:
    server = limits()
    return _(
        "Up to {mb:g} MB and {pictures:,} pictures an upload, {megapixels:g} million pixels a "
        "picture. This server keeps an upload {days:g} days after a page last showed it; "
        "anyone holding its link can open it, and “Delete these pictures” removes it and its "
        "models. Pictures' metadata (camera, place) is dropped on reading."
    ).format(
        mb=server.upload_mb,
        pictures=server.upload_images,
        megapixels=server.upload_megapixels,
        days=server.upload_days,
    )


def _dialog() -> None:
    st.markdown(
        _(
            "One folder per class, the folder's name the class's name; pictures with no "
            "folders at all are unlabelled (the plane is then coloured by −ELBO). PNG, JPEG, "
            "WebP, GIF or BMP, any size and colour: each is prepared as MNIST was, cropped to "
            "its drawing, scaled into 20×20 and centred in 28×28, inverted when its "
            "background is light."
        )
    )
    st.caption(_limits_text())
    if st.session_state.get("own_refused"):
        st.error(st.session_state.pop("own_refused"), icon="🚫")
    how = st.segmented_control(
        _("How"),
        list(HOW),
        format_func=lambda k: _(HOW[k]),
        key="own_how",
        default="zip",
        label_visibility="collapsed",
    )
    files = _files(how or "zip")
    if not files:
        return
    upload = _prepared(files)
    if upload is None:
        return
    _preview(upload)
    if st.button(
        _("Train a VAE on these pictures"), key="own_train", type="primary", width="stretch"
    ):
        _train(upload)
        st.rerun()


def _files(how: str) -> list[tuple[str, bytes]]:
    """What the browser sent, as (name, bytes): names keep their folders (a class's)."""
    ss = st.session_state
    rev = ss.own_rev
    server = limits()
    size = max(1, int(server.upload_mb))
    if how == "class":
        return _class_at_a_time(size)
    if how == "folder":
        sent = st.file_uploader(
            _("A folder holding one folder per class"),
            type=PICTURE_TYPES,
            accept_multiple_files="directory",
            key=f"own_folder_{rev}",
            max_upload_size=size,
        )
    else:
        sent = st.file_uploader(
            _("A zip of class folders, or pictures"),
            type=["zip", *PICTURE_TYPES],
            accept_multiple_files=True,
            key=f"own_files_{rev}",
            max_upload_size=size,
        )
    files = [(f.name, f.getvalue()) for f in sent or []]
    if _too_big(files):
        ss.own_rev += 1  # let the files go now: Streamlit holds them until their uploader goes
        st.rerun(scope="fragment")
    return files


def _too_big(files: list[tuple[str, bytes]]) -> bool:
    """Whether these files are more than an upload may send; if so, the dialog says so at its
    next run."""
    most = own_data.upload_limits().max_bytes
    if sum(len(data) for _name, data in files) <= most:
        return False
    st.session_state.own_refused = _(
        "That is more than {mb:g} MB in all, this server's limit an upload."
    ).format(mb=most / 2**20)
    return True


def _class_at_a_time(size: int) -> list[tuple[str, bytes]]:
    """On a phone, where a zip is hard to make: name a class, add its pictures, repeat, then
    preview them all (one preparation, however many additions)."""
    ss = st.session_state
    name = st.text_input(_("Class name"), key=f"own_class_{ss.own_rev}", max_chars=40)
    # The name is a folder's below: a slash in it would make two.
    cls = name.strip().replace("/", "-").replace("\\", "-")
    sent = st.file_uploader(
        _("Pictures of this class"),
        type=PICTURE_TYPES,
        accept_multiple_files=True,
        key=f"own_class_files_{ss.own_rev}_{ss.own_adds}",  # emptied after each addition
        max_upload_size=size,
    )
    if st.button(
        _("Add to the class"), key="own_add", disabled=not (cls and sent), width="stretch"
    ):
        batch = [(f.name, f.getvalue()) for f in sent]
        held = [item for pictures in ss.own_classes.values() for item in pictures]
        if not _too_big(held + batch):
            ss.own_classes.setdefault(cls, []).extend(batch)
        ss.own_adds += 1
        ss.own_ready = False
        st.rerun(scope="fragment")
    if not ss.own_classes:
        return []
    st.caption(
        " · ".join(
            _("{name}: {count} pictures").format(name=n, count=len(p))
            for n, p in ss.own_classes.items()
        )
    )
    if len(ss.own_classes) == 1:
        st.caption(
            _("Add a second class: pictures of one class alone are read as unlabelled pictures.")
        )
    left, right = st.columns(2)
    if left.button(_("Preview these classes"), key="own_preview", width="stretch"):
        ss.own_ready = True
    if right.button(_("Start again"), key="own_clear", width="stretch"):
        _forget_unsent()
        st.rerun(scope="fragment")
    if not ss.own_ready:
        return []
    # Each picture under its class's folder; a name is never a path here either.
    return [
        (f"{cls}/{i}-{name.replace('/', '_')}", data)
        for cls, pictures in ss.own_classes.items()
        for i, (name, data) in enumerate(pictures)
    ]


def _forget_unsent() -> None:
    """Let go of what the dialog holds and was not kept: Streamlit keeps a page's files in
    memory until their uploader is gone, and the classes added hold their bytes too."""
    ss = st.session_state
    ss.own_rev += 1
    ss.own_prepared = None
    ss.own_classes = {}
    ss.own_ready = False


def _prepared(files: list[tuple[str, bytes]]) -> Upload | None:
    """The upload prepared, once per set of files (a dialog's every rerun sends them again);
    None, with a message, when it is refused."""
    ss = st.session_state
    digest = hashlib.sha256()
    for name, data in files:
        digest.update(name.encode("utf-8", "replace") + b"\0" + hashlib.sha256(data).digest())
    if ss.own_prepared is not None and ss.own_prepared[0] == digest.hexdigest():
        result = ss.own_prepared[1]
    else:
        refused = own_data.gate().admit(session_id())
        if refused is not None:
            st.error(str(refused), icon="🚫")
            return None
        with st.spinner(_("Preparing the pictures…")):
            if not own_data.preparing.acquire(timeout=own_data.PREPARING_WAIT_S):
                st.error(
                    _("The server is preparing other pages' pictures: try again in a minute."),
                    icon="⏳",
                )
                return None
            try:
                result = read_upload(files, own_data.upload_limits())
            except UploadError as exc:
                result = said(exc)
            finally:
                own_data.preparing.release()
        ss.own_prepared = (digest.hexdigest(), result)
    if not isinstance(result, Upload):
        st.error(str(result), icon="🚫")
        return None
    return result


def _preview(upload: Upload) -> None:
    """What the model will see: the pictures as 28x28 grey, the classes and the split, and
    what was left out."""
    counts = upload.counts
    train = sum(t for t, _t in counts)
    test = sum(t for _t, t in counts)
    if upload.labelled:
        st.markdown(
            _("**{classes} classes**, {pictures:,} pictures, as the model will see them:").format(
                classes=len(upload.classes), pictures=train + test
            )
        )
    else:
        st.markdown(
            _("**Unlabelled**, {pictures:,} pictures, as the model will see them:").format(
                pictures=train + test
            )
        )
    grid = _grid(upload)
    shown = min(len(upload.classes), PREVIEW_CLASSES)
    st.image(
        images.png(images.themed(grid / 255.0, state.page_theme()), 2),
        width="content",
        alt=_("The first pictures of each class, a row a class, as 28×28 grey: {classes}").format(
            classes=", ".join(upload.classes[:shown]) if upload.labelled else _("unlabelled")
        ),
    )
    if upload.labelled:
        st.table(
            {
                _("class"): list(upload.classes),
                _("training"): [t for t, _t in counts],
                _("test"): [t for _t, t in counts],
            }
        )
    st.caption(
        _(
            "Split: a sixth of each class for testing ({test:,} pictures), as MNIST keeps 10,000 "
            "of 70,000; the rest, {train:,}, for training. Which pictures go where depends on "
            "the pictures alone, so the same pictures always split the same way."
        ).format(test=test, train=train)
    )
    if upload.skipped:
        with st.expander(
            ngettext("{count} file left out", "{count} files left out", len(upload.skipped)).format(
                count=len(upload.skipped)
            )
        ):
            listed = upload.skipped[:SKIPPED_LISTED]
            st.table(  # plain text: a file's name is the uploader's, never markup
                {_("file"): [name for name, _r in listed], _("why"): [str(r) for _n, r in listed]}
            )
            if len(upload.skipped) > SKIPPED_LISTED:
                st.caption(
                    _("… and {more} more.").format(more=len(upload.skipped) - SKIPPED_LISTED)
                )


def _grid(upload: Upload) -> np.ndarray:
    """A row of pictures a class (the first classes), ink high, 0 to 255."""
    pictures = np.concatenate([upload.train_images, upload.test_images])
    labels = np.concatenate([upload.train_labels, upload.test_labels])
    rows = []
    for label in range(min(len(upload.classes), PREVIEW_CLASSES)):
        row = pictures[labels == label][:PREVIEW_A_CLASS]
        padded = np.zeros((PREVIEW_A_CLASS, 28, 28), dtype=np.float32)
        padded[: len(row)] = row
        rows.append(padded)
    return images.tile(np.concatenate(rows), cols=PREVIEW_A_CLASS)


def _train(upload: Upload) -> None:
    """Keep the upload, offer it in the sidebar and ask for a model of it, with the form's
    settings."""
    ss = st.session_state
    key = own_data.keep(upload)
    if key not in ss.own:
        ss.own = [*ss.own, key]
    ss.own_sent = ss.own_sent | {key}
    settings = replace(state.form_settings(), data=key)
    if not upload.labelled:  # no classes to condition on
        settings = replace(settings, conditional=False, labelled=0)
    model_requests.request(settings)
    ss.own_switch = key  # the sidebar's choice follows, before it is drawn (sidebar.py)
    _forget_unsent()

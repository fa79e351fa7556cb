"""Pictures a page uploaded (issue 32): where the server keeps them, who reaches them, how
often a page may send them, and how they go.

An upload becomes an MNIST-format directory under the model cache's `uploads/`, named by its
content's key (vae_core.uploads), so that the page, the training line and a school's workers
read it as they read the operator's directories, through the one shared cache. A page names
an upload only by that key: it is offered to the session that sent it and to a page opened by
a link holding it, never listed to others. Uploads are pruned after the operator's days
unused or beyond the operator's count, never one that a page of any server shows, and their
models go with them.
"""

from __future__ import annotations

import threading
import time
from collections import deque

import streamlit as st

from i18n import Text, lazy
from training import default_cache_dir
from training.cache import forget_entry
from vae_core.uploads import (
    Upload,
    UploadLimits,
    delete_upload,
    prune_uploads,
    save_upload,
    touch_upload,
    upload_dir,
)

from .server import datasets, is_own, limits, models_in_use, uploads_root

MODELS = ".models"  # beside an upload's directory, `<key>.models`: the models asked of it


def upload_limits() -> UploadLimits:
    server = limits()
    return UploadLimits(
        max_bytes=int(server.upload_mb * 2**20),
        max_images=server.upload_images,
        max_pixels=int(server.upload_megapixels * 1_000_000),
        max_total_pixels=int(server.upload_total_megapixels * 1_000_000),
    )


class UploadGate:
    """How many uploads one session, and the whole server in the last hour, may prepare: each
    costs the server a decoding of every picture."""

    def __init__(self, per_session: int, per_hour: int) -> None:
        self.per_session, self.per_hour = per_session, per_hour
        self.sessions: dict[str, int] = {}
        self.recent: deque[float] = deque()
        self.lock = threading.Lock()

    def admit(self, session: str, now: float | None = None) -> Text | None:
        """Count one upload of `session`; a message instead when a limit refuses it."""
        now = time.time() if now is None else now
        with self.lock:
            while self.recent and self.recent[0] <= now - 3600:
                self.recent.popleft()
            if self.sessions.get(session, 0) >= self.per_session:
                return lazy(
                    "This page has sent {count} uploads, the most this server allows one page. "
                    "Open the page again to start afresh, or ask whoever runs the server to "
                    "raise VAE_EXPLORER_UPLOADS_PER_SESSION.",
                    count=self.per_session,
                )
            if len(self.recent) >= self.per_hour:
                wait = int(self.recent[0] + 3600 - now) // 60 + 1
                return lazy(
                    "This server has prepared {count} uploads in the last hour, the most it "
                    "allows. Try again in {minutes} min.",
                    count=self.per_hour,
                    minutes=wait,
                )
            self.sessions[session] = self.sessions.get(session, 0) + 1
            self.recent.append(now)
            return None


@st.cache_resource
def _gate(per_session: int, per_hour: int) -> UploadGate:
    return UploadGate(per_session, per_hour)


def gate() -> UploadGate:
    server = limits()
    return _gate(server.uploads_per_session, server.uploads_per_hour)


# One preparation at a time per server process: each holds its upload's pictures decoded. A
# page waits this long for its turn, then is told to try again.
preparing = threading.BoundedSemaphore(1)
PREPARING_WAIT_S = 60.0


def keep(upload: Upload) -> str:
    """Store a prepared upload in the shared cache and prune the others; returns its key."""
    root = uploads_root()
    save_upload(root, upload)
    prune()
    return upload.key


def prune() -> list[str]:
    """Uploads beyond the operator's count or unused for their days go, with their models;
    never one that a page shows."""
    server = limits()
    in_use = {key for key in models_in_use() if is_own(key)}
    offered = {d.key for d in datasets() if d.upload}  # an operator's: never the page's to prune
    root = uploads_root()
    removed = prune_uploads(
        root,
        keep=in_use | offered,
        max_kept=server.uploads_kept,
        max_age_s=server.upload_days * 86400,
    )
    # Of these and of uploads gone before: their models, but those held by a lock then.
    for record in root.glob(f"*{MODELS}"):
        key = record.name.removesuffix(MODELS)
        if upload_dir(root, key) is None:
            _forget_models(key)
    return removed


@st.cache_resource
def prune_at_start() -> None:
    """Once per server, at its first page: uploads past their days go even if no page ever
    sends another (a prune also follows each upload kept)."""
    prune()


def mark_used(key: str) -> None:
    """An upload a page shows counts as used now: its days start again."""
    touch_upload(uploads_root(), key)


def note_model(key: str, model_id: str) -> None:
    """Remember that a model of this upload was asked for, so that deleting the upload
    deletes it."""
    if upload_dir(uploads_root(), key) is None:
        return
    with (uploads_root() / f"{key}{MODELS}").open("a", encoding="ascii") as f:
        f.write(model_id + "\n")


def _forget_models(key: str) -> None:
    record = uploads_root() / f"{key}{MODELS}"
    try:
        ids = record.read_text(encoding="ascii").split()
    except FileNotFoundError:
        return
    left = [m for m in dict.fromkeys(ids) if not forget_entry(default_cache_dir(), m)]
    # A model being written or read now stays on the record, for the next prune to remove.
    left = [m for m in left if (default_cache_dir() / f"{m}.pt").exists()]
    if left:
        record.write_text("".join(f"{m}\n" for m in left), encoding="ascii")
    else:
        record.unlink(missing_ok=True)


def delete(key: str) -> bool:
    """Remove an upload and the models trained on it; False when there was none."""
    if not delete_upload(uploads_root(), key):
        return False
    _forget_models(key)
    return True

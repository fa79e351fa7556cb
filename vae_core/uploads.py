"""Pictures sent from a browser (a zip, or several files) made into an MNIST-format dataset.

Each picture is prepared as MNIST's digits were (vae_core.pictures); its class is the name of
the folder it is in, or, with no folders at all, the upload is unlabelled. What a browser sends
is untrusted: sizes are counted, not taken from headers; a zip is expanded one level, its
members read through a bounded reader; and no name it holds ever becomes a path. An upload is
stored under the root a caller gives, in a directory named by the hash of its prepared pictures
and class names (its key), and only a key matching KEY ever names a path.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import stat
import tempfile
import time
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path

import numpy as np
from PIL import Image

from i18n import Text, lazy, lazy_ngettext, said

from .data import SPLIT_PREFIX, DataError, write_idx
from .datasets import CLASSES_FILE, KEY, MAX_CLASSES, MAX_NAME_LENGTH, UPLOAD_FILE
from .pictures import PictureError, prepare_picture

UNLABELLED = "pictures"  # the one class's name in classes.txt of an unlabelled upload
MIN_PER_CLASS = 2  # one to train on, one to test
MIN_PICTURES = 10
TEST_EVERY = 6  # a sixth for testing, as MNIST's 10,000 of 70,000
ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")  # a zip's first entry, or an empty zip
# What macOS, Windows and their file managers add to a zip; nobody means them as pictures.
QUIETLY_SKIPPED = frozenset({".ds_store", "thumbs.db", "desktop.ini"})
SHOWN_LENGTH = 120  # a name shown in a message is cut to this many characters
CHUNK = 1 << 16
ENTRY_BYTES = 400  # a zip's central directory record of a picture, its name included, at most
LEFTOVER_AGE_S = 3600.0  # a save or a removal interrupted longer ago than this is cleaned up


class UploadError(DataError):
    """An upload that cannot be made into a dataset; the message says what to send instead."""


@dataclass(frozen=True)
class UploadLimits:
    """What one upload may hold: the server's operator sets these."""

    max_bytes: int = 50 * 2**20  # all files sent; a zip's members may expand to 4 times this
    max_images: int = 20_000  # pictures in one upload
    max_pixels: int = 40_000_000  # per picture, as its header claims
    # All pictures together, as their headers claim: what decoding them may cost the server
    # (a 40-megapixel PNG of one colour is 40 kB; a thousand of them, minutes of a core).
    max_total_pixels: int = 1_000_000_000

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(
                    lazy(
                        "the upload limit {name} must be a whole number of at least 1, "
                        "not {value!r}.",
                        name=field.name,
                        value=value,
                    )
                )

    @property
    def max_unzipped(self) -> int:
        return 4 * self.max_bytes


@dataclass(frozen=True, eq=False)
class Upload:
    """An upload's pictures, prepared and split; `skipped` says which were left out and why."""

    train_images: np.ndarray  # (N, 28, 28) uint8
    train_labels: np.ndarray  # (N,) uint8
    test_images: np.ndarray
    test_labels: np.ndarray
    classes: tuple[str, ...]  # in label order; ("",) when unlabelled
    labelled: bool
    skipped: tuple[tuple[str, Text | str], ...]  # (name as sent, cleaned for display; why)

    @cached_property
    def key(self) -> str:
        """ "own-" and 16 hex digits, the same for the same pictures and class names whatever
        the order they came in or the zip that held them."""
        named = sorted(
            (self.classes[label].encode(), image.tobytes())
            for images, labels in (
                (self.train_images, self.train_labels),
                (self.test_images, self.test_labels),
            )
            for image, label in zip(images, labels, strict=True)
        )
        digest = hashlib.sha256()
        for name, pixels in named:
            digest.update(len(name).to_bytes(4, "big") + name + pixels)
        return "own-" + digest.hexdigest()[:16]

    @property
    def counts(self) -> tuple[tuple[int, int], ...]:
        """(train, test) pictures of each class, in label order."""
        k = len(self.classes)
        train = np.bincount(self.train_labels, minlength=k)
        test = np.bincount(self.test_labels, minlength=k)
        return tuple((int(a), int(b)) for a, b in zip(train, test, strict=True))


@dataclass(frozen=True)
class _Entry:
    """One file that may be a picture: its name shown in messages, its path's folders and
    name (never a path on disk), and how to read its bytes."""

    shown: str
    parts: tuple[str, ...]
    read: Callable[[], bytes]


class _Budget:
    """The bytes a zip's members may still expand to, counted as they are inflated."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.left = limit

    def spend(self, size: int, name: str) -> None:
        self.left -= size
        if self.left < 0:
            raise UploadError(
                lazy(
                    "{name} expands to more than {limit} bytes, more than this server unpacks "
                    "from one upload (it may be a zip bomb): send the pictures in a smaller "
                    "zip, or fewer at a time.",
                    name=name,
                    limit=self.limit,
                )
            )


def read_upload(files: Sequence[tuple[str, bytes]], limits: UploadLimits) -> Upload:
    """The dataset an upload makes: each (name, bytes) a zip (known by its content) or one
    picture, its name maybe with folders ("cat/1.png"), a folder's name its class.

    Raises UploadError, saying what to do, when the upload is over a limit, holds no usable
    picture, or does not make a dataset (one class, too many, a class of fewer than 2 pictures,
    fewer than 10 in all). Pictures that cannot be used are listed in `skipped`.
    """
    sent = sum(len(data) for _, data in files)
    if sent > limits.max_bytes:
        raise UploadError(
            lazy(
                "the upload is {size} bytes, more than the server's limit of {limit} bytes: "
                "send fewer or smaller pictures.",
                size=sent,
                limit=limits.max_bytes,
            )
        )
    skipped: list[tuple[str, Text | str]] = []
    entries: list[_Entry] = []
    budget = _Budget(limits.max_unzipped)
    for name, data in files:
        if data.startswith(ZIP_SIGNATURES):
            entries += _unzipped(name, data, limits, budget, skipped, len(entries))
        elif not _quietly_skipped(_parts(name)):
            entries.append(_Entry(_shown(name), _parts(name), lambda data=data: data))
        if len(entries) > limits.max_images:
            raise _too_many(len(entries), limits)
    labelled, classified = _classified(entries, skipped)
    pictures = _prepared(classified, limits, skipped)
    return _dataset(pictures, labelled, skipped)


def _unzipped(
    name: str,
    data: bytes,
    limits: UploadLimits,
    budget: _Budget,
    skipped: list[tuple[str, Text | str]],
    already: int,
) -> list[_Entry]:
    """The zip's files that may be pictures, read only when asked (one at a time in memory)."""
    # The count its end record claims refuses most zips of too many files before zipfile
    # makes an object of each; the count of those it made refuses the rest.
    claimed, directory_bytes = _claimed_entries(data)
    # A directory larger than its entries could fill is one whose count lies: zipfile would
    # make an object of each record it holds, hundreds of megabytes of them from 50 MB.
    if claimed > 2 * limits.max_images or directory_bytes > 2 * limits.max_images * ENTRY_BYTES:
        # (A record is 46 bytes and a name at the least.)
        count = claimed if claimed > 2 * limits.max_images else directory_bytes // 46
        raise _too_many_entries(name, count, limits)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, UnicodeDecodeError) as exc:
        skipped.append((_shown(name), lazy("cannot be read as a zip ({error}).", error=str(exc))))
        return []
    if len(members) > 2 * limits.max_images:
        raise _too_many_entries(name, len(members), limits)
    files = [m for m in members if not m.is_dir()]
    expanded = sum(m.file_size for m in files)
    if expanded > budget.left:
        budget.spend(expanded, _shown(name))  # refused on the headers' word, before inflating
    entries = []
    for member in files:
        member_name = _member_name(member)
        parts = _parts(member_name)
        shown = _shown(member_name)
        if _quietly_skipped(parts):
            continue
        if member.flag_bits & 0x1:
            skipped.append((shown, lazy("encrypted: send the zip without a password.")))
        elif stat.S_ISLNK(member.external_attr >> 16):
            skipped.append((shown, lazy("a link, not a picture: links are not followed.")))
        elif member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            skipped.append(
                (
                    shown,
                    lazy(
                        "compressed in a way this server does not read: make the zip with "
                        "the usual compression (deflate)."
                    ),
                )
            )
        else:
            entries.append(
                _Entry(shown, parts, lambda m=member: _inflated(archive, m, budget, name))
            )
            if already + len(entries) > limits.max_images:
                raise _too_many(already + len(entries), limits)
    return entries


def _claimed_entries(data: bytes) -> tuple[int, int]:
    """The number of entries a zip's end record says it holds, and the size of its central
    directory ((0, 0) if none is found)."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 0xFFFF))
    if end < 0 or len(data) < end + 16:
        return 0, 0
    count = int.from_bytes(data[end + 10 : end + 12], "little")
    size = int.from_bytes(data[end + 12 : end + 16], "little")
    locator = end - 20
    if count == 0xFFFF and locator >= 0 and data[locator : locator + 4] == b"PK\x06\x07":
        # Zip64, for more than 65,535 entries: the count is in its own end record.
        record = int.from_bytes(data[locator + 8 : locator + 16], "little")
        if data[record : record + 4] == b"PK\x06\x06":
            count = int.from_bytes(data[record + 32 : record + 40], "little")
            size = int.from_bytes(data[record + 40 : record + 48], "little")
    return count, size


def _too_many_entries(name: str, count: int, limits: UploadLimits) -> UploadError:
    return UploadError(
        lazy(
            "{name} holds {count} entries, more than this server reads from one upload: "
            "send at most {most} pictures.",
            name=_shown(name),
            count=count,
            most=limits.max_images,
        )
    )


def _inflated(archive: zipfile.ZipFile, member: zipfile.ZipInfo, budget: _Budget, name: str):
    """The member's bytes, counted as they inflate: its header's size is not trusted."""
    chunks = []
    with archive.open(member) as stream:
        while chunk := stream.read(min(CHUNK, budget.left + 1)):
            budget.spend(len(chunk), _shown(name))
            chunks.append(chunk)
    return b"".join(chunks)


def _member_name(member: zipfile.ZipInfo) -> str:
    if member.flag_bits & 0x800:
        return member.filename
    # Zips made without the UTF-8 flag (macOS's, old Windows tools') often hold UTF-8 names
    # anyway, which zipfile read as code page 437.
    try:
        return member.filename.encode("cp437").decode("utf-8")
    except UnicodeError:
        return member.filename


def _too_many(count: int, limits: UploadLimits) -> UploadError:
    return UploadError(
        lazy(
            "the upload holds {count} pictures or more, more than the server's limit of "
            "{limit}: send fewer.",
            count=count,
            limit=limits.max_images,
        )
    )


def _parts(name: str) -> tuple[str, ...]:
    return tuple(part for part in re.split(r"[/\\]", name) if part)


def _quietly_skipped(parts: tuple[str, ...]) -> bool:
    if not parts:
        return True
    return (
        "__MACOSX" in parts or parts[-1].startswith("._") or parts[-1].casefold() in QUIETLY_SKIPPED
    )


def _plain(name: str) -> str:
    """`name` as plain text: composed (NFC), without control, format (among them the
    bidirectional controls, which could reorder the text around it on a page) or surrogate
    characters, its whitespace runs one space."""
    name = unicodedata.normalize("NFC", name)
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf", "Cs"))
    return re.sub(r"\s+", " ", name).strip()


def _shown(name: str) -> str:
    name = _plain(name)
    return name if len(name) <= SHOWN_LENGTH else name[: SHOWN_LENGTH - 1] + "…"


# Dropped from class names: what would make a link, a picture or markup of a name that the page
# shows as Markdown (a caption, the sidebar) to everyone who opens the upload's link.
MARKUP = str.maketrans("", "", "[]<>`\\|*~")


def _class_name(folder: str) -> str | None:
    """The class a folder names, cleaned and capped; None if nothing usable is left."""
    name = _plain(folder).translate(MARKUP)[:MAX_NAME_LENGTH].strip()
    return None if name in ("", ".", "..") else name


def _classified(
    entries: list[_Entry], skipped: list[tuple[str, Text | str]]
) -> tuple[bool, list[tuple[str, _Entry]]]:
    """Whether the upload is labelled, and (class name, entry) of each entry in a usable
    class; the class "" when unlabelled."""
    depth = 0
    # A zip of one folder that wraps everything: that folder is not a class.
    while entries and all(
        len(e.parts) > depth + 1 and e.parts[depth] == entries[0].parts[depth] for e in entries
    ):
        depth += 1
    if all(len(e.parts) == depth + 1 for e in entries):
        return False, [("", e) for e in entries]
    classified = []
    for entry in entries:
        if len(entry.parts) == depth + 1:
            skipped.append(
                (
                    entry.shown,
                    lazy(
                        "not in a class folder: beside class folders, every picture must be in one."
                    ),
                )
            )
            continue
        name = _class_name(entry.parts[depth])
        if name is None:
            skipped.append(
                (
                    entry.shown,
                    lazy(
                        "its folder's name, {name}, is not a usable class name.",
                        name=_shown(entry.parts[depth]),
                    ),
                )
            )
            continue
        classified.append((name, entry))
    return True, classified


def _prepared(
    classified: list[tuple[str, _Entry]],
    limits: UploadLimits,
    skipped: list[tuple[str, Text | str]],
) -> dict[str, list[np.ndarray]]:
    """Each class's prepared pictures; a picture identical to one before it is left out.

    Taken in the order of their names, so which of two identical pictures is kept does not
    depend on the order they were sent in."""
    pictures: dict[str, list[np.ndarray]] = {}
    seen: dict[bytes, str] = {}
    claimed = 0
    for name, entry in sorted(classified, key=lambda item: (item[0], item[1].parts)):
        try:
            data = entry.read()
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
            skipped.append(
                (entry.shown, lazy("cannot be read from the zip ({error}).", error=str(exc)))
            )
            continue
        if data.startswith(ZIP_SIGNATURES):
            skipped.append(
                (entry.shown, lazy("a zip inside the zip: put its pictures in the outer zip."))
            )
            continue
        claimed += _claimed_pixels(data)
        if claimed > limits.max_total_pixels:
            raise UploadError(
                lazy(
                    "The pictures claim more than {most:,} million pixels in all, more than "
                    "this server prepares for one upload: send fewer pictures, or smaller ones "
                    "(a phone can share a photo at a smaller size).",
                    most=limits.max_total_pixels // 1_000_000,
                )
            )
        try:
            picture = prepare_picture(data, limits.max_pixels)
        except PictureError as exc:
            skipped.append((entry.shown, said(exc)))
            continue
        pixels = picture.tobytes()
        if pixels in seen:
            skipped.append((entry.shown, lazy("the same as {other}.", other=seen[pixels])))
            continue
        seen[pixels] = entry.shown
        pictures.setdefault(name, []).append(picture)
    return pictures


def _claimed_pixels(data: bytes) -> int:
    """The pixels a picture's header claims, read without decoding any (0 if it has none:
    preparing it says what is wrong)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except Exception:  # noqa: BLE001 (whatever Pillow makes of a bad file, prepare_picture says)
        return 0
    return width * height


def _dataset(
    pictures: dict[str, list[np.ndarray]], labelled: bool, skipped: list[tuple[str, Text | str]]
) -> Upload:
    total = sum(len(p) for p in pictures.values())
    if total == 0:
        raise _nothing_usable(skipped)
    classes = tuple(sorted(pictures, key=lambda name: (name.casefold(), name)))
    if labelled and len(classes) == 1:
        raise UploadError(
            lazy(
                "only one class folder, {name}: make at least two folders, one per class, or "
                "put every picture at the top level for unlabelled data.",
                name=classes[0],
            )
        )
    if len(classes) > MAX_CLASSES:
        raise UploadError(
            lazy(
                "{count} class folders, more than the {most} a dataset may have: put the "
                "pictures in fewer folders.",
                count=len(classes),
                most=MAX_CLASSES,
            )
        )
    few = [name or UNLABELLED for name in classes if len(pictures[name]) < MIN_PER_CLASS]
    if few:
        raise UploadError(
            lazy_ngettext(
                "the class {names} has fewer than {least} usable pictures: every class needs "
                "at least {least}, one to train on and one to test.",
                "the classes {names} have fewer than {least} usable pictures: every class "
                "needs at least {least}, one to train on and one to test.",
                len(few),
                names=", ".join(few),
                least=MIN_PER_CLASS,
            )
        )
    if total < MIN_PICTURES:
        raise UploadError(
            lazy(
                "only {count} usable pictures: a dataset needs at least {least}.",
                count=total,
                least=MIN_PICTURES,
            )
        )
    split: dict[str, tuple[list[np.ndarray], list[int]]] = {"train": ([], []), "test": ([], [])}
    for label, name in enumerate(classes):
        # In the order of their hashes: the split does not depend on the order of the upload.
        ordered = sorted(pictures[name], key=lambda p: hashlib.sha256(p.tobytes()).digest())
        tested = {i for i in range(len(ordered)) if i % TEST_EVERY == TEST_EVERY - 1}
        for i, picture in enumerate(ordered):
            side = "test" if i in tested or (not tested and i == len(ordered) - 1) else "train"
            split[side][0].append(picture)
            split[side][1].append(label)
    return Upload(
        train_images=np.stack(split["train"][0]),
        train_labels=np.array(split["train"][1], np.uint8),
        test_images=np.stack(split["test"][0]),
        test_labels=np.array(split["test"][1], np.uint8),
        classes=classes,
        labelled=labelled,
        skipped=tuple(skipped),
    )


def _nothing_usable(skipped: list[tuple[str, Text | str]]) -> UploadError:
    if not skipped:
        return UploadError(
            lazy(
                "no pictures in it: the upload holds no files. Send a zip of pictures in "
                "folders, one folder per class, or the pictures themselves."
            )
        )
    name, reason = skipped[0]
    if len(skipped) == 1:
        return UploadError(
            lazy("no pictures in it: {name} was skipped: {reason}", name=name, reason=reason)
        )
    return UploadError(
        lazy_ngettext(
            "no pictures in it: {name} was skipped: {reason} And {n} other file was skipped.",
            "no pictures in it: {name} was skipped: {reason} And {n} other files were skipped.",
            len(skipped) - 1,
            name=name,
            reason=reason,
        )
    )


# The store: one directory per upload under a root the caller gives, named by its key.


def save_upload(root: Path, upload: Upload) -> Path:
    """Store the upload as an MNIST-format directory, root/<key>, that vae_core.datasets
    describes; written beside and renamed into place, so never seen half written. An upload
    already stored is only marked as used."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    final = root / upload.key
    if final.is_dir():
        touch_upload(root, upload.key)
        return final
    partial = Path(tempfile.mkdtemp(prefix=".partial-", dir=root))
    try:
        for split, images, labels in (
            ("train", upload.train_images, upload.train_labels),
            ("test", upload.test_images, upload.test_labels),
        ):
            write_idx(partial / f"{SPLIT_PREFIX[split]}-images-idx3-ubyte", images)
            write_idx(partial / f"{SPLIT_PREFIX[split]}-labels-idx1-ubyte", labels)
        names = upload.classes if upload.labelled else (UNLABELLED,)
        (partial / CLASSES_FILE).write_text("".join(f"{n}\n" for n in names), encoding="utf-8")
        pictures = len(upload.train_images) + len(upload.test_images)
        summary = {"labelled": upload.labelled, "created": time.time(), "pictures": pictures}
        (partial / UPLOAD_FILE).write_text(json.dumps(summary), encoding="utf-8")
        try:
            os.rename(partial, final)
        except OSError:
            if not final.is_dir():
                raise
            # Another page saved the same pictures meanwhile: theirs is this one.
            touch_upload(root, upload.key)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return final


def upload_dir(root: Path, key: str) -> Path | None:
    """The stored upload's directory; None if `key` is not a key or names none stored."""
    if not isinstance(key, str) or not KEY.fullmatch(key):
        return None
    path = Path(root) / key
    return path if path.is_dir() and not path.is_symlink() else None


def touch_upload(root: Path, key: str) -> None:
    """Mark the upload as used now: pruning goes by when each was last used."""
    path = upload_dir(root, key)
    if path is not None:
        try:
            os.utime(path)
        except FileNotFoundError:
            pass  # removed meanwhile: nothing to mark


def delete_upload(root: Path, key: str) -> bool:
    """Remove a stored upload; False if there was none. It is renamed out of the way first,
    so no reader finds it half removed."""
    path = upload_dir(root, key)
    if path is None:
        return False
    removed = Path(tempfile.mkdtemp(prefix=".removed-", dir=root))
    try:
        os.rename(path, removed / key)
    except FileNotFoundError:
        return False
    finally:
        shutil.rmtree(removed, ignore_errors=True)
    return True


def list_uploads(root: Path) -> list[str]:
    """The keys of the uploads stored under root, sorted."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if upload_dir(root, p.name) is not None)


def prune_uploads(
    root: Path, keep: set[str], max_kept: int, max_age_s: float, now: float | None = None
) -> list[str]:
    """Remove the uploads unused for `max_age_s` and, of the rest, the least recently used
    beyond `max_kept`; never those in `keep` (shown on a page now). Returns the keys removed,
    so that their models can go too."""
    root = Path(root)
    now = time.time() if now is None else now
    used = {}
    for key in list_uploads(root):
        try:
            used[key] = (root / key).stat().st_mtime
        except FileNotFoundError:
            continue
    removed = [k for k in used if k not in keep and now - used[k] > max_age_s]
    survivors = sorted((k for k in used if k not in removed), key=lambda k: -used[k])
    removed += [k for k in survivors[max_kept:] if k not in keep]
    for leftover in [*root.glob(".partial-*"), *root.glob(".removed-*")]:
        try:
            if now - leftover.stat().st_mtime > LEFTOVER_AGE_S:
                shutil.rmtree(leftover, ignore_errors=True)
        except FileNotFoundError:
            continue
    return [key for key in removed if delete_upload(root, key)]

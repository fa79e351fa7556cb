"""What a directory of MNIST-format files holds: its name, its classes, what one example is.

`describe` validates a directory fully (both splits, through `vae_core.data.load_split`) and
names it and its classes. MNIST, Fashion-MNIST and KMNIST are recognised by their labels'
contents, whatever the directory is called; other data is named after its directory, its
classes by their label numbers. A `classes.txt` beside the IDX files (UTF-8, one name per
line, in label order) names the classes of any of them.

MNIST and Fashion-MNIST are recognised by a sha256 of both splits' decompressed label arrays,
so gzip-compressed or not. KMNIST's label files were not at hand to hash, so it is recognised
only as distributed, gzip-compressed, by the MD5s of its two original label files (those its
publishers and torchvision give); an uncompressed KMNIST is named only through a classes.txt.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from i18n import N_, Text, lazy, said

from .data import BUNDLED_MNIST, SPLIT_PREFIX, DataError, _find, fingerprint, load_split

MIN_CLASSES = 2
MAX_CLASSES = 62  # EMNIST byclass: 10 digits, 26 upper-case and 26 lower-case letters
MAX_NAME_LENGTH = 40
CLASSES_FILE = "classes.txt"
# Written beside an upload's IDX files (vae_core.uploads): {"labelled": false} makes its one
# class a set of unlabelled pictures rather than a dataset short of classes.
UPLOAD_FILE = "upload.json"
# An upload's key (vae_core.uploads): the hash of its prepared pictures and class names, and
# the name of its directory; nothing else a link sends names an upload.
KEY = re.compile(r"own-[0-9a-f]{16}")

MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
KMNIST_CLASSES = ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")

# sha256 of the label arrays (the bytes after the IDX header), (test, train): MNIST's from
# assets/mnist, Fashion-MNIST's from Debian's dataset-fashion-mnist.
KNOWN_LABELS = {
    (
        "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
        "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    ): ("MNIST", MNIST_CLASSES, "digit"),
    (
        "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9",
        "657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7",
    ): ("Fashion-MNIST", FASHION_MNIST_CLASSES, "image"),
}
# MD5 of the distributed gzip files t10k-labels-idx1-ubyte.gz and train-labels-idx1-ubyte.gz.
KMNIST_GZ_MD5 = ("7320c461ea6c1c855c0b718fb2a4b134", "e144d726b3acfaa3e44228e80efcd344")

# Bidirectional formatting characters could reorder the text around a name on the page.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e") | frozenset(
    "\u2066\u2067\u2068\u2069"
)


@dataclass(frozen=True)
class Dataset:
    """A validated directory of MNIST-format data, as the page and the CLI name it."""

    name: str  # shown to people: "MNIST", "Fashion-MNIST", "KMNIST", else the directory's name
    directory: Path | None  # None: the MNIST bundled in assets/mnist
    classes: tuple[str, ...]  # one name per label, in label order
    noun: str  # what one example is called on the page: "digit" for MNIST, else "image"
    labelled: bool = True  # False: one class of pictures without labels (an upload's)
    upload: bool = False  # pictures a page uploaded (vae_core.uploads), in a directory named by key

    @cached_property
    def key(self) -> str:
        """A short, URL-safe identifier for links, the same for the same data on every start.

        "mnist" for the bundled data, and for a directory holding the very same files (its
        models are the bundled data's: the model cache keys them by the same fingerprint);
        an upload's directory name (its key); otherwise a slug of the name and 6 hex digits of the
        data's fingerprint.
        """
        if self.directory is None:
            return "mnist"
        if self.upload:  # the key of its prepared pictures and class names, already
            return self.directory.name
        digest = fingerprint(self.directory)
        if self.name == "MNIST" and digest == _bundled_fingerprint():
            return "mnist"
        return f"{_slug(self.name)}-{digest[:6]}"


def describe(directory: str | Path | None = None) -> Dataset:
    """Validate a directory of MNIST-format files and say what it holds.

    `directory` None is the bundled MNIST. Raises DataError, saying what is wrong, for a
    directory that is missing, incomplete, not MNIST-format, or whose labels or classes.txt
    do not make 2 to 62 classes each seen in training (one is enough where an upload.json says
    the pictures are unlabelled). Memoised by the directory and its files' modification times,
    so a second call costs a few stat calls.
    """
    path = BUNDLED_MNIST if directory is None else Path(os.path.abspath(directory))
    return _describe(None if directory is None else str(path), _stamps(path))


def datasets_from(names: Sequence[str]) -> tuple[list[Dataset], list[Text]]:
    """The datasets for a server's start: the bundled MNIST first, then each good directory.

    A directory whose data another one already gives (the same key) is dropped. A bad one is
    left out with a message for the operator, never an exception (a lazy message: `str()` of
    it is in its reader's language).
    """
    datasets = [describe(None)]
    problems = []
    for name in names:
        try:
            dataset = describe(name)
        except DataError as exc:
            problems.append(
                lazy(
                    "Data directory {name} left out: {problem} The page offers the other "
                    "datasets (the bundled MNIST always); fix the directory and restart the "
                    "server to add it.",
                    name=name,
                    problem=said(exc),
                )
            )
            continue
        if all(dataset.key != known.key for known in datasets):
            datasets.append(dataset)
    return datasets, problems


def _stamps(path: Path) -> tuple[tuple[str, int, int], ...]:
    """The data files' names, times and sizes: a file changed on disk is described anew."""
    try:
        files = sorted(
            p for p in path.iterdir() if "-ubyte" in p.name or p.name in (CLASSES_FILE, UPLOAD_FILE)
        )
        return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    except OSError:
        # An unreadable directory: load_split, called next, says what is wrong with it.
        return ()


@lru_cache(maxsize=16)
def _describe(directory: str | None, stamps: tuple[tuple[str, int, int], ...]) -> Dataset:
    path = BUNDLED_MNIST if directory is None else Path(directory)
    train, test = load_split(path, "train").labels, load_split(path, "test").labels
    labelled = _labelled(path / UPLOAD_FILE)
    k = _class_count(path, train, test, labelled)
    name, classes, noun = _recognise(path, train, test) or (
        path.name or "data",
        tuple(str(label) for label in range(k)),
        "image",
    )
    if (path / CLASSES_FILE).exists():
        classes = _read_classes(path / CLASSES_FILE, k)
    upload = (path / UPLOAD_FILE).exists() and KEY.fullmatch(path.name) is not None
    if upload:  # named by what it holds: its classes, as far as a name goes
        name = _cut(", ".join(classes), MAX_NAME_LENGTH)
    return Dataset(
        name=name,
        directory=None if directory is None else path,
        classes=classes,
        noun=noun,
        labelled=labelled,
        upload=upload,
    )


def _cut(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 1].rstrip(", ") + "…"


def _labelled(path: Path) -> bool:
    """What an upload.json says of its labels; True without one."""
    if not path.exists():
        return True
    try:
        labelled = json.loads(path.read_text(encoding="utf-8")).get("labelled")
    except (OSError, ValueError, AttributeError) as exc:
        raise DataError(
            lazy("{path}: cannot read it as a JSON object ({error}).", path=path, error=str(exc))
        ) from exc
    if not isinstance(labelled, bool):
        raise DataError(lazy('{path}: "labelled" must be true or false.', path=path))
    return labelled


def _class_count(path: Path, train: np.ndarray, test: np.ndarray, labelled: bool) -> int:
    k = int(max(train.max(), test.max())) + 1
    if not (MIN_CLASSES if labelled else 1) <= k <= MAX_CLASSES:
        if k == 1:
            message = N_(
                "{path}: the labels run from 0 to {last}, so {k} class; "
                "a dataset needs {least} to {most} classes, labelled 0 to k-1."
            )
        else:
            message = N_(
                "{path}: the labels run from 0 to {last}, so {k} classes; "
                "a dataset needs {least} to {most} classes, labelled 0 to k-1."
            )
        raise DataError(
            lazy(message, path=path, last=k - 1, k=k, least=MIN_CLASSES, most=MAX_CLASSES)
        )
    missing = sorted(set(range(k)) - set(np.unique(train).tolist()))
    if missing:
        shown = ", ".join(str(label) for label in missing[:10])
        if len(missing) > 10:
            # TRANSLATORS: the first ten labels missing, and how many more are.
            shown = lazy("{labels} and {more} more", labels=shown, more=len(missing) - 10)
        if len(missing) > 1:
            message = N_(
                "{path}: the labels make {k} classes (0 to {last}), but the training split has "
                "no example of labels {labels}; every class needs training examples to be "
                "learned."
            )
        else:
            message = N_(
                "{path}: the labels make {k} classes (0 to {last}), but the training split has "
                "no example of label {labels}; every class needs training examples to be "
                "learned."
            )
        raise DataError(lazy(message, path=path, k=k, last=k - 1, labels=shown))
    return k


def _recognise(
    path: Path, train: np.ndarray, test: np.ndarray
) -> tuple[str, tuple[str, ...], str] | None:
    """(name, classes, noun) of a known dataset, by its labels' contents; None if unknown."""
    digests = (
        hashlib.sha256(test.tobytes()).hexdigest(),
        hashlib.sha256(train.tobytes()).hexdigest(),
    )
    if digests in KNOWN_LABELS:
        return KNOWN_LABELS[digests]
    label_files = [_find(path, f"{SPLIT_PREFIX[s]}-labels-idx1-ubyte") for s in ("test", "train")]
    if all(f.suffix == ".gz" for f in label_files):
        try:
            md5s = tuple(hashlib.md5(f.read_bytes()).hexdigest() for f in label_files)
        except OSError as exc:
            raise DataError(
                lazy(
                    "{path}: cannot read its label files again ({error}).",
                    path=path,
                    error=str(exc),
                )
            ) from exc
        if md5s == KMNIST_GZ_MD5:
            return "KMNIST", KMNIST_CLASSES, "image"
    return None


def _read_classes(path: Path, k: int) -> tuple[str, ...]:
    try:
        # utf-8-sig: a byte order mark, as some Windows editors write, is not part of a name.
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(
            lazy("{path}: cannot read it as UTF-8 text ({error}).", path=path, error=str(exc))
        ) from exc
    names = [line.strip() for line in text.split("\n")]
    while names and not names[-1]:
        names.pop()
    if len(names) != k:
        if len(names) == 1:
            message = N_(
                "{path} names {count} class, one a line, but the labels make {k} classes "
                "(0 to {last}); give exactly one name a line, in label order."
            )
        else:
            message = N_(
                "{path} names {count} classes, one a line, but the labels make {k} classes "
                "(0 to {last}); give exactly one name a line, in label order."
            )
        raise DataError(lazy(message, path=path, count=len(names), k=k, last=k - 1))
    for line, name in enumerate(names, start=1):
        if not name:
            raise DataError(
                lazy("{path}, line {line}: empty; every class needs a name.", path=path, line=line)
            )
        if len(name) > MAX_NAME_LENGTH:
            raise DataError(
                lazy(
                    "{path}, line {line}: the name is {length} characters long; "
                    "at most {most} are allowed.",
                    path=path,
                    line=line,
                    length=len(name),
                    most=MAX_NAME_LENGTH,
                )
            )
        bad = [c for c in name if unicodedata.category(c) == "Cc" or c in _BIDI_CONTROLS]
        if bad:
            raise DataError(
                lazy(
                    "{path}, line {line}: the name holds the control character "
                    "U+{code:04X}; names must be plain text.",
                    path=path,
                    line=line,
                    code=ord(bad[0]),
                )
            )
    return tuple(names)


@lru_cache(maxsize=1)
def _bundled_fingerprint() -> str:
    return fingerprint(BUNDLED_MNIST)


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:32].rstrip("-")
    return slug or "data"

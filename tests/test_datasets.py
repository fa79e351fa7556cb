import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import write_idx
from vae_core import datasets as datasets_module
from vae_core.data import BUNDLED_MNIST, IMAGES_MAGIC, LABELS_MAGIC, DataError, fingerprint
from vae_core.datasets import Dataset, datasets_from, describe

FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


def write_labels(directory: Path, train, test, compress: bool = False) -> Path:
    """An MNIST-format directory of blank images with the given labels."""
    directory.mkdir(parents=True, exist_ok=True)
    for prefix, labels in (("train", train), ("t10k", test)):
        labels = np.asarray(labels, np.uint8)
        blank = np.zeros((len(labels), 28, 28), np.uint8)
        write_idx(directory / f"{prefix}-images-idx3-ubyte", blank, IMAGES_MAGIC, compress)
        write_idx(directory / f"{prefix}-labels-idx1-ubyte", labels, LABELS_MAGIC, compress)
    return directory


def linked_mnist(directory: Path, skip: tuple[str, ...] = ()) -> Path:
    """The bundled MNIST's files, as symbolic links: a copy without the copying."""
    directory.mkdir()
    for source in BUNDLED_MNIST.glob("*-ubyte.gz"):
        if source.name not in skip:
            (directory / source.name).symlink_to(source)
    return directory


def test_bundled_mnist_is_mnist_of_digits():
    mnist = describe()
    assert mnist == Dataset("MNIST", None, tuple("0123456789"), "digit")
    assert mnist.key == "mnist"
    assert describe(None) is mnist  # memoised: the app describes it on every start


def test_the_bundled_files_elsewhere_are_mnist_with_its_key(tmp_path):
    copy = describe(linked_mnist(tmp_path / "digits"))
    assert (copy.name, copy.classes, copy.noun) == ("MNIST", tuple("0123456789"), "digit")
    assert copy.directory == tmp_path / "digits"
    # The same files, so the same models in the cache and the same links.
    assert copy.key == "mnist"


def test_mnist_stored_otherwise_is_recognised_by_its_labels_and_keyed_by_its_files(tmp_path):
    directory = linked_mnist(tmp_path / "digits", skip=("t10k-labels-idx1-ubyte.gz",))
    labels = gzip.decompress((BUNDLED_MNIST / "t10k-labels-idx1-ubyte.gz").read_bytes())
    (directory / "t10k-labels-idx1-ubyte").write_bytes(labels)
    dataset = describe(directory)
    assert (dataset.name, dataset.noun) == ("MNIST", "digit")
    assert dataset.key == f"mnist-{fingerprint(directory)[:6]}"


def test_unknown_data_is_named_by_its_directory_and_labels(tmp_path):
    dataset = describe(write_labels(tmp_path / "My shapes", [0, 1, 2, 1], [2, 0]))
    assert dataset == Dataset("My shapes", tmp_path / "My shapes", ("0", "1", "2"), "image")
    assert dataset.key == f"my-shapes-{fingerprint(tmp_path / 'My shapes')[:6]}"
    assert describe(str(tmp_path / "My shapes" / ".." / "My shapes")) is dataset


def test_classes_file_names_the_classes(tmp_path):
    directory = write_labels(tmp_path / "shapes", [0, 1, 2], [0])
    (directory / "classes.txt").write_text("  circle\nsquare \ntriangle\n\n", encoding="utf-8")
    assert describe(directory).classes == ("circle", "square", "triangle")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("circle\nsquare\n", r"names 2 classes.*labels make 3 classes"),
        ("a\nb\nc\nd\n", r"names 4 classes.*labels make 3 classes"),
        ("circle\n\ntriangle\n", r"line 2: empty"),
        ("circle\nsquare\n" + "t" * 41 + "\n", r"line 3: the name is 41 characters long"),
        ("circle\nsq\tuare\ntriangle\n", r"line 2: .*control character U\+0009"),
        ("circle\nsquare\ntri\u202eangle\n", r"line 3: .*control character U\+202E"),
    ],
)
def test_a_bad_classes_file_is_refused_saying_why(tmp_path, text, message):
    directory = write_labels(tmp_path / "shapes", [0, 1, 2], [0])
    (directory / "classes.txt").write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        describe(directory)


def test_the_classes_file_is_read_anew_when_it_changes(tmp_path):
    directory = write_labels(tmp_path / "shapes", [0, 1], [0])
    classes = directory / "classes.txt"
    classes.write_text("yes\nno\n", encoding="utf-8")
    assert describe(directory).classes == ("yes", "no")
    classes.write_text("ja\nnein\n", encoding="utf-8")
    assert describe(directory).classes == ("ja", "nein")


def test_too_many_or_too_few_classes_are_refused(tmp_path):
    with pytest.raises(DataError, match=r"0 to 62, so 63 classes; .* 2 to 62 classes"):
        describe(write_labels(tmp_path / "wide", np.arange(63), [0]))
    with pytest.raises(DataError, match=r"so 1 class; .* 2 to 62 classes"):
        describe(write_labels(tmp_path / "one", [0, 0], [0]))


def test_a_class_missing_from_training_is_named(tmp_path):
    directory = write_labels(tmp_path / "gap", [0, 2, 0, 2], [0, 1, 2])
    with pytest.raises(DataError, match=r"3 classes .* no example of label 1;"):
        describe(directory)


def test_kmnist_is_recognised_by_its_distributed_gzip_label_files(tmp_path, monkeypatch):
    # KMNIST's real files are not at hand: stand-ins take their MD5s' place.
    directory = write_labels(tmp_path / "k", np.arange(20) % 10, np.arange(10), compress=True)
    md5s = tuple(
        hashlib.md5((directory / f"{p}-labels-idx1-ubyte.gz").read_bytes()).hexdigest()
        for p in ("t10k", "train")
    )
    monkeypatch.setattr(datasets_module, "KMNIST_GZ_MD5", md5s)
    kmnist = describe(directory)
    assert (kmnist.name, kmnist.classes[:3], kmnist.noun) == ("KMNIST", ("o", "ki", "su"), "image")
    assert kmnist.key.startswith("kmnist-")
    plain = describe(write_labels(tmp_path / "plain", np.arange(20) % 10, np.arange(10)))
    assert (plain.name, plain.classes) == ("plain", tuple("0123456789"))


@pytest.mark.skipif(
    not FASHION_MNIST.is_dir(),
    reason=f"Fashion-MNIST is not in {FASHION_MNIST}: apt-get install -y dataset-fashion-mnist",
)
def test_fashion_mnist_is_recognised_by_its_labels():
    fashion = describe(FASHION_MNIST)
    assert (fashion.name, fashion.noun) == ("Fashion-MNIST", "image")
    assert fashion.classes[0] == "T-shirt/top" and fashion.classes[9] == "Ankle boot"
    assert fashion.key == f"fashion-mnist-{fingerprint(FASHION_MNIST)[:6]}"


def test_datasets_from_keeps_the_good_ones_and_reports_the_bad(tmp_path):
    good = write_labels(tmp_path / "shapes", [0, 1], [1])
    names = [str(good), str(tmp_path / "nowhere"), str(good), str(linked_mnist(tmp_path / "m"))]
    found, problems = datasets_from(names)
    assert [d.key for d in found] == ["mnist", describe(good).key]
    assert found[0].directory is None
    assert len(problems) == 1
    assert str(problems[0]).startswith(f"Data directory {tmp_path / 'nowhere'} left out: ")
    assert "does not exist" in str(problems[0]) and "bundled MNIST" in str(problems[0])

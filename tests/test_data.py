import gzip

import numpy as np
import pytest
import torch

from tests.conftest import write_dataset, write_idx
from vae_core.data import (
    IMAGES_MAGIC,
    LABELS_MAGIC,
    DataError,
    fingerprint,
    load_split,
    read_idx,
    to_tensor,
)
from vae_core.data import write_idx as write_idx_file


def test_bundled_mnist_has_canonical_shapes_and_labels():
    train, test = load_split(None, "train"), load_split(None, "test")
    assert train.images.shape == (60000, 28, 28) and train.images.dtype == np.uint8
    assert test.images.shape == (10000, 28, 28) and test.labels.shape == (10000,)
    assert set(np.unique(test.labels)) == set(range(10))
    # The first test digit of the canonical release is a 7, the first training digit a 5.
    assert test.labels[0] == 7 and train.labels[0] == 5


def test_uncompressed_and_gzip_directories_load_the_same(tmp_path):
    plain = write_dataset(tmp_path / "plain", 50, 20, compress=False)
    gz = write_dataset(tmp_path / "gz", 50, 20, compress=True)
    a, b = load_split(plain, "test"), load_split(gz, "test")
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.labels, load_split(None, "test").labels[:20])
    assert fingerprint(plain) == fingerprint(write_dataset(tmp_path / "plain2", 50, 20, False))


def test_to_tensor_scales_to_unit_interval():
    x = to_tensor(np.array([[[0, 255], [51, 102]]], dtype=np.uint8))
    assert x.shape == (1, 4) and x.dtype == torch.float32
    torch.testing.assert_close(x, torch.tensor([[0.0, 1.0, 0.2, 0.4]]))


def test_to_tensor_gives_every_byte_the_float32_quotient_training_always_used():
    """Divided in place now, the same bits as `astype(np.float32) / 255.0` (the weights of a
    training depend on them)."""
    images = np.arange(256, dtype=np.uint8).reshape(4, 8, 8)
    expected = images.reshape(4, -1).astype(np.float32) / 255.0
    assert np.array_equal(to_tensor(images).numpy().view(np.uint32), expected.view(np.uint32))


def test_missing_directory_and_file_are_named(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_split(tmp_path / "nowhere")
    d = write_dataset(tmp_path / "d", 10, 10)
    (d / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="missing data file.*t10k-labels-idx1-ubyte"):
        load_split(d, "test")


def test_truncated_file_is_reported(tmp_path):
    d = write_dataset(tmp_path / "d", 10, 10, compress=False)
    path = d / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match="truncated.*train-images|train-images.*truncated"):
        load_split(d, "train")


def test_truncated_gzip_stream_is_reported(tmp_path):
    d = write_dataset(tmp_path / "d", 10, 10)
    path = d / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz.*damaged or truncated"):
        load_split(d, "train")


def test_wrong_magic_number_is_reported(tmp_path):
    d = write_dataset(tmp_path / "d", 10, 10)
    # Labels where images belong: a real IDX file, but of the wrong kind.
    write_idx(d / "train-images-idx3-ubyte", np.zeros(10, np.uint8), LABELS_MAGIC)
    with pytest.raises(DataError, match="wrong magic number 0x00000801"):
        load_split(d, "train")


def test_count_mismatch_is_reported(tmp_path):
    d = write_dataset(tmp_path / "d", 10, 10)
    write_idx(d / "train-labels-idx1-ubyte", np.zeros(9, np.uint8), LABELS_MAGIC)
    with pytest.raises(DataError, match="10 images but .* 9 labels"):
        load_split(d, "train")


def test_wrong_image_size_is_reported(tmp_path):
    d = write_dataset(tmp_path / "d", 10, 10)
    write_idx(d / "t10k-images-idx3-ubyte", np.zeros((10, 32, 32), np.uint8), IMAGES_MAGIC)
    with pytest.raises(DataError, match="32x32, expected 28x28"):
        load_split(d, "test")


def test_file_longer_than_header_says_is_reported(tmp_path):
    path = tmp_path / "x-idx1-ubyte"
    path.write_bytes(LABELS_MAGIC.to_bytes(4, "big") + (3).to_bytes(4, "big") + b"\x01\x02\x03\x04")
    with pytest.raises(DataError, match="longer than its header says"):
        read_idx(path, LABELS_MAGIC)


def test_not_gzip_despite_name_is_reported(tmp_path):
    path = tmp_path / "x-idx1-ubyte.gz"
    path.write_bytes(b"this is not gzip data at all")
    with pytest.raises(DataError, match="damaged or truncated"):
        read_idx(path, LABELS_MAGIC)


def test_unknown_split_is_refused():
    with pytest.raises(DataError, match="unknown split"):
        load_split(None, "validation")


def test_fingerprint_changes_with_the_data(tmp_path):
    d = write_dataset(tmp_path / "d", 10, 10)
    before = fingerprint(d)
    write_idx(d / "t10k-labels-idx1-ubyte", np.ones(10, np.uint8), LABELS_MAGIC)
    assert fingerprint(d) != before
    assert gzip.decompress((d / "t10k-labels-idx1-ubyte.gz").read_bytes())[8:] == b"\x01" * 10


def test_write_idx_writes_what_read_idx_reads_and_leaves_nothing_beside(tmp_path):
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    labels = np.array([3, 1], np.uint8)
    write_idx_file(tmp_path / "images", images)
    write_idx_file(tmp_path / "labels", labels)
    np.testing.assert_array_equal(read_idx(tmp_path / "images", IMAGES_MAGIC), images)
    np.testing.assert_array_equal(read_idx(tmp_path / "labels", LABELS_MAGIC), labels)
    # Written again over an old file: replaced whole, with no partial file left.
    write_idx_file(tmp_path / "labels", labels[::-1])
    np.testing.assert_array_equal(read_idx(tmp_path / "labels", LABELS_MAGIC), labels[::-1])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["images", "labels"]

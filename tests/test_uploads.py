import hashlib
import io
import json
import os
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from vae_core import uploads as uploads_module
from vae_core.data import load_split
from vae_core.datasets import describe
from vae_core.pictures import prepare_picture
from vae_core.uploads import (
    KEY,
    UNLABELLED,
    Upload,
    UploadError,
    UploadLimits,
    delete_upload,
    list_uploads,
    prune_uploads,
    read_upload,
    save_upload,
    touch_upload,
    upload_dir,
)

LIMITS = UploadLimits()


def drawing(seed: int, format: str = "PNG", **options) -> bytes:
    """A small picture of a few random strokes, dark on light: each seed its own drawing."""
    rng = np.random.default_rng(seed)
    paper = Image.new("RGB", (40, 40), "white")
    points = [tuple(int(v) for v in rng.integers(3, 37, 2)) for _ in range(4)]
    ImageDraw.Draw(paper).line(points, fill="black", width=3)
    buffer = io.BytesIO()
    paper.save(buffer, format, **options)
    return buffer.getvalue()


def zipped(members, compression=zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of (name, bytes) members, or of ZipInfo members with their bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def classes_of(counts: dict[str, int], start: int = 0, wrap: str = "") -> list[tuple[str, bytes]]:
    members, seed = [], start
    for name, n in counts.items():
        for i in range(n):
            members.append((f"{wrap}{name}/{i}.png", drawing(seed)))
            seed += 1
    return members


THREE = {"cat": 7, "dog": 6, "bird": 5}


def test_a_zip_of_class_folders_makes_a_labelled_dataset():
    upload = read_upload([("pets.zip", zipped(classes_of(THREE)))], LIMITS)
    assert upload.labelled and upload.classes == ("bird", "cat", "dog")
    # Every sixth to test, and at least one of every class.
    assert upload.counts == ((4, 1), (6, 1), (5, 1))
    assert upload.train_images.shape == (15, 28, 28) and upload.train_images.dtype == np.uint8
    assert upload.test_images.shape == (3, 28, 28)
    assert upload.train_labels.dtype == np.uint8 and set(upload.test_labels) == {0, 1, 2}
    assert upload.skipped == ()
    assert KEY.fullmatch(upload.key)
    # The pictures are prepared as prepare_picture prepares them.
    prepared = {prepare_picture(drawing(i), LIMITS.max_pixels).tobytes() for i in range(18)}
    assert {image.tobytes() for image in upload.train_images} <= prepared


def test_a_wrapping_folder_is_not_a_class_and_pictures_sent_one_by_one_work_too():
    wrapped = read_upload([("w.zip", zipped(classes_of(THREE, wrap="my pets/photos/")))], LIMITS)
    loose = read_upload(classes_of(THREE), LIMITS)  # as the page sends a class at a time
    assert wrapped.classes == loose.classes == ("bird", "cat", "dog")
    assert wrapped.key == loose.key


def test_pictures_with_no_folder_are_unlabelled():
    members = [(f"{i}.png", drawing(i)) for i in range(12)]
    for upload in (
        read_upload(members, LIMITS),
        read_upload([("u.zip", zipped(members))], LIMITS),
        read_upload([("u.zip", zipped([(f"scans/{n}", d) for n, d in members]))], LIMITS),
    ):
        assert not upload.labelled and upload.classes == ("",)
        assert upload.counts == ((10, 2),)


def test_the_key_depends_on_the_pictures_and_names_not_the_zip():
    members = classes_of(THREE)
    upload = read_upload([("a.zip", zipped(members))], LIMITS)
    reordered = read_upload([("b.zip", zipped(members[::-1], zipfile.ZIP_STORED))], LIMITS)
    split_in_two = read_upload(
        [("1.zip", zipped(members[:9])), ("2.zip", zipped(members[9:]))], LIMITS
    )
    assert upload.key == reordered.key == split_in_two.key
    # The split is the same too, whatever the order.
    for other in (reordered, split_in_two):
        np.testing.assert_array_equal(upload.train_images, other.train_images)
        np.testing.assert_array_equal(upload.test_labels, other.test_labels)
    renamed = [(name.replace("cat/", "kitten/"), data) for name, data in members]
    assert read_upload([("c.zip", zipped(renamed))], LIMITS).key != upload.key
    fewer = read_upload([("d.zip", zipped(members[1:]))], LIMITS)
    assert fewer.key != upload.key


def test_the_split_sends_every_sixth_by_hash_to_test():
    upload = read_upload(classes_of({"a": 13, "b": 2}), LIMITS)
    assert upload.counts == ((11, 2), (1, 1))
    a = [prepare_picture(drawing(i), LIMITS.max_pixels) for i in range(13)]
    ordered = sorted(a, key=lambda p: hashlib.sha256(p.tobytes()).digest())
    tested = {ordered[5].tobytes(), ordered[11].tobytes()}
    assert {image.tobytes() for image in upload.test_images[upload.test_labels == 0]} == tested


def test_macos_and_windows_litter_is_skipped_quietly():
    litter = [
        ("__MACOSX/cat/._0.png", b"\x00\x05\x16\x07 resource fork"),
        ("cat/._1.png", b"\x00\x05\x16\x07"),
        ("cat/.DS_Store", b"Bud1"),
        ("dog/Thumbs.db", b"\xd0\xcf\x11\xe0"),
        ("dog/desktop.ini", b"[.ShellClassInfo]"),
    ]
    upload = read_upload([("p.zip", zipped(classes_of(THREE) + litter))], LIMITS)
    assert upload.skipped == () and upload.classes == ("bird", "cat", "dog")


def reasons(upload: Upload) -> dict[str, str]:
    return {name: str(reason) for name, reason in upload.skipped}


def test_what_cannot_be_used_is_skipped_with_its_reason():
    image = Image.new("RGB", (32, 32), "white")
    ImageDraw.Draw(image).rectangle([8, 8, 23, 23], fill="black")
    tiff = io.BytesIO()
    image.save(tiff, "TIFF")
    bad = [
        ("cat/notes.txt", b"my cats"),
        ("cat/broken.png", drawing(100)[:60]),
        ("cat/picture.tiff", tiff.getvalue()),
        ("cat/tiny.png", _png(Image.new("L", (1, 1)))),
        ("dog/blank.png", _png(Image.new("L", (30, 30), 255))),
        ("dog/again.png", drawing(7)),  # the same as dog/0.png
        ("readme.png", drawing(101)),
        ("inner/more.zip", zipped(classes_of({"fish": 2}, start=200))),
    ]
    upload = read_upload([("p.zip", zipped(classes_of(THREE) + bad))], LIMITS)
    assert upload.classes == ("bird", "cat", "dog")  # no class "inner", nor its fish
    why = reasons(upload)
    assert why["cat/notes.txt"].startswith("not a picture this page reads (PNG, JPEG, WebP")
    assert why["cat/broken.png"].startswith("cannot be read as a picture (")
    assert why["cat/picture.tiff"].startswith("not a picture this page reads")
    assert why["cat/tiny.png"] == "too small: 1×1 pixels; a picture needs at least 8×8."
    assert why["dog/blank.png"] == "holds no drawing (it is one colour)."
    assert why["dog/again.png"] == "the same as dog/0.png."
    assert why["readme.png"].startswith("not in a class folder")
    assert why["inner/more.zip"] == "a zip inside the zip: put its pictures in the outer zip."
    assert len(why) == len(bad)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_encrypted_links_and_odd_compression_are_skipped():
    members = classes_of(THREE)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            archive.writestr(name, data)
        link = zipfile.ZipInfo("cat/passwords.png")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
        archive.writestr(zipfile.ZipInfo("dog/squeezed.png"), drawing(50), zipfile.ZIP_BZIP2)
        archive.writestr("bird/secret.png", drawing(51))
    # zipfile writes no encrypted member: its flag set by hand, in both of its headers.
    data = bytearray(buffer.getvalue())
    central = data.rfind(b"PK\x01\x02", 0, data.rfind(b"bird/secret.png"))
    local = data.rfind(b"PK\x03\x04", 0, data.find(b"bird/secret.png"))
    data[central + 8] |= 0x1
    data[local + 6] |= 0x1
    upload = read_upload([("p.zip", bytes(data))], LIMITS)
    why = reasons(upload)
    assert why["cat/passwords.png"] == "a link, not a picture: links are not followed."
    assert why["dog/squeezed.png"].startswith("compressed in a way this server does not read")
    assert why["bird/secret.png"] == "encrypted: send the zip without a password."


def test_names_are_cleaned_and_never_become_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    hostile = {
        "../../etc/": 3,
        "/abs/": 3,
        "C:\\Windows\\": 3,
        "a\u202eb\u0007  c\t\n/": 3,
        "..\\": 2,
        "./": 2,
        "x" * 100 + "/": 3,
        "![p](t.png) <i>`x`/": 3,
    }
    members = []
    seed = 300
    for folder, n in hostile.items():
        for i in range(n):
            members.append((f"{folder}{i}.png", drawing(seed)))
            seed += 1
    upload = read_upload([("evil.zip", zipped(members))], LIMITS)
    assert upload.labelled
    # No markup survives: a link, a picture, HTML or code in a name shown as Markdown.
    markup = "!p(t.png) ix"
    assert set(upload.classes) == {"abs", "C:", "ab c", "x" * 40, markup}
    why = reasons(upload)
    # "../../etc/0.png": its first folder, "..", is no class; nor are ".." or ".".
    assert why["../../etc/0.png"] == "its folder's name, .., is not a usable class name."
    assert why["..\\0.png"] == "its folder's name, .., is not a usable class name."
    assert why["./1.png"] == "its folder's name, ., is not a usable class name."
    root = tmp_path / "uploads"
    saved = save_upload(root, upload)
    assert saved.parent == root
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    expected = ["uploads", f"uploads/{upload.key}"] + [
        f"uploads/{upload.key}/{name}"
        for name in (
            "classes.txt",
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
            "upload.json",
        )
    ]
    assert files == expected
    assert describe(saved).classes == upload.classes


def test_a_zip_bomb_is_refused_without_inflating_it(monkeypatch):
    limits = UploadLimits(max_bytes=2**20)  # so 4 MiB unzipped at most
    bomb = zipped(classes_of(THREE) + [("cat/huge.png", b"\x00" * (40 * 2**20))])
    assert len(bomb) < 2**20 / 10  # over 1000 times compressed
    message = (
        "bomb.zip expands to more than 4194304 bytes, more than this server unpacks from one "
        "upload (it may be a zip bomb)"
    )
    with pytest.raises(UploadError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_upload([("bomb.zip", bomb)], limits)
    # Its central directory claiming 1000 bytes: the member is read no further than that
    # (zipfile stops at the size it was told) and fails its checksum.
    lying = bytearray(bomb)
    central = lying.rfind(b"PK\x01\x02", 0, lying.rfind(b"cat/huge.png"))
    lying[central + 24 : central + 28] = (1000).to_bytes(4, "little")
    inflated = []
    original = uploads_module._inflated

    def counted(archive, member, budget, name):
        try:
            return original(archive, member, budget, name)
        finally:
            inflated.append(budget.limit - budget.left)

    monkeypatch.setattr(uploads_module, "_inflated", counted)
    upload = read_upload([("bomb.zip", bytes(lying))], limits)
    assert reasons(upload)["cat/huge.png"].startswith("cannot be read from the zip (Bad CRC")
    assert max(inflated) < 2**20
    # Several members, each within the limit, together beyond it: stopped as they inflate,
    # however small their headers say they are.
    members = classes_of(THREE) + [(f"cat/big{i}.png", b"\x00" * 2**20) for i in range(6)]
    with pytest.raises(UploadError, match="expands to more than 4194304 bytes"):
        read_upload([("bombs.zip", zipped(members))], limits)


def test_a_zip_inside_a_zip_is_not_opened():
    inner = zipped(classes_of(THREE))
    with pytest.raises(
        UploadError,
        match=r"no pictures in it: inner\.zip was skipped: a zip inside the zip: put its "
        r"pictures in the outer zip\.",
    ):
        read_upload([("outer.zip", zipped([("inner.zip", inner)]))], LIMITS)


def test_an_empty_upload_and_an_empty_zip():
    message = r"no pictures in it: the upload holds no files\. Send a zip of pictures"
    with pytest.raises(UploadError, match=message):
        read_upload([("empty.zip", zipped([]))], LIMITS)
    with pytest.raises(UploadError, match=message):
        read_upload([], LIMITS)
    with pytest.raises(UploadError, match=message):
        read_upload([("mac.zip", zipped([("__MACOSX/._a.png", b"x"), ("d/", b"")]))], LIMITS)


def test_nothing_usable_says_why_with_the_first_reason():
    with pytest.raises(
        UploadError,
        match=r"no pictures in it: a\.txt was skipped: not a picture this page reads \(PNG, "
        r"JPEG, WebP, GIF or BMP\)\. And 2 other files were skipped\.",
    ):
        read_upload([("a.txt", b"a"), ("b.txt", b"b"), ("c.txt", b"c")], LIMITS)
    with pytest.raises(UploadError, match=r"no pictures in it: broken\.zip was skipped: cannot "):
        read_upload([("broken.zip", b"PK\x03\x04 and then nothing")], LIMITS)


def test_one_class_only_is_refused_saying_what_to_do():
    members = classes_of({"cat": 12}) + [("notes.png", b"not a picture")]
    with pytest.raises(
        UploadError,
        match=r"only one class folder, cat: make at least two folders, one per class, or put "
        r"every picture at the top level for unlabelled data\.",
    ):
        read_upload([("cats.zip", zipped(members))], LIMITS)


def test_too_few_pictures_in_a_class_or_in_all():
    with pytest.raises(
        UploadError,
        match=r"the classes bird, fish have fewer than 2 usable pictures: every class needs at "
        r"least 2, one to train on and one to test\.",
    ):
        read_upload(classes_of({"cat": 9, "bird": 1, "fish": 1}), LIMITS)
    with pytest.raises(UploadError, match=r"the class bird has fewer than 2 usable pictures"):
        read_upload(classes_of({"cat": 9, "bird": 1}), LIMITS)
    with pytest.raises(UploadError, match=r"only 6 usable pictures: a dataset needs at least 10"):
        read_upload(classes_of({"cat": 3, "dog": 3}), LIMITS)


def test_more_classes_than_a_dataset_may_have():
    with pytest.raises(UploadError, match=r"63 class folders, more than the 62 a dataset may"):
        read_upload(classes_of({f"c{i}": 2 for i in range(63)}), LIMITS)


def test_the_upload_limits():
    members = classes_of(THREE)
    sent = sum(len(d) for _, d in members)
    with pytest.raises(
        UploadError,
        match=rf"the upload is {sent} bytes, more than the server's limit of 1000 bytes: send",
    ):
        read_upload(members, UploadLimits(max_bytes=1000))
    with pytest.raises(
        UploadError, match=r"the upload holds 11 pictures or more, more than the server's limit "
    ):
        read_upload([("p.zip", zipped(members))], UploadLimits(max_images=10))
    with pytest.raises(
        UploadError,
        match=r"no pictures in it: bird/0\.png was skipped: claims 40×40 pixels, more than the "
        r"server's limit of 1000 pixels\. And 17 other files were skipped\.",
    ):
        read_upload(members, UploadLimits(max_pixels=1000))
    # All pictures together: 18 of 40×40 claim 28,800 pixels, refused before the last decoded.
    with pytest.raises(UploadError, match=r"claim more than 0 million pixels in all"):
        read_upload(members, UploadLimits(max_total_pixels=20_000))
    assert read_upload(members, UploadLimits(max_total_pixels=28_800)).counts


def test_a_zip_whose_directory_outgrows_its_count_is_refused_before_reading_it():
    """An end record may lie about the entries; the size of the directory it names bounds how
    many records zipfile would make objects of."""
    members = classes_of(THREE)
    data = bytearray(zipped(members))
    end = data.rfind(b"PK\x05\x06")
    data[end + 12 : end + 16] = (10 * 2 * 400 + 1).to_bytes(4, "little")  # 8,001 bytes
    with pytest.raises(UploadError, match="entries, more than this server reads"):
        read_upload([("liar.zip", bytes(data))], UploadLimits(max_images=10))


def test_upload_limits_are_validated():
    for bad in ({"max_bytes": 0}, {"max_images": -1}, {"max_pixels": 1.5}, {"max_bytes": True}):
        with pytest.raises(ValueError, match="must be a whole number of at least 1"):
            UploadLimits(**bad)
    assert UploadLimits().max_unzipped == 4 * 50 * 2**20


def test_a_hundred_thousand_tiny_files_are_refused_before_reading_any(monkeypatch):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for i in range(100_000):
            archive.writestr(f"{i}.png", b"x")

    def unread(*_):
        raise AssertionError("a member was read")

    monkeypatch.setattr(uploads_module, "_inflated", unread)
    monkeypatch.setattr(uploads_module, "prepare_picture", unread)
    with pytest.raises(
        UploadError,
        match=r"many\.zip holds 100000 entries, more than this server reads from one upload: "
        r"send at most 20000 pictures\.",
    ):
        read_upload([("many.zip", buffer.getvalue())], LIMITS)
    # A zip that hides its count still stops there, once zipfile has listed its entries.
    hidden = bytearray(buffer.getvalue())
    end = hidden.rfind(b"PK\x05\x06")
    hidden[end + 10 : end + 12] = (1).to_bytes(2, "little")
    hidden[end + 8 : end + 10] = (1).to_bytes(2, "little")
    with pytest.raises(UploadError, match="holds 100000 entries|pictures or more"):
        read_upload([("many.zip", bytes(hidden))], LIMITS)


def test_exif_and_gps_are_not_kept(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 1
    exif[0x010F] = "SpyCam"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (51.0, 28.0, 38.0)
    members = [
        (name, drawing(seed, "JPEG", exif=exif.tobytes(), quality=95))
        for seed, (name, _) in enumerate(classes_of(THREE))
    ]
    assert b"SpyCam" in members[0][1]
    saved = save_upload(tmp_path / "uploads", read_upload(members, LIMITS))
    for path in saved.iterdir():
        assert b"SpyCam" not in path.read_bytes() and b"Exif" not in path.read_bytes()


def test_save_describe_and_load_round_trip(tmp_path):
    upload = read_upload(classes_of(THREE), LIMITS)
    root = tmp_path / "cache" / "uploads"
    saved = save_upload(root, upload)
    assert saved == root / upload.key and list_uploads(root) == [upload.key]
    dataset = describe(saved)
    assert dataset.classes == ("bird", "cat", "dog") and dataset.labelled
    train, test = load_split(saved, "train"), load_split(saved, "test")
    np.testing.assert_array_equal(train.images, upload.train_images)
    np.testing.assert_array_equal(test.labels, upload.test_labels)
    summary = json.loads((saved / "upload.json").read_text())
    assert summary["labelled"] is True and summary["pictures"] == 18
    assert isinstance(summary["created"], float)
    # Saved again (another page, the same pictures): the same directory, only marked as used.
    os.utime(saved, (1, 1))
    assert save_upload(root, upload) == saved and saved.stat().st_mtime > 1
    assert [p.name for p in root.iterdir()] == [upload.key]  # nothing left beside it


def test_an_unlabelled_upload_is_described_as_one_class_of_pictures(tmp_path):
    upload = read_upload([(f"{i}.png", drawing(i)) for i in range(12)], LIMITS)
    saved = save_upload(tmp_path, upload)
    dataset = describe(saved)
    assert dataset.classes == (UNLABELLED,) and not dataset.labelled
    # Without the upload's word for it, one class is no dataset.
    (saved / "upload.json").unlink()
    with pytest.raises(ValueError, match="so 1 class; a dataset needs 2 to 62 classes"):
        describe(saved)
    (saved / "upload.json").write_text("[]")
    with pytest.raises(ValueError, match="cannot read it as a JSON object"):
        describe(saved)
    (saved / "upload.json").write_text('{"labelled": "no"}')
    with pytest.raises(ValueError, match='"labelled" must be true or false'):
        describe(saved)


def test_keys_are_checked_before_any_path_is_made(tmp_path):
    upload = read_upload(classes_of(THREE), LIMITS)
    save_upload(tmp_path, upload)
    (tmp_path / "own-0000000000000000").symlink_to(tmp_path / upload.key)
    assert upload_dir(tmp_path, upload.key) == tmp_path / upload.key
    for bad in (
        "../" + upload.key,
        upload.key + "/",
        upload.key.upper(),
        "own-0000000000000000",
        "own-123",
        "",
        None,
        "own-0000000000000001",
    ):
        assert upload_dir(tmp_path, bad) is None
        assert delete_upload(tmp_path, bad) is False
    assert list_uploads(tmp_path) == [upload.key]
    assert list_uploads(tmp_path / "nowhere") == []


def test_delete_and_prune(tmp_path):
    keys = []
    for start in (0, 100, 200, 300):
        upload = read_upload(classes_of(THREE, start=start), LIMITS)
        save_upload(tmp_path, upload)
        keys.append(upload.key)
    for age, key in enumerate(keys):  # keys[0] the newest, keys[3] the oldest
        os.utime(tmp_path / key, (1000 - age * 10, 1000 - age * 10))
    # Unused for 25 s: keys[3] (30 s), not keys[2] (kept, shown on a page).
    assert prune_uploads(tmp_path, {keys[2]}, max_kept=10, max_age_s=25, now=1000) == [keys[3]]
    touch_upload(tmp_path, keys[2])  # used now: the newest
    assert prune_uploads(tmp_path, set(), max_kept=2, max_age_s=10**9, now=1000) == [keys[1]]
    assert sorted(list_uploads(tmp_path)) == sorted([keys[0], keys[2]])
    assert delete_upload(tmp_path, keys[0]) is True
    assert delete_upload(tmp_path, keys[0]) is False
    assert list_uploads(tmp_path) == [keys[2]]
    assert [p.name for p in tmp_path.iterdir()] == [keys[2]]
    # What an interrupted save leaves is cleaned up once it is old.
    leftover = tmp_path / ".partial-x"
    leftover.mkdir()
    os.utime(leftover, (0, 0))
    prune_uploads(tmp_path, set(), max_kept=10, max_age_s=10**9)
    assert [p.name for p in tmp_path.iterdir()] == [keys[2]]


def test_a_skipped_name_is_shown_cleaned_and_cut():
    name = "cat/\u202e" + "y" * 300 + ".png"
    upload = read_upload(classes_of(THREE) + [(name, b"text")], LIMITS)
    ((shown, _),) = upload.skipped
    assert "\u202e" not in shown and len(shown) == 120 and shown.endswith("…")


def test_a_name_zipped_without_the_utf8_flag_is_read_as_utf8():
    # zipfile flags every name it cannot write in ASCII: the UTF-8 bytes put in by hand.
    data = zipped(classes_of({"cafXY": 6, "dog": 6}))
    data = data.replace(b"cafXY/", "café/".encode())
    assert all(not m.flag_bits & 0x800 for m in zipfile.ZipFile(io.BytesIO(data)).infolist())
    upload = read_upload([("p.zip", data)], LIMITS)
    assert upload.classes == ("café", "dog")


def test_nothing_is_written_outside_the_root(tmp_path):
    outside = sorted(Path(tmp_path).iterdir())
    save_upload(tmp_path / "root", read_upload(classes_of(THREE), LIMITS))
    assert sorted(p for p in tmp_path.iterdir() if p.name != "root") == outside

"""Uploads on the server (explorer/own_data.py, explorer/server.py): the limits on how often a
page and the server prepare them, keeping one and reaching it by its key alone, pruning and
deleting with their models; and through the page (AppTest), a link to an upload held and to
one that is gone."""

import os

import pytest

from benchmarks.own_images import shapes_zip
from explorer import own_data, server, state
from explorer.model_view import ModelSettings
from tests.test_app import run_app
from training import TrainingRequest, get_or_train
from vae_core.uploads import UploadLimits, read_upload

CLASSES = ("bar", "circle", "cross")


@pytest.fixture(scope="module")
def upload():
    return read_upload([("shapes.zip", shapes_zip(12, CLASSES))], UploadLimits())


def test_the_gate_counts_a_sessions_uploads_and_the_servers_hour():
    gate = own_data.UploadGate(per_session=2, per_hour=3)
    assert gate.admit("a", now=0) is None and gate.admit("a", now=1) is None
    refused = gate.admit("a", now=2)
    assert refused is not None and "2 uploads" in str(refused)
    assert gate.admit("b", now=3) is None
    hour = gate.admit("c", now=4)
    assert hour is not None and "in the last hour" in str(hour) and "60 min" in str(hour)
    assert gate.admit("c", now=3601) is None  # the first has left the hour


def test_an_upload_kept_is_reached_by_its_key_alone_and_deleted_with_its_models(
    upload, isolated_cache
):
    key = own_data.keep(upload)
    assert key == upload.key and server.is_own(key)
    dataset = server.dataset_of(key)
    assert dataset.key == key and dataset.classes == CLASSES
    assert dataset.directory.parent == isolated_cache / "uploads"
    assert server.holds(key) and not server.holds("own-" + "0" * 16)
    # A key that is not an upload's, or names a path, reaches nothing.
    for bad in ("own-../../etc", "../uploads", "own-0123", key.upper()):
        assert server.own_dataset(bad) is None
    settings = ModelSettings(beta=1.0, width=64, epochs=1, seed=0, data=key)
    get_or_train(TrainingRequest(*settings.configs(), cache_dir=isolated_cache))
    own_data.note_model(key, settings.key)
    model = isolated_cache / f"{settings.key}.pt"
    assert model.is_file()
    assert own_data.delete(key)
    assert not model.exists() and not server.holds(key)
    assert server.dataset_of(key).key == "mnist"  # as any key no longer held
    assert not own_data.delete(key)


def test_pruning_keeps_the_newest_and_an_upload_a_page_shows(upload, isolated_cache, monkeypatch):
    monkeypatch.setattr(server, "_configured", server.ServerLimits(uploads_kept=1))
    monkeypatch.setattr(own_data, "models_in_use", lambda: {upload.key})
    shown = own_data.keep(upload)
    os.utime(server.uploads_root() / shown, (1, 1))  # the oldest
    older = read_upload([("b.zip", shapes_zip(12, CLASSES, seed=1))], UploadLimits())
    own_data.keep(older)
    os.utime(server.uploads_root() / older.key, (2, 2))
    newest = read_upload([("c.zip", shapes_zip(12, CLASSES, seed=2))], UploadLimits())
    assert own_data.keep(newest) == newest.key
    assert server.holds(shown) and server.holds(newest.key) and not server.holds(older.key)


def test_a_link_names_an_upload_held_and_says_when_one_is_gone(upload, isolated_cache):
    key = own_data.keep(upload)
    values, notices = state.parse_link({"data": key})
    assert values == {"data": key} and notices == []
    gone = "own-" + "f" * 16
    values, notices = state.parse_link({"data": gone})
    assert values == {} and "no longer on this server" in str(notices[0])


def test_the_page_opens_an_upload_by_its_link_and_offers_it(upload, isolated_cache):
    key = own_data.keep(upload)
    settings = ModelSettings(beta=1.0, width=64, epochs=1, seed=0, data=key)
    get_or_train(TrainingRequest(*settings.configs(), cache_dir=isolated_cache))
    at = run_app({"data": key, "width": "64", "epochs": "1"})
    assert not at.exception
    assert at.sidebar.selectbox(key="data").value == key
    assert any("bar" in option for option in at.sidebar.selectbox(key="data").options)
    assert at.query_params["data"] == key
    with pytest.raises(KeyError):  # a link shows the pictures; only their sender deletes them
        at.sidebar.button(key="own_delete")


def test_a_link_to_an_upload_gone_opens_the_default_with_a_notice(isolated_cache):
    at = run_app({"data": "own-" + "a" * 16})
    assert not at.exception
    assert any("no longer on this server" in w.value for w in at.warning)
    assert at.sidebar.selectbox(key="data").value == "mnist"


def test_delete_removes_the_pictures_and_their_model_and_returns_to_the_default(
    upload, isolated_cache
):
    key = own_data.keep(upload)
    settings = ModelSettings(beta=1.0, width=64, epochs=1, seed=0, data=key)
    get_or_train(TrainingRequest(*settings.configs(), cache_dir=isolated_cache))
    own_data.note_model(key, settings.key)
    at = run_app({"data": key, "width": "64", "epochs": "1"})
    at.session_state["own_sent"] = frozenset({key})  # as the page that sent them
    at.run()
    at.sidebar.button(key="own_delete").click().run()
    assert not at.exception
    assert not server.holds(key) and not (isolated_cache / f"{settings.key}.pt").exists()
    assert any("deleted from this server" in w.value for w in at.warning)
    assert at.sidebar.selectbox(key="data").value == "mnist"
    assert at.query_params["data"] == "mnist"
    with pytest.raises(KeyError):  # nothing left to delete
        at.sidebar.button(key="own_delete")


def test_another_page_showing_pictures_deleted_meanwhile_returns_to_the_default(
    upload, isolated_cache
):
    key = own_data.keep(upload)
    settings = ModelSettings(beta=1.0, width=64, epochs=1, seed=0, data=key)
    get_or_train(TrainingRequest(*settings.configs(), cache_dir=isolated_cache))
    at = run_app({"data": key, "width": "64", "epochs": "1"})
    own_data.delete(key)  # by the page that sent them
    at.run()
    assert not at.exception
    assert any("no longer on this server" in e.value for e in at.sidebar.error)
    assert at.query_params["data"] == "mnist"


def test_a_model_held_by_a_lock_at_deletion_goes_at_the_next_prune(upload, isolated_cache):
    from filelock import FileLock

    key = own_data.keep(upload)
    settings = ModelSettings(beta=1.0, width=64, epochs=1, seed=0, data=key)
    get_or_train(TrainingRequest(*settings.configs(), cache_dir=isolated_cache))
    own_data.note_model(key, settings.key)
    model = isolated_cache / f"{settings.key}.pt"
    with FileLock(isolated_cache / f"{settings.key}.lock"):  # being read by another page
        assert own_data.delete(key)
    assert model.exists() and not server.holds(key)
    own_data.prune()
    assert not model.exists()
    assert not (server.uploads_root() / f"{key}{own_data.MODELS}").exists()

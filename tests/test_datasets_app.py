"""Other data and conditional models through the page (AppTest): the sidebar's offer, the
words and names the page uses, the class chooser, and a bad directory's message."""

from pathlib import Path

import numpy as np
import pytest

from explorer import model_view, payload, server
from explorer.model_view import ModelSettings
from tests.conftest import THREE_CLASSES as NAMES
from tests.conftest import write_idx
from tests.test_app import run_app, view_data
from training import TrainingRequest, get_or_train
from training.queue import LimitError
from vae_core import encode, load_split
from vae_core.data import IMAGES_MAGIC, LABELS_MAGIC


@pytest.fixture
def offered(three_classes, tmp_path, monkeypatch):
    """The server offers the three-class directory and a directory that does not exist."""
    monkeypatch.setenv("VAE_EXPLORER_DATA", f"{three_classes}:{tmp_path / 'nowhere'}")
    monkeypatch.setattr(server, "_datasets", None)
    yield server.datasets()
    server._datasets = None


def trained(settings: ModelSettings, cache: Path) -> ModelSettings:
    get_or_train(TrainingRequest(*settings.configs(), cache_dir=cache))
    return settings


def test_the_page_shows_another_dataset_with_its_class_names(offered, isolated_cache):
    mnist, three = offered
    assert (mnist.key, three.classes, three.noun) == ("mnist", NAMES, "image")
    settings = trained(
        ModelSettings(beta=1.0, width=64, epochs=1, seed=0, data=three.key), isolated_cache
    )
    at = run_app({"data": three.key, "width": "64", "epochs": "1"})
    count = len(load_split(three.directory, "test").labels)
    assert f"{count} {three.name} test images" in at.markdown[0].value
    assert at.sidebar.selectbox(key="data").value == three.key
    assert at.sidebar.selectbox(key="data").options == [mnist.name, three.name]
    # The directory that is missing is named, with what to do, and the rest is offered.
    errors = [e.value for e in at.sidebar.error]
    assert any("nowhere" in e and "does not exist" in e for e in errors)
    header, arrays = payload.unpack(at.get_by_key("latent_data").proto.bytes)
    assert header["classes"] == list(NAMES) and header["noun"] == "image"
    assert len(arrays["labels"]) == count and set(arrays["labels"]) == {0, 1, 2}
    assert at.query_params["data"] == three.key
    assert model_view.model_id(*settings.configs()) == header["model_id"]


def test_a_link_to_data_without_a_model_asks_for_one_to_be_trained(offered, monkeypatch):
    submitted = []

    class Queue:
        def submit(self, model_config, train_config, data_dir=None, *, waiter):
            submitted.append(data_dir)
            raise LimitError("the test's queue trains nothing")

    monkeypatch.setattr("explorer.model_requests.training_queue", lambda: Queue())
    at = run_app({"data": offered[1].key, "epochs": "3"})
    assert submitted == [offered[1].directory]
    assert "MNIST" in at.markdown[0].value  # meanwhile the page shows what it has


def test_a_conditional_model_draws_the_class_chosen(isolated_cache):
    settings = trained(
        ModelSettings(beta=1.0, width=64, epochs=1, seed=0, conditional=True), isolated_cache
    )
    at = run_app({"cvae": "1", "width": "64", "epochs": "1", "class": "3"})
    assert at.sidebar.selectbox(key="kind").value == "conditional"
    assert view_data(at)["cls"] == 3
    chooser = at.radio(key="class_choice")
    assert chooser.value == 3 and chooser.options == [str(d) for d in range(10)]
    assert any("no longer cluster by class" in c.value for c in at.caption)
    chooser.set_value(5).run()
    assert view_data(at)["cls"] == 5 and at.query_params["class"] == "5"
    # The codes are q(z|x, y): the view's own, encoded with each image's label.
    model, _ = model_view.load_model(model_view.model_id(*settings.configs()), settings.configs())
    header, arrays = payload.unpack(at.get_by_key("latent_data").proto.bytes)
    assert header["layers"][0]["in"] == 2 + 10  # z, then the one-hot class
    test = load_split(None, "test")
    mu, _ = encode(model, test.images, test.labels)
    np.testing.assert_allclose(arrays["x"], mu[:, 0], atol=1e-5)


def test_a_plain_models_view_has_no_class_and_no_chooser():
    at = run_app({})
    assert "cls" not in view_data(at)
    assert not [r for r in at.radio if r.key == "class_choice"]


def test_sixty_two_classes_get_their_own_colours_and_a_conditional_model_a_select_box(
    tmp_path, monkeypatch, isolated_cache
):
    many = tmp_path / "many"
    many.mkdir()
    for prefix, split, n in (("train", "train", 1240), ("t10k", "test", 310)):
        images = load_split(None, split).images[:n]
        labels = (np.arange(n) % 62).astype(np.uint8)  # every class in both splits
        write_idx(many / f"{prefix}-images-idx3-ubyte", images, IMAGES_MAGIC)
        write_idx(many / f"{prefix}-labels-idx1-ubyte", labels, LABELS_MAGIC)
    monkeypatch.setenv("VAE_EXPLORER_DATA", str(many))
    monkeypatch.setattr(server, "_datasets", None)
    [_, dataset] = server.datasets()
    trained(
        ModelSettings(beta=1.0, width=64, epochs=1, seed=0, data=dataset.key, conditional=True),
        isolated_cache,
    )
    at = run_app({"data": dataset.key, "cvae": "1", "width": "64", "epochs": "1", "class": "61"})
    header, _ = payload.unpack(at.get_by_key("latent_data").proto.bytes)
    assert len(set(header["colours"])) == 62 and header["classes"][-1] == "61"
    assert header["layers"][0]["in"] == 2 + 62
    chooser = at.selectbox(key="class_choice")
    assert chooser.value == 61 and len(chooser.options) == 62
    assert view_data(at)["cls"] == 61

"""The Training tab's replay through AppTest: the slider over the shipped model's epochs, a
checkpoint from before replays, and the replay of a model this session trains, growing live."""

import numpy as np
import pytest
import torch

from explorer import images, payload
from explorer.model_view import ModelSettings
from explorer.sections import training_replay
from tests.test_app import run_app, submit_settings
from tests.test_manifold_classes import (  # noqa: F401
    CLASSES,
    offered,
    open_tab,
    store_model,
)
from training import cache as training_cache
from training.cluster import ClusterJob
from training.job import RUNNING
from training.pack import kept_epochs
from training.request import EpochReport
from vae_core import load_checkpoint, load_split, replay_of
from vae_core.checkpoint import _digest
from vae_core.replay import ReplayFrame


def open_training(link: dict | None = None):
    at = run_app(link)
    at.session_state["tab"] = "Training"
    at.run()
    assert not at.exception, at.exception
    return at


def picture(at, key: str) -> str:
    return at.get_by_key(key).get("image")[0].proto.imgs[0].url


def metric(at, label: str) -> str:
    return next(m.value for m in at.main.metric if m.label == label)


@pytest.fixture(scope="module")
def shipped():
    _, checkpoint = load_checkpoint(training_cache.DEFAULT_CHECKPOINT)
    return checkpoint


def test_the_slider_replays_the_shipped_models_epochs(shipped):
    history = shipped["metrics"]["history"]
    stored = replay_of(shipped).epochs.tolist()
    assert len(history) == 100 and stored == kept_epochs(np.arange(1, 101)).tolist()
    at = open_training()
    slider = at.select_slider(key="replay_epoch")
    assert [int(o) for o in slider.options] == stored and slider.value == 1
    assert metric(at, "test −ELBO") == f"{history[0]['test_neg_elbo']:.1f}"
    assert "after epoch 1," in " ".join(c.value for c in at.main.caption)
    before = picture(at, "replay_plane"), picture(at, "replay_manifold")
    slider.set_value(100).run()
    assert not at.exception, at.exception
    after = picture(at, "replay_plane"), picture(at, "replay_manifold")
    assert before[0] != after[0] and before[1] != after[1]
    assert metric(at, "test −ELBO") == f"{history[99]['test_neg_elbo']:.1f}"
    assert metric(at, "KL") == f"{history[99]['test_kl']:.2f}"
    at.select_slider(key="replay_epoch").set_value(30).run()
    assert "after epoch 30," in " ".join(c.value for c in at.main.caption)
    at.toggle(key="replay_epoch_play").set_value(True).run()
    assert not at.exception, at.exception
    assert [b.proto.label for b in at.get("download_button")] == ["Download the replay (GIF)"]
    assert at.get_by_key("model_curves") is not None  # the curves stay below


def test_a_checkpoint_from_before_replays_says_it_has_none(shipped, tmp_path, monkeypatch):
    from explorer.model_view import load_model

    old = {k: v for k, v in shipped.items() if k != "replay"}
    old["digest"] = _digest(old)
    path = tmp_path / "default_model.pt"
    torch.save(old, path)
    monkeypatch.setattr(training_cache, "DEFAULT_CHECKPOINT", path)
    load_model.clear()
    try:
        at = open_training()
        text = at.info[0].value
        assert "trained before training replays were recorded" in text
        assert "--hidden 512 512 512 --beta 1" in text
        assert f"--epochs 100 --seed 0 --output {path}" in text
        assert all(s.key != "replay_epoch" for s in at.get("select_slider"))
        assert at.get_by_key("model_curves") is not None
    finally:
        load_model.clear()


def _report(epoch: int) -> EpochReport:
    return EpochReport(epoch, 3, *[200.0 - epoch] * 3, 190.0 - epoch, 185.0, 5.0 - epoch, 1.0)


def _frame(epoch: int) -> dict:
    """A worker's message: the codes shrink towards 0 epoch by epoch."""
    codes = np.random.default_rng(epoch).normal(size=(10_000, 2)) / epoch
    manifold = np.full((224, 224), 40 * epoch, np.uint8)
    return ReplayFrame(epoch, codes.astype(np.float16), manifold).to_message()


def test_a_model_this_session_trains_is_replayed_as_its_epochs_end(monkeypatch):
    started = []

    def start_without_a_worker(job):
        job._state = RUNNING
        started.append(job)
        return job

    monkeypatch.setattr(ClusterJob, "start", start_without_a_worker)
    at = run_app()
    submit_settings(at, width=64, epochs=3)
    [job] = started
    at.session_state["tab"] = "Training"
    at.run()
    at.radio(key="replay_source").set_value("training").run()
    assert "The first frame comes as the first epoch ends." in [c.value for c in at.main.caption]
    for epoch in (1, 2):
        job._handle({"epoch": _report(epoch).to_dict()})
        job._handle({"replay": _frame(epoch)})
        at.run()  # as the fragment's timer does
        assert not at.exception, at.exception
        assert metric(at, "test −ELBO") == f"{190.0 - epoch:.1f}"
    # Left at the latest epoch, the slider followed the training to epoch 2.
    slider = at.slider(key="replay_live_epoch")
    assert (slider.max, slider.value) == (2, 2)
    latest = picture(at, "replay_plane")
    slider.set_value(1).run()
    assert picture(at, "replay_plane") != latest
    job._handle({"epoch": _report(3).to_dict()})
    job._handle({"replay": _frame(3)})
    at.run()
    assert at.slider(key="replay_live_epoch").value == 1  # moved by hand: it stays
    # Meanwhile the shown model's replay is one click away.
    at.radio(key="replay_source").set_value("shown").run()
    assert at.select_slider(key="replay_epoch").options[-1] == "100"  # the shipped model's
    [b for b in at.sidebar.button if b.label == "Cancel"][0].click().run()
    assert not at.get("radio") or all(r.key != "replay_source" for r in at.radio)


def test_the_plane_is_drawn_with_each_point_where_its_z_is_and_the_priors_circles():
    points = np.array([[0.0, 0.0], [1.5, -2.0], [9.0, 9.0]])  # the last outside the window
    colours = np.array([[255, 0, 0], [0, 0, 255], [0, 255, 0]], np.uint8)
    picture = images.scatter(points, colours, (-4.0, 4.0), 400, "dark")
    assert picture.shape == (400, 400, 3)
    # z = (0, 0) at the centre, (1.5, -2) 75 px right and 100 px down; row 0 at z2 = 4.
    assert picture[200, 200].tolist() == [255, 0, 0]
    assert picture[300, 275].tolist() == [0, 0, 255] == picture[301, 276].tolist()
    assert not (picture == [0, 255, 0]).all(axis=-1).any()
    # The 2σ circle passes through z = (√2, √2), off every grid line; elsewhere, the paper.
    paper = np.array(images.PAPER["dark"])
    assert (picture[128:132, 269:273] != paper).any(axis=-1).any()
    assert (picture[160:170, 220:230] == paper).all()


@pytest.mark.parametrize("palette", payload.PALETTES)
def test_each_class_is_drawn_and_named_in_the_latent_views_colour(palette):
    for count in (3, 10, 12):
        replayed = training_replay.Replayed(
            np.zeros(1, np.uint8), tuple(map(str, range(count))), "", False, palette
        )
        drawn = [images.hex_colour(tuple(rgb)) for rgb in replayed.colours.tolist()]
        assert drawn == payload.palette_colours(palette, count)
    legend = training_replay._legend(("T-shirt/top", "<b>", "Bag"), palette)
    names = ["T-shirt/top", "&lt;b&gt;", "Bag"]
    for name, colour in zip(names, payload.palette_colours(palette, 3), strict=True):
        assert f"<span style='color:{colour}'>●</span> {name}</span>" in legend


def test_a_conditional_model_of_other_data_is_replayed_in_its_words(offered):  # noqa: F811
    settings = ModelSettings(1.0, 64, 2, 3, data=offered.key, conditional=True)
    store_model(settings, epochs=2)
    at = open_tab(settings, "Training")
    assert at.slider(key="replay_epoch").max == 2
    captions = " ".join(c.value for c in at.main.caption)
    count = len(load_split(offered.directory, "test").labels)
    assert f"The {count:,} test images at their encoded means after epoch 1" in captions
    assert "its codes need not separate the classes" in captions
    assert f"every epoch, drawing class {CLASSES[0]}," in captions
    legend = " ".join(h.proto.body for h in at.main.get("html"))
    assert all(f"</span> {name}</span>" in legend for name in CLASSES)


def test_the_command_that_replays_an_old_model_names_its_data_and_kind(offered):  # noqa: F811
    settings = ModelSettings(2.0, 64, 3, 7, data=offered.key, conditional=True)
    text = training_replay._no_replay(settings)
    assert (
        f"--beta 2 --conditional --data-dir {offered.directory} --epochs 3 --seed 7 --output "
        in text
    )
    assert "--conditional" not in training_replay._no_replay(ModelSettings(2.0, 64, 3, 7))

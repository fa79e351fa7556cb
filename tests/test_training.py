import logging
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import write_dataset, write_idx
from training import (
    TrainConfig,
    TrainingCallbacks,
    TrainingRequest,
    cache_key,
    get_or_train,
    is_cached,
    train,
    train_and_save,
)
from training import cache as cache_module
from training.cli import main
from training.loop import fast_bf16, resolve_precision
from vae_core import describe, encode, load_split, replay_of
from vae_core.checkpoint import load_checkpoint, save_checkpoint
from vae_core.data import IMAGES_MAGIC, LABELS_MAGIC
from vae_core.model import VAE, VAEConfig

SMALL = VAEConfig(hidden=(32,))
FAST = TrainConfig(epochs=2, batch_size=100, lr=3e-3, seed=0)
REPO = Path(__file__).resolve().parent.parent


def _same_weights(a: VAE, b: VAE) -> bool:
    return all(torch.equal(a.state_dict()[k], v) for k, v in b.state_dict().items())


def test_training_lowers_the_loss_and_reports_every_epoch(tiny_mnist):
    reports = []
    model, history = train(
        TrainingRequest(SMALL, TrainConfig(epochs=4, batch_size=50, lr=3e-3), tiny_mnist),
        TrainingCallbacks(on_epoch=reports.append),
    )
    assert [r.epoch for r in reports] == [1, 2, 3, 4] and history == reports
    assert reports[-1].test_neg_elbo < reports[0].test_neg_elbo
    assert reports[-1].train_loss < reports[0].train_loss
    for r in reports:
        assert r.test_neg_elbo == pytest.approx(r.test_reconstruction + r.test_kl)
        assert r.train_kl > 0 and r.seconds > 0
    assert not model.training


def test_training_is_deterministic_for_a_seed(tiny_mnist):
    a, ha = train(TrainingRequest(SMALL, FAST, tiny_mnist))
    b, hb = train(TrainingRequest(SMALL, FAST, tiny_mnist))
    c, _ = train(
        TrainingRequest(SMALL, TrainConfig(epochs=2, batch_size=100, lr=3e-3, seed=1), tiny_mnist)
    )
    assert _same_weights(a, b)
    assert [r.test_neg_elbo for r in ha] == [r.test_neg_elbo for r in hb]
    assert not _same_weights(a, c)


def test_beta_weights_the_kl_term_in_the_objective(tiny_mnist):
    _, history = train(TrainingRequest(VAEConfig(hidden=(32,), beta=3.0), FAST, tiny_mnist))
    r = history[-1]
    assert r.train_loss == pytest.approx(r.train_reconstruction + 3.0 * r.train_kl, rel=1e-5)


def test_on_batch_counts_every_optimizer_step_of_the_run(tiny_mnist):
    events = []

    def on_batch(step, total):
        events.append((step, total))
        torch.rand(3)  # a callback that uses torch's global RNG leaves the run as it was

    # 1000 images in batches of 300: 4 steps an epoch, the last one of 100 images.
    config = TrainConfig(epochs=2, batch_size=300, lr=3e-3)
    model, _ = train(
        TrainingRequest(SMALL, config, tiny_mnist),
        TrainingCallbacks(on_epoch=lambda r: events.append(f"epoch {r.epoch}"), on_batch=on_batch),
    )
    steps = [(step, 8) for step in range(1, 9)]
    assert events == [*steps[:4], "epoch 1", *steps[4:], "epoch 2"]
    plain, _ = train(TrainingRequest(SMALL, config, tiny_mnist))
    assert _same_weights(model, plain)


def test_recording_a_replay_leaves_the_weights_as_they_were(tiny_mnist):
    frames = []
    model, history = train(
        TrainingRequest(SMALL, FAST, tiny_mnist), TrainingCallbacks(on_replay=frames.append)
    )
    plain, plain_history = train(TrainingRequest(SMALL, FAST, tiny_mnist))
    assert (
        _same_weights(model, plain) and history[-1].test_neg_elbo == plain_history[-1].test_neg_elbo
    )
    assert [f.epoch for f in frames] == [1, 2]
    assert frames[0].codes.shape == (200, 2) and frames[0].manifold.shape == (224, 224)
    assert not np.array_equal(frames[0].codes, frames[1].codes)  # the plane moved
    # The last frame is the trained model as the app will see it.
    mu, _ = encode(model, load_split(tiny_mnist, "test").images)
    np.testing.assert_allclose(frames[-1].codes, mu, rtol=1e-3, atol=1e-4)
    with pytest.raises(ValueError, match="2-D latent"):
        train(
            TrainingRequest(VAEConfig(latent_dim=3, hidden=(32,)), FAST, tiny_mnist),
            TrainingCallbacks(on_replay=frames.append),
        )


def test_a_saved_model_keeps_its_replay_and_a_3d_one_has_none(tiny_mnist, tmp_path):
    seen = []
    _, checkpoint = train_and_save(
        TrainingRequest(SMALL, FAST, tiny_mnist),
        tmp_path / "m.pt",
        TrainingCallbacks(on_replay=seen.append),
    )
    replay = replay_of(checkpoint)
    assert replay.epochs.tolist() == [1, 2] == [f.epoch for f in seen]
    np.testing.assert_array_equal(replay.codes[1], seen[1].codes)
    np.testing.assert_array_equal(replay.manifold[0], seen[0].manifold)
    _, flat = train_and_save(
        TrainingRequest(VAEConfig(latent_dim=3, hidden=(32,)), FAST, tiny_mnist),
        tmp_path / "3d.pt",
    )
    assert replay_of(flat) is None


def test_a_callback_can_stop_training(tiny_mnist):
    def stop(report):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(TrainingRequest(SMALL, FAST, tiny_mnist), TrainingCallbacks(on_epoch=stop))


def test_cache_key_covers_config_training_and_data(tiny_mnist, tmp_path):
    key = cache_key(SMALL, FAST, tiny_mnist)
    assert key == cache_key(
        VAEConfig(hidden=(32,)), TrainConfig(epochs=2, batch_size=100, lr=3e-3), tiny_mnist
    )
    other_data = write_dataset(tmp_path / "other", 900, 200)
    others = {
        cache_key(VAEConfig(hidden=(32,), beta=2.0), FAST, tiny_mnist),
        cache_key(VAEConfig(hidden=(64,)), FAST, tiny_mnist),
        cache_key(SMALL, TrainConfig(epochs=3, batch_size=100, lr=3e-3), tiny_mnist),
        cache_key(SMALL, TrainConfig(epochs=2, batch_size=100, lr=3e-3, seed=5), tiny_mnist),
        cache_key(SMALL, FAST, other_data),
    }
    assert key not in others and len(others) == 5


def test_on_a_filesystem_without_locks_a_model_still_trains_and_lands_whole(
    tiny_mnist, isolated_cache, monkeypatch
):
    """A network filesystem mounted without locks: a school's cluster dedupes by task key, and
    the write is atomic, so the training goes on unlocked."""
    import errno

    from filelock import FileLock

    def no_locks(self, *args, **kwargs):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(FileLock, "acquire", no_locks)
    model, checkpoint = get_or_train(TrainingRequest(SMALL, FAST, tiny_mnist))
    assert is_cached(SMALL, FAST, tiny_mnist) and isinstance(model, VAE)
    assert checkpoint["extra"]["cache_key"] == cache_key(SMALL, FAST, tiny_mnist)
    assert not [p.name for p in isolated_cache.iterdir() if p.name.endswith(".tmp")]


def test_get_or_train_trains_once_then_loads(tiny_mnist, isolated_cache, monkeypatch):
    epochs, steps, locks = [], [], []
    real_exclusive = cache_module._exclusive
    monkeypatch.setattr(
        cache_module, "_exclusive", lambda path: locks.append(path) or real_exclusive(path)
    )
    model, checkpoint = get_or_train(
        TrainingRequest(SMALL, FAST, tiny_mnist),
        TrainingCallbacks(on_epoch=epochs.append, on_batch=lambda *s: steps.append(s)),
    )
    assert len(epochs) == 2 and is_cached(SMALL, FAST, tiny_mnist)
    assert steps == [(step, 20) for step in range(1, 21)]  # 1000 images, batches of 100
    assert locks == [isolated_cache / f"{cache_key(SMALL, FAST, tiny_mnist)}.lock"]
    assert (isolated_cache / f"{cache_key(SMALL, FAST, tiny_mnist)}.pt").is_file()
    assert checkpoint["metrics"]["test_neg_elbo"] > 0
    assert len(checkpoint["metrics"]["history"]) == 2

    monkeypatch.setattr(cache_module, "train", lambda *a, **k: pytest.fail("trained again"))
    again, _ = get_or_train(
        TrainingRequest(SMALL, FAST, tiny_mnist),
        TrainingCallbacks(on_batch=lambda *s: pytest.fail("a step")),
    )
    assert _same_weights(model, again)


def test_damaged_cache_entry_is_reported_kept_aside_and_retrained(
    tiny_mnist, isolated_cache, caplog
):
    model, _ = get_or_train(TrainingRequest(SMALL, FAST, tiny_mnist))
    path = isolated_cache / f"{cache_key(SMALL, FAST, tiny_mnist)}.pt"
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 3])
    with caplog.at_level(logging.WARNING):
        retrained, _ = get_or_train(TrainingRequest(SMALL, FAST, tiny_mnist))
    assert "truncated or damaged" in caplog.text and "training afresh" in caplog.text
    assert _same_weights(model, retrained)  # deterministic: the same model again
    assert len(list(isolated_cache.glob("*.pt.bad-*"))) == 1


def test_cache_entry_for_other_settings_is_not_used(tiny_mnist, isolated_cache, caplog):
    path = isolated_cache / f"{cache_key(SMALL, FAST, tiny_mnist)}.pt"
    save_checkpoint(VAE(SMALL), path, extra={"cache_key": "somebody-else"})
    with caplog.at_level(logging.WARNING):
        get_or_train(TrainingRequest(SMALL, FAST, tiny_mnist))
    assert "other settings" in caplog.text
    assert load_checkpoint(path)[1]["extra"]["cache_key"] == cache_key(SMALL, FAST, tiny_mnist)


def test_hostile_cache_entry_is_refused_never_run_and_retrained(tiny_mnist, isolated_cache, caplog):
    marker = isolated_cache / "pwned"
    path = isolated_cache / f"{cache_key(SMALL, FAST, tiny_mnist)}.pt"
    path.parent.mkdir(parents=True)
    subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import os, torch
            class Evil:
                def __reduce__(self):
                    return (os.system, ("touch {marker}",))
            torch.save({{"format": "vae-explorer-checkpoint/1", "x": Evil()}}, "{path}")
        """),
        ],
        check=True,
    )
    with caplog.at_level(logging.WARNING):
        model, _ = get_or_train(TrainingRequest(SMALL, FAST, tiny_mnist))
    assert "could run code" in caplog.text
    assert not marker.exists()
    assert isinstance(model, VAE)


def test_the_cache_lock_keeps_a_second_process_waiting(tmp_path):
    lock_path, marker = tmp_path / "cache" / "key.lock", tmp_path / "second-has-it"
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        sys.path.insert(0, {str(REPO)!r})
        from training.cache import _exclusive
        print("asking", flush=True)
        with _exclusive(Path({str(lock_path)!r})):
            Path({str(marker)!r}).touch()
    """)
    with cache_module._exclusive(lock_path):
        assert lock_path.is_file()
        second = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        try:
            assert second.stdout.readline() == "asking\n"
            time.sleep(0.5)
            assert not marker.exists() and second.poll() is None
        except BaseException:
            second.kill()
            raise
    assert second.wait(timeout=60) == 0 and marker.exists()


@pytest.mark.slow
def test_two_processes_asking_at_once_train_once(tiny_mnist, isolated_cache, tmp_path):
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(REPO)!r})
        from training import TrainConfig, TrainingCallbacks, TrainingRequest, get_or_train
        from vae_core.model import VAEConfig
        log = open(sys.argv[1], "a")
        model, ckpt = get_or_train(
            TrainingRequest(VAEConfig(hidden=(32,)), TrainConfig(epochs=3, batch_size=100, lr=3e-3),
                            {str(tiny_mnist)!r}),
            TrainingCallbacks(on_epoch=lambda r: print(r.epoch, file=log, flush=True)))
        print(ckpt["digest"])
    """)
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(log)], stdout=subprocess.PIPE, text=True
        )
        for log in logs
    ]
    digests = [p.communicate(timeout=300)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert digests[0] == digests[1]
    trained = [log.read_text().split() if log.exists() else [] for log in logs]
    assert sorted(trained, key=len) == [[], ["1", "2", "3"]]


def test_cli_trains_to_output_with_a_line_per_epoch(tiny_mnist, tmp_path, capsys):
    out = tmp_path / "model.pt"
    argv = ["--hidden", "32", "--epochs", "2", "--batch-size", "100", "--data-dir", str(tiny_mnist)]
    assert main([*argv, "--output", str(out), "--beta", "0.5", "--seed", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines[:2]] == ["1/2", "2/2"]
    assert all("test -ELBO" in line and "KL" in line and line.endswith("s") for line in lines[:2])
    assert "test -ELBO" in lines[2] and str(out) in lines[2]
    model, checkpoint = load_checkpoint(out)
    assert model.config == VAEConfig(hidden=(32,), beta=0.5)
    assert checkpoint["extra"]["train_config"]["seed"] == 3
    assert replay_of(checkpoint).epochs.tolist() == [1, 2]


def test_cli_without_output_uses_the_cache(tiny_mnist, isolated_cache, capsys):
    argv = ["--hidden", "32", "--epochs", "1", "--batch-size", "100", "--data-dir", str(tiny_mnist)]
    assert main(argv) == 0
    assert "epoch   1/1" in capsys.readouterr().out
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "epoch" not in out and "cache entry" in out


def test_cli_trains_a_conditional_model_with_as_many_classes_as_the_data(tmp_path, capsys):
    three = tmp_path / "three"
    three.mkdir()
    for prefix, split in (("train", "train"), ("t10k", "test")):
        data = load_split(None, split)
        keep = np.flatnonzero(data.labels < 3)[: 600 if split == "train" else 100]
        write_idx(three / f"{prefix}-images-idx3-ubyte", data.images[keep], IMAGES_MAGIC)
        write_idx(three / f"{prefix}-labels-idx1-ubyte", data.labels[keep], LABELS_MAGIC)
    out = tmp_path / "cvae.pt"
    argv = ["--hidden", "32", "--epochs", "1", "--batch-size", "100", "--conditional"]
    assert main([*argv, "--data-dir", str(three), "--output", str(out)]) == 0
    model, _ = load_checkpoint(out)
    assert model.config.conditional and model.config.classes == 3


def test_cli_refuses_data_with_too_many_classes(tmp_path, capsys):
    many = tmp_path / "many"
    many.mkdir()
    labels = np.arange(100, dtype=np.uint8) % 70
    images = np.zeros((100, 28, 28), np.uint8)
    for prefix in ("train", "t10k"):
        write_idx(many / f"{prefix}-images-idx3-ubyte", images, IMAGES_MAGIC)
        write_idx(many / f"{prefix}-labels-idx1-ubyte", labels, LABELS_MAGIC)
    assert main(["--epochs", "1", "--data-dir", str(many), "--output", str(tmp_path / "m.pt")]) == 2
    assert "70 classes" in capsys.readouterr().err
    assert not (tmp_path / "m.pt").exists()


def test_cli_trains_on_a_folder_of_pictures_prepared_as_the_page_prepares_them(
    tmp_path, isolated_cache, capsys
):
    from benchmarks.own_images import shape

    folder = tmp_path / "my pictures"
    rng = np.random.default_rng(0)
    for kind in ("circle", "cross"):
        (folder / kind).mkdir(parents=True)
        for i in range(18):
            shape(kind, rng).save(folder / kind / f"{i}.png")
    (folder / "circle" / "readme.txt").write_text("not a picture")
    (folder / "cross" / "link.png").symlink_to("/etc/passwd")  # never followed
    out = tmp_path / "own.pt"
    argv = ["--hidden", "32", "--epochs", "1", "--batch-size", "10", "--images", str(folder)]
    assert main([*argv, "--output", str(out)]) == 0
    captured = capsys.readouterr()
    assert "36 pictures (2 classes; 30 to train, 6 to test), 1 left out" in captured.out
    assert "readme.txt" in captured.err and "passwd" not in captured.out + captured.err
    kept = list((isolated_cache / "uploads").iterdir())
    assert len(kept) == 1 and kept[0].name.startswith("own-")
    assert f"?data={kept[0].name}" in captured.out
    assert describe(kept[0]).classes == ("circle", "cross")
    _, checkpoint = load_checkpoint(out)
    assert checkpoint["extra"]["data"] == str(kept[0])


def test_cli_says_what_is_wrong_with_pictures_it_cannot_use(tmp_path, isolated_cache, capsys):
    assert main(["--epochs", "1", "--images", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err
    one = tmp_path / "one" / "only"
    one.mkdir(parents=True)
    (one / "x.txt").write_text("no pictures")
    assert main(["--epochs", "1", "--images", str(tmp_path / "one")]) == 2
    assert capsys.readouterr().err.startswith("error: ")
    with pytest.raises(SystemExit):
        main(["--images", str(tmp_path), "--data-dir", str(tmp_path)])
    assert "not both" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--epochs", "0"], "epochs must be at least 1"),
        (["--latent-dim", "-2"], "latent_dim must be at least 1"),
        (["--lr", "0"], "learning rate must be positive"),
        (["--beta", "-1"], "beta must be >= 0"),
        (["--epochs", "many"], "invalid int value"),
    ],
)
def test_cli_refuses_unusable_flags(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_reports_bad_data_without_a_traceback(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03garbage")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "training",
            "--epochs",
            "1",
            "--data-dir",
            str(bad),
            "--output",
            str(tmp_path / "m.pt"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert not (tmp_path / "m.pt").exists()


def test_cli_help_states_every_default():
    result = subprocess.run(
        [sys.executable, "-m", "training", "--help"], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0
    for flag in (
        "--latent-dim",
        "--epochs",
        "--beta",
        "--seed",
        "--output",
        "--data-dir",
        "--hidden",
        "--lr",
        "--batch-size",
    ):
        assert flag in result.stdout
    assert result.stdout.count("(default") >= 11


def test_the_clis_default_model_ships_in_the_lesson_pack(monkeypatch):
    from training import DEFAULT_MODEL_CONFIG, DEFAULT_TRAIN_CONFIG
    from vae_core.checkpoint import PACK_DIR

    key = cache_key(DEFAULT_MODEL_CONFIG, DEFAULT_TRAIN_CONFIG)
    path = cache_module.cached_path(DEFAULT_MODEL_CONFIG, DEFAULT_TRAIN_CONFIG)
    assert path == PACK_DIR / f"{key}.pt"
    monkeypatch.setattr(cache_module, "train", lambda *a, **k: pytest.fail("trained the default"))
    model, checkpoint = get_or_train(TrainingRequest(DEFAULT_MODEL_CONFIG, DEFAULT_TRAIN_CONFIG))
    assert checkpoint["metrics"]["test_neg_elbo"] <= 140.5
    assert checkpoint["metrics"]["device"] == "cpu"  # trained ahead of time, and says where
    assert checkpoint["extra"]["train_config"] == DEFAULT_TRAIN_CONFIG.to_dict()


def _entry(cache: Path, name: str, size: int, mtime: float) -> Path:
    path = cache / name
    path.write_bytes(b"x" * size)
    os.utime(path, (mtime, mtime))
    return path


def key_of(name: str) -> str:
    """A cache key (20 hex digits) standing for a name in these tests."""
    return name.encode().hex().ljust(20, "0")[:20]


def test_prune_removes_least_recently_used_entries_first(tmp_path):
    from training.cache import prune

    for i, name in enumerate("abcd"):
        _entry(tmp_path, f"{key_of(name)}.pt", 1000, 1000 + i)
    assert [p.name for p in prune(tmp_path, 2500)] == [f"{key_of(n)}.pt" for n in "ab"]
    assert sorted(p.name for p in tmp_path.glob("*.pt")) == [f"{key_of(n)}.pt" for n in "cd"]
    assert prune(tmp_path, 2500) == []  # within its size: nothing to do


def test_prune_never_removes_what_is_kept_locked_shipped_or_not_an_entry(tmp_path, monkeypatch):
    from filelock import FileLock

    from training.cache import prune

    monkeypatch.setattr(cache_module, "_shipped_key", lambda: key_of("shipped"))
    _entry(tmp_path, "default_model.pt", 1000, 900)  # not a cache entry: never touched
    _entry(tmp_path, f"{key_of('shipped')}.pt", 1000, 1000)
    _entry(tmp_path, f"{key_of('shown')}.pt", 1000, 1001)
    _entry(tmp_path, f"{key_of('writing')}.pt", 1000, 1002)
    old = _entry(tmp_path, f"{key_of('old')}.pt", 1000, 1003)
    bad = _entry(tmp_path, f"{key_of('zzz')}.pt.bad-1", 1000, 2000)  # damaged: goes first
    with FileLock(tmp_path / f"{key_of('writing')}.lock"):  # being written, or read
        removed = prune(tmp_path, 0, keep={key_of("shown")})
    assert removed == [bad, old]
    assert sorted(p.name for p in tmp_path.glob("*.pt")) == sorted(
        ["default_model.pt"] + [f"{key_of(n)}.pt" for n in ("shipped", "shown", "writing")]
    )


def test_loading_a_cached_model_marks_it_recently_used_and_never_trains(
    tiny_mnist, isolated_cache, monkeypatch
):
    from training.cache import NotCached, load_cached

    with pytest.raises(NotCached):
        load_cached(SMALL, FAST, tiny_mnist)
    get_or_train(TrainingRequest(SMALL, FAST, tiny_mnist))
    path = cache_module.cached_path(SMALL, FAST, tiny_mnist)
    os.utime(path, (1000, 1000))
    monkeypatch.setattr(cache_module, "train", lambda *a, **k: pytest.fail("trained"))
    model, _ = load_cached(SMALL, FAST, tiny_mnist)
    assert isinstance(model, VAE) and path.stat().st_mtime > 1000


def test_precision_is_checked_and_auto_uses_bf16_only_where_the_hardware_has_it():
    with pytest.raises(ValueError, match="precision must be one of"):
        TrainConfig(precision="fp8")
    cpu = torch.device("cpu")
    assert resolve_precision("float32", cpu) == "float32"
    assert resolve_precision("bf16", cpu) == "bf16"
    assert resolve_precision("auto", cpu) == ("bf16" if fast_bf16(cpu) else "float32")


def test_bf16_training_reaches_the_float32_elbo_within_two_percent(tiny_mnist):
    """bfloat16 matrix products (8 significant bits) with the loss and Adam's state in float32:
    the same short training ends within 2 % of float32's test −ELBO (here, 1,000 digits and
    8 epochs, the two differ by well under 1 %)."""
    config = TrainConfig(epochs=8, batch_size=100, lr=3e-3)
    _, full = train(TrainingRequest(SMALL, config, tiny_mnist))
    bf16 = TrainConfig(**{**config.to_dict(), "precision": "bf16"})
    _, half = train(TrainingRequest(SMALL, bf16, tiny_mnist))
    assert half[-1].test_neg_elbo == pytest.approx(full[-1].test_neg_elbo, rel=0.02)
    assert half[-1].test_neg_elbo < half[0].test_neg_elbo


def test_a_checkpoint_says_where_and_in_what_arithmetic_it_was_trained(tiny_mnist, tmp_path):
    _, checkpoint = train_and_save(TrainingRequest(SMALL, FAST, tiny_mnist), tmp_path / "m.pt")
    m = checkpoint["metrics"]
    assert m["device"] == "cpu" and m["device_name"] and m["cores"] >= 1
    assert m["precision"] == resolve_precision("auto", torch.device("cpu"))


@pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason="no CUDA GPU here: the GPU path (data, model and each epoch's indices on the device, "
    "bf16 autocast) runs where one is",
)
def test_training_picks_the_gpu_by_itself_and_reaches_the_cpus_elbo(tiny_mnist, tmp_path):
    _, checkpoint = train_and_save(TrainingRequest(SMALL, FAST, tiny_mnist), tmp_path / "gpu.pt")
    m = checkpoint["metrics"]
    assert m["device"] == "cuda" and m["precision"] == resolve_precision(
        "auto", torch.device("cuda")
    )
    _, on_cpu = train(TrainingRequest(SMALL, FAST, tiny_mnist, device="cpu"))
    assert m["history"][-1]["test_neg_elbo"] == pytest.approx(on_cpu[-1].test_neg_elbo, rel=0.03)


def test_one_thread_or_two_train_the_same_weights(tiny_mnist):
    """What lets the worker's thread tuner switch mid-run and still match the CLI: on this
    torch build, MKL's products and the fused Adam step round alike on one thread or two."""
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one, _ = train(TrainingRequest(SMALL, FAST, tiny_mnist))
        torch.set_num_threads(2)
        two, _ = train(TrainingRequest(SMALL, FAST, tiny_mnist))
    finally:
        torch.set_num_threads(before)
    assert _same_weights(one, two)

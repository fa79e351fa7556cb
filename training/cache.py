"""Trained models, cached on disk by everything that changes the result.

The key hashes the model config, the training config (seed included) and a fingerprint of
the data. The shipped models are entries too: the default in assets/, and the lesson pack in
assets/pack/ (training.pack), each named by its key, read-only and never pruned. One
process trains a given key at a time (an exclusive lock on `<key>.lock` beside the entry, by
filelock, which also works on Windows); another asking for it meanwhile waits, then loads what
the first wrote. A damaged, foreign or tampered entry is reported, kept aside for inspection
and retrained.

The cache is bounded by `prune`: least recently used entries go first (a load refreshes an
entry's time), never the shipped default, an entry in use or one being written.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from filelock import FileLock

from i18n import lazy
from vae_core.checkpoint import (
    DEFAULT_CHECKPOINT,
    PACK_DIR,
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
)
from vae_core.data import BUNDLED_MNIST, fingerprint, load_split
from vae_core.inference import classify, elbo_terms
from vae_core.model import VAE, VAEConfig
from vae_core.replay import Replay, ReplayFrame

from .loop import device_info, pick_device, train
from .request import TrainConfig, TrainingCallbacks, TrainingRequest

log = logging.getLogger(__name__)

DEFAULT_MODEL_CONFIG = VAEConfig()
DEFAULT_TRAIN_CONFIG = TrainConfig(epochs=25)
EVAL_SAMPLES = 5  # draws of z per test image in the stored test metrics


def default_cache_dir() -> Path:
    """$VAE_EXPLORER_CACHE, else $XDG_CACHE_HOME/vae-explorer, else ~/.cache/vae-explorer."""
    if os.environ.get("VAE_EXPLORER_CACHE"):
        return Path(os.environ["VAE_EXPLORER_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "vae-explorer"


@lru_cache(maxsize=8)
def _fingerprint(directory: str, mtimes: tuple[float, ...]) -> str:
    """`mtimes` only keys the memo: a file changed on disk is hashed anew."""
    return fingerprint(directory)


def data_fingerprint(data_dir=None) -> str:
    directory = Path(data_dir) if data_dir is not None else BUNDLED_MNIST
    if not directory.is_dir():
        return fingerprint(directory)  # raises the DataError that names the problem
    mtimes = tuple(sorted(p.stat().st_mtime for p in directory.glob("*-ubyte*")))
    return _fingerprint(str(directory.resolve()), mtimes)


def cache_key(model_config: VAEConfig, train_config: TrainConfig, data_dir=None) -> str:
    model = model_config.to_dict()
    if not model_config.semi_supervised:
        # Hashed as before semi-supervised models existed: cached and shipped models keep
        # their keys.
        del model["semi_supervised"], model["labelled"]
    if not model_config.conditional:
        # Hashed as before conditional models existed: cached plain models, the shipped one
        # included, keep their keys.
        del model["conditional"], model["classes"]
    payload = {
        "model": model,
        "train": train_config.to_dict(),
        "data": data_fingerprint(data_dir),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:20]


def test_metrics(model: VAE, data_dir=None) -> dict:
    """Test-set means in nats, averaged over several draws of z; a conditional model's given
    the test labels, so they bound -log p(x|y)."""
    test = load_split(data_dir, "test")
    labels = test.labels if model.config.conditional else None
    terms = elbo_terms(model, test.images, labels, samples=EVAL_SAMPLES)
    metrics = {
        "test_neg_elbo": float(terms["neg_elbo"].mean()),
        "test_reconstruction": float(terms["reconstruction"].mean()),
        "test_kl": float(terms["kl"].mean()),
        "eval_samples": EVAL_SAMPLES,
    }
    if model.config.semi_supervised:
        predicted = classify(model, test.images).argmax(1)
        metrics["test_accuracy"] = float((predicted == test.labels).mean())
    return metrics


def train_and_save(
    request: TrainingRequest, path: Path, callbacks: TrainingCallbacks | None = None
) -> tuple[VAE, dict]:
    """Train, evaluate and write one checkpoint atomically to `path`, whatever the request's
    cache; returns the model and its checkpoint.

    A 2-D model's checkpoint keeps its training replay, every epoch's frame, each of which is
    also passed to `callbacks.on_replay` as it comes. The callbacks are `train`'s; the test
    evaluation comes after them.
    """
    callbacks = callbacks or TrainingCallbacks()
    frames: list[ReplayFrame] = []

    def keep(frame: ReplayFrame) -> None:
        frames.append(frame)
        if callbacks.on_replay is not None:
            callbacks.on_replay(frame)

    model, history = train(
        request,
        replace(callbacks, on_replay=keep if request.model_config.latent_dim == 2 else None),
    )
    data_dir = request.data_dir
    metrics = {
        **test_metrics(model, data_dir),
        **device_info(pick_device(request.device), request.train_config.precision),
        "train_seconds": history[-1].seconds,
        "history": [r.to_dict() for r in history],
    }
    extra = {
        "train_config": request.train_config.to_dict(),
        "cache_key": cache_key(*request.configs()),
        "data": str(data_dir) if data_dir is not None else "bundled MNIST",
    }
    replay = Replay.from_frames(frames) if frames else None
    save_checkpoint(model, path, metrics, extra, replay)
    return load_checkpoint(path)


def _exclusive(lock_path: Path):
    """An exclusive lock between processes (and threads) on `lock_path`, waiting as long as it takes.

    The directory is made first so that an unwritable cache fails here with an OSError that
    names it, which the training job turns into advice. On a filesystem without locks (a
    network one mounted without them) it goes on unlocked: the entry's write is atomic, so the
    worst is the same model trained twice, which a school's cluster avoids by its task keys.
    """
    lock_path.parent.mkdir(parents=True, exist_ok=True)

    def no_locks_here(exc: Exception) -> bool:
        if isinstance(exc, OSError) and exc.errno not in (errno.ENOLCK, errno.ENOSYS):
            return False
        log.warning("no lock on %s (%s): training without it", lock_path, exc)
        return True

    return _held(lock_path, no_locks_here)


@contextmanager
def _held(lock_path: Path, go_on_without: Callable[[Exception], bool]):
    """`lock_path`'s lock while the block runs; without it where taking it failed in a way
    `go_on_without(error)` accepts (any other failure is raised)."""
    lock = FileLock(lock_path)
    try:
        lock.acquire()
    except (NotImplementedError, OSError) as exc:
        if not go_on_without(exc):
            raise
        yield
        return
    try:
        yield
    finally:
        lock.release()


def _load_entry(path: Path, key: str) -> tuple[VAE, dict] | None:
    """The cached model at `path` if it is good and carries `key`; else None, set aside if bad."""
    if not path.exists():
        return None
    try:
        return _load_keyed(path, key)
    except CheckpointError as exc:
        aside = path.with_name(f"{path.name}.bad-{int(time.time())}")
        os.replace(path, aside)
        log.warning("%s; kept it as %s and training afresh.", exc, aside)
        return None


def cached_path(
    model_config: VAEConfig, train_config: TrainConfig, data_dir=None, cache_dir=None
) -> Path:
    """Where the model for these settings lives (or would live) in the cache: a shipped
    model's file in assets/ where one ships."""
    key = cache_key(model_config, train_config, data_dir)
    return shipped_path(key) or Path(cache_dir or default_cache_dir()) / f"{key}.pt"


def shipped_path(key: str) -> Path | None:
    """The shipped model with this cache key, the default or one of the lesson pack; None if
    no model ships for it."""
    if _shipped_key() == key:
        return DEFAULT_CHECKPOINT
    path = PACK_DIR / f"{key}.pt"
    return path if path.is_file() else None


def is_shipped(path: Path) -> bool:
    return path == DEFAULT_CHECKPOINT or path.parent == PACK_DIR


@lru_cache(maxsize=1)
def _shipped_key() -> str | None:
    try:
        return load_checkpoint(DEFAULT_CHECKPOINT)[1]["extra"].get("cache_key")
    except CheckpointError:
        return None


def _load_keyed(path: Path, key: str) -> tuple[VAE, dict]:
    """The model at `path`, checked to be the one `key` names (a file renamed by hand would
    otherwise show another model). A shipped one is loaded by this alone, never set aside:
    assets/ is read-only to the app."""
    model, checkpoint = load_checkpoint(path)
    if checkpoint["extra"].get("cache_key") != key:
        raise CheckpointError(
            lazy("{path}: holds a model for other settings than its name says.", path=path)
        )
    return model, checkpoint


class NotCached(LookupError):
    """The model for these settings is not in the cache (never trained, or removed since)."""


def _touch(path: Path) -> None:
    """Mark an entry as just used, for `prune`'s least-recently-used order."""
    try:
        os.utime(path)
    except OSError:
        pass  # a read-only cache still serves its models; it only loses the order of use


def load_cached(
    model_config: VAEConfig, train_config: TrainConfig, data_dir=None, cache_dir=None
) -> tuple[VAE, dict]:
    """The cached model for these settings, never training: raises NotCached if it is absent.

    Reads under the entry's lock, so that `prune` cannot remove it midway.
    """
    key = cache_key(model_config, train_config, data_dir)
    path = cached_path(model_config, train_config, data_dir, cache_dir)
    if is_shipped(path):
        return _load_keyed(path, key)
    if not path.is_file():
        raise NotCached(lazy("no model for these settings in the cache {cache}", cache=path.parent))
    with _reading(path):
        if not path.is_file():  # pruned between the look and the lock
            raise NotCached(
                lazy("no model for these settings in the cache {cache}", cache=path.parent)
            )
        found = _load_entry(path, key)
    if found is None:
        raise NotCached(
            lazy("the cache entry {path} was damaged and has been set aside", path=path)
        )
    _touch(path)
    return found


def _reading(path: Path):
    """The entry's lock while it is read; none in a cache where a lock cannot be made."""
    return _held(path.with_suffix(".lock"), lambda exc: isinstance(exc, OSError))


def is_cached(
    model_config: VAEConfig, train_config: TrainConfig, data_dir=None, cache_dir=None
) -> bool:
    return cached_path(model_config, train_config, data_dir, cache_dir).is_file()


def get_or_train(
    request: TrainingRequest, callbacks: TrainingCallbacks | None = None
) -> tuple[VAE, dict]:
    """The model `request` names from its cache, or trained now and cached there.

    The callbacks are called only when this call trains (see `train_and_save`), never for a
    model that was already cached or that another process trained while this one waited.

    Returns (model in eval mode, its checkpoint dict).
    """
    key = cache_key(*request.configs())
    path = cached_path(*request.configs(), request.cache_dir)
    if is_shipped(path):
        return _load_keyed(path, key)
    found = _load_entry(path, key)
    if found is not None:
        return found
    with _exclusive(path.with_suffix(".lock")):
        # Another process may have trained it while this one waited for the lock.
        found = _load_entry(path, key)
        if found is not None:
            return found
        return train_and_save(request, path, callbacks)


def _partial_writes(path: Path) -> list[Path]:
    """Temporary files of `atomic_write` for `path`, left behind by a killed writer."""
    return list(path.parent.glob(f".{path.name}.*.tmp"))


def discard_partial_writes(path: Path) -> None:
    """Remove what a killed writer of `path` left, unless a live writer holds its lock."""
    if not _partial_writes(path):
        return
    try:
        with FileLock(path.with_suffix(".lock"), timeout=0):
            for tmp in _partial_writes(path):
                tmp.unlink(missing_ok=True)
    except (TimeoutError, OSError):
        pass  # being written right now, or an unwritable cache: nothing to tidy that we can


# A cache entry's file name: its key, and the suffix of an entry set aside as damaged. Nothing
# else in the directory is pruned, whatever directory VAE_EXPLORER_CACHE names.
ENTRY = re.compile(r"[0-9a-f]{20}\.pt(\.bad-\d+)?")


def prune(cache_dir, max_bytes: int, keep: set[str] = frozenset()) -> list[Path]:
    """Remove least recently used entries until the cache holds at most `max_bytes`.

    Never removes an entry named in `keep` (cache keys: models shown or being trained), one
    whose lock is held (being written or read), or the shipped default (it lives in assets/).
    Entries set aside as damaged go first, oldest first. Returns the paths removed.
    """
    directory = Path(cache_dir or default_cache_dir())
    if not directory.is_dir():
        return []
    files = [p for p in directory.iterdir() if ENTRY.fullmatch(p.name)]
    sizes = {}
    for p in files:
        try:
            sizes[p] = p.stat()
        except FileNotFoundError:
            continue
    total = sum(st.st_size for st in sizes.values())
    shipped = _shipped_key()

    def order(p: Path) -> tuple[bool, float]:
        return (p.suffix == ".pt", sizes[p].st_mtime)

    removed = []
    for p in sorted(sizes, key=order):
        if total <= max_bytes:
            break
        key = p.name.split(".")[0]
        if p.suffix == ".pt" and (key in keep or key == shipped):
            continue
        if not _remove_if_free(directory, key, p):
            continue
        total -= sizes[p].st_size
        removed.append(p)
        log.info("model cache over %d bytes: removed %s", max_bytes, p.name)
    return removed


def forget_entry(cache_dir, key: str) -> bool:
    """Remove one cached model (its data were deleted); never a shipped one, one being
    written or read, or a name that is not a cache key. True when it was removed."""
    directory = Path(cache_dir or default_cache_dir())
    path = directory / f"{key}.pt"
    if not ENTRY.fullmatch(path.name) or shipped_path(key) is not None:
        return False
    if not _remove_if_free(directory, key, path):
        return False
    log.info("removed %s with the upload it was trained on", path.name)
    return True


def _remove_if_free(directory: Path, key: str, path: Path) -> bool:
    """Remove an entry's file unless its lock is held (being written or read) or it cannot
    be removed; True when it was."""
    try:
        with FileLock(directory / f"{key}.lock", timeout=0):
            path.unlink()
    except (TimeoutError, OSError):
        return False
    return True

"""Checkpoints: one plain dict on disk, loaded without unpickling arbitrary objects.

A checkpoint holds the state_dict, the model config as a plain dict, the training config,
metrics, library versions, the training's replay (vae_core.replay; absent from checkpoints
written before it existed), and a SHA-256 digest over all of them and every tensor's bytes,
so a truncated, foreign or tampered file is told apart from a good one. It is loaded with
`torch.load(weights_only=True)`, which refuses any pickle that would build other objects.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import platform
import tempfile
from pathlib import Path

import torch

from i18n import lazy

from .model import VAE, VAEConfig
from .replay import Replay

FORMAT = "vae-explorer-checkpoint/1"
DEFAULT_CHECKPOINT = Path(__file__).resolve().parent.parent / "assets" / "default_model.pt"
# The lesson pack: the other models that ship with the repository, each named by its cache key
# (training.pack writes them; docs/api.md lists them).
PACK_DIR = DEFAULT_CHECKPOINT.parent / "pack"


class CheckpointError(ValueError):
    """A file is not a usable checkpoint of this project."""


def _hash_tensors(h, tensors: dict, prefix: str = "") -> None:
    for name in sorted(tensors):
        tensor = tensors[name].detach().cpu().contiguous()
        h.update(f"{prefix}{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        h.update(tensor.numpy().tobytes())


def _digest(checkpoint: dict) -> str:
    """SHA-256 over every entry but the digest itself: plain values as JSON, tensors as bytes.

    The replay, which mixes both, comes last and only when present, so a checkpoint written
    before replays existed keeps the digest it was written with.
    """
    plain = {k: v for k, v in checkpoint.items() if k not in ("state_dict", "digest", "replay")}
    h = hashlib.sha256(json.dumps(plain, sort_keys=True).encode())
    _hash_tensors(h, checkpoint["state_dict"])
    if "replay" in checkpoint:
        replay = checkpoint["replay"]
        tensors = {k: v for k, v in replay.items() if isinstance(v, torch.Tensor)}
        rest = {k: v for k, v in replay.items() if k not in tensors}
        h.update(json.dumps(rest, sort_keys=True).encode())
        _hash_tensors(h, tensors, prefix="replay/")
    return h.hexdigest()


def atomic_write(path: Path, write) -> None:
    """Call write(file) on a temporary file beside `path`, then move it into place.

    A crash or kill before `os.replace` leaves any old file at `path` untouched.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes the file private; give it the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_checkpoint(
    model: VAE,
    path: str | Path,
    metrics: dict | None = None,
    extra: dict | None = None,
    replay: Replay | None = None,
    weights: torch.dtype = torch.float32,
) -> None:
    """Write the model atomically. `extra` holds plain values (training config, cache key).

    `weights=torch.float16` stores the weights in half the bytes (the shipped models); loading
    widens them back to the model's float32.
    """
    checkpoint = {
        "format": FORMAT,
        "config": model.config.to_dict(),
        "state_dict": {
            k: v.detach().cpu().to(weights).clone() for k, v in model.state_dict().items()
        },
        "metrics": dict(metrics or {}),
        "extra": dict(extra or {}),
        "versions": {"torch": str(torch.__version__), "python": platform.python_version()},
    }
    if replay is not None:
        checkpoint["replay"] = replay.to_checkpoint()
    checkpoint["digest"] = _digest(checkpoint)
    atomic_write(Path(path), lambda f: torch.save(checkpoint, f))


def read_checkpoint(path: str | Path) -> dict:
    """Load and verify a checkpoint dict; raise CheckpointError saying what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(lazy("{path}: no such checkpoint file.", path=path))
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            lazy(
                "{path}: refused to load: it holds objects other than tensors and plain values, "
                "and loading it could run code. Use a checkpoint written by this project.",
                path=path,
            )
        ) from exc
    except Exception as exc:  # torch.load raises many types for bytes that are not a checkpoint
        raise CheckpointError(
            lazy(
                "{path}: not a readable checkpoint; truncated or damaged ({error}).",
                path=path,
                error=str(exc),
            )
        ) from exc
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        raise CheckpointError(
            lazy(
                "{path}: not a checkpoint of this project (expected format {format!r}).",
                path=path,
                format=FORMAT,
            )
        )
    missing = {"config", "state_dict", "metrics", "extra", "digest"} - set(checkpoint)
    if missing:
        raise CheckpointError(
            lazy(
                "{path}: checkpoint lacks its {entries} entries.",
                path=path,
                entries=sorted(missing),
            )
        )
    try:
        intact = _digest(checkpoint) == checkpoint["digest"]
    except (TypeError, ValueError, AttributeError) as exc:
        raise CheckpointError(
            lazy(
                "{path}: checkpoint entries of the wrong kind ({error}).", path=path, error=str(exc)
            )
        ) from exc
    if not intact:
        raise CheckpointError(
            lazy(
                "{path}: its contents do not match its digest; the file was altered or damaged.",
                path=path,
            )
        )
    return checkpoint


def load_checkpoint(path: str | Path) -> tuple[VAE, dict]:
    """Rebuild the model from a checkpoint's config and weights; returns (model in eval mode, checkpoint)."""
    checkpoint = read_checkpoint(path)
    try:
        model = VAE(VAEConfig.from_dict(checkpoint["config"]))
        model.load_state_dict(checkpoint["state_dict"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(
            lazy(
                "{path}: its config and weights do not make a model ({error}).",
                path=path,
                error=str(exc),
            )
        ) from exc
    return model.eval(), checkpoint


def load_model(path: str | Path | None = None) -> VAE:
    """The model in a checkpoint this project wrote, in eval mode; the shipped default without a path."""
    return load_checkpoint(DEFAULT_CHECKPOINT if path is None else path)[0]

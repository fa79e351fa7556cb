"""`python -m training`: train a VAE, print one line per epoch, write or cache the checkpoint."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from i18n import lazy
from vae_core.checkpoint import CheckpointError
from vae_core.data import DataError
from vae_core.datasets import describe
from vae_core.model import VAEConfig
from vae_core.uploads import UploadError, UploadLimits, read_upload, save_upload

from .cache import (
    DEFAULT_MODEL_CONFIG,
    DEFAULT_TRAIN_CONFIG,
    cache_key,
    default_cache_dir,
    get_or_train,
    train_and_save,
)
from .request import PRECISIONS, EpochReport, TrainConfig, TrainingCallbacks, TrainingRequest


def _parser() -> argparse.ArgumentParser:
    m, t = DEFAULT_MODEL_CONFIG, DEFAULT_TRAIN_CONFIG
    p = argparse.ArgumentParser(
        prog="python -m training",
        description="Train a VAE on MNIST-format data. Without --output, the model goes into the "
        "cache the app reads (and comes from it when already there).",
    )
    p.add_argument(
        "--latent-dim", type=int, default=m.latent_dim, help="size of z (default: %(default)s)"
    )
    p.add_argument(
        "--hidden",
        type=int,
        nargs="+",
        default=list(m.hidden),
        help="encoder layer widths; the decoder mirrors them (default: %(default)s)",
    )
    p.add_argument(
        "--beta", type=float, default=m.beta, help="weight of the KL term (default: %(default)s)"
    )
    p.add_argument(
        "--conditional",
        action="store_true",
        help="a conditional VAE (Sohn et al. 2015): the encoder and the decoder are also given "
        "the image's class, one-hot, out of as many classes as the data have (default: a plain "
        "VAE)",
    )
    p.add_argument(
        "--labels",
        type=int,
        default=0,
        metavar="N",
        help="a semi-supervised VAE (M2 of Kingma et al. 2014): the class is a latent variable "
        "beside z, with a classifier q(y|x) learnt from N labelled training images (N / classes "
        "of each class, picked by the seed) and all the others unlabelled; it costs about a "
        "class-count times a conditional model's epoch (default: 0, every label or none)",
    )
    p.add_argument(
        "--epochs",
        type=int,
        default=t.epochs,
        help="passes over the training set (default: %(default)s)",
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=t.batch_size,
        help="images per step (default: %(default)s)",
    )
    p.add_argument(
        "--lr",
        type=float,
        default=t.lr,
        help="peak learning rate of the one-cycle schedule (default: %(default)s)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=t.seed,
        help="seeds weights, shuffling and sampling (default: %(default)s)",
    )
    p.add_argument(
        "--output",
        type=Path,
        default=None,
        help="train afresh and write the checkpoint here, whatever the cache holds "
        "(default: use the cache)",
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="directory of the four MNIST-format IDX files, .gz or not "
        "(default: the MNIST bundled in assets/mnist)",
    )
    p.add_argument(
        "--images",
        type=Path,
        default=None,
        metavar="DIR_OR_ZIP",
        help="train on your own pictures: a folder or a zip with one folder per class (the "
        "folder's name is the class's), or pictures with no folders (unlabelled), PNG, JPEG, "
        "WebP, GIF or BMP; prepared as MNIST was and kept, as MNIST-format files, in the "
        "cache's uploads/ (instead of --data-dir)",
    )
    p.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="model cache (default: $VAE_EXPLORER_CACHE or ~/.cache/vae-explorer)",
    )
    p.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=t.precision,
        help="arithmetic of the matrix products: bf16 where the device has it in hardware, "
        "else float32; the loss and evaluations are float32 always (default: %(default)s)",
    )
    p.add_argument(
        "--device", default=None, help="torch device (default: cuda if present, else cpu)"
    )
    return p


def _print_epoch(r: EpochReport) -> None:
    print(
        f"epoch {r.epoch:>3}/{r.epochs}  "
        f"train -ELBO {r.train_reconstruction + r.train_kl:7.2f} "
        f"(rec {r.train_reconstruction:7.2f}, KL {r.train_kl:5.2f})  "
        f"test -ELBO {r.test_neg_elbo:7.2f} (rec {r.test_reconstruction:7.2f}, KL {r.test_kl:5.2f})  "
        + ("" if r.test_accuracy is None else f"accuracy {r.test_accuracy:6.2%}  ")
        + f"{r.seconds:6.1f}s",
        flush=True,
    )


# The command line's own limits: what it reads is the user's own, so only memory bounds it.
CLI_UPLOAD_LIMITS = UploadLimits(max_bytes=2 * 2**30, max_images=500_000)


def _files_of(path: Path) -> list[tuple[str, bytes]]:
    """A zip as one file, or a folder's files by their paths in it; links are not followed."""
    if not path.exists():
        raise UploadError(lazy("{path} does not exist.", path=path))
    if path.is_file():
        found = [path]
    else:
        found = [
            Path(root) / name
            for root, _dirs, names in os.walk(path)
            for name in sorted(names)
            if (Path(root) / name).is_file() and not (Path(root) / name).is_symlink()
        ]
    size = sum(file.stat().st_size for file in found)
    if size > CLI_UPLOAD_LIMITS.max_bytes:  # before reading any into memory
        raise UploadError(
            lazy(
                "{path} holds {mb:,.0f} MB, more than the {most:,.0f} MB read at once.",
                path=path,
                mb=size / 2**20,
                most=CLI_UPLOAD_LIMITS.max_bytes / 2**20,
            )
        )
    if path.is_file():
        return [(path.name, path.read_bytes())]
    return [(file.relative_to(path).as_posix(), file.read_bytes()) for file in found]


def _prepare_images(path: Path, cache_dir: Path) -> Path:
    """Prepare a folder or zip of pictures as the page does, keep it, and say where."""
    upload = read_upload(_files_of(path), CLI_UPLOAD_LIMITS)
    directory = save_upload(Path(cache_dir) / "uploads", upload)
    train, test = (sum(c[i] for c in upload.counts) for i in (0, 1))
    kind = f"{len(upload.classes)} classes" if upload.labelled else "unlabelled"
    print(
        f"{path}: {train + test} pictures ({kind}; {train} to train, {test} to test), "
        f"{len(upload.skipped)} left out; prepared in {directory} (the page opens it with "
        f"?data={upload.key}; name the folder with --data-dir to offer it to every page)",
        flush=True,
    )
    for name, reason in upload.skipped[:20]:
        print(f"  left out {name}: {reason}", file=sys.stderr)
    return directory


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s")
    try:
        if args.images is not None:
            if args.data_dir is not None:
                parser.error("give --images or --data-dir, not both")
            args.data_dir = _prepare_images(args.images, args.cache_dir or default_cache_dir())
        dataset = describe(args.data_dir)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        if args.labels < 0:
            raise ValueError(f"--labels must be 0 or more labelled images, got {args.labels}")
        model_config = VAEConfig(
            latent_dim=args.latent_dim,
            hidden=tuple(args.hidden),
            beta=args.beta,
            conditional=args.conditional or args.labels > 0,
            **({"classes": len(dataset.classes)} if args.conditional or args.labels else {}),
            **({"semi_supervised": True, "labelled": args.labels} if args.labels else {}),
        )
        train_config = TrainConfig(
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            seed=args.seed,
            precision=args.precision,
        )
    except ValueError as exc:
        parser.error(str(exc))
    request = TrainingRequest(
        model_config, train_config, args.data_dir, args.cache_dir, device=args.device
    )
    callbacks = TrainingCallbacks(on_epoch=_print_epoch)
    try:
        if args.output is not None:
            _, checkpoint = train_and_save(request, args.output, callbacks)
            where = args.output
        else:
            _, checkpoint = get_or_train(request, callbacks)
            where = f"cache entry {cache_key(*request.configs())}"
    except (DataError, CheckpointError, FloatingPointError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing was written.", file=sys.stderr)
        return 130
    m = checkpoint["metrics"]
    trained = (
        f"trained on {m['device']} ({m['device_name']}, {m['precision']}) in "
        f"{m['train_seconds']:.1f} s; "
        if "device" in m
        else ""  # a cached model from before checkpoints said where they were trained
    )
    accuracy = f"test accuracy of q(y|x) {m['test_accuracy']:.2%}; " if "test_accuracy" in m else ""
    print(
        f"{accuracy}"
        f"test -ELBO {m['test_neg_elbo']:.2f} nats (reconstruction {m['test_reconstruction']:.2f}, "
        f"KL {m['test_kl']:.2f}; mean of {m['eval_samples']} draws of z); {trained}-> {where}"
    )
    return 0

"""The training loop: minibatch Adam on the negative ELBO, data held as in-memory tensors."""

from __future__ import annotations

import math
import os
import platform
import time
from collections.abc import Callable

import torch

from i18n import lazy
from vae_core.data import DataError, Split, load_split, to_tensor
from vae_core.few_labels import labelled_subset
from vae_core.model import VAE, VAEConfig
from vae_core.replay import ReplayFrame, record_frame
from vae_core.snapshot import Snapshot

from .adam import FusedAdam
from .request import EpochReport, TrainingCallbacks, TrainingRequest


def one_cycle(total_steps: int, warmup: float = 0.1) -> Callable[[int], float]:
    """Learning-rate factor per step: linear warm-up, then cosine decay towards zero.

    After Smith & Topin, "Super-Convergence" (2018): it reaches a given ELBO in fewer epochs
    than a constant rate.
    """
    warmup_steps = max(1, round(warmup * total_steps))

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return factor


def pick_device(device: str | None = None) -> torch.device:
    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def fast_bf16(device: torch.device) -> bool:
    """Whether `device` multiplies bfloat16 matrices in hardware, and so faster than float32.

    A CPU needs AVX-512 BF16 or AMX: without them oneDNN emulates bfloat16 some 50x slower
    than float32 (an AVX2 EPYC here: 1 against 80 GFLOP/s). A GPU needs compute capability 8.0
    (Ampere) or later.
    """
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported(including_emulation=False)
    if device.type == "cpu":
        return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    return False


def resolve_precision(precision: str, device: torch.device) -> str:
    """The arithmetic a training asked for as `precision` runs in on `device`: bf16 or float32."""
    if precision == "auto":
        return "bf16" if fast_bf16(device) else "float32"
    return precision


def device_info(device: torch.device, precision: str) -> dict:
    """Where a training ran, as plain values for its checkpoint and the page: the device's kind
    ("cpu" or "cuda"), its name, the CPU cores the machine has and the arithmetic used."""
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    else:
        name = _cpu_name() or platform.processor() or platform.machine()
    return {
        "device": device.type,
        "device_name": name,
        "cores": os.cpu_count(),
        "precision": resolve_precision(precision, device),
    }


def _cpu_name() -> str | None:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


# Labelled images in each step of a semi-supervised model (M2), beside the batch of unlabelled
# ones: all of them when there are no more.
LABELLED_BATCH = 100
# M2's weight of the labelled images' classification loss, alpha of Kingma et al. (2014), eq. 9,
# per labelled image against the mean unlabelled bound.
ALPHA = 50.0


def _labels(
    split: Split, config: VAEConfig, device: torch.device, rows=None
) -> torch.Tensor | None:
    """What a conditional model is given besides the images: their classes, int64 (N,), or
    only those of `rows` (the labelled images of a semi-supervised model)."""
    if not config.conditional:
        return None
    labels = split.labels if rows is None else split.labels[rows]
    if len(labels) and int(labels.max()) >= config.classes:
        raise DataError(
            lazy(
                "the data's labels go up to {label}, beyond the model's {classes} classes; "
                "give the model more classes.",
                label=int(labels.max()),
                classes=config.classes,
            )
        )
    return torch.from_numpy(labels.astype("int64")).to(device)


def _labelled_batch(n: int, generator: torch.Generator, dev: torch.device) -> torch.Tensor:
    """Which of n labelled images one step of M2 reads: all of them, or LABELLED_BATCH drawn."""
    if n <= LABELLED_BATCH:
        return torch.arange(n, device=dev)
    return torch.randint(n, (LABELLED_BATCH,), generator=generator, device=dev)


@torch.no_grad()
def _evaluate(
    model: VAE,
    x: torch.Tensor,
    y: torch.Tensor | None,
    generator: torch.Generator,
    epoch: int,
    frame: bool,
) -> tuple[float, float, float | None, ReplayFrame | None]:
    """The test set's mean reconstruction and KL (one draw of z each), a semi-supervised
    model's accuracy of q(y|x) and, if `frame`, the epoch's replay frame, whose codes are the
    same pass's posterior means: one encoding of the test set serves both (it is a sixth of an
    epoch's time at width 512)."""
    model.eval()  # as the app will see the model; the frame draws no random number
    rec, kl, right, codes = 0.0, 0.0, 0, []
    for i in range(0, len(x), 5000):
        yb = None if y is None else y[i : i + 5000]
        terms = model.loss_terms(x[i : i + 5000], generator, yb)
        rec += terms.reconstruction.sum().item()
        kl += terms.kl.sum().item()
        codes.append(terms.mu.cpu())
        if model.config.semi_supervised:
            right += (model.class_logits(x[i : i + 5000]).argmax(-1) == yb).sum().item()
    replayed = None
    if frame:
        codes = torch.cat(codes).numpy()
        replayed = record_frame(model, x, epoch, labels=y, codes=codes)
    model.train()
    accuracy = right / len(x) if model.config.semi_supervised else None
    return rec / len(x), kl / len(x), accuracy, replayed


def train(
    request: TrainingRequest, callbacks: TrainingCallbacks | None = None
) -> tuple[VAE, list[EpochReport]]:
    """Train the VAE `request` names from scratch, on its device; deterministic for a given
    seed, device, torch build and thread count (the request's cache and threads are its
    callers': training.cache writes the model, training.worker sets the threads).

    `callbacks.on_epoch` is called after every epoch with its report. `on_batch(step, total)` is
    called after every optimizer step with the steps done so far in the whole run (1 .. total)
    and the run's total steps, for progress within an epoch: counts only, so it costs no
    evaluation and no device sync. `on_replay`, if given, is called after `on_epoch` with the
    epoch's replay frame (vae_core.replay: the test codes and a small manifold; 2-D latents
    only). Any of them may raise to stop training. None changes the result, even if it draws
    random numbers: after the initial weights, every draw comes from the run's own generator,
    and a frame draws none. `on_snapshot`, if given, is called last after each epoch with the
    weights as they stand (vae_core.snapshot), so that the model can be explored while it
    trains.
    A conditional model (Sohn et al. 2015) is given each image's class from the data's labels;
    a plain model's run draws and computes exactly as before conditional models existed.
    """
    callbacks = callbacks or TrainingCallbacks()
    model_config, train_config, data_dir = request.configs()
    on_batch, on_replay = callbacks.on_batch, callbacks.on_replay
    if on_replay is not None and model_config.latent_dim != 2:
        raise ValueError(f"a replay needs a 2-D latent plane, not {model_config.latent_dim}-D")
    dev = pick_device(request.device)
    train_split, test_split = load_split(data_dir, "train"), load_split(data_dir, "test")
    x_train = to_tensor(train_split.images).to(dev)  # (60000, 784)
    x_test = to_tensor(test_split.images).to(dev)  # (10000, 784)
    y_test = _labels(test_split, model_config, dev)  # (10000,) or None
    if model_config.semi_supervised:
        # M2 sees the classes of its labelled images only; every image, those too, also
        # serves unlabelled, as in Kingma et al. (2014).
        labelled_rows = labelled_subset(
            train_split.labels, model_config.labelled // model_config.classes, train_config.seed
        )
        x_labelled = x_train[torch.from_numpy(labelled_rows).to(dev)]  # (L, 784)
        y_labelled = _labels(train_split, model_config, dev, labelled_rows)  # (L,)
        y_train = None
    else:
        y_train = _labels(train_split, model_config, dev)  # (60000,) or None

    torch.manual_seed(train_config.seed)
    model = VAE(model_config).to(dev)
    generator = torch.Generator(device=dev).manual_seed(train_config.seed)
    steps_per_epoch = math.ceil(len(x_train) / train_config.batch_size)
    total_steps = train_config.epochs * steps_per_epoch
    # One fused kernel for the whole update instead of a dozen per parameter tensor, and
    # torch.optim.Adam(fused=True)'s numbers without torch.optim's start-up (training.adam).
    optimizer = FusedAdam(model.parameters())
    autocast = torch.autocast(
        dev.type, torch.bfloat16, enabled=resolve_precision(train_config.precision, dev) == "bf16"
    )
    schedule = one_cycle(total_steps)  # step k's rate is lr * schedule(k), as LambdaLR's
    history: list[EpochReport] = []
    step = 0  # optimizer steps done in the whole run
    start = time.perf_counter()
    model.train()
    for epoch in range(1, train_config.epochs + 1):
        order = torch.randperm(len(x_train), generator=generator, device=dev)
        sums = torch.zeros(3, device=dev)
        for i in range(0, len(x_train), train_config.batch_size):
            rows = order[i : i + train_config.batch_size]
            with autocast:
                if model_config.semi_supervised:
                    pick = _labelled_batch(len(x_labelled), generator, dev)
                    both = model.semi_supervised_terms(
                        x_labelled[pick], y_labelled[pick], x_train[rows], ALPHA, generator
                    )
                    loss, terms = both.loss, both.unlabelled
                else:
                    terms = model.loss_terms(
                        x_train[rows], generator, None if y_train is None else y_train[rows]
                    )
                    loss = terms.loss.mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step(train_config.lr * schedule(step))
            with torch.no_grad():
                sums += torch.stack(
                    [terms.loss.sum(), terms.reconstruction.sum(), terms.kl.sum()]
                ).detach()
            step += 1
            if on_batch is not None:
                on_batch(step, total_steps)
        if not torch.isfinite(sums).all():
            raise FloatingPointError(
                lazy(
                    "training diverged in epoch {epoch} (the loss is not finite); "
                    "try a smaller learning rate.",
                    epoch=epoch,
                )
            )
        train_loss, train_rec, train_kl = (sums / len(x_train)).tolist()
        test_rec, test_kl, accuracy, frame = _evaluate(
            model, x_test, y_test, generator, epoch, frame=on_replay is not None
        )
        report = EpochReport(
            epoch=epoch,
            epochs=train_config.epochs,
            train_loss=train_loss,
            train_reconstruction=train_rec,
            train_kl=train_kl,
            test_neg_elbo=test_rec + test_kl,
            test_reconstruction=test_rec,
            test_kl=test_kl,
            seconds=time.perf_counter() - start,
            test_accuracy=accuracy,
        )
        history.append(report)
        if callbacks.on_epoch is not None:
            callbacks.on_epoch(report)
        if frame is not None:
            on_replay(frame)
        if callbacks.on_snapshot is not None:
            callbacks.on_snapshot(Snapshot.of(model, epoch, train_config.epochs))
    return model.cpu().eval(), history

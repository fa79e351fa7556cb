"""Few labels (Kingma et al. 2014, model M1): test accuracy from k labelled images a class.

    python -m benchmarks.few_labels [--seeds 0 1 2 3 4] [--wide-epochs 20] [--checkpoint PATH]
                                    [--data-dir DIR] [--out FILE]

kNN and logistic regression (vae_core.few_labels) on the raw pixels and on the codes of the
shipped model, of a 16-D latent model trained by the CLI into the app's cache
(`python -m training --latent-dim 16 --epochs 20`, or the epochs given; skipped, saying so,
when absent) and of any checkpoint given; the same labelled images for all, drawn with each seed. Prints the mean and
spread over the seeds as a markdown table, in %. With `--data-dir`, the data of that directory
(Fashion-MNIST, say): the pixels, the 16-D model trained on them
(`python -m training --latent-dim 16 --data-dir DIR`) and the checkpoints given, which must be
models of those data; the shipped model is MNIST's and is left out.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

from benchmarks.data_option import add_data_dir, described
from benchmarks.harness import report
from training import DEFAULT_MODEL_CONFIG, DEFAULT_TRAIN_CONFIG
from training.cache import NotCached, load_cached
from vae_core import load_checkpoint, load_model, load_split
from vae_core.few_labels import CLASSIFIERS, KS, few_label_accuracy


def models(wide_epochs: int, checkpoints: list[str], data_dir=None) -> dict[str, object]:
    """The models to score, by the name their columns get."""
    found = {"2-D codes (shipped)": load_model()} if data_dir is None else {}
    wide = replace(DEFAULT_MODEL_CONFIG, latent_dim=16)
    try:
        found[f"16-D codes ({wide_epochs} epochs)"] = load_cached(
            wide, replace(DEFAULT_TRAIN_CONFIG, epochs=wide_epochs), data_dir
        )[0]
    except NotCached:
        command = f"python -m training --latent-dim 16 --epochs {wide_epochs}"
        command += "" if data_dir is None else f" --data-dir {data_dir}"
        print(f"No such 16-D model in the cache: `{command}` trains it; left out.\n")
    for path in checkpoints:
        model, checkpoint = load_checkpoint(path)
        if checkpoint["config"].get("conditional"):
            # Its encoder needs the label it is asked to predict: M1 has no use for it.
            print(f"{path} is a conditional model, whose codes need the labels; left out.\n")
            continue
        found[f"{checkpoint['config']['latent_dim']}-D codes ({path})"] = model
    return found


def cell(values: list[float]) -> str:
    mean = 100 * statistics.mean(values)
    if len(values) == 1:
        return f"{mean:.1f}"
    return f"{mean:.1f} ± {100 * statistics.stdev(values):.1f}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.few_labels", description=__doc__.split("\n")[0]
    )
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument(
        "--wide-epochs", type=int, default=20, help="the 16-D model's (default: %(default)s)"
    )
    p.add_argument(
        "--checkpoint", action="append", default=[], help="another model to score (repeatable)"
    )
    add_data_dir(p)
    p.add_argument("--out", type=Path, help="also write the figures here, as JSON")
    args = p.parse_args(argv)
    dataset = described(args.data_dir)
    if dataset is None:
        return 2
    train, test = load_split(args.data_dir, "train"), load_split(args.data_dir, "test")
    start = time.perf_counter()
    # {(column, classifier, k): [accuracy per seed]}
    scores: dict[tuple[str, str, int], list[float]] = {}

    def add(column: str, model, features: tuple[str, ...]) -> None:
        for seed in args.seeds:
            for s in few_label_accuracy(model, train, test, KS, seed, features):
                scores.setdefault((column, s.classifier, s.k), []).append(s.accuracy)

    add("pixels", None, ("pixels",))
    columns = ["pixels"]
    for name, model in models(args.wide_epochs, args.checkpoint, args.data_dir).items():
        add(name, model, ("codes",))
        columns.append(name)
    heads = [f"{column} · {c}" for column in columns for c in CLASSIFIERS]
    title = (
        f"Test accuracy (%) on the {len(test.labels):,} {dataset.name} test {dataset.noun}s, "
        f"mean ± sd over seeds {args.seeds}"
    )
    rows = [
        [k] + [cell(scores[column, c, k]) for column in columns for c in CLASSIFIERS] for k in KS
    ]
    results = {" · ".join(map(str, key)): values for key, values in scores.items()}
    notes = [f"({time.perf_counter() - start:.0f} s)"]
    header = ["labels a class", *heads]
    right = range(len(heads) + 1)
    return report(results, header, rows, notes, title=title, right=right, out=args.out)


if __name__ == "__main__":
    sys.exit(main())

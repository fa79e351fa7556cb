import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from training.adam import FusedAdam
from training.loop import one_cycle
from vae_core.model import VAE, VAEConfig

REPO = Path(__file__).resolve().parent.parent


def _steps(model, optimizer, step, n=12, seed=0):
    """n steps on random batches; `step(k)` does the k-th optimizer step."""
    generator = torch.Generator().manual_seed(seed)
    for k in range(n):
        x = torch.rand(32, 784, generator=generator)
        loss = model.loss_terms(x, generator).loss.mean()
        optimizer.zero_grad()
        loss.backward()
        step(k)


@pytest.mark.parametrize("frozen", [False, True])
def test_fused_adam_gives_torch_optims_fused_adam_weights_bit_for_bit(frozen):
    """The loop's optimizer and schedule against torch.optim.Adam(fused=True) under LambdaLR,
    what the loop used before: the same weights, moments and step counts, also where a
    parameter has no gradient (it stays as it is, its count too)."""
    total, lr = 12, 3e-3
    torch.manual_seed(0)
    ours = VAE(VAEConfig(hidden=(16,)))
    theirs = VAE(VAEConfig(hidden=(16,)))
    theirs.load_state_dict(ours.state_dict())
    if frozen:
        ours.decoder[0].bias.requires_grad_(False)
        theirs.decoder[0].bias.requires_grad_(False)

    optimizer = FusedAdam(ours.parameters())
    schedule = one_cycle(total)
    _steps(ours, optimizer, lambda k: optimizer.step(lr * schedule(k)), total)

    reference = torch.optim.Adam(theirs.parameters(), lr=lr, fused=True)
    scheduler = torch.optim.lr_scheduler.LambdaLR(reference, one_cycle(total))

    def reference_step(_):
        reference.step()
        scheduler.step()

    _steps(theirs, reference, reference_step, total)

    for name, p in ours.state_dict().items():
        assert torch.equal(p, theirs.state_dict()[name]), name
    for p, q, avg, avg_sq, step in zip(
        ours.parameters(),
        theirs.parameters(),
        optimizer.exp_avgs,
        optimizer.exp_avg_sqs,
        optimizer.steps,
        strict=True,
    ):
        state = reference.state[q]
        if not state:  # never had a gradient
            assert not p.requires_grad and step.item() == 0 and not avg.any()
            continue
        assert torch.equal(avg, state["exp_avg"]) and torch.equal(avg_sq, state["exp_avg_sq"])
        assert torch.equal(step, state["step"])


def test_an_empty_or_integer_parameter_list_is_refused():
    with pytest.raises(ValueError, match="empty"):
        FusedAdam([])
    with pytest.raises(ValueError, match="floating-point"):
        FusedAdam([torch.zeros(3, dtype=torch.int64)])


def test_training_does_not_import_torchs_compiler(tiny_mnist):
    """torch._dynamo costs a second of every training process's start (training.adam)."""
    script = textwrap.dedent(
        f"""
        import sys
        from training import TrainConfig, TrainingRequest, train
        from vae_core.model import VAEConfig
        train(TrainingRequest(VAEConfig(hidden=(16,)), TrainConfig(epochs=1, batch_size=500),
                              {str(tiny_mnist)!r}))
        assert "torch._dynamo" not in sys.modules, "torch._dynamo was imported"
        """
    )
    subprocess.run([sys.executable, "-c", script], cwd=REPO, check=True, timeout=300)

"""Adam as `torch.optim.Adam(params, lr, fused=True)` computes it, without torch.optim.

Any torch.optim optimizer imports torch._dynamo, torch's compiler, when it is built (its
add_param_group) and again on every step: about 1.1 s of a training process's start on the
2-core development machine, for a compiler training never uses. This class calls the same
fused kernel (`torch._fused_adam_`) with the same arguments and state, so the weights are the
same bit for bit (tests/test_adam.py checks it against torch.optim.Adam), and skips the
Python wrappers torch.optim runs around it on every step.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch


class FusedAdam:
    """Adam (Kingma & Ba, 2015) over `params`, one fused kernel per step for all of them.

    `step(lr)` takes the step's learning rate, so a schedule is a plain function of the step
    (training.loop.one_cycle) instead of a torch.optim.lr_scheduler. Parameters without a
    gradient are left as they are and their step count stays put, as torch.optim.Adam does.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        for p in self.params:
            if not torch.is_floating_point(p):
                raise ValueError(f"fused Adam needs floating-point parameters, not {p.dtype}")
        self.beta1, self.beta2 = betas
        self.eps = eps
        # torch.optim.Adam's state for fused=True: a float32 step count on each parameter's
        # device, and the two moments (zeros until a parameter's first gradient).
        self.steps = [torch.zeros((), dtype=torch.float32, device=p.device) for p in self.params]
        self.exp_avgs = [
            torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params
        ]
        self.exp_avg_sqs = [
            torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params
        ]

    def zero_grad(self) -> None:
        """Drop every gradient (torch.optim's `zero_grad(set_to_none=True)`)."""
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self, lr: float) -> None:
        """One Adam update of every parameter that has a gradient, at learning rate `lr`."""
        # torch.optim.Adam makes one call per device and dtype, of the parameters with a gradient.
        groups: dict[tuple[torch.device, torch.dtype], list[int]] = {}
        for i, p in enumerate(self.params):
            if p.grad is not None:
                groups.setdefault((p.device, p.dtype), []).append(i)
        for members in groups.values():
            params = [self.params[i] for i in members]
            steps = [self.steps[i] for i in members]
            torch._foreach_add_(steps, 1)
            torch._fused_adam_(
                params,
                [p.grad for p in params],
                [self.exp_avgs[i] for i in members],
                [self.exp_avg_sqs[i] for i in members],
                [],  # max_exp_avg_sqs: amsgrad is off
                steps,
                amsgrad=False,
                lr=lr,
                beta1=self.beta1,
                beta2=self.beta2,
                weight_decay=0.0,
                eps=self.eps,
                maximize=False,
                grad_scale=None,
                found_inf=None,
            )

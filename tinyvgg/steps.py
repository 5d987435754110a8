"""The training step, accumulating loss and accuracy on device: eager with autograd, replayed as a
CUDA graph, or (plain SGD on the CPU) with the backward written out.

All steppers take a batch as indices into the device-resident training set, so a step never
copies images from the host, and keep running sums on the device so nothing synchronises until
`running()` is asked for.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from tinyvgg.data import DeviceData


class EagerStep:
    """One SGD/Adam step per call, in plain PyTorch; `clip_norm` clips the gradients' total
    norm first (`torch.nn.utils.clip_grad_norm_`)."""

    def __init__(
        self,
        model: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        data: DeviceData,
        clip_norm: float | None = None,
    ):
        self.model, self.optimizer, self.data = model, optimizer, data
        self.clip_norm = clip_norm
        self.augment = None  # a callable (B, C, H, W) -> (B, C, H, W), e.g. tinyvgg.augment
        device = data.x.device
        self.loss_sum = torch.zeros((), device=device)  # sum over samples of the batch-mean loss
        self.correct = torch.zeros((), device=device, dtype=torch.long)

    def reset(self) -> None:
        """Start the running loss and accuracy of a new epoch."""
        self.loss_sum.zero_()
        self.correct.zero_()

    def _step(self, x: torch.Tensor, y: torch.Tensor, set_to_none: bool = True) -> None:
        logits = self.model(x)  # (B, classes)
        loss = F.cross_entropy(logits, y)
        self.optimizer.zero_grad(set_to_none=set_to_none)
        loss.backward()
        if self.clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.clip_norm)
        self.optimizer.step()
        with torch.no_grad():
            self.loss_sum.add_(loss.detach() * y.shape[0])
            self.correct.add_((logits.argmax(dim=1) == y).sum())

    def __call__(self, idx: torch.Tensor) -> None:
        x = self.data.x.index_select(0, idx)
        if self.augment is not None:
            x = self.augment(x)
        self._step(x, self.data.y.index_select(0, idx))

    def running(self, seen: int) -> tuple[float, float]:
        """(mean loss, accuracy in percent) over the `seen` samples since reset()."""
        seen = max(seen, 1)
        return self.loss_sum.item() / seen, 100.0 * self.correct.item() / seen


class GraphStep(EagerStep):
    """The same step captured once as a CUDA graph and replayed for every full batch.

    The gather of the batch from the resident dataset is captured too: a replay only needs the
    batch's indices copied into a static buffer. A short batch at the end of an epoch runs
    eagerly (it has another shape); it zeroes the graph-owned gradients in place and accumulates
    into them, so the graph and the eager path share the same tensors.
    """

    WARMUP = 3  # eager steps on a side stream before capture, as torch.cuda.graphs asks

    def __init__(self, model, optimizer, data: DeviceData, batch_size: int, clip_norm=None):
        super().__init__(model, optimizer, data, clip_norm)
        self.batch_size = batch_size
        self.static_idx = torch.zeros(batch_size, dtype=torch.long, device=data.x.device)
        self.graph: torch.cuda.CUDAGraph | None | bool = None  # False: capture failed
        self.calls = 0

    def _captured_step(self) -> None:
        x = self.data.x.index_select(0, self.static_idx)
        self._step(x, self.data.y.index_select(0, self.static_idx), set_to_none=False)

    def _capture(self) -> None:
        self.optimizer.zero_grad(set_to_none=True)  # grads are then allocated in the graph pool
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            self._captured_step()
        self.graph = graph

    def _eager(self, idx: torch.Tensor) -> None:
        """An eager step that keeps the graph-owned grads (zeroed in place, accumulated into)."""
        x, y = self.data.x.index_select(0, idx), self.data.y.index_select(0, idx)
        self._step(x, y, set_to_none=False)

    def __call__(self, idx: torch.Tensor) -> None:
        if idx.shape[0] != self.batch_size:  # the short last batch
            return self._eager(idx)
        self.static_idx.copy_(idx)
        self.calls += 1
        if self.graph is None and self.calls <= self.WARMUP:
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                self._captured_step()
            torch.cuda.current_stream().wait_stream(side)
            return None
        if self.graph is None:
            try:
                self._capture()  # capture records; it does not run the step
            except RuntimeError as e:  # e.g. an op this PyTorch cannot capture: run eagerly
                warnings.warn(f"CUDA graph capture failed ({e}); training on with eager steps",
                              RuntimeWarning, stacklevel=2)  # fmt: skip
                self.graph = False
        if self.graph is False:
            return self._eager(idx)
        self.graph.replay()
        return None


class SGDStep(EagerStep):
    """Plain SGD with the backward pass written out, for the CPU: the same weights, bit for bit.

    At batch 32 the step is small enough that autograd's bookkeeping and the module calls cost
    a sixth of it. This step calls the ATen kernels autograd would call, in the same order, keeps
    only what the backward needs, and updates the weights as `torch.optim.SGD` does, so a run
    matches an EagerStep run exactly (tested). One reordering: each block pools before its second
    ReLU (max and ReLU commute, gradients included), so that ReLU and its backward touch a
    quarter of the cells.
    """

    CONVS = (("conv_1_1", "conv_1_2"), ("conv_2_1", "conv_2_2"))  # (first, second) per block
    S, P, D = [1, 1], [1, 1], [1, 1]  # stride, padding, dilation of every TinyVGG conv
    K = [2, 2]  # max-pool kernel and stride

    def __init__(self, *args, **kwargs):  # EagerStep's
        super().__init__(*args, **kwargs)
        model = self.model
        self.blocks = [(model.layer(a), model.layer(b)) for a, b in self.CONVS]
        self.linear = model.layer("linear")
        layers = [conv for block in self.blocks for conv in block] + [self.linear]
        self.params = [p for layer in layers for p in (layer.weight, layer.bias)]
        self.one = torch.ones((), device=self.data.x.device)  # d loss / d loss

    @staticmethod
    def supports(model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> bool:
        """True for TinyVGG on the CPU with SGD without momentum or weight decay."""
        groups = optimizer.param_groups
        plain = (
            type(optimizer) is torch.optim.SGD
            and len(groups) == 1
            and not any(
                groups[0].get(k) for k in ("momentum", "weight_decay", "nesterov", "maximize")
            )
        )
        on_cpu = all(p.device.type == "cpu" for p in model.parameters())
        return plain and on_cpu and hasattr(model, "layer")

    def _conv(self, x: torch.Tensor, conv: torch.nn.Conv2d) -> torch.Tensor:
        return torch.ops.aten.convolution(x, conv.weight, conv.bias, self.S, self.P, self.D,
                                          False, [0, 0], 1)  # fmt: skip

    def _conv_backward(self, g, x, conv, needs_input: bool):  # -> (d input, d weight, d bias)
        return torch.ops.aten.convolution_backward(
            g, x, conv.weight, [conv.weight.shape[0]], self.S, self.P, self.D, False, [0, 0], 1,
            [needs_input, True, True],
        )  # fmt: skip

    @torch.no_grad()
    def _step(self, x: torch.Tensor, y: torch.Tensor, set_to_none: bool = True) -> None:
        aten = torch.ops.aten
        saved = []  # per block: (block input, first ReLU's output, second conv's output, argmax)
        h = x
        for first, second in self.blocks:
            r = self._conv(h, first).relu_()  # (B, C, H, W)
            a = self._conv(r, second)
            pooled, argmax = aten.max_pool2d_with_indices(a, self.K, self.K)  # (B, C, H/2, W/2)
            saved.append((h, r, a, argmax))
            h = pooled.relu_()
        flat = h.flatten(1)  # (B, C*7*7)
        logits = torch.addmm(self.linear.bias, flat, self.linear.weight.t())  # (B, classes)
        log_p = torch.log_softmax(logits, 1)
        loss, total = aten.nll_loss_forward(log_p, y, None, 1, -100)  # mean cross-entropy
        g = aten.nll_loss_backward(self.one, log_p, y, None, 1, -100, total)
        g = aten._log_softmax_backward_data(g, log_p, 1, log_p.dtype)  # d loss / d logits
        grads = [g.t().mm(flat), g.sum(0)]  # the linear layer's
        g = g.mm(self.linear.weight).view(h.shape)
        for (first, second), (x_in, r, a, argmax) in zip(
            self.blocks[::-1], saved[::-1], strict=True
        ):
            g = aten.threshold_backward(g, h, 0)
            g = aten.max_pool2d_with_indices_backward(g, a, self.K, self.K, [0, 0], [1, 1], False,
                                                      argmax)  # fmt: skip
            g, dw2, db2 = self._conv_backward(g, r, second, True)
            g = aten.threshold_backward(g, r, 0)
            g, dw1, db1 = self._conv_backward(g, x_in, first, first is not self.blocks[0][0])
            grads[:0] = [dw1, db1, dw2, db2]
            h = x_in
        if self.clip_norm is not None:  # as clip_grad_norm_ does it, in the same order
            total = torch.nn.utils.get_total_norm(grads)
            torch._foreach_mul_(grads, torch.clamp(self.clip_norm / (total + 1e-6), max=1.0))
        torch._foreach_add_(self.params, grads, alpha=-self.optimizer.param_groups[0]["lr"])
        self.loss_sum.add_(loss * y.shape[0])
        self.correct.add_((logits.argmax(dim=1) == y).sum())


def make_stepper(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    data: DeviceData,
    batch_size: int,
    graphed: bool,
    clip_norm: float | None = None,
) -> EagerStep:
    """A GraphStep on CUDA when asked and there are full batches to replay; an SGDStep for plain
    SGD on the CPU; else an EagerStep. Each clips the gradients' norm to `clip_norm` if given."""
    if graphed and data.x.device.type == "cuda" and len(data) >= batch_size * 8:
        return GraphStep(model, optimizer, data, batch_size, clip_norm)
    if SGDStep.supports(model, optimizer):
        return SGDStep(model, optimizer, data, clip_norm)
    return EagerStep(model, optimizer, data, clip_norm)

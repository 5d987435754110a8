"""The training step, eager or replayed as a CUDA graph, accumulating loss and accuracy on device.

Both steppers take a batch as indices into the device-resident training set, so a step never
copies images from the host, and keep running sums on the device so nothing synchronises until
`running()` is asked for.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from tinyvgg.data import DeviceData


class EagerStep:
    """One SGD/Adam step per call, in plain PyTorch."""

    def __init__(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, data: DeviceData):
        self.model, self.optimizer, self.data = model, optimizer, data
        device = data.x.device
        self.loss_sum = torch.zeros((), device=device)  # sum over samples of the batch-mean loss
        self.correct = torch.zeros((), device=device, dtype=torch.long)

    def reset(self) -> None:
        self.loss_sum.zero_()
        self.correct.zero_()

    def _step(self, x: torch.Tensor, y: torch.Tensor, set_to_none: bool = True) -> None:
        logits = self.model(x)  # (B, classes)
        loss = F.cross_entropy(logits, y)
        self.optimizer.zero_grad(set_to_none=set_to_none)
        loss.backward()
        self.optimizer.step()
        with torch.no_grad():
            self.loss_sum.add_(loss.detach() * y.shape[0])
            self.correct.add_((logits.argmax(dim=1) == y).sum())

    def __call__(self, idx: torch.Tensor) -> None:
        self._step(self.data.x.index_select(0, idx), self.data.y.index_select(0, idx))

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

    def __init__(self, model, optimizer, data: DeviceData, batch_size: int):
        super().__init__(model, optimizer, data)
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


def make_stepper(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    data: DeviceData,
    batch_size: int,
    graphed: bool,
) -> EagerStep:
    """A GraphStep on CUDA when asked and there are full batches to replay, else an EagerStep."""
    if graphed and data.x.device.type == "cuda" and len(data) >= batch_size * 8:
        return GraphStep(model, optimizer, data, batch_size)
    return EagerStep(model, optimizer, data)

"""PCX's post-activation nodes: a view of a model whose hidden activities are h_l = phi_l(z_l).

Our models' activities are pre-activations, and PC's errors z_l - W_{l-1} phi(z_{l-1}) - b_{l-1}.
PCX's networks (liukidar/pcx, its MLP: x = vode(act_fn(linear(x)))) hold the values after the
activation (and, in its VGG, after the pooling), so their errors are
  e_l = h_l - phi_l(W_{l-1} h_{l-1} + b_{l-1}),   h_0 = phi_0(x), l = 1..L-1,
and the output term reads mu_L = W_{L-1} h_{L-1} + b_{L-1}. The energy
  F(h, W) = sum_l 1/2 ||h_l - phi_l(W_{l-1} h_{l-1} + b_{l-1})||^2 + output(mu_L)
is another function of other variables than the pre-activation one (its minima
differ unless phi is the identity, where the two are the same energy).

`PostActivation(model)` is that formulation as a FunctionalModel: `forward` returns
[h_1, ..., h_{L-1}, z_L] and `predict` the post-activation predictions, so the
energy, the solvers and the error wave of local_learning.pc run on it unchanged
(from the feedforward pass every error is zero and the wave moves one layer per
gradient evaluation, exactly as for pre-activations). Everything else (init,
output, kernels, phi, linear, ...) is the model's own. Plain blocks only: a
residual block (skip != 0) or a stacked entry has no post-activation form here.
"""
import dataclasses
from typing import Any

from local_learning.arrays import Activities, Inputs, Params
from local_learning.models.layered import FunctionalModel


@dataclasses.dataclass(frozen=True)
class PostActivation:
  """A FunctionalModel's post-activation view (its attributes but forward and predict are the model's)."""
  model: FunctionalModel

  def __getattr__(self, name: str) -> Any:
    return getattr(self.model, name)

  def forward(self, params: Params, x: Inputs, feedback: Any = None) -> Activities:
    """[h_1, ..., h_{L-1}, z_L] for a batch x (B, ...): the feedforward pass after each activation."""
    zs = self.model.forward(params, x, feedback)
    return [self.model.phi(params, l, z) for l, z in enumerate(zs[:-1], 1)] + zs[-1:]

  def predict(self, params: Params, inputs: Activities, first: int = 0) -> Activities:
    """[mu_{first+1}, ..., mu_L] from [h_first, ..., h_{L-1}] (entry 0: the input x itself):
    mu_{l+1} = phi_{l+1}(W_l h_l + b_l), the last one (the output) without phi."""
    last = self.model.num_layers - 1
    mus = []
    for l, h in zip(range(first, self.model.num_layers), inputs):
      mu = self.model.linear(params, l, self.model.phi(params, 0, h) if l == 0 else h)
      mus.append(mu if l == last else self.model.phi(params, l + 1, mu))
    return mus


def problems(model: FunctionalModel) -> list[str]:
  """Why `model` has no post-activation view, one line each ([] if it has one)."""
  if any(model.skips) or any(model.stacks):
    return ['activities=post needs plain blocks (mlp, vgg): this model has residual or stacked blocks; '
            "use activities='pre'"]
  return []

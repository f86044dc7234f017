"""Parameterisations: each weight layer's initial distribution and multiplier, one table for every rule.

A dense layer computes a * (h @ W) (+ b), W drawn at init; PC and BP train the
same W under the same a, so a parameterisation is a model option
(`config.model.param`), never a rule's. Per layer kind, with n = the layer's
fan-in (D for the input layer, the width N otherwise; for a convolution the
input channels times the kernel's area, C_in k^2, and for a CNN's dense
readout its flattened input, C H W) and L the number of weight layers
(hidden layers + 1):

  param       layer    W at init              multiplier a        skip  SGD lr         Adam lr
  flax        all      N(0, 1/n) truncated,   1                   -     eta            eta   (mlp's default:
                       biases 0                                                                flax's init)
  orthogonal  all      orthogonal, gain       1                   -     eta            eta
                       sqrt(2), biases 0
  sp          all      U(+-1/sqrt(n))         1                   1     eta            eta
  mup         input    N(0, 1)                1/sqrt(n)           -     eta g0^2 N     eta / sqrt(N)
              hidden   N(0, 1)                1/sqrt(n)           1
              output   N(0, 1)                1/(g0 n)            -
  mupc        hidden   N(0, 1)                1/sqrt(n L)         1     eta g0^2 N     eta / sqrt(N L)
              (input and output as mup: muP in width with Depth-muP's 1/sqrt(L) branches)
  mup_noskip  as mup, without skips                               0     eta g0^2 N     eta / sqrt(N)

A convolution reads the same rows, W (k, k, C_in, C_out) and a conv's fan-in
for n; the width N is then the channels. vgg: sp and mup (its first conv the
input row, the others hidden, the readout output). rescnn (the limits paper's
residual CNN, models/rescnn.py): sp, mup and mupc, its stage convolutions the
input row (no depth factor), its residual convolutions the hidden row times
the activation's gain (tanh 5/3, relu sqrt 2; not under sp), as the
reference's (JPC experiments/limits_paper/cnn/model.py), and L its number of
weight layers, the reference's depth n_res_blocks + 4.

Only flax and orthogonal have biases: the others have none, as JPC's networks
(use_bias=False). `output_multiplier` multiplies the output layer's a: the limits
paper's richness g0 = gamma_0 is output_multiplier = 1 / gamma_0 (JPC
divides a_L by gamma_0, jpc/_core/_energies.py `_get_param_scalings`).
One rate serves every layer (`learning_rate`), as in the limits paper's MLP code
(its CNN's gives the first conv eta, the stage convs and readout eta / sqrt(N),
the residual convs eta / sqrt(N L); benchmarks/tables/limits_cnn.py uses one).
With SGD it is exactly muP (one step moves features and output by O(1) at any
width; tests/test_parameterisation.py). With Adam, whose first step moves every
weight by the rate, eta / sqrt(N) is muP's for the hidden layers but shrinks
the input and output layers' moves by 1/sqrt(N) (muP would keep their rate at
eta); we keep the paper's choice.

Sources: orthogonal is error-optimised PC's deep MLPs (Goemaere et al.,
2025; cgoemaere/error_based_PC at 95c5551, get_arch.py: torch's orthogonal_
with ReLU's gain, zero biases); sp is the standard PC ResNet of the muPC paper (equinox's default
Linear init, which PyTorch's matches); mupc is muPC's Depth-muP (Innocenti,
Achour & Buckley, NeurIPS 2025; JPC `param_type='mupc'`: a_in = 1/sqrt(D),
a_hid = 1/sqrt(N L), a_out = 1/N, N(0, 1) weights); mup is the same without
the depth factor, muP in width in its abc form (Yang & Hu 2021). The Adam
rates are the limits paper's (experiments/limits_paper/utils.py
`configure_param_optim`: eta g0^2 N for GD; for Adam eta / sqrt(N L) for every
layer with skips, eta / sqrt(N) without).
"""
import math

import jax
import jax.numpy as jnp

PARAMS = ('flax', 'orthogonal', 'sp', 'mup', 'mupc', 'mup_noskip')
KINDS = ('input', 'hidden', 'output')
ONE = lambda n, depth: 1.0
ROOT = lambda n, depth: 1 / math.sqrt(n)
MUP_OUT = lambda n, depth: 1 / n

# param -> kind -> (W's init, multiplier a(fan_in, weight layers L))
TABLE = {
    'flax': dict(input=('flax', ONE), hidden=('flax', ONE), output=('flax', ONE)),
    'orthogonal': dict(input=('orthogonal', ONE), hidden=('orthogonal', ONE), output=('orthogonal', ONE)),
    'sp': dict(input=('uniform', ONE), hidden=('uniform', ONE), output=('uniform', ONE)),
    'mup': dict(input=('normal', ROOT), hidden=('normal', ROOT), output=('normal', MUP_OUT)),
    'mupc': dict(input=('normal', ROOT), hidden=('normal', lambda n, depth: 1 / math.sqrt(n * depth)),
                 output=('normal', MUP_OUT)),
    'mup_noskip': dict(input=('normal', ROOT), hidden=('normal', ROOT), output=('normal', MUP_OUT)),
}
SKIPS = {'sp': 1.0, 'mup': 1.0, 'mupc': 1.0, 'mup_noskip': 0.0}    # residual models' skip coefficient


def multiplier(param, kind, fan_in, weight_layers, output_multiplier=1.0):
  """a of a layer of `kind` with `fan_in` inputs in a network of `weight_layers` layers."""
  a = TABLE[param][kind][1](fan_in, weight_layers)
  return a * output_multiplier if kind == 'output' else a


def kernel(key, param, kind, shape, fan_in=None):
  """W at init, shape (..., fan_in, fan_out): a stacked (K, n, m) draws every layer alike; a
  convolution's (k, k, C_in, C_out) passes its fan_in C_in k^2."""
  init = TABLE[param][kind][0]
  fan_in = fan_in or shape[-2]
  if init == 'uniform':
    bound = 1 / math.sqrt(fan_in)
    return jax.random.uniform(key, shape, jnp.float32, -bound, bound)
  if init == 'normal':
    return jax.random.normal(key, shape, jnp.float32)
  if init == 'orthogonal':
    return _orthogonal(key, shape)
  return jax.nn.initializers.lecun_normal(batch_axis=tuple(range(len(shape) - 2)))(key, shape, jnp.float32)


def _orthogonal(key, shape):
  """An orthogonal W with gain sqrt(2), drawn one seed at a time under vmap: with batched QRs, XLA:CPU
  (jax 0.10.2, 2 cores) deadlocked on three seeds of a 784-128-128-128-10 MLP, every thread idle
  (docs: Decisions). A QR per layer is cheap."""
  draw = lambda k: jax.nn.initializers.orthogonal(math.sqrt(2.0))(k, shape, jnp.float32)
  return jax.custom_batching.sequential_vmap(draw)(key)


def learning_rate(param, optimizer, base, width, weight_layers, gamma0=1.0):
  """The limits paper's rate for every layer: base for sp / flax; for the muP kinds, with SGD
  (optimizer 'sgd') base * gamma0^2 * N, with Adam (any other) base / sqrt(N) (mup, mup_noskip)
  or base / sqrt(N L) (mupc)."""
  if param in ('flax', 'orthogonal', 'sp'):
    return base
  if optimizer == 'sgd':
    return base * gamma0**2 * width
  return base / math.sqrt(width * (weight_layers if param == 'mupc' else 1))

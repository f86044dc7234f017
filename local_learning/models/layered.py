"""The layered-model contract (v2) every rule trains through.

A model is a sequence of L blocks. Block l (0-based here, l = 0..L-1) maps
the activities of layer l to those of layer l+1, with z_0 = x the input:

  z_{l+1} = linear_l(phi_l(z_l)) + skip_l * z_l

  phi_l     the block's parameter-free map: the activation, with pooling and
            flattening where the model has them (phi_0 flattens the input or
            is the identity); h_l = phi_l(z_l) is the linear map's input
  linear_l  an affine map h -> W_l h + b_l: dense (h @ W_l, W_l (in, out)) or
            a convolution (NHWC, W_l (kh, kw, in, out)); W_l is the block's
            kernel, b_l its bias (some models have none)
  skip_l    0 for a plain block, the skip coefficient of a residual one

Activities z_1..z_L are therefore pre-activations, and z_L is the output
(logits for classification). Every model follows this one convention:
  mlp     phi_0 = flatten, phi_l = act; dense linear maps with biases
  vgg     phi_0 = identity, phi_l = maxpool2x2(act) for a conv block and
          flatten(maxpool2x2(act)) before the dense head; z_l of a conv block
          is the convolution's output at full resolution (pooling is in the
          next block's phi)
  resmlp  phi_0 = flatten, phi_l = act; scaled dense maps without biases;
          skip = 1 in the stacked residual entry (see residual.py)

A rule reads the structure through FunctionalModel (below):
  forward(params, x)            -> [z_1, ..., z_L]
  forward(params, x, feedback)  the same values; in its gradient each block's
                                linear map is transposed with feedback[l] in
                                place of W_l (feedback alignment and relatives)
  predict(params, inputs, first)-> [mu_{first+1}, ..., mu_L] from [z_first, ..., z_{L-1}]
  phi(params, l, z), linear(params, l, h, kernel=None), transpose(params, l, h, delta, kernel=None)
                                the pieces of block l; `kernel` replaces W_l
                                (a substitute of the same kind, e.g. DFA's
                                kernels whose outputs are the classes; no bias)
  backward(params, l, delta, kernel=None)
                                block l's transpose with phi linearised (act as the
                                identity, pooling as its linear stand-in): delta shaped
                                like z_{l+1} -> shaped like z_l, no input needed (a
                                feedback path or a learned inverse, conv blocks too)
  activation(z)                 the elementwise activation phi applies, for any layer,
                                the output z_L included (what a block above it would apply)
  shapes(input_shape)           -> [shape of z_1, ..., shape of z_L] for inputs (B, ...)
  kernels(params)               -> [W_0, ..., W_{L-1}], the arrays feedback replaces
  kernel_shapes, skips          -> their shapes; (skip_0, ..., skip_{L-1})
  random_feedback(rng)          -> [B_1, ..., B_{L-1}], xavier-uniform matrices
                                shaped like the kernels (feedback alignment's)
`predict` treats every block independently (layer-parallel): it is where
predictive coding spends its time. `first` lets a rule skip blocks whose
input is clamped, e.g. the first block while x is fixed.

Stacked entries: a run of K equal layers may come as ONE list entry, their
activities stacked on a leading axis (K, B, ...), so that rules run one scan
or one batched einsum over them instead of K Python-level layers (compile
time and per-op overhead then do not grow with depth). `stacks[l]` is K for
such an entry and 0 for a plain (B, ...) entry; the lists above are then
lists of entries, `num_layers` their number. A stacked entry's prediction
reads its own layers shifted by one (layer k from layer k-1) as well as the
entry before it, and the block above it reads its last layer; its kernel is
(K, ...) and its phi / linear / transpose act on all K layers at once, each
with its own kernel. Stacked entries may follow one another (resmlp's
`groups`: one run of layers cut into several entries).
"""
import dataclasses
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
from flax import nnx

from local_learning.arrays import Activities, Array, Inputs, Key, Params, Scores


class LayeredModel(nnx.Module):
  """Base class of layered NNX models.

  Subclasses set `num_layers` and define the pieces of block l (0-based):
  `phi(l, z)`, `kernel(l)`, `apply(l, h, kernel)` (the linear map without its
  bias, with any kernel) and `bias(l)` (None if none); `skip(l)` defaults to 0;
  `act` is the elementwise activation phi applies; `unphi(l, h, z_shape)` is
  the transpose of phi_l's linear part (default: a reshape, right where phi_l
  is elementwise or flattens; a model that pools overrides it).
  `block`, `forward` and `predict` compose them; a model may override
  `forward`/`predict` with batched code. A model with stacked entries also
  sets `stacks` (see the module docstring). For the registry
  (models/__init__.py): `defaults`, the config fields (`optional` of them may
  be absent, from a config written before them), and `from_config`;
  `problems` checks the model's own fields.
  """
  num_layers: int
  act: Callable[[Array], Array]
  stacks: tuple = ()
  defaults: dict = {}
  optional: tuple = ()        # fields of `defaults` that from_config reads with a default where absent
  loops_well: bool = True     # False: XLA:CPU runs its train step slower inside a loop (one step per call)

  @classmethod
  def from_config(cls, config, input_shape, num_outputs, rngs):
    raise NotImplementedError

  @classmethod
  def problems(cls, config):
    """Mistakes in config.model beyond the shared checks, one line each."""
    del config
    return []

  def phi(self, l, z):
    raise NotImplementedError

  def kernel(self, l):
    raise NotImplementedError

  def apply(self, l, h, kernel):
    raise NotImplementedError

  def bias(self, l):
    del l
    return None

  def skip(self, l):
    del l
    return 0.0

  def unphi(self, l, h, z_shape):
    """The transpose of phi_l with its activation taken as the identity: h (shaped like phi_l's
    output) -> z_shape. Here a reshape (phi_l elementwise, or a flatten)."""
    del l
    return h.reshape(z_shape)

  def linear(self, l, h, kernel=None):
    """W_l h + b_l; with `kernel`, kernel h (no bias)."""
    if kernel is not None:
      return self.apply(l, h, kernel)
    return self._add_bias(l, self.apply(l, h, self.kernel(l)))

  def block(self, l, z, feedback=None):
    """z_{l+1} from z_l; with `feedback`, its gradient w.r.t. z_l goes through feedback, not W_l."""
    h = self.phi(l, z)
    out = self._add_bias(l, with_feedback(lambda h, k: self.apply(l, h, k), self.kernel(l), feedback, h))
    skip = self.skip(l)
    return out + skip * z if skip else out

  def forward(self, x, feedback=None):
    feedback = feedback or [None] * self.num_layers
    zs = []
    for l in range(self.num_layers):
      x = self.block(l, x, feedback[l])
      zs.append(x)
    return zs

  def predict(self, inputs, first=0):
    return [self.block(l, z) for l, z in zip(range(first, self.num_layers), inputs)]

  def _add_bias(self, l, out):
    bias = self.bias(l)
    return out if bias is None else out + bias


def unpool(h: Array, z_shape: Sequence[int], scale: float = 1.0, ceil: bool = True) -> Array:
  """The transpose of 2x2 stride-2 pooling by sum (scale 1; average pooling: scale 1/4): each of h's
  (B, H', W', C) values copied to its 2x2 window, cropped (ceil: 'SAME' pooling, H' = ceil(H/2)) or
  zero-padded (not ceil: 'VALID', H' = floor(H/2)) to z_shape (B, H, W, C); h may come flat (B, H' W' C)."""
  batch, height, width, channels = z_shape
  pooled = (-(-height // 2), -(-width // 2)) if ceil else (height // 2, width // 2)
  up = jnp.repeat(jnp.repeat(h.reshape(batch, *pooled, channels), 2, axis=1), 2, axis=2)[:, :height, :width]
  up = jnp.pad(up, ((0, 0), (0, height - up.shape[1]), (0, width - up.shape[2]), (0, 0)))
  return up if scale == 1.0 else scale * up


def with_feedback(apply, kernel, feedback, h):
  """apply(h, kernel), whose gradient w.r.t. h is that of apply(h, feedback).

  The gradient w.r.t. kernel is the true one (the local weight gradient);
  feedback gets none. feedback None: plain apply(h, kernel).
  """
  if feedback is None:
    return apply(h, kernel)

  @jax.custom_vjp
  def linear(kernel, feedback, h):
    return apply(h, kernel)

  def fwd(kernel, feedback, h):
    return apply(h, kernel), (kernel, feedback, h)

  def bwd(residuals, g):
    kernel, feedback, h = residuals
    g_kernel = jax.vjp(lambda k: apply(h, k), kernel)[1](g)[0]
    g_h = jax.vjp(lambda h: apply(h, feedback), h)[1](g)[0]
    return g_kernel, jnp.zeros_like(feedback), g_h

  linear.defvjp(fwd, bwd)
  return linear(kernel, feedback, h)


@dataclasses.dataclass(frozen=True)
class FunctionalModel:
  """A pure view of a LayeredModel: its methods with the parameters passed in.

  Rules keep parameters (an nnx.State pytree) in their state and call these
  methods inside jitted steps. `init(rng)` builds fresh parameters and is pure,
  so the trainer can vmap it over seeds. Models hold nnx.Param variables only.
  Block indices l are 0-based: block l maps z_l to z_{l+1} (z_0 = x).
  """
  graphdef: Any
  num_layers: int
  build: Callable[[nnx.Rngs], LayeredModel]
  stacks: tuple[int, ...] = ()         # per entry: K if it stacks K equal layers (K, B, ...), else 0
  skips: tuple[float, ...] = ()        # per block: its skip coefficient (0.0: no skip)
  kernel_shapes: tuple[tuple[int, ...], ...] = ()  # per block: the shape of its kernel W_l
  loops_well: bool = True
  input_shape: tuple[int, ...] = ()    # one input's shape, no batch axis (models.functional sets it)
  act: Callable[[Array], Array] | None = None     # the elementwise activation phi applies

  @classmethod
  def create(cls, build: Callable[[nnx.Rngs], LayeredModel], input_shape: Sequence[int] = ()) -> 'FunctionalModel':
    """build: nnx.Rngs -> LayeredModel; called abstractly here to get the graph. input_shape: one
    input's shape (no batch axis), for `backward` and `shapes`' default."""
    def module_and_kernels():
      module = build(nnx.Rngs(0))
      return module, [module.kernel(l) for l in range(module.num_layers)]

    abstract, kernels = nnx.eval_shape(module_and_kernels)
    graphdef, _ = nnx.split(abstract, nnx.Param)
    skips = tuple(float(abstract.skip(l)) for l in range(abstract.num_layers))
    shapes = tuple(tuple(k.shape) for k in kernels)
    return cls(graphdef, abstract.num_layers, build, tuple(abstract.stacks), skips, shapes, abstract.loops_well,
               tuple(input_shape), getattr(abstract, 'act', None))

  def stack_size(self, l: int) -> int:
    """K if entry l stacks K equal layers on axis 0, else 0."""
    return self.stacks[l] if self.stacks else 0

  @property
  def depth(self) -> int:
    """The number of layers z_1..z_L, counting every layer of a stack."""
    return sum(self.stack_size(l) or 1 for l in range(self.num_layers))

  def init(self, rng: Key) -> Params:
    """Fresh parameters from a PRNG key."""
    return nnx.state(self.build(nnx.Rngs(rng)), nnx.Param)

  def forward(self, params: Params, x: Inputs, feedback: Sequence[Array | None] | None = None) -> Activities:
    """[z_1, ..., z_L] for a batch x (B, ...).

    feedback: None, or a list with an entry per block (None: W_l itself), each
    shaped like the block's kernel. The values are the same; in the gradient,
    block l's linear map is transposed with feedback[l] in place of W_l, so
    jax.grad of a loss of the output gives feedback alignment's weight updates.
    """
    return self._merge(params).forward(x, feedback)

  def output(self, params: Params, x: Inputs) -> Scores:
    """The network's output z_L (B, C) (logits for classification)."""
    return self.forward(params, x)[-1]

  def predict(self, params: Params, inputs: Activities, first: int = 0) -> Activities:
    """[mu_{first+1}, ..., mu_L] from [z_first, ..., z_{L-1}]."""
    return self._merge(params).predict(inputs, first)

  def phi(self, params: Params, l: int, z: Array) -> Array:
    """h_l = phi_l(z_l), the input of block l's linear map."""
    return self._merge(params).phi(l, z)

  def linear(self, params: Params, l: int, h: Array, kernel: Array | None = None) -> Array:
    """Block l's affine map W_l h + b_l; given `kernel`, the same kind of map with that kernel, no bias."""
    return self._merge(params).linear(l, h, kernel)

  def transpose(self, params: Params, l: int, h: Array, delta: Array, kernel: Array | None = None) -> Array:
    """The transpose of block l's linear map (or of the map with `kernel`) applied to delta.

    h: an input of the map, for its shape; delta: shaped like the map's output
    -> shaped like h.
    """
    module = self._merge(params)
    kernel = module.kernel(l) if kernel is None else kernel
    return jax.vjp(lambda h: module.apply(l, h, kernel), h)[1](delta)[0]

  def activation(self, z: Array) -> Array:
    """The elementwise activation that phi applies (without pooling or flattening), for any layer's
    activity, the output z_L included: e.g. an inverse's phi(z_L) at the top of a target-propagation
    rule."""
    if self.act is None:
      raise ValueError('this model does not name its activation (LayeredModel.act)')
    return self.act(z)

  def shapes(self, input_shape: Sequence[int] | None = None) -> list[tuple[int, ...]]:
    """[shape of z_1, ..., shape of z_L] for inputs of input_shape (B, ...) (default: one input,
    (1, *self.input_shape)); stacked entries (K, B, ...). Traced abstractly: no computation."""
    shape = (1, *self.input_shape) if input_shape is None else tuple(input_shape)
    x = jax.ShapeDtypeStruct(shape, jnp.float32)
    zs = jax.eval_shape(lambda x: self.forward(self.init(jax.random.key(0)), x), x)
    return [tuple(z.shape) for z in zs]

  def backward(self, params: Params, l: int, delta: Array, kernel: Array | None = None) -> Array:
    """Block l's map transposed, with phi_l's activation taken as the identity and its pooling as
    2x2 sum pooling (vgg) or average pooling (rescnn): delta (B, ...) shaped like z_{l+1} -> shaped
    like z_l (the input x for l = 0), plus skip_l * delta for a residual block.

    The transposed linear map is W_l's, or `kernel`'s (a substitute of the same kind: a learned
    inverse, a feedback matrix). Linear in delta, and needs no input: the shapes come from
    input_shape. Plain entries only (not a stacked entry, nor the block above one).
    """
    if not self.input_shape:
      raise ValueError('backward needs the model\'s input_shape: build it with models.functional or '
                       'FunctionalModel.create(build, input_shape)')
    if self.stack_size(l) or (l > 0 and self.stack_size(l - 1)):
      raise ValueError(f'backward is for plain entries; entry {l} is, or reads, a stacked entry')
    module = self._merge(params)
    kernel = module.kernel(l) if kernel is None else kernel
    z_shape = (delta.shape[0], *self.input_shape) if l == 0 else self.shapes((delta.shape[0], *self.input_shape))[l - 1]
    h = jax.eval_shape(lambda z: module.phi(l, z), jax.ShapeDtypeStruct(z_shape, delta.dtype))
    g = jax.vjp(lambda h: module.apply(l, h, kernel), jnp.zeros(h.shape, delta.dtype))[1](delta)[0]
    out = module.unphi(l, g, z_shape)
    return out + self.skips[l] * delta if self.skips and self.skips[l] else out

  def kernels(self, params: Params) -> list[Array]:
    """[W_0, ..., W_{L-1}]: each block's kernel, the array that feedback replaces."""
    module = self._merge(params)
    return [module.kernel(l) for l in range(self.num_layers)]

  def random_feedback(self, rng: Key) -> list[Array]:
    """[B_1, ..., B_{L-1}]: xavier-uniform U(+-sqrt(6 / (fan_in + fan_out))) matrices shaped like
    kernels 1..L-1 (fans as PyTorch counts them, a conv's kernel area included; a stacked entry
    draws each of its layers'), B_l from the l-th of num_layers splits of rng. Block 0 has none:
    the input gets no gradient."""
    keys = jax.random.split(rng, self.num_layers)
    return [jax.nn.initializers.xavier_uniform(batch_axis=(0,) if self.stack_size(l) else ())(keys[l], shape)
            for l, shape in enumerate(self.kernel_shapes) if l > 0]

  def _merge(self, params: Params) -> LayeredModel:
    return nnx.merge(self.graphdef, params)

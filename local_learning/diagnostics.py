"""How far a rule's weight update is from backpropagation's gradient, for any classification rule.

  bp_alignment(rule, state, batch, rng) -> {'cosine', 'norm_ratio', 'per_layer', ...}

The rule's direction g_rule is the update it applies to params(state) in one
`train_step`, whatever that step is (a GradientRule's `grads`, or a step of its
own: ipc's T interleaved weight steps, hpc's and bpc's steps beside a second
network, nudging's schedule): the train_step runs once with the rule's weight
optimizer replaced by plain SGD of rate eta (the rule's optimizer.learning_rate;
no momentum, weight decay or schedule; every optimizer state in the state rebuilt
for it) that also sums the gradients it applies, so g_rule = sum_t g_t =
-(theta' - theta) / eta, read without the cancellation of a difference. For a rule
that takes one weight step per batch it is that step's gradient, the same at any
eta; for ipc it is the sum of its T steps at the step size it trains with.
BP's direction g_bp is jax.grad of the batch-mean loss of the rule's prediction
(`rule.output`) at the same weights, with the rule's own loss (config.loss): the
feedforward output for most rules, and for ep the output neurons at the end of
its free phase (its fixed point; the gradient taken through the free steps, to
which EP's estimate tends as beta -> 0). A rule without an output loss (ff) is
compared with cross-entropy's gradient through the feedforward output.

Per parameter array (per layer: a kernel, a bias) and overall (every array
flattened into one vector, as the limits paper's utils.py does):
  cosine     <g_rule, g_bp> / (||g_rule|| ||g_bp||)
  norm_ratio ||g_rule|| / ||g_bp||
For a PC-family rule (ll.pc.PCRule) also energy_loss_ratio: the mean energy at
the end of inference over the mean feedforward loss, F / L. With the output
clamped (beta = 1) it is 1 / s(theta) for a linear network with one output
(Innocenti et al. 2024; local_learning.pc.equilibrium), and it tends to 1 where
PC computes BP's gradient; for a nudged rule the energy carries beta * loss.
"""
import copy
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from local_learning import losses
from local_learning.arrays import Batch, Key, Metrics, Params, State


def bp_alignment(rule, state, batch, rng=None):
  """{'cosine': (), 'norm_ratio': (), 'per_layer': {path: {'cosine', 'norm_ratio'}},
  ['energy_loss_ratio': ()]} for one batch (x (B, ...), y (B,)); jittable, vmappable over states."""
  rng = jax.random.key(0) if rng is None else rng
  direction, metrics = rule_direction(rule, state, batch, rng)
  reference = bp_direction(rule, state, batch)
  paths, ours = zip(*jax.tree_util.tree_flatten_with_path(direction)[0])
  theirs = jax.tree.leaves(reference)
  out: dict[str, Any] = dict(
      _compare(jnp.concatenate([a.ravel() for a in ours]), jnp.concatenate([b.ravel() for b in theirs])),
      per_layer={_name(p): _compare(a.ravel(), b.ravel()) for p, a, b in zip(paths, ours, theirs)})
  if 'energy' in metrics and 'loss' in metrics:
    out['energy_loss_ratio'] = metrics['energy'] / metrics['loss']
  return out


def rule_direction(rule, state: State, batch: Batch, rng: Key) -> tuple[Params, Metrics]:
  """(the sum of the gradients one train_step applies to params(state) under SGD, its metrics)."""
  probe = copy.copy(rule)
  probe.tx = summing_sgd(rule.config.optimizer.learning_rate)
  fresh = probe.init(jax.random.key(0))
  state = dict(state, **{key: value for key, value in fresh.items() if key.endswith('opt_state')})
  new_state, metrics = probe.train_step(state, batch, rng)
  return new_state['opt_state'].applied, metrics


def bp_direction(rule, state: State, batch: Batch) -> Params:
  """jax.grad of the batch-mean loss of rule.output at params(state) (see the module docstring)."""
  x, y = batch
  if getattr(rule, 'loss', None) is None:
    return jax.grad(lambda p: jnp.mean(losses.loss_fn('ce')(rule.model.output(p, x), y)))(rule.params(state))
  return jax.grad(lambda p: jnp.mean(rule.loss(rule.output(dict(state, params=p), x), y)))(rule.params(state))


class SummingState(NamedTuple):
  """The gradients summed so far, like the parameters."""
  applied: Any


def summing_sgd(learning_rate: Any) -> optax.GradientTransformation:
  """Plain SGD of rate learning_rate whose state sums the gradients it has applied."""
  def init(params):
    return SummingState(jax.tree.map(jnp.zeros_like, params))

  def update(updates, state, params=None):
    del params
    return (jax.tree.map(lambda g: -learning_rate * g, updates),
            SummingState(jax.tree.map(jnp.add, state.applied, updates)))

  return optax.GradientTransformation(init, update)


def flat(alignment):
  """{'bp_cosine', 'bp_norm_ratio', ['energy_loss_ratio'], 'bp_cosine/<layer>'}: scalars for metrics.jsonl."""
  out = {'bp_cosine': alignment['cosine'], 'bp_norm_ratio': alignment['norm_ratio']}
  if 'energy_loss_ratio' in alignment:
    out['energy_loss_ratio'] = alignment['energy_loss_ratio']
  out.update({f'bp_cosine/{name}': v['cosine'] for name, v in alignment['per_layer'].items()})
  return out


def _compare(a, b):
  norm_a, norm_b = jnp.linalg.norm(a), jnp.linalg.norm(b)
  return dict(cosine=jnp.dot(a, b) / (norm_a * norm_b), norm_ratio=norm_a / norm_b)


def _name(path):
  """'layers/0/kernel' from a key path (nnx's trailing '.value' attribute left out)."""
  return '/'.join(str(k.key if hasattr(k, 'key') else k.idx) for k in path if hasattr(k, 'key') or hasattr(k, 'idx'))

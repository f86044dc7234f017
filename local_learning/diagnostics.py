"""How far a rule's weight update is from backpropagation's gradient, for any classification rule.

  bp_alignment(rule, state, batch, rng) -> {'cosine', 'norm_ratio', 'per_layer', ...}

The rule's direction is its gradient estimate g_rule at params(state):
  * a GradientRule (bp, pc and the PC family, fa, dfa, ep, ...): rule.grads(state, batch, rng);
  * any other rule (its own train_step): the step it takes, -(theta' - theta) for
    (state', _) = rule.train_step(state, batch, rng). Its cosine is as meaningful as
    a gradient's; its norm ratio includes the rule's step size (learning rate,
    optimizer), so read it as a ratio of steps, not of gradients.
BP's direction g_bp is jax.grad of the batch-mean output loss at the same weights:
the rule's own loss (config.loss) where it has one, else cross-entropy.

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
import jax
import jax.numpy as jnp

from local_learning import losses
from local_learning import rule as rule_lib


def bp_alignment(rule, state, batch, rng=None):
  """{'cosine': (), 'norm_ratio': (), 'per_layer': {path: {'cosine', 'norm_ratio'}},
  ['energy_loss_ratio': ()]} for one batch (x (B, ...), y (B,)); jittable, vmappable over states."""
  rng = jax.random.key(0) if rng is None else rng
  params = rule.params(state)
  direction, metrics = rule_direction(rule, state, batch, rng)
  loss = rule.loss if getattr(rule, 'loss', None) is not None else losses.loss_fn('ce')
  x, y = batch
  reference = jax.grad(lambda p: jnp.mean(loss(rule.model.forward(p, x)[-1], y)))(params)
  paths, ours = zip(*jax.tree_util.tree_flatten_with_path(direction)[0])
  theirs = jax.tree.leaves(reference)
  out = dict(_compare(jnp.concatenate([a.ravel() for a in ours]), jnp.concatenate([b.ravel() for b in theirs])),
             per_layer={_name(p): _compare(a.ravel(), b.ravel()) for p, a, b in zip(paths, ours, theirs)})
  if 'energy' in metrics and 'loss' in metrics:
    out['energy_loss_ratio'] = metrics['energy'] / metrics['loss']
  return out


def rule_direction(rule, state, batch, rng):
  """(the rule's update direction like params(state), its metrics): see the module docstring."""
  if isinstance(rule, rule_lib.GradientRule) and type(rule).grads is not rule_lib.GradientRule.grads:
    return rule.grads(state, batch, rng)
  new_state, metrics = rule.train_step(state, batch, rng)
  step = jax.tree.map(lambda old, new: old - new, rule.params(state), rule.params(new_state))
  return step, metrics


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

"""A conformance kit for rule authors: check_rule, and tiny models and batches for testing a rule's math.

  import local_learning as ll
  from local_learning import testing

  testing.check_rule(MyRule)                                # the contract, on a tiny MLP
  testing.check_rule(MyRule, model=testing.tiny_model('vgg'), learning_rate=...)
  testing.check_learns(MyRule)                              # it learns a tiny separable problem

check_rule runs a rule through what the trainer relies on (rule.py): init is
pure (two traces give one program) and vmaps over seeds; train_step jits, is deterministic and finite and
keeps the state's structure; params(state) has the model's structure; output
gives (B, C) scores; the state survives an orbax checkpoint round trip (the
step after it is the same); a NaN in the data makes the step's params or
metrics non-finite, so the trainer records the seed as diverged; every field of
search_space() is a config field of the distribution's type, and a point drawn
from it (NumPy, a fixed seed) builds and trains one finite step. Separation
rules are checked on a tiny problem (3 sources, 5 mixtures) with their
per-seed step (not the seeds-last lanes step). State trained beside the
weights (GradientRule.auxiliary: state[name] with state[name + '_opt_state'])
must change in a step too.

check_learns trains a classification rule on a tiny linearly separable problem
(labels from a random linear teacher) and asserts that the loss of its output
falls; for a rule that sets `follows_gradient = True`, also that its first
update has a positive cosine with backprop's gradient (local_learning.diagnostics'
bp_alignment). Every failure is an AssertionError naming the rule and the
property.
"""
import tempfile
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from local_learning import diagnostics, losses, models, records, registry, space
from local_learning.arrays import Batch
from local_learning.models.layered import FunctionalModel
from local_learning.rule import Rule
from local_learning.tasks import separation

INPUT_SHAPE = (8, 8, 1)
LEARNS_RATE = 1e-2       # check_learns' weight learning rate
CLASSES = 10
TINY = {
    'mlp': dict(widths=(16, 16), activation='tanh'),
    'vgg': dict(channels=(4, 8), activation='relu'),
    'resmlp': dict(depth=4, width=16, activation='tanh', param='mupc', output_multiplier=1.0),
}


def tiny_model(name: str = 'mlp', input_shape: tuple[int, ...] = INPUT_SHAPE, classes: int = CLASSES,
               **fields: Any) -> FunctionalModel:
  """A small FunctionalModel ('mlp', 'vgg' or 'resmlp'); fields override TINY[name]."""
  config = ml_collections.ConfigDict(dict(name=name, **{**TINY[name], **fields}))
  return models.functional(config, input_shape, classes)


def batch(n: int = 32, input_shape: tuple[int, ...] = INPUT_SHAPE, classes: int = CLASSES, seed: int = 1) -> Batch:
  """(x (n, *input_shape) standard normal, y (n,) int labels)."""
  kx, ky = jax.random.split(jax.random.key(seed))
  return jax.random.normal(kx, (n, *input_shape)), jax.random.randint(ky, (n,), 0, classes)


def make_rule(rule_cls: type[Rule] | str, model: Any, num_steps: int = 100, **overrides: Any) -> Rule:
  """rule_cls (a class or a registered name) bound to model with its defaults and overrides."""
  if isinstance(rule_cls, str):
    rule_cls = registry.get(rule_cls)
  return rule_cls(model, _config(rule_cls, overrides), num_steps)


def _config(rule_cls, overrides, point=None):
  config = rule_cls.default_config()
  config.name = rule_cls.name
  config.update(overrides)
  return space.apply(config, point or {})


def check_rule(rule_cls: type[Rule], model: FunctionalModel | separation.SeparationModel | None = None,
               data: Any = None, num_steps: int = 10, **overrides: Any) -> None:
  """Runs rule_cls through the rule contract; raises AssertionError on the first violation.

  model: a FunctionalModel (default tiny_model()) or, for a separation rule, a
  SeparationModel (default 3 sources, 5 mixtures, antisparse); data: a batch
  (default batch(), or mixtures for separation); overrides: config fields.
  """
  separating = 'separation' in rule_cls.tasks
  if model is None:
    model = separation.SeparationModel(3, 5, 'antisparse') if separating else tiny_model()
  if data is None:
    data = _mixtures(model, rule_cls) if separating else batch()
  rule = make_rule(rule_cls, model, num_steps, **overrides)
  name = rule_cls.name
  keys = jax.random.split(jax.random.key(0), 2)

  traces = [jax.make_jaxpr(rule.init)(keys[0]) for _ in range(2)]
  _check(str(traces[0]) == str(traces[1]) and _allclose(traces[0].consts, traces[1].consts, 0),
         f'{name}: init(rng) is not a pure function of rng (two traces differ)')
  try:
    jax.eval_shape(jax.vmap(rule.init), keys)
  except Exception as e:  # pylint: disable=broad-except
    raise AssertionError(f'{name}: init does not vmap over seeds ({type(e).__name__}: {e})') from e
  state = rule.init(keys[0])

  params = rule.params(state)
  like = jnp.zeros((model.n, model.m)) if isinstance(model, separation.SeparationModel) else model.init(keys[0])
  _check(jax.tree.structure(params) == jax.tree.structure(like) and all(
      np.shape(a) == np.shape(b) for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(like))),
         f'{name}: params(state) does not have the model\'s structure and shapes')

  step = jax.jit(rule.train_step)
  rng = jax.random.key(1)
  after, metrics = step(state, data, rng)
  again, metrics_again = step(state, data, rng)
  _equal((after, metrics), (again, metrics_again), f'{name}: train_step is not deterministic', tol=0)
  _check(jax.tree.structure(after) == jax.tree.structure(state), f'{name}: train_step changed the state\'s structure')
  _check(isinstance(metrics, dict) and all(np.shape(v) == () for v in metrics.values()),
         f'{name}: metrics must be a dict of scalars, got {jax.tree.map(np.shape, metrics)}')
  _check(_finite(after) and _finite(metrics), f'{name}: train_step gave non-finite values on a tiny problem')
  _check(not _allclose(rule.params(after), params, 0), f'{name}: train_step did not change the parameters')
  for key in [k for k in state if k != 'params' and f'{k}_opt_state' in state]:
    _check(not _allclose(after[key], state[key], 0), f'{name}: train_step did not change its trained state {key!r}')

  if not isinstance(model, separation.SeparationModel):
    scores = jax.jit(rule.output)(after, data[0])
    _check(np.shape(scores) == (len(data[0]), model.kernel_shapes[-1][-1]) and _finite(scores),
           f'{name}: output(state, x) must give finite (B, C) scores, got shape {np.shape(scores)}')

  _check_checkpoint(name, step, jax.tree.map(lambda a: a[None], after), data, rng)
  poisoned = _with_nan(data)
  nan_state, nan_metrics = step(state, poisoned, rng)
  _check(not (_finite(rule.params(nan_state)) and _finite(nan_metrics)),
         f'{name}: a NaN in the data left params and metrics finite; the trainer could not see the divergence')
  _check_search_space(rule_cls, model, data, num_steps, overrides)


def separable(n: int = 64, input_shape: tuple[int, ...] = INPUT_SHAPE, classes: int = CLASSES,
              seed: int = 3) -> Batch:
  """A linearly separable batch: x (n, *input_shape) standard normal, y (n,) the argmax of a random
  linear teacher's scores."""
  kx, kw = jax.random.split(jax.random.key(seed))
  x = jax.random.normal(kx, (n, *input_shape))
  teacher = jax.random.normal(kw, (int(np.prod(input_shape)), classes))
  return x, jnp.argmax(x.reshape(n, -1) @ teacher, axis=-1).astype(jnp.int32)


def check_learns(rule_cls: type[Rule], model: FunctionalModel | None = None, data: Batch | None = None,
                 steps: int = 30, min_drop: float = 0.1, **overrides: Any) -> dict[str, float]:
  """Trains rule_cls `steps` full-batch steps on a tiny separable problem; raises AssertionError unless
  the mean cross-entropy of its output (rule.output's scores) falls by at least min_drop (a
  fraction of its start) and, where rule_cls.follows_gradient, its first update has a positive
  cosine with backprop's gradient on the same weights.

  model: default tiny_model(); data: default separable(); overrides: config fields. A rule with a
  weight optimizer (config.optimizer) trains here at LEARNS_RATE unless overrides give its
  `optimizer`: the default 1e-3 moves little in a few steps.
  -> {'loss_before', 'loss_after', 'cosine' (where checked)}.
  """
  if 'optimizer' in rule_cls.default_config():
    overrides = {'optimizer': {'learning_rate': LEARNS_RATE}, **overrides}
  model = tiny_model() if model is None else model
  x, y = separable() if data is None else data
  rule = make_rule(rule_cls, model, steps, **overrides)
  name = rule_cls.name
  state = rule.init(jax.random.key(0))
  loss = jax.jit(lambda state: jnp.mean(losses.loss_fn('ce')(rule.output(state, x), y)))
  out = dict(loss_before=float(loss(state)))
  if rule_cls.follows_gradient:
    alignment = jax.jit(lambda state: diagnostics.bp_alignment(rule, state, (x, y), jax.random.key(1)))
    out['cosine'] = float(alignment(state)['cosine'])
    _check(out['cosine'] > 0, f'{name}: claims to follow a gradient (follows_gradient), but its update has '
                              f'cosine {out["cosine"]:.3f} with backprop\'s gradient on a tiny model')

  def train(state, rng):
    return jax.lax.scan(lambda state, key: (rule.train_step(state, (x, y), key)[0], None), state,
                        jax.random.split(rng, steps))[0]
  state = jax.jit(train)(state, jax.random.key(2))
  out['loss_after'] = float(loss(state))
  _check(np.isfinite(out['loss_after']) and out['loss_after'] <= (1 - min_drop) * out['loss_before'],
         f'{name}: did not learn a tiny separable problem: the output\'s cross-entropy went from '
         f'{out["loss_before"]:.4f} to {out["loss_after"]:.4f} in {steps} steps (wanted a fall of {min_drop:.0%})')
  return out


def _check_search_space(rule_cls, model, data, num_steps, overrides):
  """search_space()'s fields exist with the distribution's type; a drawn point builds and trains one step."""
  name, dists = rule_cls.name, rule_cls.search_space()
  if not dists:
    return
  defaults = _config(rule_cls, overrides)
  for path, dist in dists.items():
    node = defaults
    for part in path.split('.'):
      _check(isinstance(node, ml_collections.ConfigDict) and part in node,
             f'{name}: search_space() names {path!r}, which is not a field of its config')
      node = node[part]
    kind = {space.LogUniform: float, space.Uniform: float, space.Int: int}.get(type(dist))
    _check(kind is None or (isinstance(node, kind) and not isinstance(node, bool)),
           f'{name}: search_space() gives {path!r} a {type(dist).__name__}, but the field holds {node!r}')
  point = space.sample(dists, np.random.default_rng(0))
  try:
    rule = rule_cls(model, _config(rule_cls, overrides, point), num_steps)
  except Exception as e:  # pylint: disable=broad-except
    raise AssertionError(f'{name}: a point of its search space, {point}, does not build: {e}') from e
  state, metrics = jax.jit(rule.train_step)(rule.init(jax.random.key(0)), data, jax.random.key(1))
  _check(_finite(rule.params(state)) and _finite(metrics),
         f'{name}: a point of its search space, {point}, gave a non-finite step on a tiny problem')


def _check_checkpoint(name, step, states, data, rng):
  """states (1, ...) saved and restored by the trainer's Checkpoints; the next step agrees."""
  from local_learning.checkpoint import Checkpoints  # pylint: disable=g-import-not-at-top  (orbax: slow to import)
  with tempfile.TemporaryDirectory() as workdir:
    checkpoints = Checkpoints(workdir)
    checkpoints.save(1, states, records.RunRecord.start(1))
    restored, _ = checkpoints.restore(checkpoints.latest(), states)
  one = lambda s: jax.tree.map(lambda a: a[0], s)
  _equal(restored, states, f'{name}: the state changed in a checkpoint round trip', tol=0)
  _equal(step(one(restored), data, rng), step(one(states), data, rng),
         f'{name}: a step from the restored state differs', tol=0)


def _mixtures(model, rule_cls):
  """Random mixtures: one sample (m,) for an online rule, 64 samples (64, m) for a batch rule."""
  x = jax.random.uniform(jax.random.key(2), (64, model.m), minval=-1.0, maxval=1.0)
  return x[0] if rule_cls.online else x


def _with_nan(data):
  leaves, tree = jax.tree.flatten(data)
  x = leaves[0]
  if x.ndim == 1:
    leaves[0] = x.at[-1].set(jnp.nan)
  else:      # the last entry of the first sample (a rule may overwrite the first ones, as ff does)
    leaves[0] = x.reshape(len(x), -1).at[0, -1].set(jnp.nan).reshape(x.shape)
  return jax.tree.unflatten(tree, leaves)


def _floats(tree):
  return [np.asarray(a) for a in jax.tree.leaves(tree) if jnp.issubdtype(jnp.asarray(a).dtype, jnp.inexact)]


def _finite(tree):
  return all(np.all(np.isfinite(a)) for a in _floats(tree))


def _allclose(a, b, tol):
  return all(np.allclose(x, y, rtol=tol, atol=tol) for x, y in zip(_floats(a), _floats(b)))


def _equal(a, b, message, tol=0.0):
  keys = lambda tree: [np.asarray(jax.random.key_data(k)) for k in jax.tree.leaves(tree)
                       if jnp.issubdtype(jnp.asarray(k).dtype, jax.dtypes.prng_key)]
  same = jax.tree.structure(a) == jax.tree.structure(b) and _allclose(a, b, tol)
  _check(same and all(np.array_equal(x, y) for x, y in zip(keys(a), keys(b))), message)


def _check(condition, message):
  if not condition:
    raise AssertionError(message)

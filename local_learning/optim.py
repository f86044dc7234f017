"""Weight optimizers for rules: a config section, its checks, and `build(config, num_steps)`.

The numeric fields may be traced values (trial_lanes: one per lane of a program); their checks
are then skipped (each lane's value was checked concretely) and build branches on no value.
"""
import jax.core
import ml_collections
import optax

from local_learning.errors import UserError

SCHEDULES = ('constant', 'warmup_cosine')


def default_config(name='adamw', learning_rate=1e-3, weight_decay=1e-4):
  """name: any optax optimizer (sgd, adam, adamw, lion, ...); schedule: constant | warmup_cosine."""
  return ml_collections.ConfigDict(dict(
      name=name, learning_rate=learning_rate, weight_decay=weight_decay, momentum=0.0,
      schedule='constant', warmup_steps=0))


def problems(config, prefix='config.rule.optimizer.'):
  """Every mistake in an optimizer section, one line each."""
  out = []
  if not callable(getattr(optax, config.name, None)):
    out.append(f'unknown optimizer {config.name!r}; use the name of an optax optimizer, e.g. sgd, adam, adamw')
  if not _traced(config.learning_rate) and not config.learning_rate > 0:
    out.append(f'{prefix}learning_rate must be positive, got {config.learning_rate}')
  if not _traced(config.weight_decay) and not config.weight_decay >= 0:
    out.append(f'{prefix}weight_decay must be >= 0, got {config.weight_decay}')
  if not _traced(config.momentum) and not 0 <= config.momentum < 1:
    out.append(f'{prefix}momentum must be in [0, 1), got {config.momentum}')
  if config.schedule not in SCHEDULES:
    out.append(f'unknown schedule {config.schedule!r}; choose one of {", ".join(SCHEDULES)}')
  if not (isinstance(config.warmup_steps, int) and config.warmup_steps >= 0):
    out.append(f'{prefix}warmup_steps must be an integer >= 0, got {config.warmup_steps}')
  return out


def build(config, num_steps):
  """An optax GradientTransformation; a cosine schedule decays over num_steps."""
  for problem in problems(config):
    raise UserError(problem)
  if config.schedule == 'constant':
    lr = config.learning_rate
  else:
    lr = _warmup_cosine(config.learning_rate, min(config.warmup_steps, num_steps - 1), max(num_steps, 1))
  if config.name == 'sgd':
    momentum = config.momentum if _traced(config.momentum) else config.momentum or None
    return _with_decay(optax.sgd(lr, momentum=momentum), config.weight_decay)
  if config.name == 'adamw':
    return optax.adamw(lr, weight_decay=config.weight_decay)
  return _with_decay(getattr(optax, config.name)(lr), config.weight_decay)


def _traced(value):
  return isinstance(value, jax.core.Tracer)


def _warmup_cosine(peak, warmup_steps, decay_steps):
  """optax.warmup_cosine_decay_schedule(0, peak, warmup_steps, decay_steps), also for a traced peak:
  the same two pieces, with the alpha (end / peak = 0) that optax finds by comparing peak with 0."""
  return optax.join_schedules([
      optax.linear_schedule(init_value=0.0, end_value=peak, transition_steps=warmup_steps),
      optax.cosine_decay_schedule(init_value=peak, decay_steps=decay_steps - warmup_steps, alpha=0.0),
  ], [warmup_steps])


def _with_decay(transform, weight_decay):
  if not _traced(weight_decay) and not weight_decay:
    return transform
  return optax.chain(optax.add_decayed_weights(weight_decay), transform)

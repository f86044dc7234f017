"""Weight optimizers for rules: a config section and `build(config, num_steps)`."""
import ml_collections
import optax

from local_learning.errors import UserError

SCHEDULES = ('constant', 'warmup_cosine')


def default_config(name='adamw', learning_rate=1e-3, weight_decay=1e-4):
  """name: any optax optimizer (sgd, adam, adamw, lion, ...); schedule: constant | warmup_cosine."""
  return ml_collections.ConfigDict(dict(
      name=name, learning_rate=learning_rate, weight_decay=weight_decay, momentum=0.0,
      schedule='constant', warmup_steps=0))


def build(config, num_steps):
  """An optax GradientTransformation; a cosine schedule decays over num_steps."""
  if config.learning_rate <= 0:
    raise UserError(f'optimizer learning_rate must be positive, got {config.learning_rate}')
  if config.schedule == 'constant':
    lr = config.learning_rate
  elif config.schedule == 'warmup_cosine':
    lr = optax.warmup_cosine_decay_schedule(
        0.0, config.learning_rate, min(config.warmup_steps, num_steps - 1), max(num_steps, 1))
  else:
    raise UserError(f'unknown schedule {config.schedule!r}; choose one of {", ".join(SCHEDULES)}')
  if config.name == 'sgd':
    return _with_decay(optax.sgd(lr, momentum=config.momentum or None), config.weight_decay)
  if config.name == 'adamw':
    return optax.adamw(lr, weight_decay=config.weight_decay)
  make = getattr(optax, config.name, None)
  if make is None or not callable(make):
    raise UserError(f'unknown optimizer {config.name!r}; use the name of an optax optimizer, e.g. sgd, adam, adamw')
  return _with_decay(make(lr), config.weight_decay)


def _with_decay(transform, weight_decay):
  if not weight_decay:
    return transform
  return optax.chain(optax.add_decayed_weights(weight_decay), transform)

"""Up-front checks of a config: every problem, one line each.

Run before anything is loaded or written, so a mistake costs nothing. Rules
and models check their own specific fields when constructed (still before
any output is written).
"""
from local_learning import models, optim
from local_learning.errors import UserError
from local_learning.models import activations

POSITIVE_INTS = ('num_seeds', 'batch_size', 'num_epochs', 'eval_batch_size', 'layer_parallel')
NON_NEGATIVE_INTS = ('seed', 'num_devices', 'checkpoint_every')


def check(config):
  """Raises one UserError listing every problem found (one per line).

  Fields a task's configs do not have (a separation config has no model or
  batches) are not asked for.
  """
  problems = []
  for field in POSITIVE_INTS:
    if field in config:
      _int_at_least(problems, config, field, 1)
  for field in NON_NEGATIVE_INTS:
    if field in config:
      _int_at_least(problems, config, field, 0)
  if 'model' in config:
    problems += _model_problems(config.model)
  if 'optimizer' in config.rule:
    problems += _optimizer_problems(config.rule.optimizer)
  if problems:
    raise UserError('\n'.join(problems))


def _int_at_least(problems, config, field, low, prefix='config.'):
  value = config.get(field)
  if not isinstance(value, int) or isinstance(value, bool) or value < low:
    problems.append(f'{prefix}{field} must be an integer >= {low}, got {value!r}')


def _model_problems(model):
  if model.name not in models.names():
    return [f'unknown model {model.name!r}; known models: {", ".join(models.names())}']
  missing = sorted(set(models.default_config(model.name)) - set(model))
  if missing:
    return [f'config.model lacks {", ".join(missing)} for model {model.name!r}; choose the model '
            f'with the config file argument (e.g. configs/default.py:model={model.name}), not by name alone']
  problems = []
  for field in ('widths', 'channels'):
    if field in model and not all(isinstance(w, int) and w > 0 for w in model[field]):
      problems.append(f'config.model.{field} must be positive integers, got {tuple(model[field])}')
  for field in ('depth', 'width'):
    if field in model:
      _int_at_least(problems, model, field, 1, 'config.model.')
  if 'activation' in model and model.activation not in activations.ACTIVATIONS:
    problems.append(f'unknown activation {model.activation!r}; choose one of '
                    f'{", ".join(sorted(activations.ACTIVATIONS))}')
  return problems


def _optimizer_problems(opt):
  problems = []
  if not opt.learning_rate > 0:
    problems.append(f'config.rule.optimizer.learning_rate must be positive, got {opt.learning_rate}')
  if not opt.weight_decay >= 0:
    problems.append(f'config.rule.optimizer.weight_decay must be >= 0, got {opt.weight_decay}')
  if not 0 <= opt.momentum < 1:
    problems.append(f'config.rule.optimizer.momentum must be in [0, 1), got {opt.momentum}')
  if opt.schedule not in optim.SCHEDULES:
    problems.append(f'unknown schedule {opt.schedule!r}; choose one of {", ".join(optim.SCHEDULES)}')
  if not (isinstance(opt.warmup_steps, int) and opt.warmup_steps >= 0):
    problems.append(f'config.rule.optimizer.warmup_steps must be an integer >= 0, got {opt.warmup_steps}')
  return problems

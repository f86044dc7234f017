"""Helpers for config files: parse `get_config(arg)` and build a full config.

A config file is Python with `get_config(arg)`; it usually reads
  args = config.parse_arg(arg, rule='pc', dataset='digits')
  cfg = config.base(args.rule, args.dataset, model='mlp')
and overrides a few fields. `base` fills config.rule with the rule's own
default hyperparameters, so `--config.rule.inference_steps=20` works and a
mistyped field fails.
"""
import ml_collections

from local_learning import data, models, registry
from local_learning.errors import UserError


def parse_arg(arg, **defaults):
  """'rule=bp,depth=8' -> ConfigDict over `defaults`; values cast to the default's type."""
  values = dict(defaults)
  for item in filter(None, (arg or '').split(',')):
    key, sep, value = item.partition('=')
    if not sep or key not in defaults:
      raise UserError(f'bad config argument {item!r}; expected KEY=VALUE with KEY one of '
                      f'{", ".join(defaults)}')
    kind = type(defaults[key])
    try:
      values[key] = (value.lower() in ('1', 'true', 'yes')) if kind is bool else kind(value)
    except ValueError:
      raise UserError(f'config argument {key}={value!r} is not a valid {kind.__name__}') from None
  return ml_collections.ConfigDict(values)


def rule_config(name):
  """config.rule: the rule's name and its default hyperparameters."""
  cfg = registry.get(name).default_config()
  cfg.name = name
  return cfg


def base(rule, dataset, model='mlp', rule_module=''):
  """A complete training config for one rule on one dataset and model."""
  if rule_module:
    registry.import_module(rule_module)
  cfg = ml_collections.ConfigDict()
  cfg.seed = 0
  cfg.num_seeds = 1                 # seeds seed, seed+1, ... train as one vmapped program
  cfg.rule_module = rule_module
  cfg.rule = rule_config(rule)
  cfg.dataset = data.default_config(dataset)
  if data.task_of(dataset) == 'separation':    # the problem (n, m, domain) is config.dataset
    return cfg
  cfg.model = models.default_config(model)
  cfg.batch_size = 128              # split over the devices: a multiple of their number
  cfg.num_epochs = 10
  cfg.eval_batch_size = 1000
  cfg.num_devices = 0               # devices of the run; 0 = all visible
  cfg.layer_parallel = 1            # of them, how many split a model's stacked layers (resmlp);
                                    # the batch is split over the rest
  cfg.checkpoint_every = 1          # epochs between checkpoints; 0 = none
  return cfg


def override(config, path, value):
  """Sets config field 'a.b.c' to value; an unknown field is a UserError."""
  *parents, leaf = path.split('.')
  node = config
  try:
    for name in parents:
      node = node[name]
    node[leaf] = value
  except (KeyError, AttributeError, TypeError) as e:
    raise UserError(f'cannot set config.{path} = {value!r}: {e}') from None

"""Helpers for config files: parse `get_config(arg)` and build a full config.

A config file is Python with `get_config(arg)`, a pure function of its
argument; it usually reads
  args = config.parse_arg(arg, rule='pc', dataset='digits')
  cfg = config.base(args.rule, args.dataset, model='mlp')
and overrides a few fields. `base` fills config.rule with the rule's own
default hyperparameters, so `--config.rule.inference_steps=20` works and a
mistyped field fails. A rule from a user's module must be imported first
(the command line does it for --config.rule_module).
"""
import ml_collections

from local_learning import registry, tasks
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


def base(rule, dataset, model='mlp'):
  """A complete training config for one rule on one dataset (and model, where the task has one)."""
  task = tasks.for_dataset(dataset)
  cfg = ml_collections.ConfigDict()
  cfg.seed = 0
  cfg.num_seeds = 1                 # seeds seed, seed+1, ... train as one program
  cfg.rule_module = ''              # a module to import for a rule of your own
  cfg.rule = rule_config(rule)
  cfg.dataset = task.dataset_config(dataset)
  cfg.checkpoint_every = 1          # rounds (epochs) between checkpoints; 0 = none
  task.add_defaults(cfg, model)
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

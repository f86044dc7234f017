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
import ast
import difflib
import importlib.util
import inspect
import os

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
  supported = registry.get(rule).tasks
  if task.name not in supported:
    raise UserError(f'rule {rule!r} supports {", ".join(supported)}, not {task.name} (dataset {dataset!r}): '
                    f'{rule} is a {" and ".join(supported)} rule; choose a {task.name} rule (--list_rules)')
  cfg = ml_collections.ConfigDict()
  cfg.seed = 0
  cfg.num_seeds = 1                 # seeds seed, seed+1, ... train as one program
  cfg.rule_module = ''              # modules to import for rules of your own (comma-separated)
  cfg.rule = rule_config(rule)
  cfg.dataset = task.dataset_config(dataset)
  cfg.checkpoint_seconds = 60.0     # checkpoint after a round once this long since the last; 0 = not by time
  cfg.checkpoint_every = 0          # also after every N-th round (epoch); 0 = not by count; both 0: no checkpoints
  cfg.compilation_cache = 'auto'    # folder of JAX's compilation cache; auto: ~/.cache/local-learning/jax; '' = off
  cfg.tensorboard = False           # also write TensorBoard event files (tensorboardX)
  task.add_defaults(cfg, model)
  return cfg


def load_file(path, arg=''):
  """get_config(arg) of the config file at `path`, locked; every way it can fail is a UserError."""
  if not os.path.isfile(path):
    raise UserError(f'config file {path} not found (paths are relative to the current directory, '
                    f'{os.getcwd()})')
  if not path.endswith('.py'):
    raise UserError(f'config file {path} is not a Python file; a config file is Python with get_config(arg)')
  get_config = getattr(load_module(path, 'config file'), 'get_config', None)
  if not callable(get_config):
    raise UserError(f'config file {path} has no get_config(arg) function')
  try:
    inspect.signature(get_config).bind(arg)
  except TypeError:
    raise UserError(f'get_config in {path} must take one argument (the text after the colon in '
                    '--config=FILE.py:ARG), as in get_config(arg=\'\')') from None
  try:
    config = get_config(arg)
  except UserError:
    raise
  except Exception as e:  # pylint: disable=broad-except
    raise UserError(f'get_config({arg!r}) in {path} failed: {_one_line(e)}') from None
  if not isinstance(config, ml_collections.ConfigDict):
    raise UserError(f'get_config in {path} returned {type(config).__name__}, not an ml_collections.ConfigDict')
  config.lock()
  return config


def load_module(path, what):
  """The Python module at `path`, executed; a syntax error or an exception is a UserError."""
  spec = importlib.util.spec_from_file_location(f'_ll_loaded_{abs(hash(path))}', path)
  if spec is None or spec.loader is None:
    raise UserError(f'{what} {path} is not a Python file; give a .py path')
  module = importlib.util.module_from_spec(spec)
  try:
    spec.loader.exec_module(module)
  except UserError:
    raise
  except SyntaxError as e:
    raise UserError(f'{what} {path} has a syntax error at line {e.lineno}: {e.msg}') from None
  except Exception as e:  # pylint: disable=broad-except
    raise UserError(f'{what} {path} raised {_one_line(e)} when loaded') from None
  return module


def override(config, path, value):
  """Sets config field 'a.b.c' to value; an unknown field or a wrong type is a UserError."""
  node, leaf = _field(config, path)
  try:
    node[leaf] = value
  except (KeyError, AttributeError, TypeError, ValueError) as e:
    raise UserError(f'cannot set config.{path} = {value!r}: {_one_line(e)}') from None


def override_from_text(config, path, text):
  """Sets config field 'a.b.c' from command-line text, parsed as the field's type."""
  node, leaf = _field(config, path)
  current = node[leaf]
  try:
    value = _parse(text, current)
  except (ValueError, SyntaxError):
    raise UserError(f'--config.{path}={text!r}: config.{path} takes {_kind(current)}, '
                    f'and {text!r} is not one') from None
  override(config, path, value)


def _field(config, path):
  """(section, name) of config field 'a.b.c'; an unknown one is a UserError naming the close ones."""
  *parents, leaf = path.split('.')
  node, at = config, 'config'
  for name in [*parents, leaf]:
    if not isinstance(node, ml_collections.ConfigDict) or name not in node:
      fields = list(node.keys()) if isinstance(node, ml_collections.ConfigDict) else []
      close = difflib.get_close_matches(name, fields, n=1, cutoff=0.5)
      hint = f'did you mean {at}.{close[0]}? ' if close else ''
      raise UserError(f'{at} has no field {name!r}; {hint}its fields: {", ".join(sorted(fields))}')
    if name != leaf:
      node, at = node[name], f'{at}.{name}'
  if isinstance(node[leaf], ml_collections.ConfigDict):
    raise UserError(f'config.{path} is a section; set its fields, e.g. --config.{path}.{next(iter(node[leaf]))}=...')
  return node, leaf


def _parse(text, current):
  """text as the type of `current`: bool, int, float, str, or a tuple/list literal."""
  if isinstance(current, bool):
    if text.lower() not in ('true', 'false', '1', '0', 'yes', 'no'):
      raise ValueError(text)
    return text.lower() in ('true', '1', 'yes')
  if isinstance(current, int):
    return int(text)
  if isinstance(current, float):
    return float(text)
  if isinstance(current, str):
    return text
  value = ast.literal_eval(text)
  if isinstance(current, (tuple, list)):
    if not isinstance(value, (tuple, list)):
      raise ValueError(text)
    return type(current)(value)
  return value


def _kind(value):
  if isinstance(value, bool):
    return 'true or false'
  if isinstance(value, (tuple, list)):
    return 'a tuple, e.g. (32, 32)'
  return {int: 'an integer', float: 'a number'}.get(type(value), f'a {type(value).__name__}')


def _one_line(error):
  text = str(error).strip().splitlines()
  return f'{type(error).__name__}: {text[0] if text else ""}'.rstrip(': ')

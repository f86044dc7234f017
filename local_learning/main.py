"""Command line: train one rule from a config file.

  python -m local_learning.main --config=configs/default.py:rule=bp --workdir=runs/bp \
      [--config.rule.inference_steps=20 ...]
  python -m local_learning.main --list_rules
"""
import sys

import jax
from absl import app, flags
from ml_collections import config_flags

from local_learning import cpu_flags, registry, train
from local_learning.errors import UserError

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file('config', None, 'Config file, optionally FILE.py:ARGS.', lock_config=True)
flags.DEFINE_string('workdir', None, 'Folder for config.json, metrics.jsonl and summary.json.')
flags.DEFINE_bool('list_rules', False, 'Print the registered rules and exit.')
flags.DEFINE_bool('overwrite', False, 'Replace a run of a different config (or an unusable checkpoint) in --workdir.')
flags.DEFINE_bool('distributed', False, 'Call jax.distributed.initialize() first (multi-host runs).')


def main(argv):
  if len(argv) > 1:
    raise UserError(f'unexpected arguments {" ".join(argv[1:])}; flags look like --workdir=DIR')
  if FLAGS.list_rules:
    width = max(map(len, registry.names()))
    for name in registry.names():
      rule = registry.get(name)
      print(f'{name:{width}s} {",".join(rule.tasks):16s} {rule.description}')
    return
  if FLAGS.config is None or not FLAGS.workdir:
    raise UserError('both --config=FILE.py[:ARGS] and --workdir=DIR are required')
  if FLAGS.distributed:
    jax.distributed.initialize()
  train.train_and_evaluate(FLAGS.config, FLAGS.workdir, FLAGS.overwrite)


def run():
  """Entry point: a UserError anywhere (config file included) is one line and exit 2."""
  cpu_flags.apply()
  _import_rule_module(sys.argv)
  try:
    app.run(main)
  except UserError as e:
    print(f'error: {e}', file=sys.stderr)
    sys.exit(2)


def _import_rule_module(argv):
  """Imports --config.rule_module early, so the config file can find its rule."""
  for arg in argv:
    if arg.startswith('--config.rule_module='):
      try:
        registry.import_module(arg.split('=', 1)[1])
      except UserError as e:
        print(f'error: {e}', file=sys.stderr)
        sys.exit(2)


if __name__ == '__main__':
  run()

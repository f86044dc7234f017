"""Command line: train one rule from a config file.

  python -m local_learning.main --config=configs/default.py:rule=bp --workdir=runs/bp \
      [--config.rule.inference_steps=20 ...]
  python -m local_learning.main --list_rules [--config.rule_module=my_lab.my_rule]

`--config.FIELD=VALUE` overrides a field of the config file, parsed as the
field's type. Every mistake is one `error:` line and exit status 2 (cli.py).
"""
import functools
import sys

import jax
from absl import flags

from local_learning import cli, registry, train
from local_learning import config as config_lib
from local_learning.errors import UserError

FLAGS = flags.FLAGS
flags.DEFINE_string('config', None, 'Config file, optionally FILE.py:ARGS; override its fields with '
                    '--config.FIELD=VALUE.')
flags.DEFINE_string('workdir', None, 'Folder for config.json, metrics.jsonl and summary.json.')
flags.DEFINE_bool('list_rules', False, 'Print the registered rules and exit.')
flags.DEFINE_bool('overwrite', False, 'Replace a run of a different config or rule version (or an '
                  'unusable checkpoint) in --workdir.')
flags.DEFINE_bool('distributed', False, 'Call jax.distributed.initialize() first (multi-process runs); it '
                  'finds the processes under SLURM, Open MPI or a TPU pod, or from the three flags below.')
flags.DEFINE_string('coordinator_address', None, 'With --distributed: HOST:PORT of process 0.')
flags.DEFINE_integer('num_processes', None, 'With --distributed: how many processes take part.')
flags.DEFINE_integer('process_id', None, 'With --distributed: this process, 0 .. num_processes - 1.')
OVERRIDE = '--config.'
DISTRIBUTED = ('coordinator_address', 'num_processes', 'process_id')


def main(argv, overrides):
  if len(argv) > 1:
    raise UserError(f'unexpected arguments {" ".join(argv[1:])}; flags look like --workdir=DIR')
  if overrides.get('rule_module'):
    registry.import_module(overrides['rule_module'])
  if FLAGS.list_rules:
    width = max(map(len, registry.names()))
    for name in registry.names():
      rule = registry.get(name)
      print(f'{name:{width}s} {",".join(rule.tasks):16s} {rule.description}')
    return
  if not FLAGS.config or not FLAGS.workdir:
    raise UserError('both --config=FILE.py[:ARGS] and --workdir=DIR are required')
  path, _, arg = FLAGS.config.partition(':')
  config = config_lib.load_file(path, arg)
  for field, text in overrides.items():
    config_lib.override_from_text(config, field, text)
  _check_distributed_flags()
  if FLAGS.distributed:
    jax.distributed.initialize(FLAGS.coordinator_address, FLAGS.num_processes, FLAGS.process_id)
  train.train_and_evaluate(config, FLAGS.workdir, FLAGS.overwrite)


def _check_distributed_flags():
  """A UserError for process flags given without --distributed, half given, or inconsistent."""
  given = [name for name in DISTRIBUTED if FLAGS[name].value is not None]
  if given and not FLAGS.distributed:
    raise UserError(f'--{given[0]} is for multi-process runs; add --distributed, or leave it out')
  if not FLAGS.distributed or not given:
    return                                     # none: jax finds the processes (SLURM, Open MPI, TPU)
  if len(given) < len(DISTRIBUTED):
    missing = ', '.join(f'--{name}' for name in DISTRIBUTED if name not in given)
    raise UserError(f'--distributed with --{given[0]} needs {missing} too (or none of them, where SLURM, '
                    'Open MPI or a TPU pod names the processes)')
  host, _, port = FLAGS.coordinator_address.rpartition(':')
  if not (host.strip('[]') and port.isdigit() and 0 < int(port) < 65536):
    raise UserError(f'--coordinator_address={FLAGS.coordinator_address!r} is not HOST:PORT (e.g. node01:1234, '
                    'a port in 1..65535)')
  if FLAGS.num_processes < 1 or not 0 <= FLAGS.process_id < FLAGS.num_processes:
    raise UserError(f'--process_id={FLAGS.process_id} with --num_processes={FLAGS.num_processes}: need '
                    'num_processes >= 1 and 0 <= process_id < num_processes')


def run():
  """Entry point: --config.FIELD=VALUE arguments are taken out for main, the rest go to absl."""
  argv, overrides = cli.split_overrides(sys.argv, OVERRIDE)
  cli.run(functools.partial(main, overrides=overrides), argv)


if __name__ == '__main__':
  run()

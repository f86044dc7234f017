"""The tuning command: a study of one rule's search space, each trial a run on the validation split.

  local-learning-tune --config=configs/default.py:rule=pc --trials=20 --workdir=runs/tune_pc \
      --config.validation_examples=300 [--config.num_epochs=5 ...] [--storage=URL] [--timeout_minutes=60]
  (from a checkout: python benchmarks/tune.py ...)

--config.X=V overrides are fixed for every trial. Re-running the same command
resumes the study: finished trials are kept, a trial of a killed process is
run again (from its checkpoint), and the budget stays exact; so do several
processes started on one study (--storage=postgresql://... or journal:PATH
across machines; the default SQLite file on one machine). One line per trial
(number, parameters, value, state), then the best. A live view:

  optuna-dashboard sqlite:///runs/tune_pc/study.db       (pip install optuna-dashboard)
"""
import functools
import sys

from absl import flags

from local_learning import cli, registry
from local_learning import config as config_lib
from local_learning.errors import UserError
from local_learning.tuning import study as study_lib

flags.DEFINE_string('config', None, 'Config file, optionally FILE.py:ARGS; --config.FIELD=VALUE fixes a field for '
                    'every trial.')
flags.DEFINE_string('workdir', None, 'The study folder: study.db, best.json, trials/NNNN.')
flags.DEFINE_integer('trials', None, 'The budget: trials that complete or are pruned, over every process.')
flags.DEFINE_string('storage', '', 'An Optuna storage URL (default sqlite:///WORKDIR/study.db), e.g. '
                    'postgresql://..., or journal:PATH for Optuna\'s journal file storage.')
flags.DEFINE_integer('sampler_seed', 0, 'The TPE sampler\'s seed.')
flags.DEFINE_float('timeout_minutes', 0.0, 'Start no new trial after this many minutes (0: no limit).')
flags.DEFINE_integer('heartbeat_seconds', 10, 'Seconds between a running trial\'s heartbeats (RDB storages).')
flags.DEFINE_integer('grace_seconds', 60, 'A running trial without a heartbeat this long is failed and re-run.')
flags.DEFINE_integer('lanes', 1, 'Trials asked at once and trained as lanes of one compiled program where they '
                     'differ only in float fields of config.rule (1: one trial at a time).')
flags.DEFINE_bool('fail_running', False, 'First mark every RUNNING trial FAIL and queue it again: for a storage '
                  'without a heartbeat (journal:PATH) after a killed process, when no other process works on it.')
FLAGS = flags.FLAGS


def main(argv, overrides):
  if len(argv) > 1:
    raise UserError(f'unexpected arguments {" ".join(argv[1:])}; flags look like --workdir=DIR')
  if not (FLAGS.config and FLAGS.workdir and FLAGS.trials):
    raise UserError('--config=FILE.py[:ARGS], --trials=N and --workdir=DIR are required')
  if overrides.get('rule_module'):
    registry.import_module(overrides['rule_module'])
  path, _, arg = FLAGS.config.partition(':')
  config = config_lib.load_file(path, arg)
  for field, text in overrides.items():
    config_lib.override_from_text(config, field, text)
  if not (FLAGS.heartbeat_seconds >= 1 and FLAGS.grace_seconds > FLAGS.heartbeat_seconds):
    raise UserError('--heartbeat_seconds must be >= 1 and --grace_seconds larger than it')
  settings = study_lib.Settings(storage=FLAGS.storage, sampler_seed=FLAGS.sampler_seed,
                                timeout_minutes=FLAGS.timeout_minutes, heartbeat_seconds=FLAGS.heartbeat_seconds,
                                grace_seconds=FLAGS.grace_seconds, fail_running=FLAGS.fail_running,
                                **study_lib.lane_settings(FLAGS.lanes))
  study_lib.tune(config, FLAGS.workdir, FLAGS.trials, settings)


def run():
  """Entry point: --config.FIELD=VALUE arguments go to main, the rest to absl (as local_learning.main)."""
  argv, overrides = cli.split_overrides(sys.argv)
  cli.run(functools.partial(main, overrides=overrides), argv)


if __name__ == '__main__':
  run()

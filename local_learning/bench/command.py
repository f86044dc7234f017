"""The table command: run a standard table and render it, from spec to paper table.

  local-learning-table --table=quick --workdir=runs/quick        (or: python benchmarks/run.py ...)
  local-learning-table --table=quick --workdir=runs/quick --jobs=2    (two processes share the cells)
  local-learning-table --table=classic --workdir=runs/classic --seeds=3 --cells=MNIST_MLP
  local-learning-table --table=classic --workdir=runs/classic --cells='pc*__MNIST_MLP,bp__MNIST_MLP'
  local-learning-table --table=quick --workdir=runs/quick --override=num_epochs=2 --verbose
  local-learning-table --table=classic --workdir=runs/classic --rules=bp,fa --rule_module=my_lab.my_rule
  local-learning-table --table=depth --workdir=/shared/runs/depth --shard=$SLURM_ARRAY_TASK_ID/8
  local-learning-table --table=pem_antisparse --workdir=runs/pem_antisparse --check
  local-learning-table --table=limits --workdir=runs/limits_ce --table_args=loss=ce
  local-learning-table --table=quick --workdir=runs/quick_tuned --tune=8
  local-learning-table --table=classic --cells=MNIST_MLP --workdir=runs/mnist_tuned --tune=20 --tune_epochs=5

It prints one line per cell (its result, time, the table's ETA; on a
terminal a live line for the running cell), the trainer's lines only with
--verbose (always in CELL/table.log), then where the table was written;
--render_only prints the table. --cells names cells by id (ROW__COLUMN),
row or column, exactly or as a glob. --override=FIELD=VALUE,... sets config
fields in every cell whose config has them; those cells train in folders of
their own (ROW__COLUMN__FIELD=VALUE), and manifest.json records the overrides.
Cells already finished in --workdir are skipped (re-run to resume).
--jobs=N trains with N processes on this machine, each cell in one of them. With
--shard=I/N (0 <= I < N) this process runs every N-th cell from the I-th;
run all shards against the same workdir, then --render_only to build the
table. --check exits 1 when a cell with a published reference falls outside
its band (or has no result). --tune=N first tunes each cell's rule with N
trials on a validation split (CELL/tuning/, Optuna; bench/tuned.py), then
trains its best settings with fresh seeds; the table adds the tuned settings
and prints the whole command's wall time. `optuna-dashboard
sqlite:///WORKDIR/CELL/tuning/study.db` shows a study live.
"""
import os
import sys
import time

from absl import flags

from local_learning import cli, registry
from local_learning.bench import estimate, jobs, render, runner, spec, tuned
from local_learning.data import tfds_source
from local_learning.errors import UserError

flags.DEFINE_string('table', 'quick', 'Built-in table name (benchmarks/tables/NAME.py) or a spec .py path.')
flags.DEFINE_string('workdir', None, 'Folder of the table: one sub-folder per cell, table.md/.csv/.html, plots.')
flags.DEFINE_integer('seeds', None, "Seeds per cell (default: the table's).")
flags.DEFINE_string('shard', '0/1', 'I/N: run the I-th of N deterministic shards of the cells (0-based).')
flags.DEFINE_string('cells', '', 'Only these cells, comma-separated: each a cell id (ROW__COLUMN), a row or a '
                    'column, exactly, or a glob over ids (e.g. "pc*__MNIST_MLP").')
flags.DEFINE_string('override', '', 'FIELD=VALUE,... config fields set in every cell that has them (e.g. '
                    'num_epochs=2); those cells train in folders named with them.')
flags.DEFINE_bool('verbose', False, "Print the cells' own lines (epochs, trials) too, not only one line per cell.")
flags.DEFINE_list('rules', None, "The rules of a table over rules (default: the table's own).")
flags.DEFINE_string('table_args', '', "Arguments of a spec whose get_table takes args (e.g. 'loss=ce').")
flags.DEFINE_string('rule_module', '', 'Modules of your own rules to import first, comma-separated (e.g. '
                    'my_lab.my_rule,my_lab.other); on PYTHONPATH or installed.')
flags.DEFINE_bool('render_only', False, 'Do not train; render what the workdir holds.')
flags.DEFINE_bool('best', False, 'Add a labelled best-epoch section (optimistic) to the table.')
flags.DEFINE_enum('spread', 'ci', ['ci', 'std'], 'Show mean ± the 95% confidence interval, or ± std.')
flags.DEFINE_bool('check', False, 'Exit 1 if a cell with a published reference falls outside its band.')
flags.DEFINE_bool('overwrite', False, 'Replace cells whose config differs, re-run stale cells (their rule '
                  'code changed since); finished cells of the same config are kept.')
flags.DEFINE_integer('tune', 0, 'Tune each cell\'s rule with this many trials first (0: no tuning).')
flags.DEFINE_integer('tune_validation', 0, 'Validation examples of the tuning trials (0: 300 for digits, else '
                     '10000).')
flags.DEFINE_integer('tune_epochs', 0, 'Epochs of each tuning trial (0: the cell\'s).')
flags.DEFINE_integer('tune_lanes', 1, 'Tuning trials asked at once and trained as lanes of one program '
                     '(where they differ only in float fields of config.rule).')
flags.DEFINE_bool('estimate', None, "Print each cell's expected wall time on one GPU before training (default: "
                  'unless every cell is on the embedded digits).')
flags.DEFINE_integer('jobs', 1, 'Processes training the cells at once on this machine, sharing them (a cell '
                     'trains in one of them; `make run` takes 2 on a 2-core CPU).')
flags.DEFINE_bool('train_only', False, 'Train the cells and stop, without rendering (what the other processes '
                  'of --jobs run).')
flags.DEFINE_float('tune_timeout_minutes', 0.0, 'Per cell: start no new trial after this many minutes (0: none).')
FLAGS = flags.FLAGS


def main(argv):
  if len(argv) > 1:
    raise UserError(f'unexpected arguments {" ".join(argv[1:])}')
  if not FLAGS.workdir:
    raise UserError('--workdir=DIR is required')
  index, _, count = FLAGS.shard.partition('/')
  if not (index.isdigit() and count.isdigit()):
    raise UserError(f'bad --shard={FLAGS.shard}; use I/N, e.g. 0/4')
  if FLAGS.seeds is not None and FLAGS.seeds < 1:
    raise UserError(f'--seeds={FLAGS.seeds}: seeds per cell must be >= 1')
  if FLAGS.jobs < 1:
    raise UserError(f'--jobs={FLAGS.jobs}: the processes training cells must be >= 1')
  if FLAGS.train_only and FLAGS.render_only:
    raise UserError('--train_only and --render_only exclude each other; give one')
  if FLAGS.jobs > 1 and FLAGS.tune:
    raise UserError('--jobs applies to tables without --tune; to share a tuned table, start the same command '
                    'again in another terminal (each cell and study is shared through its folder)')
  if FLAGS.rule_module:
    registry.import_module(FLAGS.rule_module)
  start = time.perf_counter()
  table = spec.with_overrides(spec.load_table(FLAGS.table, FLAGS.rules, FLAGS.table_args),
                              spec.parse_overrides(FLAGS.override), spec.root())
  if FLAGS.tune and not FLAGS.render_only:
    tuned.run_tuned_table(table, FLAGS.workdir, spec.root(), FLAGS.tune, FLAGS.seeds, (int(index), int(count)),
                          FLAGS.cells, FLAGS.overwrite, FLAGS.tune_validation, FLAGS.tune_epochs,
                          FLAGS.tune_timeout_minutes, lanes=FLAGS.tune_lanes, verbose=FLAGS.verbose)
  elif not FLAGS.render_only:
    if not FLAGS.train_only:
      _print_estimate(table, (int(index), int(count)), FLAGS.seeds)
    with jobs.others(FLAGS.jobs - 1, sys.argv[1:]):
      outcome = runner.run_table(table, FLAGS.workdir, spec.root(), FLAGS.seeds, (int(index), int(count)),
                                 FLAGS.cells, FLAGS.overwrite, FLAGS.verbose and not FLAGS.train_only)
    if not FLAGS.train_only:
      runner.report_others(table, FLAGS.workdir, outcome)
  if FLAGS.train_only:
    return
  report = render.render(table, FLAGS.workdir, FLAGS.best, FLAGS.spread)
  if FLAGS.render_only or FLAGS.verbose:
    print(report.markdown)
  else:
    print(f'table {table.name}: {os.path.join(FLAGS.workdir, "table.md")} (and table.csv, table.html, '
          'manifest.json, plots); --render_only prints it')
  if FLAGS.tune and not FLAGS.render_only:
    print(f'tuned table {table.name}: {FLAGS.tune} trials a cell; wall time {time.perf_counter() - start:.0f} s '
          '(tuning, final runs, rendering)', flush=True)
  if FLAGS.check:
    if not report.references:
      raise UserError(f'--check: table {table.name!r} has no cell with a published reference value to check; '
                      'leave out --check, or give cells a bench.Reference')
    failures = report.failed_references()
    for line in failures:
      print(f'check: {line}', file=sys.stderr)
    if failures:
      sys.exit(1)
    print(f'check: all {len(report.references)} reproduction cells inside their bands')


def _print_estimate(table, shard, seeds):
  """bench/estimate.py's lines for the cells this process trains (--estimate; default: any on a tfds dataset,
  not the embedded digits or generated sources)."""
  cells = [(c, c.build_config(table.seeds if seeds is None else seeds, spec.root()))
           for c in runner.select(table, shard, FLAGS.cells)]
  on_tfds = any(config.dataset.name in tfds_source.NAMES for _, config in cells if 'dataset' in config)
  if FLAGS.estimate or (FLAGS.estimate is None and on_tfds):
    print('\n'.join(estimate.lines(cells)), flush=True)


def run():
  cli.run(main)

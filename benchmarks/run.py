"""Runs a standard table and renders it: one command from spec to paper table.

  python benchmarks/run.py --table=quick --workdir=runs/quick
  python benchmarks/run.py --table=classic --workdir=runs/classic --seeds=3 --cells=mnist
  python benchmarks/run.py --table=depth --workdir=/shared/runs/depth --shard=$SLURM_ARRAY_TASK_ID/8

Cells already finished in --workdir are skipped (re-run to resume). With
--shard=I/N (0 <= I < N) this process runs every N-th cell from the I-th;
run all shards against the same workdir, then --render_only to build the table.
"""
import os

from absl import flags

from local_learning import bench, cli
from local_learning.bench import render, runner
from local_learning.errors import UserError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # config paths in specs are relative to it

flags.DEFINE_string('table', 'quick', 'Built-in table name (benchmarks/tables/NAME.py) or a spec .py path.')
flags.DEFINE_string('workdir', None, 'Folder of the table: one sub-folder per cell, table.md, table.csv, plots.')
flags.DEFINE_integer('seeds', None, "Seeds per cell (default: the table's).")
flags.DEFINE_string('shard', '0/1', 'I/N: run the I-th of N deterministic shards of the cells (0-based).')
flags.DEFINE_string('cells', '', 'Only cells whose id contains each comma-separated part.')
flags.DEFINE_bool('render_only', False, 'Do not train; render what the workdir holds.')
flags.DEFINE_bool('best', False, 'Add a labelled best-epoch section (optimistic) to the table.')
flags.DEFINE_bool('overwrite', False, 'Replace cells whose config differs, re-run stale cells (their rule '
                  'code changed since); finished cells of the same config are kept.')
FLAGS = flags.FLAGS


def main(argv):
  if len(argv) > 1:
    raise UserError(f'unexpected arguments {" ".join(argv[1:])}')
  if not FLAGS.workdir:
    raise UserError('--workdir=DIR is required')
  index, _, count = FLAGS.shard.partition('/')
  if not (index.isdigit() and count.isdigit()):
    raise UserError(f'bad --shard={FLAGS.shard}; use I/N, e.g. 0/4')
  table = bench.load_table(FLAGS.table, os.path.join(ROOT, 'benchmarks', 'tables'))
  if not FLAGS.render_only:
    runner.run_table(table, FLAGS.workdir, ROOT, FLAGS.seeds, (int(index), int(count)),
                     FLAGS.cells, FLAGS.overwrite)
  print(render.render(table, FLAGS.workdir, FLAGS.best))


if __name__ == '__main__':
  cli.run(main)

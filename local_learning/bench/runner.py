"""Runs a table's cells: resumable, shardable, one trainer workdir per cell.

Every cell's config is built and checked (train.check: rule names,
overrides, every field), and its folder too, before any training starts. A
cell whose workdir holds a summary.json for the same config is skipped, so
an interrupted table re-run loses only the cell that was running;
summary.json is written last and atomically. `shard=(i, n)` takes every
n-th cell from the i-th (0-based), a deterministic split for job arrays. A
cell whose dataset is not prepared is reported and left unrun; so is a cell
another process is running (each cell's folder has its own lock). What a
run prints: bench/progress.py (a line per cell; the trainer's lines in
CELL/table.log).
"""
import json
import os

from local_learning import provenance, train
from local_learning import workdir as workdir_lib
from local_learning.bench import progress, render, spec
from local_learning.errors import DatasetUnavailable, UserError
from local_learning.lock import Busy


def select(table, shard=(0, 1), cells_filter=''):
  """The cells of this shard named by cells_filter: comma-separated parts, each a cell's id, row or column
  (spec.matches: exactly, or a glob over ids like 'pc*__MNIST*'); '' selects every cell. A part that names
  no cell is a UserError."""
  index, count = shard
  if not 0 <= index < count:
    raise UserError(f'bad shard {index}/{count}; use I/N with 0 <= I < N')
  parts = [p.strip() for p in cells_filter.split(',') if p.strip()]
  unmatched = [p for p in parts if not any(spec.matches(c, p) for c in table.cells)]
  if unmatched:
    raise UserError(f'--cells: {", ".join(repr(p) for p in unmatched)} names no cell of table {table.name!r} '
                    '(give a cell id ROW__COLUMN, a row, a column, or a glob such as "pc*__MNIST*"); rows: '
                    f'{", ".join(dict.fromkeys(spec.slug(c.row) for c in table.cells))}; columns: '
                    f'{", ".join(dict.fromkeys(spec.slug(c.column) for c in table.cells))}')
  chosen = [c for c in table.cells if not parts or any(spec.matches(c, p) for p in parts)]
  return chosen[index::count]


def run_table(table, workdir, root, seeds=None, shard=(0, 1), cells_filter='', overwrite=False, verbose=False):
  """Trains the selected cells; -> {cell id: 'done' | 'skipped' | 'stale' | 'unavailable: ...' | 'busy: ...'}.

  Every cell's config and folder are checked before any training. A finished
  cell of the same config is skipped (with overwrite too); one whose rule's
  source changed since is stale, and re-run only with overwrite; a cell
  folder holding another config is an error unless overwriting. verbose: the
  trainer's lines on the terminal too, not only in each CELL/table.log.
  """
  seeds = table.seeds if seeds is None else seeds
  if not (isinstance(seeds, int) and seeds >= 1):
    raise UserError(f'seeds must be an integer >= 1, got {seeds!r}')
  plans = []
  for cell in select(table, shard, cells_filter):
    config = cell.build_config(seeds, root)
    task, rule_cls = train.check(config)
    try:
      if hasattr(task, 'check_data'):
        task.check_data(config)           # counts against the dataset: found here, not after other cells ran
    except DatasetUnavailable:
      pass                                # reported when its turn comes
    except UserError as e:
      raise UserError(f'cell {cell.id}: {e}') from None
    out = workdir_lib.Workdir(os.path.join(workdir, cell.id), task)
    out.check()
    status, detail = out.status(config, provenance.of_run(rule_cls))
    if status == 'different' and not overwrite:
      raise UserError(f'cell {cell.id}: {out.path} holds a run of a different config ({detail}); '
                      'use another --workdir, or --overwrite to replace it')
    if status == 'damaged' and not overwrite:
      raise UserError(f'cell {cell.id}: {detail.split("; ")[0]}; --overwrite replaces the cell, or use another '
                      '--workdir')
    plans.append((cell, config, out.path, status, detail))
  to_train = [p for p in plans if p[3] != 'finished' and (p[3] != 'stale' or overwrite)]
  show = progress.Progress(len(to_train), verbose)
  show.say(f'table {table.name}: {len(plans)} cells, {len(to_train)} to train, in {workdir}; each cell\'s output '
           f'in its {progress.LOG}' + ('' if verbose else ' (--verbose: here too)'))
  outcome = {}
  for i, (cell, config, cell_dir, status, detail) in enumerate(plans, 1):
    label = f'[{i}/{len(plans)}] {cell.id}'
    if status == 'finished':
      outcome[cell.id] = 'skipped'
      show.say(f'{label}: finished before, skipped ({result_text(cell, detail, config)})')
      continue
    if status == 'stale' and not overwrite:
      outcome[cell.id] = 'stale'
      show.say(f'{label}: stale, not re-run ({detail}); --overwrite re-runs it')
      continue
    with show.cell(label, cell_dir) as running:
      try:
        summary = train.train_and_evaluate(config, cell_dir, overwrite)
        outcome[cell.id] = 'done'
        running.done(result_text(cell, summary, config))
      except DatasetUnavailable as e:
        outcome[cell.id] = mark_unavailable(cell_dir, e)
        running.done(f'unavailable: {e}')
      except Busy as e:
        outcome[cell.id] = f'busy: {e}'
        running.done(f'left to the process running it ({e.holder})', timed=False)
  return outcome


def report_others(table, workdir, outcome):
  """Prints the result of each cell that run_table left to another process (its outcome 'busy: ...'),
  once those processes have ended."""
  others = {cell_id for cell_id, status in outcome.items() if status.startswith('busy')}
  for result in render.collect(table, workdir):
    if result.cell.id in others:
      text = _line(result) if result.summary else 'not finished'
      print(f'{result.cell.id}: {text} (trained by another process)', flush=True)


def result_text(cell, summary, config):
  """'test accuracy (%) 97.87 ± 0.13': a finished cell's line (config: the cell's, which says what it
  evaluated on)."""
  return _line(render.Result(cell, summary, on_validation=render.on_validation(config)))


def _line(result):
  return f'{result.metric_label} {render.cell_text(result)}'


def mark_unavailable(cell_dir, error):
  """Records in cell_dir that its dataset is not prepared (render shows why) -> the cell's outcome."""
  os.makedirs(cell_dir, exist_ok=True)
  workdir_lib.write_atomic(os.path.join(cell_dir, render.UNAVAILABLE),
                           json.dumps(dict(status='unavailable', reason=str(error))))
  return f'unavailable: {error}'

"""Runs a table's cells: resumable, shardable, one trainer workdir per cell.

Every cell's config is built and checked (train.check: rule names,
overrides, every field), and its folder too, before any training starts. A
cell whose workdir holds a summary.json for the same config is skipped, so
an interrupted table re-run loses only the cell that was running;
summary.json is written last and atomically. `shard=(i, n)` takes every
n-th cell from the i-th (0-based), a deterministic split for job arrays. A
cell whose dataset is not prepared is reported and left unrun; so is a cell
another process is running (each cell's folder has its own lock).
"""
import json
import os

from local_learning import provenance, train
from local_learning import workdir as workdir_lib
from local_learning.bench import render
from local_learning.errors import DatasetUnavailable, UserError
from local_learning.lock import Busy


def select(table, shard=(0, 1), cells_filter=''):
  """The cells of this shard whose id contains every comma-separated part of cells_filter."""
  index, count = shard
  if not 0 <= index < count:
    raise UserError(f'bad shard {index}/{count}; use I/N with 0 <= I < N')
  parts = [p for p in cells_filter.split(',') if p]
  chosen = [c for c in table.cells if all(p in c.id for p in parts)]
  if not chosen:
    raise UserError(f'no cell of table {table.name!r} matches {cells_filter!r}; '
                    f'cells: {", ".join(c.id for c in table.cells)}')
  return chosen[index::count]


def run_table(table, workdir, root, seeds=None, shard=(0, 1), cells_filter='', overwrite=False):
  """Trains the selected cells; -> {cell id: 'done' | 'skipped' | 'stale' | 'unavailable: ...' | 'busy: ...'}.

  Every cell's config and folder are checked before any training. A finished
  cell of the same config is skipped (with overwrite too); one whose rule's
  source changed since is stale, and re-run only with overwrite; a cell
  folder holding another config is an error unless overwriting.
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
  outcome = {}
  for i, (cell, config, cell_dir, status, detail) in enumerate(plans, 1):
    if status == 'finished':
      outcome[cell.id] = 'skipped'
      print(f'[{i}/{len(plans)}] {cell.id}: finished before, skipped', flush=True)
      continue
    if status == 'stale' and not overwrite:
      outcome[cell.id] = 'stale'
      print(f'[{i}/{len(plans)}] {cell.id}: stale, not re-run ({detail}); --overwrite re-runs it', flush=True)
      continue
    print(f'[{i}/{len(plans)}] {cell.id}: training ({config.num_seeds} seeds)', flush=True)
    try:
      train.train_and_evaluate(config, cell_dir, overwrite)
      outcome[cell.id] = 'done'
    except DatasetUnavailable as e:
      outcome[cell.id] = mark_unavailable(cell_dir, e)
      print(f'[{i}/{len(plans)}] {cell.id}: unavailable: {e}', flush=True)
    except Busy as e:
      outcome[cell.id] = f'busy: {e}'
      print(f'[{i}/{len(plans)}] {cell.id}: left to the process running it: {e}', flush=True)
  return outcome


def mark_unavailable(cell_dir, error):
  """Records in cell_dir that its dataset is not prepared (render shows why) -> the cell's outcome."""
  os.makedirs(cell_dir, exist_ok=True)
  workdir_lib.write_atomic(os.path.join(cell_dir, render.UNAVAILABLE),
                           json.dumps(dict(status='unavailable', reason=str(error))))
  return f'unavailable: {error}'

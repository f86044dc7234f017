"""Runs a table's cells: resumable, shardable, one trainer workdir per cell.

Every cell's config is built and checked (train.check: rule names,
overrides, every field) before any training starts. A cell whose workdir holds a summary.json for the same
config is skipped, so an interrupted table re-run loses only the cell that
was running; summary.json is written last and atomically. `shard=(i, n)`
takes every n-th cell from the i-th (0-based), a deterministic split for job
arrays. A cell whose dataset is not prepared is reported and left unrun.
"""
import json
import os

from local_learning import train, workdir as workdir_lib
from local_learning.bench import render
from local_learning.errors import DatasetUnavailable, UserError


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
  """Trains the selected cells; returns {cell id: 'done' | 'skipped' | 'unavailable: ...'}."""
  cells = select(table, shard, cells_filter)
  configs = [cell.build_config(seeds or table.seeds, root) for cell in cells]
  cell_tasks = [train.check(config)[0] for config in configs]
  outcome = {}
  for i, (cell, config, task) in enumerate(zip(cells, configs, cell_tasks), 1):
    cell_dir = os.path.join(workdir, cell.id)
    if workdir_lib.Workdir(cell_dir, task).finished(config, overwrite) is not None:
      outcome[cell.id] = 'skipped'
      print(f'[{i}/{len(cells)}] {cell.id}: finished before, skipped', flush=True)
      continue
    print(f'[{i}/{len(cells)}] {cell.id}: training ({config.num_seeds} seeds)', flush=True)
    try:
      train.train_and_evaluate(config, cell_dir, overwrite)
      outcome[cell.id] = 'done'
    except DatasetUnavailable as e:
      outcome[cell.id] = f'unavailable: {e}'
      os.makedirs(cell_dir, exist_ok=True)
      workdir_lib.write_atomic(os.path.join(cell_dir, render.UNAVAILABLE),
                               json.dumps(dict(status='unavailable', reason=str(e))))
      print(f'[{i}/{len(cells)}] {cell.id}: unavailable: {e}', flush=True)
  return outcome


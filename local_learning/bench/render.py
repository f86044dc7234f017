"""Renders a table's workdir: table.md, table.csv and PNG plots.

Cells show the final-round metric as mean ± std over seeds (never the best
round, unless asked, and then in a labelled extra section). Diverged seeds
are left out of the mean and counted in the cell. Each summary's task
(local_learning.tasks) says which metric it shows and how.
"""
import csv
import dataclasses
import datetime
import json
import os
import subprocess
from typing import Any

import jax
import numpy as np

from local_learning import provenance, records, registry, tasks, workdir as workdir_lib

UNAVAILABLE = 'unavailable.json'   # written by the runner where a dataset is not prepared


@dataclasses.dataclass(frozen=True)
class Result:
  """A cell and what its workdir holds: a Summary, or why it has none, and the metrics lines."""
  cell: Any
  summary: Any = None             # records.Summary of a finished run
  unavailable: str = ''           # the reason, where the dataset was not prepared
  lines: tuple = ()

  @property
  def task(self):
    return tasks.get(self.summary.task) if self.summary else None


def collect(table, workdir):
  """[Result] in table order."""
  results = []
  for cell in table.cells:
    path = os.path.join(workdir, cell.id)
    unavailable = workdir_lib.read_json(os.path.join(path, UNAVAILABLE))
    data = workdir_lib.read_json(os.path.join(path, 'summary.json'))
    if data is None:
      results.append(Result(cell, unavailable=unavailable['reason'] if unavailable else ''))
      continue
    summary = tasks.read_summary(data)
    lines = ()
    if os.path.exists(os.path.join(path, 'metrics.jsonl')):
      with open(os.path.join(path, 'metrics.jsonl')) as f:
        lines = tuple(json.loads(line) for line in f if line.strip())
    results.append(Result(cell, summary, lines=lines))
  return results


def cell_text(result, best=False):
  """'97.87 ± 0.13' (n seeds; diverged ones noted, a stale result marked), or a reason it is empty."""
  if result.summary is None:
    return 'dataset not prepared' if result.unavailable else 'not run'
  summary, task = result.summary, result.task
  values = summary.values(task.metric, best) * task.scale
  text = f'{np.mean(values):.2f} ± {np.std(values):.2f}' if values.size else 'diverged'
  if values.size and summary.diverged_seeds:
    text += f' ({len(summary.diverged_seeds)}/{len(summary.seeds)} diverged)'
  return text + (' (stale)' if _stale(summary) else '')


def speed_text(result):
  if result.summary is None:
    return ''
  speed = {**result.summary.speed, 'train_seconds': result.summary.train_seconds}
  return ', '.join(f'{_figures(speed[key])} {unit}' for key, unit in result.task.speed_cells)


def header(results):
  devices = sorted({r.summary.device for r in results if r.summary}) or [jax.devices()[0].device_kind]
  try:
    commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True,
                            check=True).stdout.strip()
  except (OSError, subprocess.CalledProcessError):
    commit = 'unknown'
  return (f'date {datetime.date.today().isoformat()} | commit {commit} | jax {jax.__version__} | '
          f'device {", ".join(devices)}')


def markdown(table, results, best=False):
  rows = list(dict.fromkeys(r.cell.row for r in results))
  columns = list(dict.fromkeys(r.cell.column for r in results))
  by_place = {(r.cell.row, r.cell.column): r for r in results}
  finished = [r for r in results if r.summary]
  labels = sorted({r.task.metric_label for r in finished}) or ['metric']
  seeds = sorted({len(r.summary.seeds) for r in finished})
  unit = '/'.join(sorted({r.task.round_name for r in finished})) or 'epoch'
  lines = [f'# {table.name}', '']
  if table.description:
    lines += [' '.join(table.description.strip().split('\n\n')[0].split()), '']
  lines += [header(results), '',
            f'{" / ".join(labels)} at the end of training (final {unit}, not best), mean ± std over '
            f'{"/".join(map(str, seeds)) or "?"} seed{"" if seeds == [1] else "s"}.', '']

  def grid(text_of):
    out = ['| rule | ' + ' | '.join(columns) + ' |', '|---' * (len(columns) + 1) + '|']
    for row in rows:
      out.append(f'| {row} | ' + ' | '.join(text_of(by_place[row, col]) if (row, col) in by_place else ''
                                            for col in columns) + ' |')
    return out

  lines += grid(cell_text)
  if best:
    lines += ['', f'## Best {unit} per seed (optimistic; for comparison with the literature only)', '']
    lines += grid(lambda r: cell_text(r, best=True) if r.summary else '')
  lines += ['', '## Speed', ''] + grid(speed_text)
  return '\n'.join(lines) + '\n'


def write_csv(results, path):
  fields = ['row', 'column', 'x', 'status', 'metric', 'mean', 'std', 'seeds', 'diverged_seeds',
            'best_mean', 'best_std', 'steps_per_second', 'samples_per_second', 'seconds_per_epoch',
            'train_seconds']
  with open(path, 'w', newline='') as f:
    writer = csv.DictWriter(f, fieldnames=fields)
    writer.writeheader()
    for r in results:
      row = dict(row=r.cell.row, column=r.cell.column, x=r.cell.x,
                 status=r.summary.status if r.summary else 'unavailable' if r.unavailable else 'not run')
      if r.summary:
        metric = r.task.metric
        stats = records.summarize({'final': records.from_list(r.summary.results.get(metric, [])),
                                   'best': records.from_list(r.summary.best.get(metric, []))})
        row.update({k: v for k, v in r.summary.speed.items() if k in fields})
        row.update(metric=metric, mean=stats['final'], std=stats['final_std'], seeds=len(r.summary.seeds),
                   diverged_seeds=len(r.summary.diverged_seeds), best_mean=stats['best'],
                   best_std=stats['best_std'], train_seconds=r.summary.train_seconds)
      writer.writerow(row)


def plot(table, results, workdir):
  """Learning curves per column, and the table's metric-against-x plot; returns file names."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

  files = []
  for column in dict.fromkeys(r.cell.column for r in results):
    fig, ax = plt.subplots(figsize=(5, 3.5))
    labels = set()
    for r in results:
      if r.cell.column != column or not r.lines or f'{r.task.metric}_per_seed' not in r.lines[0]:
        continue
      curves = np.array([records.from_list(line[f'{r.task.metric}_per_seed']) for line in r.lines]) * r.task.scale
      mean, std = np.nanmean(curves, axis=1), np.nanstd(curves, axis=1)
      rounds = [line[r.task.round_name] for line in r.lines]
      ax.plot(rounds, mean, label=r.cell.row)
      ax.fill_between(rounds, mean - std, mean + std, alpha=0.2)
      labels.add((r.task.round_name, r.task.metric_label))
    if ax.lines:
      ax.set(xlabel=' / '.join(sorted({x for x, _ in labels})),
             ylabel=' / '.join(sorted({y for _, y in labels})), title=column)
      ax.legend()
      files.append(_save(fig, workdir, f'curves_{_slug(column)}.png'))
    plt.close(fig)
  if table.plot_x:
    fig, ax = plt.subplots(figsize=(5, 3.5))
    labels = set()
    for row in dict.fromkeys(r.cell.row for r in results):
      points = sorted(((r.cell.x, r) for r in results if r.cell.row == row and r.summary and r.cell.x is not None),
                      key=lambda p: p[0])
      xs, means, stds = [], [], []
      for x, r in points:
        values = r.summary.values(r.task.metric) * r.task.scale
        labels.add(r.task.metric_label)
        xs.append(x)
        means.append(np.mean(values) if values.size else np.nan)
        stds.append(np.std(values) if values.size else np.nan)
      if xs:
        ax.errorbar(xs, means, yerr=stds, marker='o', capsize=3, label=row)
    if ax.lines:
      ax.set(xlabel=table.plot_x, ylabel=' / '.join(sorted(labels)), title=table.name)
      ax.legend()
      files.append(_save(fig, workdir, f'{_slug(table.name)}_vs_{_slug(table.plot_x)}.png'))
    plt.close(fig)
  return files


def render(table, workdir, best=False):
  """Writes table.md, table.csv and the plots into workdir; returns the markdown."""
  results = collect(table, workdir)
  text = markdown(table, results, best)
  workdir_lib.write_atomic(os.path.join(workdir, 'table.md'), text)
  write_csv(results, os.path.join(workdir, 'table.csv'))
  plot(table, results, workdir)
  return text


def _stale(summary):
  """Whether the summary's rule code has changed since it ran (for a rule known here)."""
  if not summary.provenance or summary.rule not in registry.names():
    return False
  return bool(workdir_lib.stale(summary.provenance, provenance.of_run(registry.get(summary.rule))))


def _figures(value):
  """value to 3 significant figures, without an exponent: 1841.25 -> '1841', 0.0123 -> '0.0123'."""
  return f'{value:.0f}' if value >= 100 else f'{float(f"{value:.3g}"):g}'


def _save(fig, workdir, name):
  fig.tight_layout()
  fig.savefig(os.path.join(workdir, name), dpi=120)
  return name


def _slug(text):
  return ''.join(ch if ch.isalnum() else '_' for ch in str(text)).strip('_')

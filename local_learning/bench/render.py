"""Renders a table's workdir: table.md, table.csv and PNG plots.

Cells show the final-epoch metric as mean ± std over seeds (never the best
epoch, unless asked, and then in a labelled extra section). Diverged seeds
are left out of the mean and counted in the cell.
"""
import csv
import datetime
import json
import os
import subprocess

import jax
import numpy as np

from local_learning import workdir as workdir_lib

# task -> (summary key, display scale, label)
METRICS = {
    'classification': ('test_accuracy', 100.0, 'test accuracy (%)'),
    'separation': ('msnr_db', 1.0, 'mSNR (dB)'),
}


def collect(table, workdir):
  """[(cell, summary or None, per-epoch records)] in table order."""
  results = []
  for cell in table.cells:
    cell_dir = os.path.join(workdir, cell.id)
    summary = (workdir_lib.read_summary(cell_dir)
               or workdir_lib.read_json(os.path.join(cell_dir, UNAVAILABLE)))
    records = []
    if summary is not None and os.path.exists(os.path.join(cell_dir, 'metrics.jsonl')):
      with open(os.path.join(cell_dir, 'metrics.jsonl')) as f:
        records = [json.loads(line) for line in f]
    results.append((cell, summary, records))
  return results


UNAVAILABLE = 'unavailable.json'   # written by the runner where a dataset is not prepared


def metric_of(summary):
  return METRICS[summary.get('task', 'classification')]


def cell_text(summary, key=None):
  """'97.87 ± 0.13' (n seeds; diverged ones noted), or a reason it is empty."""
  if summary is None:
    return 'not run'
  if summary.get('status') == 'unavailable':
    return 'dataset not prepared'
  name, scale, _ = metric_of(summary)
  key = key or name
  values = [v for v in summary.get(f'{key}_per_seed', []) if v is not None]
  if not values:
    return 'diverged'
  text = f'{np.mean(values) * scale:.2f} ± {np.std(values) * scale:.2f}'
  diverged = len(summary.get('diverged_seeds', []))
  if diverged:
    text += f' ({diverged}/{len(summary["seeds"])} diverged)'
  return text


def speed_text(summary):
  if summary is None or summary.get('status') == 'unavailable':
    return ''
  if 'steps_per_second' in summary:
    return f'{_figures(summary["steps_per_second"])} steps/s, {_figures(summary["seconds_per_epoch"])} s/epoch'
  return f'{_figures(summary["samples_per_second"])} samples/s, {_figures(summary["train_seconds"])} s'


def header(table, results):
  summaries = [s for _, s, _ in results if s and 'device' in s]
  devices = sorted({s.get('device', '?') for s in summaries}) or [jax.devices()[0].device_kind]
  try:
    commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True,
                            check=True).stdout.strip()
  except (OSError, subprocess.CalledProcessError):
    commit = 'unknown'
  return (f'date {datetime.date.today().isoformat()} | commit {commit} | jax {jax.__version__} | '
          f'device {", ".join(devices)}')


def markdown(table, results, best=False):
  rows = list(dict.fromkeys(c.row for c, _, _ in results))
  columns = list(dict.fromkeys(c.column for c, _, _ in results))
  by_place = {(c.row, c.column): s for c, s, _ in results}
  finished = [s for _, s, _ in results if s and 'seeds' in s]
  labels = sorted({metric_of(s)[2] for s in finished}) or ['metric']
  seeds = sorted({len(s['seeds']) for s in finished})
  lines = [f'# {table.name}', '']
  if table.description:
    lines += [' '.join(table.description.strip().split('\n\n')[0].split()), '']
  lines += [header(table, results), '',
            f'{" / ".join(labels)} at the end of training (final epoch, not best), mean ± std over '
            f'{"/".join(map(str, seeds)) or "?"} seed{"" if seeds == [1] else "s"}.', '']

  def grid(text_of):
    out = ['| rule | ' + ' | '.join(columns) + ' |', '|---' * (len(columns) + 1) + '|']
    for row in rows:
      out.append(f'| {row} | ' + ' | '.join(text_of(by_place.get((row, col))) if (row, col) in by_place
                                            else '' for col in columns) + ' |')
    return out

  lines += grid(cell_text)
  if best:
    lines += ['', '## Best epoch per seed (optimistic; for comparison with the literature only)', '']
    lines += grid(lambda s: cell_text(s, 'best_test_accuracy') if s and 'best_test_accuracy' in s else '')
  lines += ['', '## Speed', ''] + grid(speed_text)
  return '\n'.join(lines) + '\n'


def write_csv(results, path):
  fields = ['row', 'column', 'x', 'status', 'metric', 'mean', 'std', 'seeds', 'diverged_seeds',
            'best_mean', 'best_std', 'steps_per_second', 'seconds_per_epoch', 'train_seconds']
  with open(path, 'w', newline='') as f:
    writer = csv.DictWriter(f, fieldnames=fields)
    writer.writeheader()
    for cell, summary, _ in results:
      row = dict(row=cell.row, column=cell.column, x=cell.x, status=summary['status'] if summary else 'not run')
      if summary and summary['status'] != 'unavailable':
        name = metric_of(summary)[0]
        row.update(metric=name, mean=summary.get(name), std=summary.get(f'{name}_std'),
                   seeds=len(summary['seeds']), diverged_seeds=len(summary.get('diverged_seeds', [])),
                   best_mean=summary.get(f'best_{name}'), best_std=summary.get(f'best_{name}_std'),
                   steps_per_second=summary.get('steps_per_second'),
                   seconds_per_epoch=summary.get('seconds_per_epoch'),
                   train_seconds=summary.get('train_seconds'))
      writer.writerow(row)


def plot(table, results, workdir):
  """Learning curves per column, and the table's metric-against-x plot; returns file names."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

  files = []
  for column in dict.fromkeys(c.column for c, _, _ in results):
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for cell, summary, records in results:
      if cell.column != column or not records or 'test_accuracy_per_seed' not in records[0]:
        continue
      curves = np.array([[np.nan if v is None else v for v in r['test_accuracy_per_seed']] for r in records])
      mean, std = np.nanmean(curves, axis=1) * 100, np.nanstd(curves, axis=1) * 100
      epochs = [r['epoch'] for r in records]
      ax.plot(epochs, mean, label=cell.row)
      ax.fill_between(epochs, mean - std, mean + std, alpha=0.2)
    if ax.lines:
      ax.set(xlabel='epoch', ylabel='test accuracy (%)', title=column)
      ax.legend()
      files.append(_save(fig, workdir, f'curves_{_slug(column)}.png'))
    plt.close(fig)
  if table.plot_x:
    fig, ax = plt.subplots(figsize=(5, 3.5))
    labels = set()
    for row in dict.fromkeys(c.row for c, _, _ in results):
      points = [(c.x, s) for c, s, _ in results if c.row == row and s and 'seeds' in s and c.x is not None]
      xs, means, stds = [], [], []
      for x, summary in sorted(points, key=lambda p: p[0]):
        name, scale, label = metric_of(summary)
        values = [v for v in summary[f'{name}_per_seed'] if v is not None]
        labels.add(label)
        xs.append(x)
        means.append(np.mean(values) * scale if values else np.nan)
        stds.append(np.std(values) * scale if values else np.nan)
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


def _figures(value):
  """value to 3 significant figures, without an exponent: 1841.25 -> '1841', 0.0123 -> '0.0123'."""
  return f'{value:.0f}' if value >= 100 else f'{float(f"{value:.3g}"):g}'


def _save(fig, workdir, name):
  fig.tight_layout()
  fig.savefig(os.path.join(workdir, name), dpi=120)
  return name


def _slug(text):
  return ''.join(ch if ch.isalnum() else '_' for ch in str(text)).strip('_')

"""A table's PNG plots: learning curves per column, and the metric against the cells' x
(with the published values, where cells have references, dashed); heatmap and curves
for a spec's own plots (Table.extra)."""
import os

import numpy as np

from local_learning import records


def draw(table, results, workdir):
  """Writes the plots of a table's results (render.Result) into workdir; returns their file names."""
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
      xs, means, cis = [], [], []
      for x, r in points:
        spread = r.spread
        labels.add(r.task.metric_label)
        xs.append(x)
        means.append(spread.mean)
        cis.append(0.0 if spread.n < 2 else spread.ci)
      if xs:
        line = ax.errorbar(xs, means, yerr=cis, marker='o', capsize=3, label=row)
        published = [(x, r.cell.reference.value) for x, r in points if r.cell.reference]
        if published:
          ax.plot(*zip(*published), linestyle='--', color=line.lines[0].get_color(), label=f'{row} (published)')
    if ax.lines:
      ax.set(xlabel=table.plot_x, ylabel=' / '.join(sorted(labels)) + ' (95% CI)', title=table.name)
      ax.legend()
      files.append(_save(fig, workdir, f'{_slug(table.name)}_vs_{_slug(table.plot_x)}.png'))
    plt.close(fig)
  return files


def _save(fig, workdir, name):
  fig.tight_layout()
  fig.savefig(os.path.join(workdir, name), dpi=120)
  return name


def _slug(text):
  return ''.join(ch if ch.isalnum() else '_' for ch in str(text)).strip('_')


def heatmap(workdir, name, values, rows, columns, title, xlabel, ylabel, vmin=None, vmax=None):
  """A PNG of values (len(rows), len(columns)) (NaN: blank), each cell's number printed; -> name."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

  values = np.asarray(values, np.float64)
  fig, ax = plt.subplots(figsize=(1.1 * len(columns) + 2, 0.6 * len(rows) + 1.6))
  image = ax.imshow(values, cmap='viridis', vmin=vmin, vmax=vmax, aspect='auto', origin='lower')
  for (i, j), v in np.ndenumerate(values):
    if np.isfinite(v):
      ax.text(j, i, f'{v:.3f}', ha='center', va='center', color='w' if v < np.nanmean(values) else 'k', fontsize=8)
  ax.set(xticks=range(len(columns)), xticklabels=columns, yticks=range(len(rows)), yticklabels=rows,
         xlabel=xlabel, ylabel=ylabel, title=title)
  fig.colorbar(image, ax=ax)
  name = _save(fig, workdir, name)
  plt.close(fig)
  return name


def curves(workdir, name, lines, title, xlabel, ylabel, logx=False, logy=False):
  """A PNG of lines {label: (xs, ys)}, one colour each; -> name (None if there is nothing to draw)."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

  fig, ax = plt.subplots(figsize=(5, 3.5))
  for label, (xs, ys) in lines.items():
    ax.plot(xs, ys, label=label)
  if not ax.lines:
    plt.close(fig)
    return None
  ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
  if logx:
    ax.set_xscale('log')
  if logy:
    ax.set_yscale('log')
  ax.legend(fontsize=7)
  name = _save(fig, workdir, name)
  plt.close(fig)
  return name

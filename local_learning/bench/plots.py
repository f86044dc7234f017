"""A table's PNG plots: learning curves per column, accuracy against cost per column, and the metric
against the cells' x (with the published values, where cells have references, dashed); heatmap and
curves for a spec's own plots (Table.extra).

Rules keep apart by family (Rule.family): each family a hue, its rules shades of it with their own line
style and marker, the legend outside the axes in family groups; a run of one round (ica, infomax) is a
marker at the column's last round, not a line.
"""
import os

import numpy as np

from local_learning import records
from local_learning.rule import FAMILIES

# A colour map per family (its rules: shades of it), in FAMILIES' order; families not listed: 'other's.
FAMILY_COLOURS = {'backprop': 'Greys', 'PC family': 'Blues', 'feedback alignment': 'Oranges',
                  'energy-based': 'Greens', 'forward-only': 'Purples', 'separation': 'Reds', 'other': 'copper'}
LINE_STYLES = ('-', '--', '-.', ':')
COST = 'cost_'           # the file names of the accuracy-against-cost plots start so
MARKERS = ('o', 's', '^', 'D', 'v', 'P', 'X', '*', '<', '>')


def _pyplot():
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  return plt


def _ticker():
  import matplotlib.ticker  # pylint: disable=g-import-not-at-top
  return matplotlib.ticker


def family_order(family):
  """A family's place in FAMILIES (unknown families after them, before 'other')."""
  return FAMILIES.index(family) if family in FAMILIES[:-1] else len(FAMILIES) - 1 + (family == 'other')


def styles(results):
  """{row: dict(color, linestyle, marker, family)} for the rows of results (render.Result), grouped by family."""
  plt = _pyplot()
  families = {}
  for r in results:
    rows = families.setdefault(r.family, [])
    if r.cell.row not in rows:
      rows.append(r.cell.row)
  out = {}
  for family in sorted(families, key=family_order):
    rows = families[family]
    cmap = plt.get_cmap(FAMILY_COLOURS.get(family, 'copper'))
    shades = [0.8] if len(rows) == 1 else np.linspace(0.95, 0.45, len(rows))
    if family == 'backprop':
      shades = [1.0] * len(rows)
    for i, row in enumerate(rows):
      out.setdefault(row, dict(color=cmap(shades[i]), linestyle=LINE_STYLES[i % len(LINE_STYLES)],
                               marker=MARKERS[i % len(MARKERS)], family=family))
  return out


def draw(table, results, workdir):
  """Writes the plots of a table's results (render.Result) into workdir; returns their file names."""
  plt = _pyplot()
  style = styles(results)
  files = []
  for column in dict.fromkeys(r.cell.column for r in results):
    name = _cost_of_column(plt, table, column, results, style, workdir)
    files += [name] if name else []
  for column in dict.fromkeys(r.cell.column for r in results):
    name = _curves_of_column(plt, column, [r for r in results if r.cell.column == column], style, workdir)
    files += [name] if name else []
  if table.plot_x:
    fig, ax = plt.subplots(figsize=(7, 4))
    labels = set()
    for row in dict.fromkeys(r.cell.row for r in results):
      points = sorted(((r.cell.x, r) for r in results if r.cell.row == row and r.summary and r.cell.x is not None),
                      key=lambda p: p[0])
      xs, means, cis = [], [], []
      for x, r in points:
        spread = r.spread
        labels.add(r.metric_label)
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
      ax.legend(loc='upper left', bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
      files.append(_save(fig, workdir, f'{_slug(table.name)}_vs_{_slug(table.plot_x)}.png'))
    plt.close(fig)
  return files


def _curves_of_column(plt, column, results, style, workdir):
  """Learning curves (mean over seeds, ± std shaded) of a column's rules -> the PNG's name, or None."""
  shown = [r for r in results if r.lines and f'{r.task.metric}_per_seed' in r.lines[0]]
  if not shown:
    return None
  fig, ax = plt.subplots(figsize=(8, 4.5))
  first = min(line[r.task.round_name] for r in shown for line in r.lines)
  last = max(line[r.task.round_name] for r in shown for line in r.lines)
  single = [r.cell.row for r in shown if len(r.lines) == 1]
  entries = {}
  for r in sorted(shown, key=lambda r: family_order(style[r.cell.row]['family'])):
    curves = np.array([records.from_list(line[f'{r.task.metric}_per_seed']) for line in r.lines]) * r.task.scale
    mean, std = np.nanmean(curves, axis=1), np.nanstd(curves, axis=1)
    rounds = [line[r.task.round_name] for line in r.lines]
    s = style[r.cell.row]
    if len(rounds) == 1:               # one round (a batch algorithm): a marker at the column's last round
      dx = (single.index(r.cell.row) - (len(single) - 1) / 2) * 0.02 * max(last - first, 1)   # side by side
      handle = ax.errorbar([last + dx], mean, yerr=std, color=s['color'], marker=s['marker'], markersize=8,
                           linestyle='none', capsize=3, markeredgecolor='k')
      label = f'{r.cell.row} (one round)'
    else:
      (handle,) = ax.plot(rounds, mean, color=s['color'], linestyle=s['linestyle'], marker=s['marker'],
                          markevery=max(1, len(rounds) // 6), markersize=4, linewidth=1.4)
      ax.fill_between(rounds, mean - std, mean + std, color=s['color'], alpha=0.08, linewidth=0)
      label = r.cell.row
    entries.setdefault(s['family'], []).append((handle, label))
  ax.set(xlabel=' / '.join(sorted({r.task.round_name for r in shown})),
         ylabel=' / '.join(sorted({r.metric_label for r in shown})), title=f'{column}: mean over seeds ± std')
  ax.grid(alpha=0.3)
  _family_legend(ax, entries)
  name = _save(fig, workdir, f'curves_{_slug(column)}.png')
  plt.close(fig)
  return name


def _cost_of_column(plt, table, column, results, style, workdir):
  """The column's metric (mean ± 95% CI) against time per step relative to the baseline (or seconds per step
  where the column has no baseline), log x, the Pareto front (faster or better than every other) marked;
  -> the PNG's name, or None. A higher metric is better (test accuracy, mSNR)."""
  cells = [r for r in results if r.cell.column == column and r.summary and r.spread.n]
  baseline = next((r for r in cells if r.cell.row == table.baseline), None)
  points = []
  for r in cells:
    key, unit = r.task.speed_cells[0]
    speed = r.summary.speed.get(key)
    base = baseline.summary.speed.get(key) if baseline else None
    if not speed:
      continue
    x = base / speed if base else 1.0 / speed
    points.append((x, r.spread.mean, 0.0 if r.spread.n < 2 else r.spread.ci, r))
  if len(points) < 2:
    return None
  unit = points[0][3].task.speed_cells[0][1].split('/')[0].rstrip('s') or 'step'
  xlabel = f'time per {unit} relative to {table.baseline} (log)' if baseline else f'seconds per {unit} (log)'
  fig, ax = plt.subplots(figsize=(8, 4.5))
  entries = {}
  for x, y, ci, r in sorted(points, key=lambda p: family_order(style[p[3].cell.row]['family'])):
    s = style[r.cell.row]
    handle = ax.errorbar([x], [y], yerr=[ci], color=s['color'], marker=s['marker'], markersize=7, capsize=3,
                         linestyle='none', markeredgecolor='k', markeredgewidth=0.5)
    entries.setdefault(s['family'], []).append((handle, r.cell.row))
  ax.set_xscale('log')
  ticker = _ticker()
  ax.xaxis.set_minor_locator(ticker.LogLocator(subs=(2, 5)))          # ticks at 1, 2, 5 x 10^k, as numbers
  for axis in (ax.xaxis.set_major_formatter, ax.xaxis.set_minor_formatter):
    axis(ticker.FuncFormatter(lambda v, _: f'{v:.3g}'))
  _label(ax, [(x, y, r.cell.row) for x, y, _, r in points])
  front = pareto_front([(x, y) for x, y, _, _ in points])
  (line,) = ax.plot(*zip(*front), color='k', linestyle='--', linewidth=1, drawstyle='steps-post', zorder=0)
  ax.plot(*zip(*front), linestyle='none', marker='o', markersize=13, markerfacecolor='none', markeredgecolor='k')
  entries.setdefault('', []).append((line, 'Pareto front'))
  label = points[0][3].metric_label
  ax.set(xlabel=xlabel, ylabel=f'{label} (95% CI)', title=f'{column}: {label.split(" (")[0]} against cost')
  ax.grid(alpha=0.3, which='both')
  _family_legend(ax, entries)
  name = _save(fig, workdir, f'{COST}{_slug(column)}.png')
  plt.close(fig)
  return name


def _label(ax, points, fontsize=7):
  """Writes each point's label [(x, y, text)] beside it where it overlaps no marker or label placed before
  (tried right, left, above, below), else at its right."""
  ax.figure.canvas.draw()                        # the axes' final limits: data -> display coordinates
  scale = 72 / ax.figure.dpi                     # display pixels -> points
  at = [tuple(ax.transData.transform((x, y)) * scale) for x, y, _ in points]
  taken = [(px - 5, py - 5, px + 5, py + 5) for px, py in at]
  height = fontsize * 1.2
  for (px, py), (x, y, text) in sorted(zip(at, points), key=lambda p: -p[0][1]):
    width = 0.62 * fontsize * len(text)
    offsets = [(6, 2), (-6 - width, 2), (6, -height), (-6 - width, -height), (6, 2 + height),
               (6, -2 * height), (-6 - width, 2 + height), (-6 - width, -2 * height)]
    for dx, dy in offsets:
      box = (px + dx, py + dy, px + dx + width, py + dy + height)
      if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in taken):
        break
    else:
      dx, dy = offsets[0]
      box = (px + dx, py + dy, px + dx + width, py + dy + height)
    taken.append(box)
    ax.annotate(text, (x, y), xytext=(dx, dy), textcoords='offset points', fontsize=fontsize)


def pareto_front(points):
  """The points (x cost, y metric) no other point beats in both (x lower or equal, y higher or equal, one
  strictly), sorted by x."""
  front, best = [], -np.inf
  for x, y in sorted(points, key=lambda p: (p[0], -p[1])):
    if y > best:
      front.append((x, y))
      best = y
  return front


def _family_legend(ax, entries):
  """A legend outside the axes, right: each family's name in bold above its rules ({family: [(handle, label)]})."""
  from matplotlib.lines import Line2D  # pylint: disable=g-import-not-at-top
  handles, labels, headers = [], [], []
  for family, items in entries.items():
    if family:
      headers.append(len(labels))
      handles.append(Line2D([], [], linestyle='none'))
      labels.append(family)
    for handle, label in items:
      handles.append(handle)
      labels.append(label)
  legend = ax.legend(handles, labels, loc='upper left', bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False,
                     ncol=1 if len(labels) <= 30 else 2, handlelength=2.5)
  for i in headers:
    legend.get_texts()[i].set_fontweight('bold')


def _save(fig, workdir, name):
  fig.tight_layout()
  fig.savefig(os.path.join(workdir, name), dpi=120, bbox_inches='tight')
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

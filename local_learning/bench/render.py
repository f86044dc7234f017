"""Renders a table's workdir: table.md, table.csv, table.html, manifest.json and PNG plots.

Cells show the final-round metric over seeds (never the best round, unless
asked, and then in a labelled extra section) as mean ± its 95% confidence
interval (or ± std), n seeds; diverged seeds are left out and counted. Then:
each cell paired with its column's baseline rule (mean difference, paired
t-test, Cohen's d), its costs (compile time, speed, memory, FLOPs, and both
relative to the baseline), and its reproduction of a published number where
the spec gives one. Each summary's task (local_learning.tasks) says which
metric it shows and how. A tuned table's cells (CELL/tuning/best.json, bench.tuned)
add a "Tuned settings" section, CSV columns, the studies in manifest.json and
each study's optimisation history and parameter importances. A cell made by
code that has changed since is marked (stale), the note under the table says
what that means, and table.csv's status is `stale`.
"""
import csv
import dataclasses
import functools
import json
import math
import os
from typing import Any

from local_learning import provenance, records, registry, tasks
from local_learning import workdir as workdir_lib
from local_learning.bench import manifest as manifest_lib
from local_learning.bench import plots
from local_learning.bench import report as report_lib
from local_learning.bench.stats import Paired, Spread
from local_learning.errors import UserError
from local_learning.tuning import plots as tuning_plots
from local_learning.tuning import storage as tuning_storage
from local_learning.tuning import study as tuning_study

UNAVAILABLE = 'unavailable.json'   # written by the runner where a dataset is not prepared
STALE_LEGEND = ('(stale): the rule\'s code, or the code it ran, changed since the cell ran; its number is of the '
                'old code (--overwrite re-runs it).')
TUNING = 'tuning'                  # a tuned table's study of a cell: CELL/tuning/


@dataclasses.dataclass(frozen=True)
class Result:
  """A cell and what its workdir holds: a Summary, or why it has none, and the metrics lines."""
  cell: Any
  summary: Any = None             # records.Summary of a finished run
  unavailable: str = ''           # the reason, where the dataset was not prepared
  lines: tuple = ()
  tuning: dict | None = None             # CELL/tuning/best.json of a tuned table's cell
  on_validation: bool = False     # evaluated on a validation split (config.validation_examples), not the test set

  @property
  def task(self):
    return tasks.get(self.summary.task) if self.summary else None

  @property
  def metric_label(self):
    """The task's metric label, 'validation accuracy (%)' rather than 'test accuracy (%)' where the run
    evaluated on a validation split."""
    label = self.task.metric_label
    return label.replace('test', 'validation', 1) if self.on_validation else label

  def values(self, best=False):
    """Per-seed values of the task's metric in display units (NaN: diverged)."""
    metric = self.summary.best if best else self.summary.results
    return records.from_list(metric.get(self.task.metric, [])) * self.task.scale

  @property
  def spread(self):
    return Spread.of(self.values())

  @property
  def family(self):
    """The rule's family (Rule.family): of the rule that ran, else of a rule named as the row, else 'other'."""
    name = self.summary.rule if self.summary else self.cell.row
    return registry.get(name).family if name in registry.names() else 'other'

  @functools.cached_property
  def stale(self):
    return bool(self.summary and _stale(self.summary))


def collect(table, workdir):
  """[Result] in table order."""
  results = []
  for cell in table.cells:
    path = os.path.join(workdir, cell.id)
    unavailable = workdir_lib.read_json(os.path.join(path, UNAVAILABLE))
    data = workdir_lib.read_json(os.path.join(path, 'summary.json'))
    tuning = tuning_study.read_best(os.path.join(path, TUNING))
    if data is None:
      results.append(Result(cell, unavailable=unavailable['reason'] if unavailable else '', tuning=tuning))
      continue
    results.append(Result(cell, _summary(data, os.path.join(path, 'summary.json')),
                          lines=_metrics(os.path.join(path, 'metrics.jsonl')), tuning=tuning,
                          on_validation=on_validation(workdir_lib.read_json(os.path.join(path, 'config.json')))))
  return results


def on_validation(config: Any) -> bool:
  """Whether a run's config (a dict or ConfigDict; None: unknown) evaluates on a validation split."""
  return hasattr(config, 'get') and (config.get('validation_examples') or 0) > 0


def _summary(data, path):
  """The records.Summary of summary.json's `data`; a wrong type or a missing field is a UserError."""
  try:
    if not isinstance(data, dict):
      raise TypeError(f'a JSON {type(data).__name__}, not an object')
    return tasks.read_summary(data)
  except (AttributeError, KeyError, TypeError, ValueError) as e:
    raise UserError(f'{path} is damaged ({type(e).__name__}: {e}); re-run the cell with --overwrite') from None


def _metrics(path):
  """metrics.jsonl's rounds, a torn last line left out; () where there is none."""
  if not os.path.exists(path):
    return ()
  with open(path, errors='replace') as f:
    lines = [line for line in f.read().split('\n') if line.strip()]
  out = []
  for i, line in enumerate(lines):
    try:
      record = json.loads(line)
    except json.JSONDecodeError:
      if i == len(lines) - 1:             # torn while written: the rounds before it stand
        break
      raise UserError(f'{path} is damaged at line {i + 1}; re-run the cell with --overwrite') from None
    if not isinstance(record, dict):
      raise UserError(f'{path} is damaged at line {i + 1} (not a JSON object); re-run the cell with --overwrite')
    out.append(record)
  return tuple(out)


@dataclasses.dataclass(frozen=True)
class Section:
  """A titled grid: rows of (label, [cell text per column]); a grid over the table's cells also has
  `results`: per row, the render.Result (or None) of each column, for the HTML report's links and groups."""
  title: str
  note: str
  columns: list
  rows: list
  results: list | None = None


@dataclasses.dataclass
class Report:
  """What render() made: the markdown, and the reproduction cells [(result, reference check)]."""
  markdown: str
  references: list

  def failed_references(self):
    return [f'{r.cell.id}: {check}' for r, (inside, check) in self.references if not inside]


def render(table, workdir, best=False, spread='ci'):
  """Writes table.md, table.csv, table.html, manifest.json and the plots; returns the Report."""
  results = collect(table, workdir)
  os.makedirs(workdir, exist_ok=True)
  manifest = manifest_lib.build(table, [r.summary for r in results if r.summary])
  if table.overrides:
    manifest['overrides'] = dict(table.overrides)
  studies = {r.cell.id: _study_record(r, workdir) for r in results if r.tuning}
  if studies:
    manifest['tuning'] = studies
  workdir_lib.write_atomic(os.path.join(workdir, 'manifest.json'), json.dumps(manifest, indent=2))
  sections = _sections(table, results, best, spread)
  extra_sections, extra_images = table.extra(results, workdir) if table.extra else ([], [])
  sections += extra_sections
  references = [(r, reference_check(r)) for r in results if r.cell.reference]
  title = f'# {table.name}'
  intro = [' '.join(table.description.strip().split('\n\n')[0].split())] if table.description else []
  header = manifest_lib.header(manifest)
  text = '\n'.join([title, '', *(intro + [''] if intro else []), header, '', *[_markdown(s) for s in sections]])
  workdir_lib.write_atomic(os.path.join(workdir, 'table.md'), text)
  write_csv(table, results, os.path.join(workdir, 'table.csv'))
  images = plots.draw(table, results, workdir) + list(extra_images)
  for r in results:
    if r.tuning:
      folder = os.path.join(workdir, r.cell.id, TUNING)
      images += [os.path.relpath(p, workdir) for p in tuning_plots.draw(folder, r.cell.id, r.tuning['storage'])]
  lead = [name for name in images if name.startswith(plots.COST)]        # accuracy against cost: under the results
  report_lib.write_html(os.path.join(workdir, 'table.html'), table.name, ' '.join(intro), header, sections,
                        [os.path.join(workdir, name) for name in images if name not in lead],
                        [os.path.join(workdir, name) for name in lead])
  return Report(text, references)


def _sections(table, results, best, spread):
  rows = list(dict.fromkeys(r.cell.row for r in results))
  columns = list(dict.fromkeys(r.cell.column for r in results))
  at = {(r.cell.row, r.cell.column): r for r in results}
  finished = [r for r in results if r.summary]
  labels = ' / '.join(sorted({r.metric_label for r in finished})) or 'metric'
  unit = '/'.join(sorted({r.task.round_name for r in finished})) or 'epoch'
  counts = {c: {r.spread.n for r in finished if r.cell.column == c} for c in columns}
  headers = [f'{c} (n={counts[c].pop()})' if len(counts[c]) == 1 else c for c in columns]

  def grid(title, note, text_of, skip=()):
    kept = [row for row in rows if row not in skip]
    lines = [(row, [text_of(at[row, c]) if (row, c) in at else '' for c in columns]) for row in kept]
    return Section(title, note, headers, lines, [[at.get((row, c)) for c in columns] for row in kept])

  plus = '95% CI of the mean (t)' if spread == 'ci' else 'std (n - 1)'
  stale = (f' {STALE_LEGEND}' if any(r.stale for r in results) else '')
  sections = [grid('', f'{labels} at the end of training (final {unit}, not best): mean ± {plus}; n seeds; '
                   f'(ref X): a published value (see Reproduction).{stale}', lambda r: cell_text(r, spread))]
  if best:
    sections.append(grid(f'Best {unit} per seed', 'optimistic; for comparison with the literature only',
                         lambda r: cell_text(r, spread, best=True)))
  baselines = {c: at.get((table.baseline, c)) for c in columns}
  if any(b and b.summary for b in baselines.values()):
    sections.append(grid(f'Paired with {table.baseline}', 'difference of the means over the seeds both ran '
                         '(paired by seed), paired t-test p-value, Cohen\'s d',
                         lambda r: paired_text(r, baselines[r.cell.column]), skip=(table.baseline,)))
  sections.append(grid('Costs', f'compile time; speed; memory the compiled training call allocates (all '
                       f'seeds); matrix-product FLOPs of one seed\'s step; time and FLOPs per step relative to '
                       f'{table.baseline} in the column',
                       lambda r: cost_text(r, baselines.get(r.cell.column))))
  if any(r.tuning for r in results):
    sections.append(grid('Tuned settings', 'each cell\'s rule tuned on a validation split (the task\'s metric '
                         'there), trials counted as complete + pruned (diverged trials are pruned); the best trial\'s '
                         'hyperparameters then trained on the full training set with fresh seeds (the cells above)',
                         tuned_text))
  references = [r for r in results if r.cell.reference]
  if references:
    sections.append(Section('Reproduction', 'a published number beside ours: inside if |difference| <= '
                            'band (default max(0.5, 2 standard errors))',
                            ['column', 'ours', 'published', 'difference', 'band', 'inside', 'source'],
                            [(r.cell.row, _reference_cells(r)) for r in references]))
  return sections


def cell_text(result, spread='ci', best=False):
  """'97.87 ± 0.13' (diverged seeds noted, a stale result marked), or why the cell is empty."""
  if result.summary is None:
    return 'dataset not prepared' if result.unavailable else 'not run'
  summary = result.summary
  s = Spread.of(result.values(best))
  if not s.n:
    text = 'diverged'
  else:
    text = f'{s.mean:.2f}' + ('' if s.n == 1 else f' ± {(s.ci if spread == "ci" else s.std):.2f}')
  if s.n and summary.diverged_seeds:
    text += f' ({len(summary.diverged_seeds)}/{len(summary.seeds)} diverged)'
  if result.cell.reference and not best:
    inside, _ = reference_check(result)
    text += f' (ref {result.cell.reference.value:g}{"" if inside else ", outside"})'
  return text + (' (stale)' if result.stale else '')


def tuned_text(result):
  """'8/8 trials (2 pruned, 0 diverged); best validation 97.33; optimizer.learning_rate=0.0012, ...'."""
  tuning = result.tuning
  if not tuning:
    return ''
  counts = tuning['counts']
  text = (f'{counts["COMPLETE"] + counts["PRUNED"]}/{tuning["budget"]} trials ({counts["PRUNED"]} pruned, '
          f'{tuning["diverged"]} diverged)')
  best = tuning['best']
  if best is None:
    return text + '; no trial completed'
  scale = result.task.scale if result.summary else 1.0
  return text + f'; best validation {best["value"] * scale:.2f} (trial {best["number"]}); ' + _params(best['params'])


def paired_text(result, baseline):
  if not (result.summary and baseline and baseline.summary):
    return ''
  p = _paired(result, baseline)
  if not p.n:
    return 'no common seeds'
  text = f'{p.difference:+.2f}'
  if p.n < 2:
    return text
  if math.isnan(p.p):
    return text + ' (the same difference on every seed: no test)'
  return text + f' (p={_figures(p.p)}, d={p.d:+.2f})'


def cost_text(result, baseline):
  summary = result.summary
  if summary is None:
    return ''
  speed = {**summary.speed, 'train_seconds': summary.train_seconds}
  parts = [f'compile {_figures(summary.compile_seconds)} s']
  parts += [f'{_figures(speed[key])} {unit}' for key, unit in result.task.speed_cells]
  if summary.memory_bytes is not None:
    parts.append(f'{summary.memory_bytes / 2**20:.3g} MiB')
  if summary.flops_per_step is not None:
    parts.append(f'{summary.flops_per_step / 1e6:.4g} MFLOP')
  relative = _relative(result, baseline)
  if relative:
    parts.append(', '.join(f'{name} x{_figures(value)} {baseline.cell.row}' for name, value in relative.items()))
  return ', '.join(parts)


def reference_check(result):
  """(inside its band?, a sentence saying why) for a cell with a reference."""
  reference = result.cell.reference
  if result.summary is None:
    return False, f'no result to compare with {reference.value} ({reference.source})'
  s = result.spread
  band = _band(reference, s)
  difference = s.mean - reference.value
  inside = bool(s.n and abs(difference) <= band)
  return inside, (f'ours {s.mean:.2f} against {reference.value} ({reference.source}): difference '
                  f'{difference:+.2f}, band ±{band:.2f}: {"inside" if inside else "OUTSIDE"}')


def write_csv(table, results, path):
  fields = ['row', 'column', 'x', 'status', 'metric', 'n', 'mean', 'std', 'se', 'ci95', 'diverged_seeds',
            'best_mean', f'paired_{table.baseline}_difference', 'paired_p', 'cohens_d', 'compile_seconds',
            'steps_per_second', 'samples_per_second', 'seconds_per_epoch', 'train_seconds', 'memory_bytes',
            'flops_per_step', f'time_x{table.baseline}', f'flops_x{table.baseline}', 'reference',
            'reference_source', 'band', 'inside', 'tuned_budget', 'tuned_trials', 'tuned_pruned', 'tuned_diverged',
            'tuned_best_validation', 'tuned_best_trial', 'tuned_params']
  at = {(r.cell.row, r.cell.column): r for r in results}
  with open(path, 'w', newline='') as f:
    writer = csv.DictWriter(f, fieldnames=fields)
    writer.writeheader()
    for r in results:
      status = r.summary.status if r.summary else 'unavailable' if r.unavailable else 'not run'
      row = dict(row=r.cell.row, column=r.cell.column, x=r.cell.x,
                 status='stale' if r.stale else status)
      if r.summary:
        s, best = r.spread, Spread.of(r.values(best=True))
        baseline = at.get((table.baseline, r.cell.column))
        row.update({k: v for k, v in r.summary.speed.items() if k in fields})
        row.update(metric=r.task.metric, n=s.n, mean=s.mean, std=s.std, se=s.se, ci95=s.ci,
                   diverged_seeds=len(r.summary.diverged_seeds), best_mean=best.mean,
                   compile_seconds=r.summary.compile_seconds, train_seconds=r.summary.train_seconds,
                   memory_bytes=r.summary.memory_bytes, flops_per_step=r.summary.flops_per_step)
        if baseline and baseline.summary and baseline is not r:
          p = _paired(r, baseline)
          row.update({f'paired_{table.baseline}_difference': p.difference, 'paired_p': p.p, 'cohens_d': p.d})
        for name, value in _relative(r, baseline).items():
          row[f'{name}_x{table.baseline}'] = value
      if r.tuning:
        counts, best = r.tuning['counts'], r.tuning['best']
        row.update(tuned_budget=r.tuning['budget'], tuned_trials=counts['COMPLETE'] + counts['PRUNED'],
                   tuned_pruned=counts['PRUNED'], tuned_diverged=r.tuning['diverged'])
        if best:
          row.update(tuned_best_validation=best['value'], tuned_best_trial=best['number'],
                     tuned_params=json.dumps(best['params'], sort_keys=True))
      if r.cell.reference:
        inside, _ = reference_check(r)
        row.update(reference=r.cell.reference.value, reference_source=r.cell.reference.source,
                   band=_band(r.cell.reference, r.spread) if r.summary else None, inside=inside)
      writer.writerow(row)


def _params(params):
  return ', '.join(f'{k}={v:.3g}' if isinstance(v, float) else f'{k}={v}' for k, v in sorted(params.items()))


def _study_record(result, workdir):
  """A cell's study for manifest.json: its storage (a path relative to the table's folder), sampler, pruner,
  search space and its SHA-256, budget and counts."""
  tuning = result.tuning
  storage = tuning['storage'] or f'sqlite:///{result.cell.id}/{TUNING}/study.db'
  keys = ('budget', 'counts', 'sampler', 'pruner', 'space', 'space_sha256', 'diverged')
  return dict(storage=tuning_storage.without_path(storage, workdir), **{k: tuning[k] for k in keys})


def _paired(result, baseline):
  return Paired.of(result.summary.seeds, result.values(), baseline.summary.seeds, baseline.values())


def _relative(result, baseline):
  """{'time': seconds per step over the baseline's, 'flops': FLOPs over the baseline's}, where known."""
  if not (baseline and baseline.summary and baseline is not result and result.summary):
    return {}
  out = {}
  ours, theirs = result.summary, baseline.summary
  key = result.task.speed_cells[0][0]
  if ours.speed.get(key) and theirs.speed.get(key):
    out['time'] = theirs.speed[key] / ours.speed[key]
  if ours.flops_per_step and theirs.flops_per_step:
    out['flops'] = ours.flops_per_step / theirs.flops_per_step
  return out


def _band(reference, spread):
  if reference.band is not None:
    return reference.band
  return max(0.5, 2 * spread.se) if spread.n > 1 else 0.5


def _reference_cells(result):
  reference = result.cell.reference
  inside, _ = reference_check(result)
  if result.summary is None:
    return [result.cell.column, 'not run', f'{reference.value}', '', '', 'no', reference.source]
  s = result.spread
  return [result.cell.column, f'{s.mean:.2f}', f'{reference.value}', f'{s.mean - reference.value:+.2f}',
          f'±{_band(reference, s):.2f}', 'yes' if inside else 'NO', reference.source]


def _stale(summary):
  """Whether the summary's rule code has changed since it ran (for a rule known here)."""
  if not summary.provenance or summary.rule not in registry.names():
    return False
  return bool(workdir_lib.stale(summary.provenance, provenance.of_run(registry.get(summary.rule))))


def _markdown(section):
  lines = [f'## {section.title}', ''] if section.title else []
  if section.note:
    lines += [section.note, '']
  lines += ['| rule | ' + ' | '.join(section.columns) + ' |', '|---' * (len(section.columns) + 1) + '|']
  lines += [f'| {label} | ' + ' | '.join(cells) + ' |' for label, cells in section.rows]
  return '\n'.join(lines) + '\n'


def _figures(value):
  """value to 3 significant figures, without an exponent: 1841.25 -> '1841', 0.0123 -> '0.0123'."""
  if value is None or not math.isfinite(value):
    return 'nan'
  if value >= 100:
    return f'{value:.0f}'
  return f'{float(f"{value:.3g}"):g}' if value >= 1e-4 else f'{value:.1e}'


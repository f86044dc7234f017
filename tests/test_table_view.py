"""What a table reader meets, without training: --cells and --override, the line per cell and each cell's
log, and the rendered report (families, links, stale cells, accuracy against cost) of a synthetic workdir."""
import csv
import io
import json
import os
import re

import pytest
from conftest import ROOT

from local_learning import bench, records, registry
from local_learning.bench import plots, progress, render, runner, spec
from local_learning.errors import UserError
from local_learning.rule import FAMILIES


def test_cells_name_a_cell_a_row_or_a_column_exactly_or_by_glob():
  classic = spec.load_table('classic')
  chosen = runner.select(classic, cells_filter='MNIST_MLP')
  assert chosen and {c.column for c in chosen} == {'MNIST / MLP'}        # not Fashion-MNIST's cell
  assert [c.id for c in runner.select(classic, cells_filter='bp__MNIST_MLP,pc__MNIST_MLP')] == \
      ['bp__MNIST_MLP', 'pc__MNIST_MLP']
  assert {c.row for c in runner.select(classic, cells_filter='pc')} == {'pc'}
  assert {c.id for c in runner.select(classic, cells_filter='*pc__Fashion*')} >= {'pc__Fashion-MNIST_MLP',
                                                                                  'hpc__Fashion-MNIST_MLP'}
  with pytest.raises(UserError, match="'MNIST' names no cell"):
    runner.select(classic, cells_filter='bp,MNIST')


def test_override_tags_the_cells_whose_config_has_the_field():
  assert spec.parse_overrides('num_epochs=2,model.widths=(16,16)') == (('num_epochs', '2'),
                                                                       ('model.widths', '(16,16)'))
  with pytest.raises(UserError, match='bad --override item'):
    spec.parse_overrides('num_epochs')
  quick = spec.load_table('quick', ['bp', 'ica'])
  table = spec.with_overrides(quick, spec.parse_overrides('num_epochs=2'), str(ROOT))
  bp, ica = table.cells
  assert bp.id == 'bp__digits_mlp__num_epochs=2' and ica.id == ica.base_id    # separation has rounds, no epochs
  assert bp.build_config(1, str(ROOT)).num_epochs == 2
  assert runner.select(table, cells_filter='bp__digits_mlp') == [bp]
  with pytest.raises(UserError, match='no cell .* has such a config field'):
    spec.with_overrides(quick, (('num_epoch', '2'),), str(ROOT))
  with pytest.raises(UserError, match='--override num_epochs=two'):
    spec.with_overrides(quick, (('num_epochs', 'two'),), str(ROOT))


class _Terminal(io.StringIO):
  def isatty(self):
    return True


@pytest.mark.parametrize('stream', [io.StringIO, _Terminal])
def test_a_line_per_cell_and_the_cells_output_in_its_log(tmp_path, stream):
  out = stream()
  show = progress.Progress(2, stream=out)
  with show.cell('[1/2] a', str(tmp_path / 'a')) as running:
    print('epoch 1/2: loss 1.0')
    print('epoch 2/2: loss 0.5')
    running.done('test accuracy (%) 97.00')
  with pytest.raises(KeyError), show.cell('[2/2] b', str(tmp_path / 'b')):
    print('epoch 1/2')
    raise KeyError('b')
  screen = re.sub(r'[^\n]*\r\x1b\[K', '', out.getvalue())       # what a terminal shows once lines are redrawn
  lines = screen.splitlines()
  assert len(lines) == 2 and 'epoch' not in screen
  assert re.fullmatch(r'\[1/2\] a: test accuracy \(%\) 97\.00; \d+s \(table \d+s, ETA \d+s\)', lines[0])
  assert lines[1].startswith(f'[2/2] b: stopped; its output: {tmp_path / "b" / progress.LOG}')
  log = (tmp_path / 'a' / progress.LOG).read_text().splitlines()
  assert log[0].startswith('--- ') and log[1:] == ['epoch 1/2: loss 1.0', 'epoch 2/2: loss 0.5']
  verbose = io.StringIO()
  with progress.Progress(1, verbose=True, stream=verbose).cell('[1/1] c', str(tmp_path / 'c')):
    print('epoch 1/1')
  assert verbose.getvalue().splitlines()[0] == 'epoch 1/1'


def test_every_built_in_rule_has_a_family():
  built_in = [n for n in registry.names() if registry.get(n).__module__.startswith('local_learning.rules')]
  assert len(built_in) >= 20
  assert {n: registry.get(n).family for n in built_in if registry.get(n).family not in FAMILIES[:-1]} == {}
  assert registry.get('pc').family == 'PC family' and registry.get('ica').family == 'separation'


def test_pareto_front_keeps_the_points_nothing_beats():
  points = [(1.0, 97.5), (0.6, 97.2), (0.7, 97.0), (2.0, 98.0), (3.0, 97.9), (2.0, 97.0)]
  assert plots.pareto_front(points) == [(0.6, 97.2), (1.0, 97.5), (2.0, 98.0)]


def _fake_cell(workdir, cell, rule, values, speed, stale=False):
  """A finished cell's summary.json and metrics.jsonl: values (rounds, seeds) of its task's metric."""
  task = 'separation' if rule == 'ica' else 'classification'
  metric, scale, round_name = ('msnr_db', 1.0, 'round') if task == 'separation' else ('test_accuracy', 100, 'epoch')
  folder = os.path.join(workdir, cell.id)
  os.makedirs(folder)
  seeds = list(range(len(values[-1])))
  final = {metric: [v / scale for v in values[-1]]}
  summary = records.Summary(
      rule=rule, dataset='sources' if task == 'separation' else 'digits', model='m', task=task, seeds=seeds,
      diverged_seeds=[], results=final, best=final, size={'samples': 1} if task == 'separation' else
      {'epochs': len(values), 'steps': 10}, speed=speed, train_seconds=1.0, compile_seconds=0.1, device='cpu',
      provenance={'rule': {'module': 'x', 'source_sha256': '0' * 64}} if stale else None)
  with open(os.path.join(folder, 'summary.json'), 'w') as f:
    json.dump(summary.to_json(), f)
  with open(os.path.join(folder, 'metrics.jsonl'), 'w') as f:
    for r, row in enumerate(values, 1):
      f.write(json.dumps({round_name: r, 'seconds': 0.1, f'{metric}_per_seed': [v / scale for v in row]}) + '\n')


def test_report_groups_families_links_cells_marks_stale_and_plots_cost(tmp_path):
  rules = {'bp': 1000.0, 'pc': 400.0, 'fa': 1500.0, 'ff': 900.0}
  cells = [bench.Cell(rule, 'digits / mlp', 'configs/default.py') for rule in rules]
  cells.append(bench.Cell('ica', 'sources', 'configs/bss.py'))
  table = bench.Table('synthetic', tuple(cells), seeds=2)
  workdir = str(tmp_path)
  for i, (cell, (rule, steps)) in enumerate(zip(cells, rules.items())):
    curve = [[60.0 + 10 * e + i, 61.0 + 10 * e + i] for e in range(3)]
    _fake_cell(workdir, cell, rule, curve, {'steps_per_second': steps, 'seconds_per_epoch': 10 / steps},
               stale=rule == 'pc')
  _fake_cell(workdir, cells[-1], 'ica', [[29.0, 30.0]], {'samples_per_second': 1e6})
  report = render.render(table, workdir)
  assert render.STALE_LEGEND in report.markdown and '(stale)' in report.markdown
  with open(tmp_path / 'table.csv') as f:
    assert {r['row']: r['status'] for r in csv.DictReader(f)} == {'bp': 'ok', 'pc': 'stale', 'fa': 'ok', 'ff': 'ok',
                                                                  'ica': 'ok'}
  page = (tmp_path / 'table.html').read_text()
  families = re.findall(r'<tr class="family"><th colspan="3">([^<]+)</th>', page.split('<h2>')[0])
  assert families == ['backprop', 'PC family', 'feedback alignment', 'forward-only', 'separation']
  for name in ('config.json', 'metrics.jsonl', 'summary.json', progress.LOG):
    assert f'href="fa__digits_mlp/{name}"' in page
  assert '<td class="stale"><a href="pc__digits_mlp/"' in page and 'onclick="sortBy(this)"' in page
  assert 'http' not in page.replace('http-equiv', '')                      # nothing fetched: no network
  assert page.count('data:image/png;base64,') == 3                         # cost, and each column's curves
  assert os.path.exists(tmp_path / 'cost_digits___mlp.png') and not os.path.exists(tmp_path / 'cost_sources.png')

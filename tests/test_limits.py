"""The limits tables (benchmarks/tables/limits*.py): one cell end to end on digits, its sections and plots; the
gamma_0 and CNN specs' protocols."""
import os

import numpy as np
import pytest
from conftest import ROOT

from local_learning import bench
from local_learning.bench import render, runner


def test_limits_cell_logs_alignment_and_renders_heatmaps(tmp_path):
  table = bench.load_table('limits', args='dataset=digits,steps=2,activation=linear')
  assert len(table.cells) == 27 and 'activity_solver' not in str(table.cells[0].overrides)
  config = table.cells[0].build_config(1, str(ROOT))
  assert config.rule.activity_solver == 'closed_form' and config.train_examples == config.batch_size == 64
  workdir = str(tmp_path / 'limits')
  assert set(runner.run_table(table, workdir, str(ROOT), cells_filter='mupc_H=2__N=8').values()) == {'done'}
  report = render.render(table, workdir)
  assert '## cosine(PC, BP) at the end' in report.markdown
  assert '## energy / loss after the first step' in report.markdown
  section = report.markdown.split('## cosine(PC, BP) at the end')[1]
  row = next(line for line in section.splitlines() if line.startswith('| mupc H=2 |'))
  cosine = float(row.split('|')[2])
  assert 0.5 < cosine <= 1.0
  assert os.path.exists(os.path.join(workdir, 'heatmap_cosine_mupc.png'))


def test_gamma0_sweep_runs_the_papers_gradient_descent_at_eta_gamma0_squared_n():
  table = bench.load_table('limits_gamma0')
  assert [c.x for c in table.cells] == [0.1, 0.5, 1.0, 2.0, 3.0, 4.0]
  for cell in table.cells:
    config = cell.build_config(1, str(ROOT))
    optimizer = config.rule.optimizer
    assert optimizer.name == 'sgd' and optimizer.learning_rate == pytest.approx(0.1 * cell.x**2 * 128)
    assert config.model.output_multiplier == pytest.approx(1 / cell.x) and config.model.param == 'mupc'
    assert config.rule.activity_solver == 'closed_form'


def test_cnn_table_runs_rescnn_and_vgg_with_the_papers_inference():
  table = bench.load_table('limits_cnn', args='widths=4:8')
  configs = {c.x: c.build_config(1, str(ROOT)) for c in table.cells}
  assert set(configs) == {(m, p, w) for m, p in (('rescnn', 'sp'), ('rescnn', 'mupc'), ('vgg', 'sp'), ('vgg', 'mup'))
                          for w in (4, 8)}
  mupc = configs['rescnn', 'mupc', 8]
  assert (mupc.model.width, mupc.model.blocks, mupc.rule.inference_steps, mupc.rule.activity_lr) == (8, 1, 200, 0.3)
  assert mupc.rule.optimizer.learning_rate == pytest.approx(1e-3 / np.sqrt(8 * 7))     # eta / sqrt(N L), L = 7
  assert configs['vgg', 'mup', 4].model.channels == (4, 4, 4) and configs['vgg', 'sp', 4].rule.loss == 'ce'

"""The limits table (benchmarks/tables/limits.py) on digits: one cell end to end, its sections and plots."""
import os

from local_learning import bench
from local_learning.bench import render, runner
from conftest import ROOT


def test_limits_cell_logs_alignment_and_renders_heatmaps(tmp_path):
  table = bench.load_table('limits', args='dataset=digits,steps=2,activation=linear')
  assert len(table.cells) == 27 and 'activity_solver' not in str(table.cells[0].overrides)
  config = table.cells[0].build_config(1, str(ROOT))
  assert config.rule.activity_solver == 'closed_form' and config.train_examples == config.batch_size == 64
  workdir = str(tmp_path / 'limits')
  assert set(runner.run_table(table, workdir, str(ROOT), cells_filter='mupc_H=2__N=8').values()) == {'done'}
  report = render.render(table, workdir)
  assert '## cosine(PC, BP) at the end' in report.markdown and '## energy / loss after the first step' in report.markdown
  section = report.markdown.split('## cosine(PC, BP) at the end')[1]
  row = next(line for line in section.splitlines() if line.startswith('| mupc H=2 |'))
  cosine = float(row.split('|')[2])
  assert 0.5 < cosine <= 1.0
  assert os.path.exists(os.path.join(workdir, 'heatmap_cosine_mupc.png'))

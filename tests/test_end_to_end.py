"""The trainer end to end on the embedded digits dataset."""
import json

import pytest

from configs import default as default_config
from local_learning import train


@pytest.mark.parametrize('rule', ['bp', 'pc'])
def test_rule_learns_digits(rule, tmp_path):
  config = default_config.get_config(f'rule={rule}')
  summary = train.train_and_evaluate(config, str(tmp_path))
  assert summary['status'] == 'ok'
  assert summary['test_accuracy'] > 0.90
  lines = [json.loads(line) for line in (tmp_path / 'metrics.jsonl').read_text().splitlines()]
  assert [line['epoch'] for line in lines] == list(range(1, config.num_epochs + 1))
  assert lines[-1]['test_accuracy'] == summary['test_accuracy']
  on_disk = json.loads((tmp_path / 'summary.json').read_text())
  for key in ('rule', 'dataset', 'model', 'test_accuracy', 'epochs', 'train_seconds',
              'steps_per_second', 'status'):
    assert key in on_disk
  assert json.loads((tmp_path / 'config.json').read_text())['rule']['name'] == rule


def test_diverging_run_is_recorded_as_diverged(tmp_path):
  config = default_config.get_config('rule=bp')
  config.rule.optimizer.name = 'sgd'
  config.rule.optimizer.learning_rate = 1e8
  config.num_epochs = 3
  summary = train.train_and_evaluate(config, str(tmp_path))
  assert summary['status'] == 'diverged'
  assert json.loads((tmp_path / 'summary.json').read_text())['status'] == 'diverged'
  assert json.loads((tmp_path / 'metrics.jsonl').read_text().splitlines()[-1])['status'] == 'diverged'


def test_vgg_trains_on_digits(tmp_path):
  config = default_config.get_config('rule=pc')
  config.model = config.model.__class__(dict(name='vgg', channels=(8, 16), activation='relu'))
  config.num_epochs = 1
  summary = train.train_and_evaluate(config, str(tmp_path))
  assert summary['status'] == 'ok' and summary['model'] == 'vgg'

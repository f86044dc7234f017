"""The trainer end to end on the embedded digits dataset."""
import json

import pytest

from configs import default as default_config
from local_learning import train


@pytest.mark.parametrize('rule', ['bp', 'pc'])
def test_rule_learns_digits(rule, tmp_path):
  config = default_config.get_config(f'rule={rule}')
  summary = train.train_and_evaluate(config, str(tmp_path))
  assert summary.status == 'ok'
  assert summary.mean('test_accuracy') > 0.90
  lines = [json.loads(line) for line in (tmp_path / 'metrics.jsonl').read_text().splitlines()]
  assert [line['epoch'] for line in lines] == list(range(1, config.num_epochs + 1))
  assert lines[-1]['test_accuracy'] == summary.mean('test_accuracy')
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
  assert summary.status == 'diverged'
  assert json.loads((tmp_path / 'summary.json').read_text())['status'] == 'diverged'
  assert json.loads((tmp_path / 'metrics.jsonl').read_text().splitlines()[-1])['diverged_seeds'] == [0]


@pytest.mark.usefixtures('few_optimisations')     # a convolution's program compiles in half the time
def test_vgg_trains_on_digits(tmp_path):
  config = default_config.get_config('rule=pc')
  config.model = config.model.__class__(dict(name='vgg', channels=(4, 8), activation='relu'))
  config.num_epochs = 1
  config.batch_size = 64
  summary = train.train_and_evaluate(config, str(tmp_path))
  assert summary.status == 'ok' and summary.model == 'vgg'


def test_seeds_train_as_one_program_and_match_single_runs(tmp_path):
  config = default_config.get_config('rule=pc')
  config.num_epochs = 2
  config.num_seeds = 2
  together = train.train_and_evaluate(config, str(tmp_path / 'both'))
  config.num_seeds, config.seed = 1, 1
  alone = train.train_and_evaluate(config, str(tmp_path / 'one'))
  assert together.seeds == [0, 1] and alone.seeds == [1]
  assert together.results['test_accuracy'][1] == pytest.approx(alone.mean('test_accuracy'), abs=1 / 360)
  last = json.loads((tmp_path / 'both' / 'metrics.jsonl').read_text().splitlines()[-1])
  assert last['loss_per_seed'][0] != pytest.approx(last['loss_per_seed'][1], rel=1e-3)


def test_an_epoch_in_several_calls_is_the_epoch_in_one(tmp_path):
  """Calls of a few steps (or one step, without a loop) compute exactly the one-call epoch."""
  results = {}
  for steps_per_call in (1000, 7, 1):
    config = default_config.get_config('rule=bp')
    config.num_epochs, config.steps_per_call = 2, steps_per_call
    results[steps_per_call] = train.train_and_evaluate(config, str(tmp_path / str(steps_per_call)))
  assert results[7].results == results[1000].results
  assert results[1].results['test_accuracy'] == pytest.approx(results[1000].results['test_accuracy'], abs=1 / 360)


def test_a_long_epoch_reports_its_progress(tmp_path, monkeypatch, capsys):
  monkeypatch.setattr(train, 'PROGRESS_SECONDS', 0.0)
  config = default_config.get_config('rule=bp')
  config.num_epochs, config.steps_per_call = 1, 10
  train.train_and_evaluate(config, str(tmp_path))
  lines = capsys.readouterr().out.splitlines()
  inside = [line for line in lines if 'steps/s, ETA' in line]
  assert [line.split(': ')[1].split(' ')[0] for line in inside] == ['10/44', '20/44', '30/44', '40/44']

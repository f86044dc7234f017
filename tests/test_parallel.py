"""Data parallelism: 4 (fake CPU) devices give the metrics of 1; determinism."""
import json

import pytest

from configs import default as default_config
from local_learning import train
from conftest import run_cli

FOUR_DEVICES = {'XLA_FLAGS': '--xla_force_host_platform_device_count=4'}


def _last_metrics(workdir):
  return json.loads((workdir / 'metrics.jsonl').read_text().splitlines()[-1])


@pytest.mark.parametrize('rule', ['bp', 'pc'])
def test_one_and_four_devices_give_the_same_metrics(rule, tmp_path):
  args = [f'--config=configs/default.py:rule={rule}', '--config.num_epochs=3', '--config.num_seeds=2']
  for devices in (1, 4):
    result = run_cli(*args, f'--config.num_devices={devices}', f'--workdir={tmp_path / str(devices)}',
                     env=FOUR_DEVICES)
    assert result.returncode == 0, result.stderr
  one, four = _last_metrics(tmp_path / '1'), _last_metrics(tmp_path / '4')
  assert json.loads((tmp_path / '4' / 'summary.json').read_text())['num_devices'] == 4
  assert four['loss_per_seed'] == pytest.approx(one['loss_per_seed'], rel=1e-4)
  assert four['test_accuracy_per_seed'] == pytest.approx(one['test_accuracy_per_seed'], abs=1 / 360 + 1e-9)


def test_batch_that_does_not_split_over_devices_is_refused(tmp_path):
  result = run_cli('--config=configs/default.py', '--config.batch_size=30', '--config.num_devices=4',
                   f'--workdir={tmp_path / "run"}', env=FOUR_DEVICES)
  assert result.returncode == 2 and 'does not split over 4 devices' in result.stderr
  assert not (tmp_path / 'run').exists()


def test_same_config_and_seed_give_identical_results(tmp_path):
  config = default_config.get_config('rule=pc')
  config.num_epochs = 2
  first = train.train_and_evaluate(config, str(tmp_path / 'a'))
  second = train.train_and_evaluate(config, str(tmp_path / 'b'))
  assert _last_metrics(tmp_path / 'a')['loss_per_seed'] == _last_metrics(tmp_path / 'b')['loss_per_seed']
  assert first['test_accuracy_per_seed'] == second['test_accuracy_per_seed']

"""Data and layer parallelism: 4 (fake CPU) devices give the metrics of 1; determinism."""
import json
import os
import re
import subprocess
import sys

import pytest
from conftest import ROOT, run_cli

from configs import default as default_config
from local_learning import train

FOUR_DEVICES = {'XLA_FLAGS': '--xla_force_host_platform_device_count=4'}


def _last_metrics(workdir):
  return json.loads((workdir / 'metrics.jsonl').read_text().splitlines()[-1])


def test_one_and_four_devices_give_the_same_metrics(tmp_path):
  """pc: the trainer's data-parallel path of every gradient rule, with inference inside the step."""
  args = ['--config=configs/default.py:rule=pc', '--config.num_epochs=3', '--config.num_seeds=2']
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
  assert first.results == second.results


# SGD: Adam (mupc's default) turns float rounding in gradients near 0 into steps of its learning rate.
MUPC = ['--config=configs/depth.py:rule=mupc,depth=6,width=32,dataset=digits', '--config.num_epochs=1',
        '--config.num_seeds=2', '--config.rule.optimizer.name=sgd', '--config.rule.optimizer.learning_rate=0.01']


def test_layer_parallel_gives_the_metrics_of_one_device(tmp_path):
  """Layers split over 2 devices and the batch over the other 2 (layers alone: the compiled
  program's test below)."""
  runs = {'one': ['--config.num_devices=1'],
          'data_and_layers': ['--config.num_devices=4', '--config.layer_parallel=2']}
  for name, args in runs.items():
    result = run_cli(*MUPC, *args, f'--workdir={tmp_path / name}', env=FOUR_DEVICES)
    assert result.returncode == 0, result.stderr
  one = _last_metrics(tmp_path / 'one')
  assert json.loads((tmp_path / 'data_and_layers' / 'summary.json').read_text())['layer_parallel'] == 2
  metrics = _last_metrics(tmp_path / 'data_and_layers')
  assert metrics['loss_per_seed'] == pytest.approx(one['loss_per_seed'], rel=1e-4)
  assert metrics['test_accuracy_per_seed'] == pytest.approx(one['test_accuracy_per_seed'], abs=1 / 360 + 1e-9)


_COMPILED_STEP = '''
import sys
import jax, jax.numpy as jnp
from configs import depth
from local_learning import models, parallel, registry
config = depth.get_config('rule=mupc,depth=9,width=16,dataset=digits')
rule = registry.get('mupc')(models.functional(config.model, (8, 8, 1), 10), config.rule, 10)
batch = jnp.zeros((8, 8, 8, 1)), jnp.zeros(8, jnp.int32)
with jax.set_mesh(parallel.mesh(int(sys.argv[1]), int(sys.argv[1]))):
  print(jax.jit(rule.train_step).lower(rule.init(jax.random.key(0)), batch, None).compile().as_text())
'''


@pytest.mark.parametrize('layer_parallel', [1, 2])
def test_each_device_predicts_its_share_of_the_stacked_layers(layer_parallel):
  result = subprocess.run([sys.executable, '-c', _COMPILED_STEP, str(layer_parallel)], cwd=ROOT,
                          env=dict(os.environ, **FOUR_DEVICES), capture_output=True, text=True, timeout=300)
  assert result.returncode == 0, result.stderr
  layers_per_device = 8 // layer_parallel                       # depth 9: 8 stacked layers, batch 8, width 16
  stacked_products = re.findall(r'f32\[(\d+),8,16\]\S* dot\(', result.stdout)
  assert stacked_products and set(stacked_products) == {str(layers_per_device)}
  assert ('collective-permute(' in result.stdout) == (layer_parallel > 1)


def test_layer_parallel_mistakes_are_refused(tmp_path):
  result = run_cli(*MUPC, '--config.layer_parallel=3', f'--workdir={tmp_path / "a"}', env=FOUR_DEVICES)
  assert result.returncode == 2 and 'layer_parallel=3 does not divide the 4 device(s)' in result.stderr
  result = run_cli('--config=configs/default.py', '--config.num_devices=2', '--config.layer_parallel=2',
                   f'--workdir={tmp_path / "b"}', env=FOUR_DEVICES)
  assert result.returncode == 2 and "model 'mlp' has none" in result.stderr
  assert not (tmp_path / 'a').exists() and not (tmp_path / 'b').exists()

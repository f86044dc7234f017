"""Data and layer parallelism: 4 (fake CPU) devices give the metrics of 1; two processes (a localhost
coordinator, one CPU device each, gloo collectives) give those of one process with two devices;
determinism.

The command lines with 4 fake devices run in one process of their own (`four_devices`), as do both
compiled steps (`compiled_steps`): JAX starts once for each.
"""
import json
import os
import re
import socket
import subprocess
import sys

import pytest
from conftest import ROOT, run_cli_batch, xla_flags

from configs import default as default_config
from local_learning import train

FOUR_DEVICES = xla_flags('--xla_force_host_platform_device_count=4')


def _last_metrics(workdir):
  return json.loads((workdir / 'metrics.jsonl').read_text().splitlines()[-1])


PC = ['--config=configs/default.py:rule=pc', '--config.num_epochs=3', '--config.num_seeds=2']
# SGD: Adam (mupc's default) turns float rounding in gradients near 0 into steps of its learning rate.
MUPC = ['--config=configs/depth.py:rule=mupc,depth=6,width=32,dataset=digits', '--config.num_epochs=1',
        '--config.num_seeds=2', '--config.rule.optimizer.name=sgd', '--config.rule.optimizer.learning_rate=0.01']
COMMANDS = {   # name: the command line, with --workdir=<four_devices' folder>/name
    'pc_1': [*PC, '--config.num_devices=1'],
    'pc_4': [*PC, '--config.num_devices=4'],
    'pc_2': [*PC, '--config.num_devices=2'],
    'unsplit_batch': ['--config=configs/default.py', '--config.batch_size=30', '--config.num_devices=4'],
    'mupc_1': [*MUPC, '--config.num_devices=1'],
    'mupc_data_and_layers': [*MUPC, '--config.num_devices=4', '--config.layer_parallel=2'],
    'layer_parallel_3': [*MUPC, '--config.layer_parallel=3'],
    'mlp_layer_parallel': ['--config=configs/default.py', '--config.num_devices=2', '--config.layer_parallel=2'],
}


@pytest.fixture(scope='module')
def four_devices(tmp_path_factory):
  """(results by name, folder): COMMANDS run in one process that sees 4 fake CPU devices."""
  folder = tmp_path_factory.mktemp('four_devices')
  results = run_cli_batch(*([*args, f'--workdir={folder / name}'] for name, args in COMMANDS.items()),
                          env=FOUR_DEVICES)
  return dict(zip(COMMANDS, results)), folder


def test_one_and_four_devices_give_the_same_metrics(four_devices):
  """pc: the trainer's data-parallel path of every gradient rule, with inference inside the step."""
  results, tmp_path = four_devices
  for name in ('pc_1', 'pc_4'):
    assert results[name].returncode == 0, results[name].stderr
  one, four = _last_metrics(tmp_path / 'pc_1'), _last_metrics(tmp_path / 'pc_4')
  assert json.loads((tmp_path / 'pc_4' / 'summary.json').read_text())['num_devices'] == 4
  assert four['loss_per_seed'] == pytest.approx(one['loss_per_seed'], rel=1e-4)
  assert four['test_accuracy_per_seed'] == pytest.approx(one['test_accuracy_per_seed'], abs=1 / 360 + 1e-9)


def test_batch_that_does_not_split_over_devices_is_refused(four_devices):
  results, tmp_path = four_devices
  result = results['unsplit_batch']
  assert result.returncode == 2 and 'does not split over 4 devices' in result.stderr
  assert not (tmp_path / 'unsplit_batch').exists()


def test_two_processes_give_the_results_of_one_process_with_two_devices(four_devices, tmp_path):
  with socket.socket() as s:
    s.bind(('localhost', 0))
    port = s.getsockname()[1]
  env = dict(os.environ, **xla_flags('--xla_force_host_platform_device_count=1'))
  processes = [subprocess.Popen(
      [sys.executable, '-m', 'local_learning.main', *PC, f'--workdir={tmp_path / "two"}', '--distributed',
       f'--coordinator_address=localhost:{port}', '--num_processes=2', f'--process_id={i}'],
      cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
  outputs = [p.communicate(timeout=240) for p in processes]
  for process, (_, err) in zip(processes, outputs):
    assert process.returncode == 0, err
  assert 'epoch 3/3' in outputs[0][0] and 'epoch 3/3' not in outputs[1][0]     # process 0 reports
  results, folder = four_devices
  assert results['pc_2'].returncode == 0, results['pc_2'].stderr
  assert json.loads((tmp_path / 'two' / 'summary.json').read_text())['num_devices'] == 2
  two, single = _last_metrics(tmp_path / 'two'), _last_metrics(folder / 'pc_2')
  assert two['loss_per_seed'] == pytest.approx(single['loss_per_seed'], rel=1e-5)
  assert two['test_accuracy_per_seed'] == single['test_accuracy_per_seed']


def test_same_config_and_seed_give_identical_results(tmp_path):
  config = default_config.get_config('rule=pc')
  config.num_epochs = 2
  first = train.train_and_evaluate(config, str(tmp_path / 'a'))
  second = train.train_and_evaluate(config, str(tmp_path / 'b'))
  assert _last_metrics(tmp_path / 'a')['loss_per_seed'] == _last_metrics(tmp_path / 'b')['loss_per_seed']
  assert first.results == second.results


def test_layer_parallel_gives_the_metrics_of_one_device(four_devices):
  """Layers split over 2 devices and the batch over the other 2 (layers alone: the compiled
  program's test below)."""
  results, tmp_path = four_devices
  for name in ('mupc_1', 'mupc_data_and_layers'):
    assert results[name].returncode == 0, results[name].stderr
  one = _last_metrics(tmp_path / 'mupc_1')
  assert json.loads((tmp_path / 'mupc_data_and_layers' / 'summary.json').read_text())['layer_parallel'] == 2
  metrics = _last_metrics(tmp_path / 'mupc_data_and_layers')
  assert metrics['loss_per_seed'] == pytest.approx(one['loss_per_seed'], rel=1e-4)
  assert metrics['test_accuracy_per_seed'] == pytest.approx(one['test_accuracy_per_seed'], abs=1 / 360 + 1e-9)


_COMPILED_STEPS = '''
import json, sys
import jax, jax.numpy as jnp
from configs import depth
from local_learning import models, parallel, registry
config = depth.get_config('rule=mupc,depth=9,width=16,dataset=digits')
rule = registry.get('mupc')(models.functional(config.model, (8, 8, 1), 10), config.rule, 10)
batch = jnp.zeros((8, 8, 8, 1)), jnp.zeros(8, jnp.int32)
texts = {}
for layer_parallel in map(int, sys.argv[1:]):
  with jax.set_mesh(parallel.mesh(layer_parallel, layer_parallel)):
    step = jax.jit(rule.train_step).lower(rule.init(jax.random.key(0)), batch, None).compile()
    texts[layer_parallel] = step.as_text()
print(json.dumps(texts))
'''


@pytest.fixture(scope='module')
def compiled_steps():
  """{layer_parallel: the compiled text of mupc's train step}, for 1 and 2, compiled in one process."""
  result = subprocess.run([sys.executable, '-c', _COMPILED_STEPS, '1', '2'], cwd=ROOT,
                          env=dict(os.environ, **FOUR_DEVICES), capture_output=True, text=True, timeout=300)
  assert result.returncode == 0, result.stderr
  return {int(k): text for k, text in json.loads(result.stdout.splitlines()[-1]).items()}


@pytest.mark.parametrize('layer_parallel', [1, 2])
def test_each_device_predicts_its_share_of_the_stacked_layers(compiled_steps, layer_parallel):
  text = compiled_steps[layer_parallel]
  layers_per_device = 8 // layer_parallel                       # depth 9: 8 stacked layers, batch 8, width 16
  stacked_products = re.findall(r'f32\[(\d+),8,16\]\S* dot\(', text)
  assert stacked_products and set(stacked_products) == {str(layers_per_device)}
  assert ('collective-permute(' in text) == (layer_parallel > 1)


def test_layer_parallel_mistakes_are_refused(four_devices):
  results, tmp_path = four_devices
  result = results['layer_parallel_3']
  assert result.returncode == 2 and 'layer_parallel=3 does not divide the 4 device(s)' in result.stderr
  result = results['mlp_layer_parallel']
  assert result.returncode == 2 and "model 'mlp' has none" in result.stderr
  assert not (tmp_path / 'layer_parallel_3').exists() and not (tmp_path / 'mlp_layer_parallel').exists()

"""A real multi-process run: two processes on this machine (a localhost coordinator, one CPU
device each, gloo collectives) give the results of one process with two devices."""
import json
import os
import socket
import subprocess
import sys

import pytest
from conftest import ROOT, run_cli, xla_flags

ARGS = ['--config=configs/default.py:rule=pc', '--config.num_epochs=2', '--config.num_seeds=2']


def _free_port():
  with socket.socket() as s:
    s.bind(('localhost', 0))
    return s.getsockname()[1]


def _last_line(workdir):
  return json.loads((workdir / 'metrics.jsonl').read_text().splitlines()[-1])


def test_two_processes_give_the_results_of_one_process_with_two_devices(tmp_path):
  port = _free_port()
  env = dict(os.environ, **xla_flags('--xla_force_host_platform_device_count=1'))
  processes = [subprocess.Popen(
      [sys.executable, '-m', 'local_learning.main', *ARGS, f'--workdir={tmp_path / "two"}', '--distributed',
       f'--coordinator_address=localhost:{port}', '--num_processes=2', f'--process_id={i}'],
      cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
  outputs = [p.communicate(timeout=240) for p in processes]
  for process, (_, err) in zip(processes, outputs):
    assert process.returncode == 0, err
  assert 'epoch 2/2' in outputs[0][0] and 'epoch 2/2' not in outputs[1][0]     # process 0 reports
  one = run_cli(*ARGS, '--config.num_devices=2', f'--workdir={tmp_path / "one"}',
                env=xla_flags('--xla_force_host_platform_device_count=2'))
  assert one.returncode == 0, one.stderr
  summary = json.loads((tmp_path / 'two' / 'summary.json').read_text())
  assert summary['num_devices'] == 2
  two, single = _last_line(tmp_path / 'two'), _last_line(tmp_path / 'one')
  assert two['loss_per_seed'] == pytest.approx(single['loss_per_seed'], rel=1e-5)
  assert two['test_accuracy_per_seed'] == single['test_accuracy_per_seed']

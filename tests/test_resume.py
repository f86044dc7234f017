"""Checkpoint and resume: a SIGKILLed run resumes to the same result; bad checkpoints refused."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, error_lines, run_main

ARGS = ['--config=configs/default.py:rule=pc', '--config.num_epochs=12', '--config.num_seeds=2',
        '--config.model.widths=(32,)', '--config.checkpoint_every=1']


def _final(workdir):
  summary = json.loads((workdir / 'summary.json').read_text())
  last = json.loads((workdir / 'metrics.jsonl').read_text().splitlines()[-1])
  return summary['test_accuracy_per_seed'], last['loss_per_seed'], summary['epochs']


@pytest.fixture(scope='module')
def uninterrupted(tmp_path_factory):
  workdir = tmp_path_factory.mktemp('whole') / 'run'
  result = run_main(*ARGS, f'--workdir={workdir}')
  assert result.returncode == 0, result.stderr
  return workdir


def _kill_after_checkpoint(args, workdir, checkpoint):
  """Starts the command line on args, SIGKILLs it once `checkpoint` is saved; asserts it had not finished."""
  command = [sys.executable, '-m', 'local_learning.main', *args, f'--workdir={workdir}']
  process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  checkpoints = workdir / 'checkpoints'
  deadline = time.time() + 240
  while time.time() < deadline and process.poll() is None:
    if checkpoints.exists() and any(p.name.isdigit() and int(p.name) >= checkpoint for p in checkpoints.iterdir()):
      break
    time.sleep(0.01)
  os.kill(process.pid, signal.SIGKILL)
  process.wait()
  assert not (workdir / 'summary.json').exists(), 'the run finished before it could be killed'


def test_killed_run_resumes_to_the_same_result(uninterrupted, tmp_path):
  workdir = tmp_path / 'run'
  _kill_after_checkpoint(ARGS, workdir, 3)
  result = run_main(*ARGS, f'--workdir={workdir}')
  assert result.returncode == 0, result.stderr
  assert 'resuming' in result.stdout
  assert _final(workdir) == _final(uninterrupted)
  epochs = [json.loads(line)['epoch'] for line in (workdir / 'metrics.jsonl').read_text().splitlines()]
  assert epochs == list(range(1, 13))


SEPARATION = ['--config=configs/bss.py:rule=pem,samples=20000,seeds=2', '--config.num_rounds=20',
              '--config.checkpoint_every=1']


def test_killed_separation_run_resumes_to_the_same_result(tmp_path):
  whole, killed = tmp_path / 'whole', tmp_path / 'killed'
  assert run_main(*SEPARATION, f'--workdir={whole}').returncode == 0
  _kill_after_checkpoint(SEPARATION, killed, 3)
  result = run_main(*SEPARATION, f'--workdir={killed}')
  assert result.returncode == 0 and 'resuming' in result.stdout, result.stderr
  summaries = [json.loads((w / 'summary.json').read_text()) for w in (whole, killed)]
  assert summaries[0]['msnr_db_per_seed'] == summaries[1]['msnr_db_per_seed']
  rounds = [json.loads(line)['round'] for line in (killed / 'metrics.jsonl').read_text().splitlines()]
  assert rounds == list(range(1, 21))


@pytest.mark.parametrize('signum', [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_after_the_round_checkpointed_and_the_run_resumes(tmp_path, signum):
  """Checkpoints by time only (none due in a minute): the signal's round is checkpointed all the same."""
  workdir, epochs = tmp_path / 'run', 400
  args = [*ARGS[:-1], f'--config.num_epochs={epochs}', '--config.checkpoint_every=0', f'--workdir={workdir}']
  process = subprocess.Popen([sys.executable, '-m', 'local_learning.main', *args], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
  metrics, deadline = workdir / 'metrics.jsonl', time.time() + 240
  while time.time() < deadline and not (metrics.exists() and metrics.read_text().count('\n') >= 2):
    time.sleep(0.01)
  process.send_signal(signum)
  stderr = process.communicate(timeout=240)[1]
  assert process.returncode == 128 + signum, stderr
  (line,) = stderr.splitlines()
  done = metrics.read_text().count('\n')
  assert line == (f'stopped: {signum.name} after epoch {done} of {epochs}; '
                  'checkpointed: run the same command again to resume')
  assert [int(p.name) for p in (workdir / 'checkpoints').iterdir() if p.name.isdigit()] == [done]
  result = run_main(*args)
  assert result.returncode == 0 and f'resuming {workdir} after epoch {done}' in result.stdout, result.stderr
  assert [json.loads(line)['epoch'] for line in metrics.read_text().splitlines()] == list(range(1, epochs + 1))


def test_checkpoints_come_by_time_or_by_count():
  from local_learning import config as ll_config
  from local_learning import train
  config = ll_config.base('pc', 'digits')
  config.checkpoint_every, config.checkpoint_seconds = 3, 0.0
  assert [r for r in range(1, 10) if train._checkpoint_due(config, r, time.monotonic())] == [3, 6, 9]
  config.checkpoint_every, config.checkpoint_seconds = 0, 60.0
  assert not train._checkpoint_due(config, 1, time.monotonic() - 59)
  assert train._checkpoint_due(config, 1, time.monotonic() - 60)


def test_finished_run_is_not_redone(uninterrupted):
  stamp = (uninterrupted / 'summary.json').stat().st_mtime_ns
  result = run_main(*ARGS, f'--workdir={uninterrupted}')
  assert result.returncode == 0 and 'nothing to do' in result.stdout
  assert (uninterrupted / 'summary.json').stat().st_mtime_ns == stamp


def test_corrupt_checkpoint_is_a_clear_error_not_a_restart(uninterrupted, tmp_path):
  workdir = tmp_path / 'run'
  shutil.copytree(uninterrupted, workdir)
  (workdir / 'summary.json').unlink()
  latest = max((p for p in (workdir / 'checkpoints').iterdir() if p.name.isdigit()), key=lambda p: int(p.name))
  for path in latest.rglob('*'):
    if path.is_file() and path.stat().st_size > 0:
      path.write_bytes(b'garbage')
  metrics_before = (workdir / 'metrics.jsonl').read_text()
  result = run_main(*ARGS, f'--workdir={workdir}')
  assert result.returncode == 2
  (line,) = error_lines(result)
  assert ('cannot be restored' in line or 'is damaged' in line) and '--overwrite' in line
  assert (workdir / 'metrics.jsonl').read_text() == metrics_before
  assert not (workdir / 'summary.json').exists()


def test_workdir_of_another_config_is_refused_unless_overwrite(uninterrupted, tmp_path):
  workdir = tmp_path / 'run'
  shutil.copytree(uninterrupted, workdir)
  result = run_main(*ARGS[:-1], '--config.model.widths=(16,)', '--config.num_epochs=1', f'--workdir={workdir}')
  assert result.returncode == 2
  assert 'different config' in error_lines(result)[0] and 'model.widths' in error_lines(result)[0]
  result = run_main(*ARGS[:-1], '--config.model.widths=(16,)', '--config.num_epochs=1', f'--workdir={workdir}',
                   '--overwrite')
  assert result.returncode == 0, result.stderr
  assert json.loads((workdir / 'summary.json').read_text())['epochs'] == 1


def test_run_made_before_a_config_field_was_added_is_the_same_run(uninterrupted, tmp_path):
  workdir = tmp_path / 'run'
  shutil.copytree(uninterrupted, workdir)
  config = json.loads((workdir / 'config.json').read_text())
  del config['layer_parallel']
  del config['checkpoint_seconds'], config['compilation_cache']   # nor these, with checkpoint_every 1 by default
  config['checkpoint_every'] = 1
  (workdir / 'config.json').write_text(json.dumps(config))
  result = run_main(*ARGS, f'--workdir={workdir}')
  assert result.returncode == 0 and 'holds this run, finished' in result.stdout, result.stderr
  result = run_main(*ARGS, '--config.layer_parallel=2', f'--workdir={workdir}')
  assert result.returncode == 2 and 'different config' in error_lines(result)[0]

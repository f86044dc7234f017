"""One process per workdir: a second one is refused in one line naming the holder; the lock dies with
its process; table cells lock one by one."""
import json
import os
import signal
import subprocess
import sys
import time

from conftest import ROOT, error_lines, run_main

from local_learning import bench, lock, ownership
from local_learning.bench import runner

ARGS = ['--config=configs/default.py:rule=bp', '--config.num_epochs=100000', '--config.checkpoint_every=0',
        '--config.model.widths=(16,)']


def test_a_second_process_is_refused_and_the_lock_dies_with_the_first(tmp_path):
  workdir = tmp_path / 'run'
  first = subprocess.Popen([sys.executable, '-m', 'local_learning.main', *ARGS, f'--workdir={workdir}'], cwd=ROOT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  try:
    deadline = time.time() + 240
    while time.time() < deadline and first.poll() is None and not (   # the run holds the lock, its config written
        (workdir / ownership.MARKER).exists() and f'pid {first.pid} ' in _read(workdir / lock.NAME)
        and (workdir / 'config.json').exists()):
      time.sleep(0.05)
    assert first.poll() is None, 'the first run ended early'
    config = (workdir / 'config.json').read_text()
    for rule in ('bp', 'fa'):           # the same command twice, or another rule into the same folder
      result = run_main(f'--config=configs/default.py:rule={rule}', *ARGS[1:], f'--workdir={workdir}')
      assert result.returncode == 2, result.stderr
      (line,) = error_lines(result)
      assert f'pid {first.pid} on ' in line and 'in use by another local-learning run' in line, line
    assert (workdir / 'config.json').read_text() == config
  finally:
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
  held = lock.Lock(str(workdir))           # a SIGKILL leaves nothing stale
  held.release()


def _read(path):
  return path.read_text() if path.exists() else ''


TABLE = '''
from local_learning import bench

def get_table():
  return bench.Table('locks', tuple(bench.Cell(rule, 'digits', f'configs/default.py:rule={rule}',
                                               (('num_epochs', 1), ('model.widths', (16,)))) for rule in ('bp', 'fa')),
                     seeds=1)
'''


def test_a_table_cell_held_by_another_process_is_left_to_it(tmp_path):
  (tmp_path / 'locks.py').write_text(TABLE)
  table, workdir = bench.load_table(str(tmp_path / 'locks.py')), tmp_path / 'table'
  (workdir / 'bp__digits').mkdir(parents=True)
  held = lock.Lock(str(workdir / 'bp__digits'))    # as another shard running that cell holds it
  try:
    outcome = runner.run_table(table, str(workdir), str(ROOT))
  finally:
    held.release()
  assert outcome['bp__digits'].startswith('busy: ') and f'pid {os.getpid()}' in outcome['bp__digits']
  assert outcome['fa__digits'] == 'done'
  assert not (workdir / 'bp__digits' / 'config.json').exists()
  assert json.loads((workdir / 'fa__digits' / 'summary.json').read_text())['rule'] == 'fa'

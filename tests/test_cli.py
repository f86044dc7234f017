"""The command line: overrides, typos and user mistakes give one clear line.

run_main runs the command line in this process; run_cli starts `python -m local_learning.main`, once per
behaviour that needs a process of its own (the exit status and stderr of a real command).
"""
import json

import pytest
from conftest import error_lines, run_cli, run_main


def test_override_reaches_the_rule(tmp_path):
  result = run_main('--config=configs/default.py:rule=pc', '--config.rule.inference_steps=3',
                    '--config.num_epochs=1', f'--workdir={tmp_path}')
  assert result.returncode == 0, result.stderr
  assert json.loads((tmp_path / 'config.json').read_text())['rule']['inference_steps'] == 3
  assert 'epoch 1/1' in result.stdout


def test_mistyped_override_fails(tmp_path):
  result = run_main('--config=configs/default.py', '--config.rule.inference_stepz=3',
                    f'--workdir={tmp_path / "run"}')
  assert result.returncode != 0
  assert 'inference_stepz' in result.stderr
  assert not (tmp_path / 'run').exists()


# The command line's handling of a UserError; tests/test_bad_inputs.py covers the mistakes themselves.
@pytest.mark.parametrize('command, args, message', [
    (run_cli, ['--config=configs/default.py:rule=nope'], "unknown rule 'nope'"),        # while loading the config
    (run_main, ['--config=configs/default.py', '--config.num_epochs=0'], 'num_epochs must be an integer >= 1'),
], ids=['loading', 'training'])                                                        # ... and while training
def test_user_mistake_is_one_line_and_nothing_written(tmp_path, command, args, message):
  workdir = tmp_path / 'run'
  result = command(*args, f'--workdir={workdir}')
  assert result.returncode == 2, result.stderr
  lines = error_lines(result)
  assert len(lines) == 1 and message in lines[0], result.stderr
  assert not workdir.exists()


def test_missing_workdir_is_one_line():
  result = run_main('--config=configs/default.py')
  assert result.returncode == 2
  assert '--workdir' in error_lines(result)[0]

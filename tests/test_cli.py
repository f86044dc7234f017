"""The command line: overrides, typos and user mistakes give one clear line."""
import json

import pytest
from conftest import error_lines, run_cli


def test_override_reaches_the_rule(tmp_path):
  result = run_cli('--config=configs/default.py:rule=pc', '--config.rule.inference_steps=3',
                   '--config.num_epochs=1', f'--workdir={tmp_path}')
  assert result.returncode == 0, result.stderr
  assert json.loads((tmp_path / 'config.json').read_text())['rule']['inference_steps'] == 3
  assert 'epoch 1/1' in result.stdout


def test_mistyped_override_fails(tmp_path):
  result = run_cli('--config=configs/default.py', '--config.rule.inference_stepz=3',
                   f'--workdir={tmp_path / "run"}')
  assert result.returncode != 0
  assert 'inference_stepz' in result.stderr
  assert not (tmp_path / 'run').exists()


# The command line's handling of a UserError; tests/test_bad_inputs.py covers the mistakes themselves.
@pytest.mark.parametrize('args, message', [
    (['--config=configs/default.py:rule=nope'], "unknown rule 'nope'"),            # while loading the config
    (['--config=configs/default.py', '--config.num_epochs=0'], 'num_epochs must be an integer >= 1'),  # training
])
def test_user_mistake_is_one_line_and_nothing_written(tmp_path, args, message):
  workdir = tmp_path / 'run'
  result = run_cli(*args, f'--workdir={workdir}')
  assert result.returncode == 2, result.stderr
  lines = error_lines(result)
  assert len(lines) == 1 and message in lines[0], result.stderr
  assert not workdir.exists()


def test_missing_workdir_is_one_line():
  result = run_cli('--config=configs/default.py')
  assert result.returncode == 2
  assert '--workdir' in error_lines(result)[0]

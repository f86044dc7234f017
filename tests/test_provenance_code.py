"""Provenance over all the code a run ran: an edit to any project source (in a temporary copy of the
package, never the real tree) or to a user module the rule imports marks a finished run stale."""
import shutil
import sys

import pytest
from conftest import ROOT, error_lines, run_main

from local_learning import provenance, registry

ARGS = ['--config.num_epochs=1', '--config.model.widths=(16,)', '--config.checkpoint_every=0']


def test_the_project_and_its_rules_are_hashed():
  files = provenance.of_code(registry.get('pc'))['files']
  assert {'local_learning/pc/rule.py', 'local_learning/train.py', 'local_learning/rules/pc.py'} <= set(files)
  assert not any(name.startswith(('local_learning/configs/', 'local_learning/tables/')) for name in files)


@pytest.fixture
def copied_project(tmp_path, monkeypatch):
  """The project's sources as hashed from a copy in tmp_path (the code that runs is the real one)."""
  copy = tmp_path / 'project'
  shutil.copytree(ROOT / 'local_learning', copy / 'local_learning', ignore=shutil.ignore_patterns('__pycache__'))
  shutil.copytree(ROOT / 'rules', copy / 'rules', ignore=shutil.ignore_patterns('__pycache__'))
  folders = {'local_learning': str(copy / 'local_learning'), 'local_learning.rules': str(copy / 'rules')}
  monkeypatch.setattr(provenance, 'project_folders', lambda: folders)
  return copy


def test_an_edit_to_a_core_file_marks_a_finished_run_stale(copied_project, tmp_path):
  """The issue's case: an edit to local_learning/pc/rule.py left a finished pc run 'nothing to do'."""
  args = ['--config=configs/default.py:rule=pc', *ARGS, f'--workdir={tmp_path / "run"}']
  assert run_main(*args).returncode == 0
  assert 'nothing to do' in run_main(*args).stdout
  with open(copied_project / 'local_learning' / 'pc' / 'rule.py', 'a') as f:
    f.write('\n# an edit that could change results\n')
  result = run_main(*args)
  assert result.returncode == 2, result.stdout
  (line,) = error_lines(result)
  assert 'local_learning/pc/rule.py changed since it ran' in line and '--overwrite' in line, line


RULE = '''
import local_learning as ll
from local_learning.rules.bp import BP
import {helper}

@ll.register
class Helped(BP):
  name = 'helped_bp_{tag}'
  description = 'bp with a helper module'
'''


def test_an_edit_to_a_plugins_helper_module_marks_its_run_stale(tmp_path, monkeypatch):
  plugin = tmp_path / 'lab'
  plugin.mkdir()
  (plugin / 'lab_helper_x1.py').write_text('SCALE = 1.0\n')
  (plugin / 'helped_rule_x1.py').write_text(RULE.format(helper='lab_helper_x1', tag='x1'))
  monkeypatch.syspath_prepend(str(plugin))
  args = ['--config=configs/default.py:rule=helped_bp_x1', '--config.rule_module=helped_rule_x1', *ARGS,
          f'--workdir={tmp_path / "run"}']
  try:
    assert run_main(*args).returncode == 0
    assert set(provenance.user_modules(registry.get('helped_bp_x1'))) == {'helped_rule_x1', 'lab_helper_x1'}
    (plugin / 'lab_helper_x1.py').write_text('SCALE = 2.0\n')
    result = run_main(*args)
    assert result.returncode == 2 and 'lab_helper_x1 changed since it ran' in error_lines(result)[0], result.stderr
  finally:
    for name in ('helped_rule_x1', 'lab_helper_x1'):
      sys.modules.pop(name, None)

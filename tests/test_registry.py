"""Rule registry: decorator, entry points, user modules, unknown and broken plugins."""

import pytest
from conftest import error_lines, run_cli, run_main

import local_learning as ll
from local_learning import registry

FAKE_RULE = '''
import local_learning as ll
from rules_under_test_base import Base

@ll.register
class {cls}(Base):
  name = '{name}'
  description = 'a rule written for a test'
'''


@pytest.fixture
def plugin_dir(on_pythonpath):
  """A folder on PYTHONPATH with a rule module whose rule is a renamed BP."""
  (on_pythonpath / 'rules_under_test_base.py').write_text(
      'from local_learning.rules.bp import BP as Base\n')
  return on_pythonpath


def _dist(path, name, entry_points):
  info = path / f'{name}-0.1.dist-info'
  info.mkdir()
  (info / 'METADATA').write_text(f'Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n')
  (info / 'entry_points.txt').write_text('[local_learning.rules]\n' + entry_points)


def test_builtin_rules_come_through_entry_points():
  assert {'bp', 'pc'} <= set(registry.names())
  assert registry.get('pc').__module__ == 'local_learning.rules.pc'


def test_decorator_registers_and_refuses_a_taken_name(monkeypatch):
  monkeypatch.setattr(registry, '_RULES', dict(registry._RULES))   # the test's rule leaves with the test

  @ll.register
  class Mine(ll.Rule):
    name = 'test_decorator_rule'

  assert registry.get('test_decorator_rule') is Mine

  with pytest.raises(ll.UserError, match='taken'):
    @ll.register
    class Other(ll.Rule):  # pylint: disable=unused-variable
      name = 'test_decorator_rule'


def test_unknown_rule_lists_known_names():
  with pytest.raises(ll.UserError, match=r"unknown rule 'nope'; known rules: .*bp.*pc"):
    registry.get('nope')


def test_entry_point_plugin_is_listed(plugin_dir):
  (plugin_dir / 'third_party_rule.py').write_text(FAKE_RULE.format(cls='ThirdParty', name='third'))
  _dist(plugin_dir, 'third_party', 'third = third_party_rule:ThirdParty\n')
  result = run_main('--list_rules')
  assert result.returncode == 0, result.stderr
  assert 'third ' in result.stdout and 'a rule written for a test' in result.stdout


def test_broken_plugin_warns_and_the_rest_still_works(plugin_dir):
  """In a process of its own: the warning reaches stderr as a user sees it."""
  (plugin_dir / 'broken_rule.py').write_text('raise ImportError("missing dependency xyz")\n')
  _dist(plugin_dir, 'broken', 'broken = broken_rule:Broken\n')
  result = run_cli('--list_rules', env={'PYTHONPATH': str(plugin_dir)})
  assert result.returncode == 0, result.stderr
  assert "plugin rule 'broken'" in result.stderr and 'missing dependency xyz' in result.stderr
  assert 'bp ' in result.stdout and 'pc ' in result.stdout


def test_user_module_rule_trains(plugin_dir, tmp_path):
  (plugin_dir / 'my_rule.py').write_text(FAKE_RULE.format(cls='MyRule', name='my_rule'))
  workdir = tmp_path / 'run'
  result = run_main('--config=configs/default.py:rule=my_rule', '--config.rule_module=my_rule',
                    '--config.num_epochs=1', f'--workdir={workdir}')
  assert result.returncode == 0, result.stderr
  assert (workdir / 'summary.json').exists()


def test_missing_user_module_is_one_clear_line(tmp_path):
  result = run_main('--config=configs/default.py', '--config.rule_module=no_such_module_here',
                    f'--workdir={tmp_path / "run"}')
  assert result.returncode == 2
  assert error_lines(result) == [line for line in result.stderr.splitlines() if line.strip()][-1:]
  assert "no_such_module_here" in error_lines(result)[0]
  assert not (tmp_path / 'run').exists()


CLASH = '''
import local_learning as ll

@ll.register
class MyPC(ll.Rule):
  name = 'pc'
'''


def test_a_user_rule_taking_a_builtin_name_is_refused(on_pythonpath):
  tmp_path = on_pythonpath
  (tmp_path / 'clashing_rule.py').write_text(CLASH)
  result = run_main('--config=configs/default.py', '--config.rule_module=clashing_rule',
                    f'--workdir={tmp_path / "run"}')
  assert result.returncode == 2
  (line,) = error_lines(result)
  assert 'local_learning.rules.pc.PC' in line and 'clashing_rule.MyPC' in line
  assert not (tmp_path / 'run').exists()


def test_a_clash_is_refused_whichever_rule_came_first(monkeypatch):
  """A user's rule registered before the plugins are loaded: loading them finds the clash."""
  monkeypatch.setattr(registry, '_RULES', {})
  monkeypatch.setattr(registry, '_entry_points_loaded', False)

  @ll.register
  class EarlyPC(ll.Rule):  # pylint: disable=unused-variable
    name = 'pc'

  with pytest.raises(ll.UserError, match=r"rule name 'pc' is taken by .*EarlyPC; rename local_learning.rules.pc.PC"):
    registry.names()


def test_several_rule_modules_comma_separated(plugin_dir):
  """--config.rule_module (and the tables' --rule_module, the same registry.import_module) takes a list."""
  (plugin_dir / 'lab_one.py').write_text(FAKE_RULE.format(cls='One', name='lab_one'))
  (plugin_dir / 'lab_two.py').write_text(FAKE_RULE.format(cls='Two', name='lab_two'))
  result = run_main('--list_rules', '--config.rule_module=lab_one, lab_two')
  assert result.returncode == 0, result.stderr
  assert 'lab_one ' in result.stdout and 'lab_two ' in result.stdout
  with pytest.raises(ll.UserError, match="rule module '' is not an absolute module name"):
    registry.import_module('lab_one,,lab_two')

"""The contracts written as code: Rule.problems in the trainer's single list, the Task and Run protocols."""
import pytest
from helpers import make_rule, tiny_mlp

import local_learning as ll
from local_learning import config as ll_config
from local_learning import registry, tasks, train
from local_learning.tasks import base


def test_a_rules_problems_join_the_configs_in_one_error():
  config = ll_config.base('ipc', 'digits')
  config.num_seeds = 0
  config.rule.schedule = 'sometimes'
  config.rule.activity_lr = -1.0
  with pytest.raises(ll.UserError) as e:
    train.check(config)
  lines = str(e.value).splitlines()
  assert 'ipc needs inference_steps >= 0 and activity_lr > 0' in lines
  assert "unknown ipc schedule 'sometimes'; choose one of simultaneous, sequential" in lines
  assert any('num_seeds' in line for line in lines)


def test_the_constructor_raises_the_same_problems():
  model, _ = tiny_mlp()
  with pytest.raises(ll.UserError, match='^pn: beta_increment takes beta from 0.5 to -0.5; it must keep its sign$'):
    make_rule('pn', model, beta_increment=-1.0, beta_phases=2)
  assert ll.Rule.problems(ll.Rule.default_config()) == []
  assert registry.get('nn').problems(registry.get('nn').default_config()) == []


def test_a_check_that_needs_the_model_stays_in_the_constructor():
  model = ll.testing.tiny_model('resmlp')
  config = ll_config.rule_config('bpc')
  assert registry.get('bpc').problems(config) == []
  with pytest.raises(ll.UserError, match='bpc needs the mlp model'):
    make_rule('bpc', model)


def test_tasks_and_runs_follow_the_protocols():
  for task in tasks.TASKS.values():
    assert base.Task in type(task).__mro__
  assert base.Run.diagnose(None, {}, 1) == {}    # the default of the optional method

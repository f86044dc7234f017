"""Trials as lanes of one program (trial_lanes): each lane computes its one-trial run."""
import json

import jax
import numpy as np
import optuna
import pytest

import local_learning as ll
from configs import default as default_config
from local_learning import train, trial_lanes
from local_learning.errors import UserError
from local_learning.rules.bp import BP

# Lanes against one-trial runs, both compiled alike: the agreement holds at any optimisation level.
pytestmark = pytest.mark.usefixtures('few_optimisations')


@ll.register
class Branchy(BP):
  """BP with its gradient scaled by config.scale, which the constructor checks in Python."""
  name = 'test-lanes-branchy'

  @classmethod
  def default_config(cls):
    config = super().default_config()
    config.scale = 1.0
    return config

  def __init__(self, model, config, num_steps):
    super().__init__(model, config, num_steps)
    if config.scale <= 0:
      raise UserError(f'scale must be positive, got {config.scale}')

  def grads(self, state, batch, rng):
    grads, metrics = super().grads(state, batch, rng)
    return jax.tree.map(lambda g: g * self.config.scale, grads), metrics


def _config(rule='bp', epochs=2, **rule_fields):
  config = default_config.get_config(f'rule={rule}')
  config.model.widths = (16,)
  config.num_epochs, config.checkpoint_every = epochs, 0
  for path, value in rule_fields.items():
    section = config.rule
    *parents, name = path.split('__')
    for parent in parents:
      section = section[parent]
    section[name] = value
  return config


def _lines(path):
  return [json.loads(line) for line in (path / 'metrics.jsonl').read_text().splitlines()]


def _assert_same_run(lane_dir, alone_dir):
  """The lane's metrics.jsonl matches the one-trial run's, round by round (loss to rtol 1e-5)."""
  lane, alone = _lines(lane_dir), _lines(alone_dir)
  assert [line['epoch'] for line in lane] == [line['epoch'] for line in alone]
  for a, b in zip(lane, alone):
    np.testing.assert_allclose(a['loss_per_seed'], b['loss_per_seed'], rtol=1e-5)
    np.testing.assert_allclose(a['test_accuracy_per_seed'], b['test_accuracy_per_seed'], atol=1 / 360)
    assert a['diverged_seeds'] == b['diverged_seeds']


def _train_alone(config, path):
  return train.train_and_evaluate(config, str(path))


@pytest.mark.parametrize('layout', ['vmap', 'loop'])
def test_identical_lanes_each_match_the_one_trial_run(tmp_path, layout):
  configs = [_config() for _ in range(3)]
  summaries = trial_lanes.train_lanes(configs, [str(tmp_path / f'lane{i}') for i in range(3)], layouts=(layout,))
  alone = _train_alone(_config(), tmp_path / 'alone')
  for i, summary in enumerate(summaries):
    assert summary.lane_group == dict(trials=3, lanes=3, fields=[], layout=layout)
    assert summary.seeds == [0] and summary.status == 'ok'
    assert summary.results['test_accuracy'] == pytest.approx(alone.results['test_accuracy'], abs=1 / 360)
    _assert_same_run(tmp_path / f'lane{i}', tmp_path / 'alone')
    written = json.loads((tmp_path / f'lane{i}' / 'summary.json').read_text())
    assert written['lane_group']['lanes'] == 3 and written['epochs'] == 2
    assert json.loads((tmp_path / f'lane{i}' / 'config.json').read_text())['rule']['name'] == 'bp'


def test_bp_lanes_with_different_rates_and_seeds_match_their_own_runs(tmp_path):
  configs = [_config(optimizer__learning_rate=lr, optimizer__momentum=0.0) for lr in (3e-4, 3e-3)]
  configs[0].rule.optimizer.schedule, configs[0].rule.optimizer.warmup_steps = 'warmup_cosine', 5
  configs[1].rule.optimizer.schedule, configs[1].rule.optimizer.warmup_steps = 'warmup_cosine', 5
  configs[1].num_seeds, configs[1].seed = 2, 5
  summaries = trial_lanes.train_lanes(configs, [str(tmp_path / f'lane{i}') for i in range(2)])
  assert summaries[0].lane_group['fields'] == ['optimizer.learning_rate'] and summaries[0].lane_group['lanes'] == 3
  assert summaries[1].seeds == [5, 6]
  for i, config in enumerate(configs):
    _train_alone(config, tmp_path / f'alone{i}')
    _assert_same_run(tmp_path / f'lane{i}', tmp_path / f'alone{i}')
  assert _lines(tmp_path / 'lane0')[-1]['loss'] != pytest.approx(_lines(tmp_path / 'lane1')[-1]['loss'], rel=1e-2)


def test_a_lane_stops_early_where_its_own_run_does_and_the_others_go_on(tmp_path):
  """config.early_stopping_patience in lanes: a rate too small to change the accuracy stops after 1 + 2 epochs,
  as its one-trial run does; the other trial trains on."""
  configs = [_config(epochs=6, optimizer__learning_rate=lr) for lr in (1e-12, 3e-3)]
  for config in configs:
    config.early_stopping_patience = 2
  summaries = trial_lanes.train_lanes(configs, [str(tmp_path / f'lane{i}') for i in range(2)])
  assert summaries[0].lane_group['trials'] == 2
  assert [s.size['epochs'] for s in summaries] == [3, 6]
  for i, config in enumerate(configs):
    _train_alone(config, tmp_path / f'alone{i}')
    _assert_same_run(tmp_path / f'lane{i}', tmp_path / f'alone{i}')


def test_pc_lanes_with_different_rates_match_their_own_runs(tmp_path):
  configs = [_config('pc', epochs=1, activity_lr=a, optimizer__learning_rate=lr, optimizer__weight_decay=wd)
             for a, lr, wd in ((0.05, 1e-3, 1e-4), (0.2, 3e-3, 1e-3))]
  summaries = trial_lanes.train_lanes(configs, [str(tmp_path / f'lane{i}') for i in range(2)])
  assert summaries[0].lane_group['trials'] in (1, 2)     # 1: pc's constructor checks activity_lr in Python
  for i, config in enumerate(configs):
    _train_alone(config, tmp_path / f'alone{i}')
    _assert_same_run(tmp_path / f'lane{i}', tmp_path / f'alone{i}')


def test_pc_lanes_with_different_weight_rates_are_one_program(tmp_path):
  configs = [_config('pc', epochs=1, optimizer__learning_rate=lr) for lr in (1e-3, 3e-3)]
  summaries = trial_lanes.train_lanes(configs, [str(tmp_path / f'lane{i}') for i in range(2)], layouts=('vmap', 'loop'))
  assert summaries[1].lane_group['layout'] in ('vmap', 'loop')
  assert summaries[1].lane_group['fields'] == ['optimizer.learning_rate'] and summaries[1].lane_group['trials'] == 2
  _train_alone(configs[1], tmp_path / 'alone')
  _assert_same_run(tmp_path / 'lane1', tmp_path / 'alone')


@pytest.mark.parametrize('change, field', [
    (lambda c: setattr(c.rule, 'inference_steps', 4), 'config.rule.inference_steps'),
    (lambda c: setattr(c, 'batch_size', 16), 'config.batch_size'),
    (lambda c: setattr(c.model, 'widths', (32,)), 'config.model.widths'),
    (lambda c: setattr(c.rule, 'activity_solver', 'euler'), 'config.rule.activity_solver'),
])
def test_a_structural_difference_is_a_one_line_error(tmp_path, change, field):
  configs = [_config('pc'), _config('pc')]
  change(configs[1])
  with pytest.raises(UserError) as error:
    trial_lanes.train_lanes(configs, [str(tmp_path / 'a'), str(tmp_path / 'b')])
  assert field in str(error.value) and '\n' not in str(error.value)
  assert not (tmp_path / 'a').exists() and not (tmp_path / 'b').exists()


def test_a_pruned_lane_stops_while_the_others_finish(tmp_path):
  configs = [_config(epochs=3, optimizer__learning_rate=lr) for lr in (1e-3, 2e-3, 4e-3)]
  calls = []

  def on_round(trial, epoch, line):
    calls.append((trial, epoch))
    assert 'test_accuracy' in line
    if trial == 1 and epoch == 1:
      raise optuna.TrialPruned()

  summaries = trial_lanes.train_lanes(configs, [str(tmp_path / f'lane{i}') for i in range(3)], on_round)
  assert calls == [(0, 1), (1, 1), (2, 1), (0, 2), (2, 2), (0, 3), (2, 3)]
  assert [s.status for s in summaries] == ['ok', 'pruned', 'ok']
  assert summaries[1].pruned_round == 1 and summaries[1].size['epochs'] == 1
  assert [len(_lines(tmp_path / f'lane{i}')) for i in range(3)] == [3, 1, 3]
  assert json.loads((tmp_path / 'lane1' / 'summary.json').read_text())['status'] == 'pruned'
  _train_alone(configs[2], tmp_path / 'alone')     # after the group shrank to two lanes
  _assert_same_run(tmp_path / 'lane2', tmp_path / 'alone')
  again = trial_lanes.train_lanes(configs, [str(tmp_path / f'lane{i}') for i in range(3)], on_round)
  assert [s.status for s in again] == ['ok', 'pruned', 'ok'] and len(calls) == 7    # finished: nothing to do


def test_when_every_lane_is_pruned_the_group_stops(tmp_path):
  def prune(trial, epoch, line):
    raise optuna.TrialPruned()

  configs = [_config(epochs=3, optimizer__learning_rate=lr) for lr in (1e-3, 2e-3)]
  summaries = trial_lanes.train_lanes(configs, [str(tmp_path / f'lane{i}') for i in range(2)], prune)
  assert [s.pruned_round for s in summaries] == [1, 1]
  assert [len(_lines(tmp_path / f'lane{i}')) for i in range(2)] == [1, 1]


def test_a_diverged_lane_is_recorded_in_its_own_trial(tmp_path):
  configs = [_config(optimizer__name='sgd', optimizer__weight_decay=0.0, optimizer__learning_rate=lr)
             for lr in (1e-2, 1e12)]
  summaries = trial_lanes.train_lanes(configs, [str(tmp_path / f'lane{i}') for i in range(2)])
  assert [s.status for s in summaries] == ['ok', 'diverged']
  assert summaries[1].diverged_seeds == [0] and summaries[0].diverged_seeds == []
  assert _lines(tmp_path / 'lane1')[-1]['diverged_seeds'] == [0]


def test_a_rule_that_cannot_be_traced_falls_back_to_one_program_per_trial(tmp_path, capsys):
  configs = [_config(Branchy.name, scale=s, optimizer__name='sgd', optimizer__learning_rate=0.05) for s in (1.0, 0.5)]
  summaries = trial_lanes.train_lanes(configs, [str(tmp_path / f'lane{i}') for i in range(2)])
  assert 'one program each' in capsys.readouterr().out
  assert [s.lane_group['trials'] for s in summaries] == [1, 1]
  for i, config in enumerate(configs):
    _train_alone(config, tmp_path / f'alone{i}')
    _assert_same_run(tmp_path / f'lane{i}', tmp_path / f'alone{i}')
  assert _lines(tmp_path / 'lane0')[-1]['loss'] != pytest.approx(_lines(tmp_path / 'lane1')[-1]['loss'], rel=1e-3)


def test_a_bad_value_in_one_trial_is_a_one_line_error(tmp_path):
  configs = [_config(Branchy.name, scale=s) for s in (1.0, -1.0)]
  with pytest.raises(UserError, match='scale must be positive'):
    trial_lanes.train_lanes(configs, [str(tmp_path / 'a'), str(tmp_path / 'b')])
  assert not (tmp_path / 'a').exists()

"""Tuning (issue 29): search spaces, Optuna studies of runs, recovery from SIGKILL, shared studies, tuned tables."""
import csv
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import optuna
import pytest
from conftest import ROOT

from local_learning import bench, config, lock, registry, space, testing, train
from local_learning.bench import render, tuned
from local_learning.errors import UserError
from local_learning.tasks import separation
from local_learning.tuning import study as study_lib
from local_learning.tuning import trials as trials_lib

TUNE = str(ROOT / 'benchmarks' / 'tune.py')
SMALL = ['--config.model.widths=(16,)', '--config.batch_size=64', '--config.validation_examples=300']
# Studies' bookkeeping (budgets, pruning, lanes, storage) holds at any optimisation level; each trial's programs
# run for a moment (the commands this file starts keep the default: their CPU time is not compiling's).
pytestmark = pytest.mark.usefixtures('few_optimisations')
COMPLETE, PRUNED, FAIL = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED,
                          optuna.trial.TrialState.FAIL)


def small_config(rule='bp', epochs=3):
  cfg = config.load_file(str(ROOT / 'configs' / 'default.py'), f'rule={rule}')
  cfg.model.widths, cfg.batch_size, cfg.num_epochs, cfg.validation_examples = (16,), 64, epochs, 300
  return cfg


def load(folder):
  return optuna.load_study(study_name=study_lib.STUDY_NAME, storage=f'sqlite:///{folder}/study.db')


def tune_command(workdir, trials, epochs, *extra):
  return [sys.executable, TUNE, '--config=configs/default.py:rule=bp', f'--trials={trials}', f'--workdir={workdir}',
          f'--config.num_epochs={epochs}', '--heartbeat_seconds=1', '--grace_seconds=3', *SMALL, *extra]


@pytest.mark.parametrize('name', registry.names())
def test_every_rules_search_space_maps_to_optuna_and_its_midpoint_builds_the_rule(name):
  rule_cls = registry.get(name)
  dists = rule_cls.search_space()
  assert dists, f'{name} declares no search space'
  assert set(study_lib.distributions(dists)) == set(dists)
  model = testing.tiny_model() if 'classification' in rule_cls.tasks else separation.SeparationModel(3, 5, 'antisparse')
  rule_cls(model, space.apply(testing.make_rule(rule_cls, model).config, space.midpoint(dists)), 10)
  # check_rule (tests/test_conformance.py) trains a drawn point of every built-in rule's space one step


def test_check_rule_rejects_a_search_space_naming_a_missing_field_or_the_wrong_type():
  class Typo(registry.get('bp')):
    name = 'typo'

    @classmethod
    def search_space(cls):
      return {'optimizer.learnin_rate': space.LogUniform(1e-4, 1e-2)}

  class Kind(registry.get('pc')):
    name = 'kind'

    @classmethod
    def search_space(cls):
      return {'inference_steps': space.LogUniform(1.0, 10.0)}

  with pytest.raises(AssertionError, match="typo: search_space\\(\\) names 'optimizer.learnin_rate'"):
    testing._check_search_space(Typo, testing.tiny_model(), testing.batch(), 10, {})  # pylint: disable=protected-access
  with pytest.raises(AssertionError, match="kind: search_space\\(\\) gives 'inference_steps' a LogUniform"):
    testing._check_search_space(Kind, testing.tiny_model(), testing.batch(), 10, {})  # pylint: disable=protected-access


def test_tuning_mistakes_are_one_clear_line_and_write_nothing(tmp_path):
  folder = str(tmp_path / 'study')
  no_split = small_config()
  no_split.validation_examples = 0
  with pytest.raises(UserError, match='tuning needs a validation split: set --config.validation_examples=N'):
    study_lib.tune(no_split, folder, 2)
  with pytest.raises(UserError, match="--storage='runs/x.db' is not a storage URL"):
    study_lib.tune(small_config(), folder, 2, study_lib.Settings(storage='runs/x.db'))
  with pytest.raises(UserError, match='--trials must be an integer >= 1'):
    study_lib.tune(small_config(), folder, 0)
  assert not os.path.exists(folder)
  (tmp_path / 'other').mkdir()
  study_lib.open_study(small_config(), str(tmp_path / 'other'))
  with pytest.raises(UserError, match='was made for another base config; use another --workdir'):
    study_lib.open_study(small_config(epochs=5), str(tmp_path / 'other'))


def test_a_study_finishes_its_budget_prunes_a_bad_trial_and_its_best_reproduces(tmp_path):
  base = small_config()
  folder = str(tmp_path / 'study')
  settings = study_lib.Settings(pruner=optuna.pruners.ThresholdPruner(lower=0.05))   # chance is 0.1
  study, _, _ = study_lib.open_study(base, folder, settings)
  study.enqueue_trial({'optimizer.learning_rate': 1e-4, 'optimizer.weight_decay': 1e-5})   # 0.03 after epoch 1
  lines = []
  study = study_lib.tune(base, folder, 4, settings, say=lines.append)
  states = [t.state for t in study.trials]
  assert states.count(COMPLETE) + states.count(PRUNED) == 4 and len(states) == 4
  assert study.trials[0].state == PRUNED and 'trial 0:' in lines[0] and lines[0].endswith('PRUNED')
  assert sorted(os.listdir(os.path.join(folder, 'trials'))) == ['0000', '0001', '0002', '0003']
  record = json.loads(open(os.path.join(folder, 'best.json')).read())
  best = study.best_trial
  assert record['best'] == dict(number=best.number, value=best.value, params=best.params)
  assert lines[-1].startswith(f'best: trial {best.number} value')
  trial_config = json.loads(open(os.path.join(folder, 'trials', f'{best.number:04d}', 'config.json')).read())
  assert trial_config['rule']['optimizer']['learning_rate'] == best.params['optimizer.learning_rate']
  again = train.train_and_evaluate(trials_lib.trial_config(base, best.params), str(tmp_path / 'again'))
  assert again.mean('test_accuracy') == pytest.approx(best.value, abs=1e-6)
  # re-running the finished study adds nothing
  assert len(study_lib.tune(base, folder, 4, settings, say=lines.append).trials) == 4


def test_a_study_killed_with_sigkill_resumes_without_losing_or_repeating_a_trial(tmp_path):
  workdir = tmp_path / 'study'
  command = tune_command(workdir, 3, 12, '--config.checkpoint_every=1')     # a checkpoint every epoch
  process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
  metrics = workdir / 'trials' / '0001' / 'metrics.jsonl'
  rounds = lambda: len(metrics.read_text().splitlines()) if metrics.exists() else 0
  deadline = time.time() + 240
  while rounds() < 2 and time.time() < deadline and process.poll() is None:     # epoch 1 checkpointed
    time.sleep(0.2)
  assert rounds() >= 2, process.communicate()[0][-2000:]
  process.send_signal(signal.SIGKILL)
  process.wait()
  before = {t.number: t for t in load(workdir).trials}
  assert before[0].state == COMPLETE and before[1].state == optuna.trial.TrialState.RUNNING
  result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
  assert result.returncode == 0, result.stderr[-2000:]
  study = load(workdir)
  counted = [t for t in study.trials if t.state in (COMPLETE, PRUNED)]
  assert len(counted) == 3
  assert study.trials[0].datetime_complete == before[0].datetime_complete          # kept, not re-run
  assert study.trials[1].state == FAIL                                               # the killed one
  retry = [t for t in counted if t.system_attrs.get('failed_trial') == 1]
  assert len(retry) == 1 and retry[0].params == before[1].params
  assert 'resuming' in result.stdout                                                 # from trial 1's checkpoint
  dirs = {f'{t.system_attrs.get("failed_trial", t.number):04d}' for t in counted}      # a retry keeps its folder
  assert sorted(os.listdir(workdir / 'trials')) == sorted(dirs | {'0001'}) and len(dirs) == 3
  assert len({json.dumps(t.params, sort_keys=True) for t in counted}) == 3


def test_two_processes_on_one_study_finish_the_budget_together_without_repeating_a_trial(tmp_path):
  workdir = tmp_path / 'study'
  command = tune_command(workdir, 4, 2)
  processes = [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
  outputs = [p.communicate(timeout=600) for p in processes]
  assert all(p.returncode == 0 for p in processes), [err[-2000:] for _, err in outputs]
  study = load(workdir)
  counted = [t for t in study.trials if t.state in (COMPLETE, PRUNED)]
  assert len(counted) == 4 and not [t for t in study.trials if t.state == optuna.trial.TrialState.RUNNING]
  ran = [line.split(':')[0] for out, _ in outputs for line in out.splitlines() if line.startswith('trial ')]
  assert sorted(ran) == sorted(f'trial {t.number}' for t in counted)                  # each trial run once
  assert len(os.listdir(workdir / 'trials')) == 4


def test_trials_asked_together_go_to_the_runner_together_and_the_budget_stays_exact(tmp_path):
  calls = []

  def runner(configs, workdirs, on_rounds):      # where a K-lane runner plugs in
    calls.append([c.rule.optimizer.learning_rate for c in configs])
    return trials_lib.run_trials(configs, workdirs, on_rounds)

  settings = study_lib.Settings(trials_per_call=2, runner=runner)
  study = study_lib.tune(small_config(epochs=1), str(tmp_path), 3, settings, say=lambda line: None)
  assert [len(c) for c in calls] == [2, 1] and [t.state for t in study.trials] == [COMPLETE] * 3
  assert [lr for c in calls for lr in c] == [t.params['optimizer.learning_rate'] for t in study.trials]
  assert study.trials[0].params == {'optimizer.learning_rate': 1e-3, 'optimizer.weight_decay': 1e-4}   # the config's


def test_lanes_train_trials_as_one_program_with_the_values_each_would_get_alone(tmp_path):
  settings = study_lib.Settings(**study_lib.lane_settings(2))
  study = study_lib.tune(small_config(epochs=1), str(tmp_path), 2, settings, say=lambda line: None)
  assert [t.state for t in study.trials] == [COMPLETE] * 2
  for t in study.trials:
    summary = json.loads(open(os.path.join(tmp_path, 'trials', f'{t.number:04d}', 'summary.json')).read())
    assert summary['lane_group']['trials'] == 2 and summary['lane_group']['fields']    # both in one program
    alone = train.train_and_evaluate(trials_lib.trial_config(small_config(epochs=1), t.params),
                                     str(tmp_path / f'alone{t.number}'))
    assert alone.mean('test_accuracy') == pytest.approx(t.value, abs=1 / 300 + 1e-9)   # one example at most
  with pytest.raises(UserError, match='--lanes must be'):
    study_lib.lane_settings(0)


def test_lanes_of_a_pc_study_share_inference_steps_so_they_train_as_one_program(tmp_path):
  settings = study_lib.Settings(start_from_config=False, **study_lib.lane_settings(3))
  study = study_lib.tune(small_config('pc', epochs=1), str(tmp_path), 3, settings, say=lambda line: None)
  assert [t.state for t in study.trials] == [COMPLETE] * 3
  assert len({t.params['inference_steps'] for t in study.trials}) == 1                  # the first one's T
  assert len({t.params['activity_lr'] for t in study.trials}) == 3                      # TPE drew each float
  for t in study.trials:
    summary = json.loads(open(os.path.join(tmp_path, 'trials', f'{t.number:04d}', 'summary.json')).read())
    assert summary['lane_group']['trials'] == 3


def test_lane_runner_trains_one_program_per_structure(tmp_path):
  configs = [small_config('pc', epochs=1) for _ in range(3)]
  configs[1].rule.inference_steps = 5
  configs[2].rule.activity_lr = 0.05
  results = trials_lib.run_trial_lanes(configs, [str(tmp_path / f't{i}') for i in range(3)],
                                       [lambda r, line: None] * 3)
  groups = [r.summary.to_json().get('lane_group') for r in results]
  assert groups[0]['trials'] == groups[2]['trials'] == 2 and groups[1] is None     # T=5 trained alone


def test_a_journal_study_re_runs_a_trial_left_running_with_fail_running(tmp_path):
  base = small_config(epochs=1)
  settings = study_lib.Settings(storage=f'journal:{tmp_path / "study.log"}')
  study, dists, _ = study_lib.open_study(base, str(tmp_path), settings)
  orphan = study.ask(study_lib.distributions(dists))       # a process died while running it
  lines = []
  study_lib.tune(base, str(tmp_path), 2, settings, say=lines.append)
  assert [t.state for t in study.trials] == [optuna.trial.TrialState.RUNNING, COMPLETE]   # no heartbeat: kept
  study = study_lib.tune(base, str(tmp_path), 2, dataclasses.replace(settings, fail_running=True), say=lines.append)
  states = {t.number: t.state for t in study.trials}
  assert states == {0: FAIL, 1: COMPLETE, 2: COMPLETE} and study.trials[2].params == orphan.params
  assert study.trials[2].system_attrs['failed_trial'] == 0 and lines[0].startswith('trial 1:')


def test_a_tuned_table_trains_the_best_settings_with_fresh_seeds(tmp_path):
  cell = bench.Cell('bp', 'digits', 'configs/default.py:rule=bp',
                    (('model.widths', (16,)), ('batch_size', 64), ('num_epochs', 2)))
  table = bench.Table('tiny', (cell,), seeds=2)
  workdir = str(tmp_path / 'table')
  lines = []
  assert tuned.run_tuned_table(table, workdir, str(ROOT), 2, say=lines.append) == {cell.id: 'done'}
  best = study_lib.read_best(os.path.join(workdir, cell.id, 'tuning'))['best']
  final = json.loads(open(os.path.join(workdir, cell.id, 'config.json')).read())
  assert final['rule']['optimizer']['learning_rate'] == best['params']['optimizer.learning_rate']
  assert final['rule']['optimizer']['weight_decay'] == best['params']['optimizer.weight_decay']
  assert final['validation_examples'] == 0 and final['num_seeds'] == 2
  summary = json.loads(open(os.path.join(workdir, cell.id, 'summary.json')).read())
  trial_seeds = {json.loads(open(os.path.join(workdir, cell.id, 'tuning', 'trials', t, 'config.json')).read())['seed']
                 for t in os.listdir(os.path.join(workdir, cell.id, 'tuning', 'trials'))}
  assert summary['seeds'] == [1000, 1001] and not trial_seeds & set(summary['seeds'])
  report = render.render(table, workdir)
  assert '## Tuned settings' in report.markdown and '2/2 trials' in report.markdown
  manifest = json.loads(open(os.path.join(workdir, 'manifest.json')).read())
  assert manifest['tuning'][cell.id]['storage'] == f'sqlite:///{cell.id}/tuning/study.db'
  assert manifest['tuning'][cell.id]['space_sha256'] == space.digest(registry.get('bp').search_space())
  with open(os.path.join(workdir, 'table.csv')) as f:
    row = next(iter(csv.DictReader(f)))
  assert json.loads(row['tuned_params']) == best['params'] and row['tuned_budget'] == '2'
  assert os.path.exists(os.path.join(workdir, cell.id, 'tuning', 'history.png'))


def test_a_cell_another_process_trains_is_left_to_it_and_the_table_goes_on(tmp_path):
  """Processes sharing a tuned table share each study; the one that does not hold a cell's lock at its final
  training moves on to the next cell, as an untuned table's runner does, rather than stopping."""
  cells = tuple(bench.Cell(f'bp{width}', 'digits', 'configs/default.py:rule=bp',
                           (('model.widths', (width,)), ('batch_size', 64), ('num_epochs', 1))) for width in (8, 16))
  table = bench.Table('tiny', cells, seeds=1)
  workdir = tmp_path / 'table'
  (workdir / cells[0].id).mkdir(parents=True)
  held = lock.Lock(str(workdir / cells[0].id))      # the other process, training the first cell
  try:
    outcome = tuned.run_tuned_table(table, str(workdir), str(ROOT), 1, say=lambda line: None)
  finally:
    held.release()
  assert outcome[cells[0].id].startswith('busy: ') and outcome[cells[1].id] == 'done'
  assert not (workdir / cells[0].id / 'summary.json').exists()
  assert study_lib.read_best(str(workdir / cells[0].id / 'tuning'))['counts']['COMPLETE'] == 1   # its study ran


def test_a_trial_of_fewer_epochs_trains_the_first_epochs_of_the_cells_schedule(tmp_path):
  """--tune_epochs below the cell's: the trial's learning rate (and beta) follow the final run's schedule, so
  its epochs are the first epochs of a run of the cell's length, step for step."""
  cell = bench.Cell('bp', 'digits', 'configs/default.py:rule=bp',
                    (('model.widths', (16,)), ('num_epochs', 4), ('rule.optimizer.schedule', 'warmup_cosine'),
                     ('rule.optimizer.warmup_steps', 10)))
  trial = tuned.tuning_config(cell, str(ROOT), epochs=2)
  assert (trial.num_epochs, trial.schedule_epochs) == (2, 4)
  whole = tuned.tuning_config(cell, str(ROOT))
  assert (whole.num_epochs, whole.schedule_epochs) == (4, 0)
  train.train_and_evaluate(trial, str(tmp_path / 'trial'))
  train.train_and_evaluate(whole, str(tmp_path / 'whole'))
  lines = lambda name: [json.loads(line) for line in (tmp_path / name / 'metrics.jsonl').read_text().splitlines()]
  assert [r['loss_per_seed'] for r in lines('trial')] == [r['loss_per_seed'] for r in lines('whole')][:2]
  trial.schedule_epochs = 1
  with pytest.raises(UserError, match='schedule_epochs 1 is shorter than num_epochs 2'):
    train.check(trial)

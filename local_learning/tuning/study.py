"""A study: a rule's search space tuned with Optuna, each trial an ordinary run.

  tune(config, 'runs/tune_pc', trials=20)

The study (Optuna: TPE with a fixed seed, the median pruner on the per-round
validation metric, maximised) lives in a storage (tuning.storage; by default
STUDY_DIR/study.db) and each trial in STUDY_DIR/trials/NNNN. The budget is
counted in trials that finished (COMPLETE) or were pruned (PRUNED, diverged
trials too), plus those running or queued: any number of processes on one
study stop together at exactly `trials`. A new study's first trial is the base
config's own settings (Settings.start_from_config), so the best trial is at
least as good on the validation split. A diverged trial is PRUNED (user
attribute diverged), never a value. A trial of a killed process is marked
FAIL (Optuna's heartbeat, RDB storages) and re-queued with its parameters;
its re-run resumes from its workdir's last checkpoint (same config). With
K lanes (Settings.trials_per_call), the K trials asked together share the
first one's structural values (ints and choices such as inference_steps,
through Optuna's enqueue_trial with those fixed), so they train as one
program; TPE samples their floats, and the structure from batch to batch. A trial
interrupted by an exception is marked FAIL and re-queued the same way. The
journal storage has no heartbeat: there Settings.fail_running (--fail_running)
does it at start for a study no other process is working on.
"""
import dataclasses
import json
import math
import os
import threading
import time
import warnings
from typing import Callable

import optuna

from local_learning import space, train
from local_learning import workdir as workdir_lib
from local_learning.errors import UserError
from local_learning.tuning import storage as storage_lib
from local_learning.tuning.trials import Pruned, run_trial_lanes, run_trials, trial_config

TrialState = optuna.trial.TrialState
BUDGET_STATES = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING, TrialState.WAITING)
STUDY_NAME = 'study'
BEST = 'best.json'
POLL_SECONDS = 2.0


@dataclasses.dataclass(frozen=True)
class Settings:
  """How a study runs; the defaults are a tuned table's."""
  storage: str = ''                 # '' = sqlite:///STUDY_DIR/study.db
  sampler_seed: int = 0
  pruner: optuna.pruners.BasePruner | None = None      # None: MedianPruner(n_startup_trials=3, n_warmup_steps=1)
  timeout_minutes: float = 0.0      # no new trial after this long (0: none)
  heartbeat_seconds: int = 10
  grace_seconds: int = 60           # a RUNNING trial without a heartbeat this long is failed and re-run
  fail_running: bool = False        # at start, fail and re-queue every RUNNING trial (no other process runs)
  trials_per_call: int = 1          # trials asked at once and handed to runner together
  runner: Callable = run_trials     # (configs, workdirs, on_rounds) -> [TrialResult]; K lanes: one program
  start_from_config: bool = True    # a new study's first trial: the base config's own values (those in range)


def lane_settings(lanes: int) -> dict:
  """Settings fields for `lanes` trials asked at once and trained as lanes of one program (1: one at a time)."""
  if not (isinstance(lanes, int) and lanes >= 1):
    raise UserError(f'--lanes must be an integer >= 1, got {lanes!r}')
  return dict(trials_per_call=lanes, runner=run_trial_lanes if lanes > 1 else run_trials)


def distributions(dists):
  """Optuna distributions of a search space {path: ll.space distribution}."""
  out = {}
  for path, dist in dists.items():
    if isinstance(dist, space.LogUniform):
      out[path] = optuna.distributions.FloatDistribution(dist.low, dist.high, log=True)
    elif isinstance(dist, space.Uniform):
      out[path] = optuna.distributions.FloatDistribution(dist.low, dist.high)
    elif isinstance(dist, space.Int):
      out[path] = optuna.distributions.IntDistribution(dist.low, dist.high, log=dist.log)
    else:
      out[path] = optuna.distributions.CategoricalDistribution(dist.options)
  return out


def structure(params, dists):
  """The params whose distributions are not floats (Int, Choice): they change the compiled program, so
  trials asked together as lanes take the first one's values and TPE samples only their floats."""
  return {path: value for path, value in params.items()
          if not isinstance(dists[path], (space.LogUniform, space.Uniform))}


def requeue(study, trial):
  """Queues a failed trial again with its parameters and intermediate values (the heartbeat's stale-trial
  callback, and what an interrupted trial does); system attribute failed_trial: the first attempt."""
  attrs = {'failed_trial': trial.number, 'retry_history': [], **trial.system_attrs}
  attrs['retry_history'] = [*attrs['retry_history'], trial.number]
  study.add_trial(optuna.trial.create_trial(
      state=TrialState.WAITING, params=trial.params, distributions=trial.distributions,
      user_attrs=trial.user_attrs, system_attrs=attrs, intermediate_values=trial.intermediate_values))


def open_study(config, folder, settings=Settings()):
  """(the Optuna study of config's rule in folder, created or loaded, its search space, its storage). A study
  made for another base config or search space is a UserError."""
  _, rule_cls = train.check(config)
  dists = rule_cls.search_space()
  if not dists:
    raise UserError(f'rule {rule_cls.name!r} declares no search space (search_space()); nothing to tune')
  storage = storage_lib.open_storage(storage_lib.url(settings.storage, folder), settings.heartbeat_seconds,
                                     settings.grace_seconds, requeue)
  pruner = settings.pruner or optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)
  study = optuna.create_study(storage=storage, study_name=STUDY_NAME, direction='maximize', pruner=pruner,
                              sampler=optuna.samplers.TPESampler(seed=settings.sampler_seed), load_if_exists=True)
  identity = dict(config=config.to_json_best_effort(sort_keys=True), space_sha256=space.digest(dists))
  for key, value in identity.items():
    if study.user_attrs.get(key, value) != value:
      raise UserError(f'the study in {storage_lib.url(settings.storage, folder)} was made for another '
                      f'{"search space" if key == "space_sha256" else "base config"}; use another --workdir')
    study.set_user_attr(key, value)
  return study, dists, storage


def tune(config, folder, trials, settings=Settings(), say=None):
  """Runs the study of config's rule in folder until `trials` trials count (see the module docstring);
  returns the study. config: the base config, its validation split set (config.validation_examples)."""
  say = say or _print
  if not (isinstance(trials, int) and trials >= 1):
    raise UserError(f'--trials must be an integer >= 1, got {trials!r}')
  task, _ = train.check(config)
  if 'validation_examples' in config and not config.validation_examples:
    raise UserError('tuning needs a validation split: set --config.validation_examples=N (e.g. 10000 for '
                    'MNIST, 300 for digits); tuning on the test set would flatter the test numbers')
  optuna.logging.set_verbosity(optuna.logging.WARNING)
  # We record heartbeats ourselves around each trial (ask and tell, not Study.optimize).
  warnings.filterwarnings('ignore', 'Heartbeat of storage is supposed to be used with Study.optimize')
  warnings.filterwarnings('ignore', category=optuna.exceptions.ExperimentalWarning)
  study, dists, storage = open_study(config, folder, settings)
  beating = storage if storage_lib.has_heartbeat(storage) else None
  if settings.fail_running:
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
      study.tell(trial.number, state=TrialState.FAIL)
      requeue(study, _frozen_number(study, trial.number))
      say(f'trial {trial.number}: was RUNNING, marked FAIL and queued again')
  if settings.start_from_config and not study.get_trials(deepcopy=False):
    study.enqueue_trial(space.values(config.rule, dists), skip_if_exists=True)   # tuning never starts below it
  start = time.monotonic()
  while True:
    if beating:
      optuna.storages.fail_stale_trials(study)
    if settings.timeout_minutes and time.monotonic() - start > 60 * settings.timeout_minutes:
      say(f'timeout: {settings.timeout_minutes:g} minutes passed; no new trial')
      break
    counted = study.get_trials(deepcopy=False, states=BUDGET_STATES)
    waiting = sum(t.state == TrialState.WAITING for t in counted)     # queued: the next asks return them
    if len(counted) >= trials and not waiting:
      running = sum(t.state == TrialState.RUNNING for t in counted)
      if not (running and beating):
        break
      time.sleep(POLL_SECONDS)       # others' trials run; one that stops beating comes back to us
      continue
    asked = []
    for _ in range(min(settings.trials_per_call, max(trials - len(counted) + waiting, 1))):
      if asked and not waiting:
        study.enqueue_trial(structure(asked[0].params, dists))   # the rest of the batch shares its program
      study.sampler = optuna.samplers.TPESampler(seed=settings.sampler_seed + len(study.get_trials(deepcopy=False)))
      asked.append(study.ask(distributions(dists)))
    ahead = sorted(t.number for t in study.get_trials(deepcopy=False, states=BUDGET_STATES))[:trials]
    for trial in [t for t in asked if t.number not in ahead]:    # another process took the last places meanwhile
      trial.set_user_attr('surplus', True)
      study.tell(trial, state=TrialState.FAIL)
    asked = [t for t in asked if t.number in ahead]
    if asked:
      _run(study, asked, config, folder, task, beating, settings, say)
  summarize(study, folder, trials, settings, dists, say)
  return study


def trial_dir(folder, trial):
  """STUDY_DIR/trials/NNNN of the trial's first attempt (a re-queued trial resumes there)."""
  number = trial.system_attrs.get('failed_trial', trial.number)
  return os.path.join(folder, 'trials', f'{number:04d}')


def _run(study, asked, config, folder, task, beating, settings, say):
  """Trains the asked trials with settings.runner and tells the study each outcome; beating: the storage
  whose heartbeat they record (None: no heartbeat)."""
  # Optuna's Trial has no public id; the storage's heartbeat takes it.
  beats = [_Heartbeat(beating, t._trial_id, settings.heartbeat_seconds) for t in asked] if beating else []  # pylint: disable=protected-access
  try:
    results = settings.runner([trial_config(config, t.params) for t in asked],
                              [trial_dir(folder, _frozen(study, t)) for t in asked],
                              [_on_round(t, task) for t in asked])
  except BaseException:
    for trial in asked:
      study.tell(trial, state=TrialState.FAIL)
      requeue(study, _frozen(study, trial))
    raise
  finally:
    for beat in beats:
      beat.stop()
  for trial, result in zip(asked, results, strict=True):
    params = _text(trial.params)
    if result.diverged:
      trial.set_user_attr('diverged', True)
      study.tell(trial, state=TrialState.PRUNED)
      say(f'trial {trial.number}: {params} diverged{_at(task, result.pruned_round)}: PRUNED')
    elif result.summary is None:
      study.tell(trial, state=TrialState.PRUNED)
      say(f'trial {trial.number}: {params} value {_last(study, trial):.4g}{_at(task, result.pruned_round)}: PRUNED')
    else:
      value = result.summary.mean(task.metric)
      study.tell(trial, value)
      say(f'trial {trial.number}: {params} value {value:.4g}: COMPLETE')


def _on_round(trial, task):
  """The trainer's on_round for a trial: reports the round's metric, raises Pruned when the pruner says so
  or a seed diverged."""

  def on_round(r, line):
    value = line.get(task.metric)
    if line['diverged_seeds'] or value is None or not math.isfinite(value):
      raise Pruned(r, diverged=True)
    trial.report(value, r)
    if trial.should_prune():
      raise Pruned(r)

  return on_round


def summarize(study, folder, trials, settings, dists, say):
  """Writes STUDY_DIR/best.json (the best trial, the counts, the study's settings) and prints the best."""
  counts = {state.name: len(study.get_trials(deepcopy=False, states=(state,))) for state in TrialState}
  complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
  best = max(complete, key=lambda t: t.value) if complete else None
  pruner = settings.pruner or optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)
  record = dict(
      budget=trials, counts=counts, storage=settings.storage,     # '': sqlite:///FOLDER/study.db
      sampler=f'TPESampler(seed={settings.sampler_seed})', pruner=type(pruner).__name__,
      space={path: space.describe(dist) for path, dist in dists.items()}, space_sha256=space.digest(dists),
      diverged=sum(bool(t.user_attrs.get('diverged')) for t in study.get_trials(deepcopy=False)),
      best=None if best is None else dict(number=best.number, value=best.value, params=best.params))
  os.makedirs(folder, exist_ok=True)
  workdir_lib.write_atomic(os.path.join(folder, BEST), json.dumps(record, indent=2))
  done = counts['COMPLETE'] + counts['PRUNED']
  say(f'study {folder}: {done}/{trials} trials ({counts["COMPLETE"]} complete, {counts["PRUNED"]} pruned, '
      f'{record["diverged"]} of them diverged)')
  if best is None:
    say('best: none (no trial completed)')
  else:
    say(f'best: trial {best.number} value {best.value:.4g} {_text(best.params)}')
  return record


def read_best(folder):
  """STUDY_DIR/best.json as a dict, None if absent."""
  return workdir_lib.read_json(os.path.join(folder, BEST))


class _Heartbeat:
  """Records a trial's heartbeat in an RDB storage every `seconds` from a thread, until stop()."""

  def __init__(self, storage, trial_id, seconds):
    self._stop = threading.Event()
    storage.record_heartbeat(trial_id)

    def beat():
      while not self._stop.wait(seconds):
        storage.record_heartbeat(trial_id)

    self._thread = threading.Thread(target=beat, daemon=True)
    self._thread.start()

  def stop(self):
    self._stop.set()
    self._thread.join()


def _print(line):
  print(line, flush=True)


def _text(params):
  return '{' + ', '.join(f'{k}={v:.4g}' if isinstance(v, float) else f'{k}={v}' for k, v in params.items()) + '}'


def _at(task, r):
  return f' at {task.round_name} {r}' if r is not None else ''


def _last(study, trial):
  values = _frozen(study, trial).intermediate_values
  return values[max(values)] if values else float('nan')


def _frozen(study, trial):
  """The FrozenTrial of a running Trial (its parameters, attributes, reported values)."""
  return _frozen_number(study, trial.number)


def _frozen_number(study, number):
  return next(t for t in study.get_trials(deepcopy=False) if t.number == number)

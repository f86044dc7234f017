"""Trials as ordinary runs: a trial's config, and run_trials, the one place trials are trained.

A trial is train.train_and_evaluate on the study's base config with the
trial's point of the rule's search space set in config.rule, in its own
workdir (provenance, checkpoints, resume, divergence records like any run).
`run_trials` trains a list of them one after another; `run_trial_lanes`
trains them as lanes of one compiled program (local_learning.trial_lanes)
where they differ only in float fields of config.rule, with the same
arguments and results.
"""
import copy
import dataclasses

import optuna

from local_learning import records, space, train, trial_lanes
from local_learning.errors import UserError


class Pruned(Exception):
  """Raised by a trial's on_round to stop it: pruned after round `round` (diverged: a seed diverged)."""

  def __init__(self, round_, diverged=False):
    super().__init__(f'{"diverged" if diverged else "pruned"} after round {round_}')
    self.round, self.diverged = round_, diverged


@dataclasses.dataclass(frozen=True)
class TrialResult:
  """A finished trial's Summary, or the round after which it was pruned (or diverged)."""
  summary: records.Summary | None = None
  pruned_round: int | None = None
  diverged: bool = False


def trial_config(base, point):
  """A copy of the locked config `base` with point {path in config.rule: value} set; a value of the
  wrong type is a TypeError (the search space disagrees with the config)."""
  config = copy.deepcopy(base)
  space.apply(config.rule, point)
  return config


def run_trials(configs, workdirs, on_rounds):
  """Trains configs[i] in workdirs[i], calling on_rounds[i](r, line) after each round -> [TrialResult].

  An on_round that raises Pruned ends its trial (a pruned or diverged
  result); any other exception propagates. Today one trial after another
  (each a vmapped program over its seeds).
  """
  results = []
  for config, workdir, on_round in zip(configs, workdirs, on_rounds, strict=True):
    try:
      summary = train.train_and_evaluate(config, workdir, on_round=on_round)
    except Pruned as e:
      results.append(TrialResult(pruned_round=e.round, diverged=e.diverged))
    else:
      results.append(TrialResult(summary=summary, diverged=bool(summary.diverged_seeds)))
  return results


def run_trial_lanes(configs, workdirs, on_rounds):
  """run_trials with the trials as lanes of one program (trial_lanes.train_lanes) -> [TrialResult];
  trials that differ in a field that changes the program (an int such as inference_steps) form one
  program per distinct structure."""
  results = [None] * len(configs)
  for group in _same_program(configs):
    for t, result in zip(group, _lanes([configs[t] for t in group], [workdirs[t] for t in group],
                                       [on_rounds[t] for t in group])):
      results[t] = result
  return results


def _same_program(configs):
  """Indices of configs grouped so that each group differs only in lane fields (trial_lanes.lane_fields)."""
  groups = []
  for t, config in enumerate(configs):
    for group in groups:
      try:
        trial_lanes.lane_fields([configs[group[0]], config])
      except UserError:
        continue
      group.append(t)
      break
    else:
      groups.append([t])
  return groups


def _lanes(configs, workdirs, on_rounds):
  """Trials that differ only in lane fields, as lanes of one program -> [TrialResult]."""
  if len(configs) == 1:
    return run_trials(configs, workdirs, on_rounds)
  diverged = {}

  def on_round(t, r, line):
    try:
      on_rounds[t](r, line)
    except Pruned as e:
      diverged[t] = e.diverged
      raise optuna.TrialPruned() from e

  results = []
  for t, summary in enumerate(trial_lanes.train_lanes(configs, workdirs, on_round)):
    pruned = getattr(summary, 'pruned_round', None)
    if pruned is not None:
      results.append(TrialResult(pruned_round=pruned, diverged=diverged.get(t, False)))
    else:
      results.append(TrialResult(summary=summary, diverged=bool(summary.diverged_seeds)))
  return results

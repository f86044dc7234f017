"""Tuning: a rule's search space tuned with Optuna, each trial an ordinary run (DESIGN.md, Fair tables).

  storage.py   Optuna storages by URL (SQLite by default, any RDB URL, journal:PATH)
  trials.py    trial_config, run_trials (the one place trials train), Pruned, TrialResult
  study.py     tune(config, folder, trials, Settings) -> the study; best.json; the budget and recovery
  plots.py     Optuna's optimisation history and parameter importances as PNGs
  command.py   the command line (benchmarks/tune.py, local-learning-tune)
"""
from local_learning.tuning.study import Settings, open_study, read_best, tune
from local_learning.tuning.trials import Pruned, TrialResult, run_trials, trial_config

__all__ = ['Pruned', 'Settings', 'TrialResult', 'open_study', 'read_best', 'run_trials', 'trial_config', 'tune']

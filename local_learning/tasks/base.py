"""The Task and Run contracts between the trainer (train.py) and a task (classification, separation).

A task owns everything the trainer does not share between tasks. Each task module has one
`Task` object; `Task.start` binds a config to a `Run`, which the trainer drives round by
round. Both classes here are Protocols: a task's classes subclass them, which gives them
the optional methods' defaults (Run.diagnose).
"""
from typing import Any, Callable, Protocol

import ml_collections
import numpy as np

from local_learning.arrays import Array

States = Any                                 # every seed's rule state, stacked over the seeds (K, ...)
PerSeed = dict[str, np.ndarray]              # {name: (K,)}


class Run(Protocol):
  """One run of K seeds: its data, bound rule and compiled programs.

  rounds                          the rounds to train
  title, model_name               for progress lines and summaries
  devices, layer_parallel         the devices it runs on, of them how many split a model's layers
  init() -> states                every seed's initial state
  compile(states) -> seconds      compiles the round's program
  costs(states) -> (FLOPs of a train step or None, bytes its compiled program allocates or None)
  train_round(states, r, progress) -> (states, metrics {name: (K,)}); progress(done, total)
                                  may be called within the round
  evaluate(states) -> ({name: (K,)}, finite (K,))
  size(rounds done), speed(rounds done, seconds) -> the summary's counts and rates
  diagnose(states, r) -> {name: (K,)}: extra values for round r's metrics.jsonl line that never
                                  mark a seed diverged (classification: BP alignment); default none
  """
  rounds: int
  title: str
  model_name: str
  devices: int
  layer_parallel: int

  def init(self) -> States: ...

  def compile(self, states: States, /) -> float: ...

  def costs(self, states: States, /) -> tuple[float | None, int | None]: ...

  def train_round(self, states: States, r: int, progress: Callable[[int, int], None], /) -> tuple[States, PerSeed]: ...

  def evaluate(self, states: States, /) -> tuple[PerSeed, np.ndarray]: ...

  def size(self, rounds: int, /) -> dict[str, int]: ...

  def speed(self, rounds: int, seconds: float, /) -> dict[str, float]: ...

  def diagnose(self, states: States, r: int, /) -> PerSeed:
    """Extra values for round r's metrics line; none by default."""
    del states, r
    return {}


class Task(Protocol):
  """What a rule is trained to do.

  name, datasets                  the task and the dataset names that pose it
  metric, metric_label, scale     the headline metric of summaries and tables
  round_name                      what one round of the trainer's loop is ('epoch', 'round')
  key_names                       the per-seed PRNG keys it draws, in order
  size_keys, speed_cells          its counts, and its rates with their units, in summary.json
  dataset_config(name)            the config.dataset section
  add_defaults(config, model)     its fields of a base config (model, batch size, ...)
  problems(config)                every mistake in its fields, one line each
  start(config, rule_cls, keys)   -> a Run for the seeds' keys (K, len(key_names))
  """
  name: str
  datasets: tuple[str, ...]
  metric: str
  metric_label: str
  scale: float
  round_name: str
  key_names: tuple[str, ...]
  size_keys: tuple[str, ...]
  speed_cells: tuple[tuple[str, str], ...]

  def dataset_config(self, name: str, /) -> ml_collections.ConfigDict: ...

  def add_defaults(self, config: ml_collections.ConfigDict, model: str, /) -> None: ...

  def problems(self, config: ml_collections.ConfigDict, /) -> list[str]: ...

  def start(self, config: ml_collections.ConfigDict, rule_cls: type, keys: Array, /) -> Run: ...

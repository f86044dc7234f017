"""Tasks: what a rule is trained to do, each one file with one `Task` object.

A task owns everything the trainer (train.py) does not share between tasks:
  name, datasets                 the task and the dataset names that pose it
  metric, metric_label, scale    the headline metric of summaries and tables
  round_name                     what one round of the trainer's loop is ('epoch', 'round')
  key_names                      the per-seed PRNG keys it draws, in order
  size_keys, speed_cells         its counts, and its rates with their units, in summary.json
  dataset_config(name)           the config.dataset section
  add_defaults(config, model)    its fields of a base config (model, batch size, ...)
  problems(config)               every mistake in its fields, one line each
  start(config, rule_cls, keys)  -> a Run for the seeds' keys: data, model, bound rule, programs
A Run gives the trainer: rounds, rule, init() -> states,
compile(states) -> seconds, train_round(states, r, progress) -> (states,
metrics {name: (K,)}) (progress(done, total) may be called within the round),
evaluate(states) -> ({name: (K,)}, finite (K,)), size(rounds done) and
speed(rounds done, seconds); and title, model_name, devices, layer_parallel.
A Run may add diagnose(states, r) -> {name: (K,)}, extra values for round r's
metrics.jsonl line that never mark a seed diverged (classification: BP alignment).
"""
from local_learning import records
from local_learning.errors import UserError
from local_learning.tasks import classification, separation

TASKS = {task.name: task for task in (classification.TASK, separation.TASK)}


def get(name):
  return TASKS[name]


def read_summary(data):
  """The records.Summary of a summary.json dict (of any schema), read with its task's keys."""
  task = get(data.get('task', 'classification'))
  speed_keys = [key for key, _ in task.speed_cells if key != 'train_seconds']
  return records.Summary.from_json(data, task.size_keys, speed_keys)


def for_dataset(name):
  """The task that dataset `name` poses; an unknown name is a UserError."""
  for task in TASKS.values():
    if name in task.datasets:
      return task
  known = [d for task in TASKS.values() for d in task.datasets]
  raise UserError(f'unknown dataset {name!r}; known datasets: {", ".join(known)}')

"""Tasks: what a rule is trained to do, each one file with one `Task` object.

The contracts, `Task` and the `Run` it starts, are Protocols in tasks/base.py; the trainer
(train.py) drives a Run round by round.
"""
from local_learning import records
from local_learning.errors import UserError
from local_learning.tasks import classification, separation
from local_learning.tasks.base import Run, Task

__all__ = ['TASKS', 'Run', 'Task', 'for_dataset', 'get', 'read_summary']

TASKS: dict[str, Task] = {task.name: task for task in (classification.TASK, separation.TASK)}


def get(name: str) -> Task:
  return TASKS[name]


def read_summary(data):
  """The records.Summary of a summary.json dict (of any schema), read with its task's keys."""
  task = get(data.get('task', 'classification'))
  speed_keys = [key for key, _ in task.speed_cells if key != 'train_seconds']
  return records.Summary.from_json(data, task.size_keys, speed_keys)


def for_dataset(name: str) -> Task:
  """The task that dataset `name` poses; an unknown name is a UserError."""
  for task in TASKS.values():
    if name in task.datasets:
      return task
  known = [d for task in TASKS.values() for d in task.datasets]
  raise UserError(f'unknown dataset {name!r}; known datasets: {", ".join(known)}')

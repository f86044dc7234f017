"""Tasks: their losses and the metric the trainer evaluates every rule with."""
from local_learning.tasks import classification, separation

TASKS = ('classification', 'separation')

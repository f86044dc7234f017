"""Tunes one rule's search space with Optuna: local_learning/tuning/command.py, from a checkout.

  python benchmarks/tune.py --config=configs/default.py:rule=pc --trials=20 --workdir=runs/tune_pc \
      --config.validation_examples=300
  (installed: local-learning-tune ...)
"""
from local_learning.tuning import command

if __name__ == '__main__':
  command.run()

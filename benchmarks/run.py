"""Runs a standard table and renders it: local_learning/bench/command.py, from a checkout.

  python benchmarks/run.py --table=quick --workdir=runs/quick
  (installed: local-learning-table --table=quick --workdir=runs/quick)
"""
from local_learning.bench import command

if __name__ == '__main__':
  command.run()

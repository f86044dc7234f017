"""Several command lines in one new process (one start of Python and JAX), for tests that need a process
only for its environment, such as XLA_FLAGS' fake devices (conftest.run_cli_batch).

  python tests/cli_batch.py < '[[ARG, ...], ...]'   prints, last, '[[returncode, stdout, stderr], ...]'
"""
import json
import sys

from conftest import run_main

if __name__ == '__main__':
  results = [run_main(*args) for args in json.load(sys.stdin)]
  print(json.dumps([[r.returncode, r.stdout, r.stderr] for r in results]))

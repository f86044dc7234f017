"""Determinism by default: a run's numbers do not depend on how its epochs are split into compiled
calls (the default sizes calls by measured time), so two runs of the default command are bit-identical."""
import json

from conftest import ROOT

from local_learning import config as ll_config
from local_learning import train


def _run(tmp_path, name, steps_per_call):
  config = ll_config.load_file(str(ROOT / 'configs/default.py'), 'rule=pc')
  config.num_epochs, config.steps_per_call, config.model.widths = 2, steps_per_call, (16,)
  train.train_and_evaluate(config, str(tmp_path / name))
  lines = [json.loads(line) for line in (tmp_path / name / 'metrics.jsonl').read_text().splitlines()]
  loop = json.loads((tmp_path / name / 'checkpoints' / '2' / 'loop' / 'metadata').read_text())
  return [{k: v for k, v in line.items() if k != 'seconds'} for line in lines], loop['states_sha256']


def test_runs_are_bit_identical_whatever_the_call_sizes(tmp_path):
  """Time-sized calls (the default, 0) twice, and calls of 3 steps: the same losses, energies and
  accuracies to the last bit, and the same weights."""
  first = _run(tmp_path, 'a', 0)
  assert _run(tmp_path, 'b', 0) == first
  assert _run(tmp_path, 'c', 3) == first

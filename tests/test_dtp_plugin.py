"""examples/dtp.py, difference target propagation written against the public API: it passes the kit
(check_rule, check_learns) and trains the MLP and the VGG through the command line."""
import ast
import json
import math
import sys

import pytest
from conftest import ROOT, run_main

from local_learning import testing

EXAMPLE = ROOT / 'examples' / 'dtp.py'


@pytest.fixture
def dtp(on_pythonpath):
  """The example as a user's module on PYTHONPATH (its rules leave with the test)."""
  (on_pythonpath / 'dtp.py').write_text(EXAMPLE.read_text())
  __import__('dtp')
  return sys.modules['dtp'], on_pythonpath


def test_dtp_uses_no_private_name():
  """Only `import local_learning as ll`, and no attribute _x read anywhere (dunders aside)."""
  tree = ast.parse(EXAMPLE.read_text())
  imports = [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]
  assert all(isinstance(node, ast.Import) for node in imports)
  assert {alias.name for node in imports for alias in node.names} == {'jax', 'jax.numpy', 'local_learning'}
  private = [node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr.startswith('_')
             and not node.attr.endswith('__')]
  assert not private


def test_dtp_passes_the_kit(dtp):
  """The contract (its inverses must change in a step too) and learning, on the tiny MLP (the VGG: below)."""
  module, _ = dtp
  testing.check_rule(module.DTP)
  result = testing.check_learns(module.DTP)
  assert result['loss_after'] < 0.9 * result['loss_before']


def test_dtp_trains_the_vgg_from_the_command_line(dtp):
  """The VGG through the CLI (conv feedback paths: model.backward); the kit above trains the MLP."""
  _, folder = dtp
  workdir = folder / 'run'
  result = run_main('--config=configs/default.py:rule=dtp,model=vgg', '--config.rule_module=dtp',
                    '--config.model.channels=(4,8)',
                    '--config.num_epochs=1', '--config.train_examples=320', '--config.model.activation=tanh',
                    f'--workdir={workdir}')
  assert result.returncode == 0, result.stderr
  summary = json.loads((workdir / 'summary.json').read_text())
  assert summary['status'] == 'ok', summary      # 10 steps: that it learns is check_learns' to say
  line = json.loads((workdir / 'metrics.jsonl').read_text().splitlines()[-1])
  assert all(math.isfinite(line[key]) for key in ('inverse_loss', 'layer_loss', 'loss')), line

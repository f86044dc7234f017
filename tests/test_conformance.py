"""Every built-in rule passes local_learning.testing.check_rule; the README's plugin example trains."""
import json

import jax
import jax.numpy as jnp
import pytest
from conftest import ROOT, run_main

import local_learning as ll
from local_learning import registry

EXAMPLE = ROOT / 'examples' / 'my_fa.py'


# The kit's properties (purity, structure, determinism, finiteness, a checkpoint round trip, a NaN seen) hold of a
# rule's program at any optimisation level.
pytestmark = pytest.mark.usefixtures('few_optimisations')


@pytest.mark.parametrize('name', registry.names())
def test_builtin_rule_passes_the_conformance_kit(name):
  ll.testing.check_rule(registry.get(name))


def test_check_rule_catches_a_rule_that_hides_a_nan():
  class Hiding(registry.get('bp')):
    name = 'hiding'

    def grads(self, state, batch, rng):
      return jax.tree.map(jnp.nan_to_num, super().grads(state, batch, rng))

  with pytest.raises(AssertionError, match='hiding: a NaN in the data left params and metrics finite'):
    ll.testing.check_rule(Hiding)


def test_the_fa_plugin_example_fits_in_40_lines_is_in_the_readme_and_trains_from_its_own_module(on_pythonpath):
  source = EXAMPLE.read_text()
  assert len(source.splitlines()) <= 40
  assert source.split('"""', 2)[2].strip() in (ROOT / 'README.md').read_text()
  (on_pythonpath / 'my_fa.py').write_text(source)
  workdir = on_pythonpath / 'run'
  result = run_main('--config=configs/default.py:rule=my_fa', '--config.rule_module=my_fa',
                    '--config.num_epochs=3', f'--workdir={workdir}')
  assert result.returncode == 0, result.stderr
  summary = json.loads((workdir / 'summary.json').read_text())
  assert summary['status'] == 'ok' and summary['test_accuracy'] > 0.5

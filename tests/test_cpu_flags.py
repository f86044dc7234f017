"""local_learning.cpu_flags: XLA:CPU defaults that a user's XLA_FLAGS override."""
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import default
from local_learning import cpu_flags, models, registry

YNN_FUSION = '"kind":"__ynn_fusion"'     # a YNNPACK fusion's backend config in the compiled HLO


def test_flags_are_added_and_a_users_own_setting_wins(monkeypatch):
  mine = '--xla_cpu_experimental_ynn_fusion_type=individual_dot'
  monkeypatch.setenv('XLA_FLAGS', f'{mine} --xla_force_host_platform_device_count=2')
  cpu_flags.apply()
  flags = os.environ['XLA_FLAGS'].split()
  assert [f for f in flags if 'ynn_fusion_type' in f] == [mine]
  assert '--xla_force_host_platform_device_count=2' in flags
  assert '--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold=65536' in flags


def test_this_process_runs_products_through_eigen():
  """The flags reached XLA (conftest applies them): a compiled product is a plain dot."""
  a = jnp.ones((128, 128))
  hlo = jax.jit(lambda a: a @ a).lower(a).compile().as_text()
  assert ' dot(' in hlo and YNN_FUSION not in hlo


def test_importing_the_package_changes_no_flags():
  code = 'import os, local_learning; print(os.environ.get("XLA_FLAGS", "unset"))'
  env = {k: v for k, v in os.environ.items() if k != 'XLA_FLAGS'}
  result = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True, check=True)
  assert result.stdout.strip() == 'unset'


@pytest.mark.parametrize('model, rule', [('mlp', 'fa'), ('vgg', 'bp'), ('resmlp', 'pc')])
def test_initialisation_at_init_program_level_is_the_defaults_bit_for_bit(model, rule):
  """INIT_PROGRAM's -O1 compiles in a third of the time and must not change a single initial weight."""
  config = default.get_config(f'rule={rule},model={model}')
  built = registry.get(rule)(models.functional(config.model, (8, 8, 1), 10), config.rule, 10)
  keys = jax.random.split(jax.random.key(0), 3)
  init = jax.jit(jax.vmap(built.init)).lower(keys)
  default_level = init.compile(compiler_options={'xla_backend_optimization_level': 2})(keys)
  init_level = init.compile(compiler_options=cpu_flags.INIT_PROGRAM)(keys)
  for a, b in zip(jax.tree.leaves(default_level), jax.tree.leaves(init_level), strict=True):
    np.testing.assert_array_equal(a, b)

"""local_learning.cpu_flags: XLA:CPU defaults that a user's XLA_FLAGS override."""
import jax
import jax.numpy as jnp

from local_learning import cpu_flags


def test_flags_are_added_and_a_users_own_setting_wins(monkeypatch):
  mine = '--xla_cpu_experimental_ynn_fusion_type=individual_dot'
  monkeypatch.setenv('XLA_FLAGS', f'{mine} --xla_force_host_platform_device_count=2')
  cpu_flags.apply()
  flags = cpu_flags.os.environ['XLA_FLAGS'].split()
  assert [f for f in flags if 'ynn_fusion_type' in f] == [mine]
  assert '--xla_force_host_platform_device_count=2' in flags
  assert '--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold=65536' in flags


def test_this_process_runs_products_through_eigen():
  """The flags reached XLA: a compiled product has no YNNPACK fusion."""
  a = jnp.ones((128, 128))
  assert 'ynn' not in jax.jit(lambda a: a @ a).lower(a).compile().as_text()

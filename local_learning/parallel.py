"""Data parallelism over devices with JAX sharding.

Parameters and rule states are replicated; each training batch is split along
its batch axis over a one-axis mesh ('data') of the run's devices, and XLA's
SPMD partitioner inserts the gradient reductions. Rules stay device-agnostic:
the trainer only constrains the sharding of the batches it hands them.
"""
import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from local_learning.errors import UserError

AXIS = 'data'


def mesh(num_devices=0):
  """A ('data',) mesh over the first num_devices devices (0: all of them)."""
  available = jax.devices()
  if num_devices > len(available):
    raise UserError(f'num_devices={num_devices} but only {len(available)} device(s) are visible; '
                    'lower --config.num_devices (0 uses all)')
  return Mesh(np.array(available[:num_devices or len(available)]), (AXIS,))


def replicated(mesh_):
  return NamedSharding(mesh_, P())


def put_replicated(mesh_, array):
  """A host array (the same on every process) as a jax.Array replicated over the mesh.

  Built shard by shard, so it works in a multi-host run too, where the mesh
  has devices this process cannot address.
  """
  array = np.asarray(array)
  return jax.make_array_from_callback(array.shape, replicated(mesh_), lambda index: array[index])


def split_batch(mesh_, batch):
  """Constrains every array of `batch` to be split along its leading (batch) axis."""
  return jax.tree.map(lambda a: jax.lax.with_sharding_constraint(a, NamedSharding(mesh_, P(AXIS))), batch)

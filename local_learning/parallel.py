"""Data and layer parallelism over devices with JAX sharding.

The run's devices form a mesh ('data', 'layers'). Parameters and rule states
are replicated; each training batch is split along its batch axis over
'data', and a model's stacked layers (K, ...) along K over 'layers' (a model
marks them with `split_layers`; its predictions for K layers are then
computed K / layers at a time on each device). XLA's SPMD partitioner inserts
the exchanges and reductions. Rules stay device-agnostic: the trainer only
constrains the batches it hands them and sets the mesh while it compiles.
"""
import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from local_learning.errors import UserError

AXIS = 'data'
LAYERS = 'layers'


def mesh(num_devices=0, layer_parallel=1):
  """A ('data', 'layers') mesh over the first num_devices devices (0: all of them),
  `layer_parallel` devices along 'layers'."""
  available = jax.devices()
  if num_devices > len(available):
    raise UserError(f'num_devices={num_devices} but only {len(available)} device(s) are visible; '
                    'lower --config.num_devices (0 uses all)')
  devices = available[:num_devices or len(available)]
  if len(devices) % layer_parallel:
    raise UserError(f'layer_parallel={layer_parallel} does not divide the {len(devices)} device(s) of the run; '
                    'set --config.layer_parallel to a divisor (on a CPU, run one device per core with '
                    'XLA_FLAGS=--xla_force_host_platform_device_count=N)')
  return Mesh(np.array(devices).reshape(-1, layer_parallel), (AXIS, LAYERS))


def replicated(mesh_):
  return NamedSharding(mesh_, P())


def put_replicated(mesh_, array):
  """A host array (the same on every process) as a jax.Array replicated over the mesh.

  Built shard by shard, so it works in a multi-host run too, where the mesh
  has devices this process cannot address.
  """
  array = np.asarray(array)
  return jax.make_array_from_callback(array.shape, replicated(mesh_), lambda index: array[index])


def split_layers(stack):
  """Constrains a stack of layers (K, ...) to be split along K over the ambient mesh's
  'layers' axis, if it has one (else returns it unchanged); the other axes are left to XLA."""
  if LAYERS not in jax.sharding.get_abstract_mesh().axis_names:
    return stack
  return jax.lax.with_sharding_constraint(stack, P(LAYERS, *[P.UNCONSTRAINED] * (stack.ndim - 1)))


def split_batch(mesh_, batch):
  """Constrains every array of `batch` to be split along its leading (batch) axis."""
  return jax.tree.map(lambda a: jax.lax.with_sharding_constraint(a, NamedSharding(mesh_, P(AXIS))), batch)

"""Checkpoints of a run's whole state with orbax, for exact resume.

A checkpoint holds the rule states of all seeds (params, optimizer states,
buffers) and the trainer's loop record (records.RunRecord: rounds done,
seconds, per-seed divergence, latest and best evaluation) as JSON. The data
order needs nothing more: each epoch's order is drawn from the seed's key
folded with the epoch number, and separation data from the seed's data key. Orbax writes
a step to a temporary folder and renames it when complete, so a run killed
while saving leaves the previous checkpoint intact. The record also holds a
SHA-256 of the states' bytes, so damaged array data is found on restore
rather than resumed from.
"""
import hashlib
import os
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp

from local_learning import records
from local_learning.errors import UserError


class Checkpoints:
  """The checkpoints of the run in `workdir`/checkpoints."""

  def __init__(self, workdir, keep=2):
    self.path = os.path.abspath(os.path.join(workdir, 'checkpoints'))
    self.manager = ocp.CheckpointManager(
        self.path, options=ocp.CheckpointManagerOptions(max_to_keep=keep, create=True))

  def latest(self):
    """The last round checkpointed, or None."""
    return self.manager.latest_step()

  def save(self, r, states, record):
    loop = dict(record.to_json(), states_sha256=digest(states))
    self.manager.save(r, args=ocp.args.Composite(state=ocp.args.StandardSave(states), loop=ocp.args.JsonSave(loop)))
    self.manager.wait_until_finished()

  def restore(self, r, like):
    """(states shaped and sharded like `like`, the RunRecord); a mismatch is a UserError."""
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, like)
    try:
      restored: Any = self.manager.restore(r, args=ocp.args.Composite(   # a Composite: .state, .loop
          state=ocp.args.StandardRestore(abstract), loop=ocp.args.JsonRestore()))
    except Exception as e:  # pylint: disable=broad-except
      raise UserError(f'checkpoint {self.path}/{r} cannot be restored for this config '
                      f'({type(e).__name__}: {str(e).splitlines()[0][:200]}); '
                      'run in another --workdir, or pass --overwrite to start over') from None
    saved = restored.loop.pop('states_sha256', None)
    if saved is not None and saved != digest(restored.state):
      raise UserError(f'checkpoint {self.path}/{r} is damaged (its arrays do not match the SHA-256 saved with '
                      'them); run in another --workdir, or pass --overwrite to start over')
    return restored.state, records.RunRecord.from_json(restored.loop)


def digest(states):
  """SHA-256 of the bytes of every array of `states` (PRNG keys by their key data); the
  states are replicated, so this process's first copy of each array is all of it."""
  sha = hashlib.sha256()
  for leaf in jax.tree.leaves(states):
    if jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
      leaf = jax.random.key_data(leaf)
    sha.update(np.ascontiguousarray(leaf.addressable_data(0)).tobytes())
  return sha.hexdigest()

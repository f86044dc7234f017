"""Checkpoints of a run's whole state with orbax, for exact resume.

A checkpoint holds the rule states of all seeds (params, optimizer states,
buffers) and the trainer's loop record (records.RunRecord: rounds done,
seconds, per-seed divergence, latest and best evaluation) as JSON. The data
order needs nothing more: each epoch's order is drawn from the seed's key
folded with the epoch number, and separation data from the seed's data key. Orbax writes
a step to a temporary folder and renames it when complete, so a run killed
while saving leaves the previous checkpoint intact.

Every byte is checked on restore: the workdir's record (ownership.py) holds
the SHA-256 of each file of each step saved, and the loop record carries a
SHA-256 of the states' bytes and one of itself, so a flipped byte anywhere is
named rather than resumed from (orbax restores flipped bytes silently). A
step saved before the record held digests has its arrays' store read through
once, synchronously, before orbax opens it: damage tensorstore detects (a
manifest's CRC-32C) is named there, not met inside orbax's event loop, whose
reads still in flight print a traceback once the failed restore closes it. A
step folder the run did not save (a copy left as checkpoints/99) is refused
when the workdir is checked (ownership.owner).
"""
import errno
import hashlib
import json
import os
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp
import tensorstore as ts

from local_learning import ownership, records
from local_learning.errors import UserError

RESTART = 'run in another --workdir, or pass --overwrite to start over'


class Checkpoints:
  """The checkpoints of the run in `workdir`/checkpoints; `record`: the workdir's ownership.Record
  (None on the processes of a multi-host run that do not write)."""

  def __init__(self, workdir, record=None, keep=2):
    self.path = os.path.abspath(os.path.join(workdir, 'checkpoints'))
    self.record = record
    if record is not None:
      record.add('checkpoints')
    self.manager = ocp.CheckpointManager(
        self.path, options=ocp.CheckpointManagerOptions(max_to_keep=keep, create=True))

  def latest(self):
    """The last round checkpointed, or None."""
    return self.manager.latest_step()

  def save(self, r, states, record):
    if self.record is not None:
      self.record.set_step(r, None)        # entered before it is written, so --overwrite may delete it
    loop = record.to_json()
    loop.update(states_sha256=digest(states), record_sha256=record_digest(loop))
    try:
      self.manager.save(r, args=ocp.args.Composite(state=ocp.args.StandardSave(states),
                                                   loop=ocp.args.JsonSave(loop)))
      self.manager.wait_until_finished()
    except Exception as e:  # pylint: disable=broad-except  (orbax wraps the OSError of a full disk in its own)
      if not _disk_full(e):
        raise
      raise OSError(errno.ENOSPC, 'No space left on device', os.path.join(self.path, str(r))) from None
    if self.record is not None:
      self.record.set_step(r, ownership.digests(os.path.join(self.path, str(r))))

  def restore(self, r, like):
    """(states shaped and sharded like `like`, the RunRecord); damage or a mismatch is a UserError."""
    self._verify_files(r)
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, like)
    try:
      restored: Any = self.manager.restore(r, args=ocp.args.Composite(   # a Composite: .state, .loop
          state=ocp.args.StandardRestore(abstract), loop=ocp.args.JsonRestore()))
    except Exception as e:  # pylint: disable=broad-except
      self.manager.close()                 # its threads and event loop, before the process ends on the error
      raise UserError(f'checkpoint {self.path}/{r} cannot be restored for this config '
                      f'({type(e).__name__}: {str(e).splitlines()[0][:200]}); {RESTART}') from None
    loop = restored.loop
    if not isinstance(loop, dict):
      raise UserError(f'checkpoint {self.path}/{r} is damaged (its loop record is not a JSON object); {RESTART}')
    states_sha256, record_sha256 = loop.pop('states_sha256', None), loop.pop('record_sha256', None)
    if record_sha256 is not None and record_sha256 != record_digest(loop):
      raise UserError(f'checkpoint {self.path}/{r} is damaged (its loop record: rounds, best, ... does not match '
                      f'the SHA-256 saved with it); {RESTART}')
    if states_sha256 is not None and states_sha256 != digest(restored.state):
      raise UserError(f'checkpoint {self.path}/{r} is damaged (its arrays do not match the SHA-256 saved with '
                      f'them); {RESTART}')
    try:
      return restored.state, records.RunRecord.from_json(loop)
    except (KeyError, TypeError) as e:
      raise UserError(f'checkpoint {self.path}/{r} is damaged (its loop record lacks {e}); {RESTART}') from None

  def _verify_files(self, r):
    """A UserError naming the first file of step r whose bytes differ from those saved."""
    saved = (self.record.steps() if self.record is not None else {}).get(r)
    if saved is None:                       # a run from before the record held digests
      self._read_store(r)
      return
    now = ownership.digests(os.path.join(self.path, str(r)))
    for name in sorted(set(saved) | set(now)):
      if saved.get(name) != now.get(name):
        what = 'is missing' if name not in now else 'was not saved by this run' if name not in saved else \
            'differs from the bytes saved (SHA-256)'
        raise UserError(f'checkpoint {self.path}/{r} is damaged: {name} {what}; {RESTART}')

  def _read_store(self, r):
    """A UserError when the OCDBT store of step r's arrays cannot be read through (every key, synchronously)."""
    folder = os.path.join(self.path, str(r), 'state')
    if not os.path.exists(os.path.join(folder, 'manifest.ocdbt')):
      return
    try:
      store = ts.KvStore.open({'driver': 'ocdbt', 'base': {'driver': 'file', 'path': folder + os.sep}}).result()
      for key in store.list().result():
        store.read(key).result()
    except Exception as e:  # pylint: disable=broad-except  (tensorstore's DATA_LOSS is a ValueError, others may not be)
      raise UserError(f'checkpoint {self.path}/{r} is damaged: its arrays cannot be read '
                      f'({str(e).splitlines()[0][:200]}); {RESTART}') from None


def digest(states):
  """SHA-256 of the bytes of every array of `states` (PRNG keys by their key data); the
  states are replicated, so this process's first copy of each array is all of it."""
  sha = hashlib.sha256()
  for leaf in jax.tree.leaves(states):
    if jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
      leaf = jax.random.key_data(leaf)
    sha.update(np.ascontiguousarray(leaf.addressable_data(0)).tobytes())
  return sha.hexdigest()


def record_digest(loop):
  """SHA-256 of a loop record's JSON (its digests left out), keys sorted."""
  rest = {k: v for k, v in loop.items() if k not in ('states_sha256', 'record_sha256')}
  return hashlib.sha256(json.dumps(rest, sort_keys=True).encode()).hexdigest()


def _disk_full(error: BaseException | None) -> bool:
  """Whether error, or an error it was raised from, is a full disk (ENOSPC, EDQUOT)."""
  while error is not None:
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
      return True
    error = error.__cause__ or error.__context__
  return False

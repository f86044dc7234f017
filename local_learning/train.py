"""The common trainer: train_and_evaluate(config, workdir), the same for every rule.

The `config.num_seeds` seeds (config.seed, config.seed + 1, ...) of a run train
as one vmapped program, data-parallel over the run's devices, and with
config.layer_parallel > 1 splitting a model's stacked layers (parallel.py). An
epoch is one jitted `lax.scan` of `rule.train_step` over batches of the
device-resident training set, in a fresh random order per seed and epoch.
After each epoch the trainer evaluates every seed's parameters itself (test
accuracy of the feedforward output), appends a line to metrics.jsonl and
checkpoints the whole state; re-running the same command resumes from the
last checkpoint. A seed whose metrics turn NaN or infinite is recorded as
diverged; the run stops when every seed has diverged.
"""
import functools
import time

import jax
import jax.numpy as jnp
import numpy as np

from local_learning import data, models, parallel, registry, train_separation, validate
from local_learning import seeds as seeds_lib, workdir as workdir_lib
from local_learning.checkpoint import Checkpoints
from local_learning.errors import UserError
from local_learning.tasks import classification


def train_and_evaluate(config, workdir, overwrite=False):
  """Trains config.rule on config.dataset; writes workdir; returns the summary dict."""
  if config.get('rule_module'):
    registry.import_module(config.rule_module)
  rule_cls = registry.get(config.rule.name)
  task = data.task_of(config.dataset.name)
  if task not in rule_cls.tasks:
    raise UserError(f'rule {rule_cls.name!r} supports {", ".join(rule_cls.tasks)}, not {task} '
                    f'(dataset {config.dataset.name!r})')
  validate.check(config)
  if task == 'separation':
    return train_separation.train_and_evaluate(config, workdir, rule_cls, overwrite)
  if (summary := workdir_lib.finished_run(workdir, config, overwrite)) is not None:
    print(f'{workdir} holds this run, finished; nothing to do', flush=True)
    return summary
  mesh = parallel.mesh(config.num_devices, config.layer_parallel)
  data_devices = mesh.shape[parallel.AXIS]
  if config.batch_size % data_devices:
    raise UserError(f'batch_size {config.batch_size} does not split over {data_devices} devices; '
                    'use a multiple of the device count, or set --config.num_devices')
  dataset = data.load(config.dataset)
  if config.batch_size > len(dataset.x_train):
    raise UserError(f'batch_size {config.batch_size} exceeds the {len(dataset.x_train)} training '
                    f'examples of {dataset.name}; lower --config.batch_size')
  model = models.functional(config.model, dataset.input_shape, dataset.num_classes)
  if config.layer_parallel > 1 and not any(model.stacks):
    raise UserError(f'layer_parallel={config.layer_parallel} splits a model\'s stacked layers, and model '
                    f'{config.model.name!r} has none; use model resmlp or --config.layer_parallel=1')
  steps_per_epoch = len(dataset.x_train) // config.batch_size
  rule = rule_cls(model, config.rule, num_steps=steps_per_epoch * config.num_epochs)

  seeds = [config.seed + i for i in range(config.num_seeds)]
  keys = jax.vmap(lambda s: jax.random.split(jax.random.key(s)))(jnp.array(seeds))
  init_keys, train_keys = keys[:, 0], keys[:, 1]
  replicated = parallel.replicated(mesh)
  states = jax.jit(jax.vmap(rule.init), out_shardings=replicated)(init_keys)
  x_train = parallel.put_replicated(mesh, dataset.x_train)
  y_train = parallel.put_replicated(mesh, dataset.y_train)
  run_epoch = jax.jit(_over_seeds(_epoch_fn(rule, mesh, steps_per_epoch, config.batch_size),
                                  in_axes=(0, None, None, 0), num_seeds=len(seeds)), out_shardings=replicated)
  start = time.perf_counter()
  with jax.set_mesh(mesh):           # the mesh that the model's split_layers sees
    run_epoch = run_epoch.lower(states, x_train, y_train, train_keys).compile()
  compile_seconds = time.perf_counter() - start
  evaluate = _evaluator(model, rule, mesh, dataset, config.eval_batch_size)

  out = workdir_lib.Workdir.open(workdir, config, overwrite)
  checkpoints = Checkpoints(workdir) if config.checkpoint_every else None
  loop = dict(epoch=0, train_seconds=0.0, diverged=[False] * len(seeds),
              accuracy=[None] * len(seeds), best=[None] * len(seeds))
  if checkpoints and checkpoints.latest_epoch() is not None:
    states, loop = checkpoints.restore(checkpoints.latest_epoch(), states)
    print(f'resuming {workdir} after epoch {loop["epoch"]}', flush=True)
  out.keep_epochs(loop['epoch'])

  diverged = np.array(loop['diverged'])
  accuracies, best = seeds_lib.from_list(loop['accuracy']), seeds_lib.from_list(loop['best'])
  for epoch in range(loop['epoch'] + 1, config.num_epochs + 1):
    start = time.perf_counter()
    epoch_keys = jax.vmap(jax.random.fold_in, in_axes=(0, None))(train_keys, epoch)
    states, metrics = run_epoch(states, x_train, y_train, epoch_keys)
    metrics = {k: np.asarray(v, np.float64) for k, v in jax.device_get(metrics).items()}
    seconds = time.perf_counter() - start
    loop['train_seconds'] += seconds
    diverged |= ~np.all([np.isfinite(v) for v in metrics.values()], axis=0)
    accuracies = np.where(diverged, np.nan, evaluate(states))
    best = np.fmax(best, accuracies)
    record = dict(epoch=epoch, seconds=seconds,
                  **seeds_lib.summarize({**metrics, 'test_accuracy': accuracies}),
                  diverged_seeds=[s for s, d in zip(seeds, diverged) if d])
    out.log_epoch(record)
    print(_progress(rule_cls.name, dataset.name, epoch, config.num_epochs, record, len(seeds)), flush=True)
    finished = diverged.all() or epoch == config.num_epochs
    loop.update(epoch=epoch, diverged=diverged.tolist(), accuracy=seeds_lib.to_list(accuracies),
                best=seeds_lib.to_list(best))
    if checkpoints and (epoch % config.checkpoint_every == 0 or finished):
      checkpoints.save(epoch, states, loop)
    if diverged.all():
      print('every seed diverged; stopping', flush=True)
      break

  epochs, train_seconds = loop['epoch'], loop['train_seconds']
  summary = dict(
      rule=rule_cls.name, dataset=dataset.name, model=config.model.name, task=task,
      status='diverged' if diverged.any() else 'ok', seeds=seeds,
      diverged_seeds=[s for s, d in zip(seeds, diverged) if d],
      **seeds_lib.summarize({'test_accuracy': accuracies, 'best_test_accuracy': best}),
      epochs=epochs, steps=epochs * steps_per_epoch, train_seconds=train_seconds,
      seconds_per_epoch=train_seconds / epochs, steps_per_second=epochs * steps_per_epoch / train_seconds,
      compile_seconds=compile_seconds, device=jax.devices()[0].device_kind, num_devices=mesh.size,
      layer_parallel=config.layer_parallel)
  out.write_summary(summary)
  return summary


def _over_seeds(fn, in_axes, num_seeds):
  """jax.vmap(fn, in_axes) over the seeds axis; for a single seed, fn itself with that axis
  taken off its inputs and put back on its outputs: XLA:CPU fused the deep resmlp's
  inference loop worse around a batch axis of size 1."""
  if num_seeds > 1:
    return jax.vmap(fn, in_axes=in_axes)

  def one_seed(*args):
    args = [jax.tree.map(lambda a: a[0], arg) if axis == 0 else arg for arg, axis in zip(args, in_axes)]
    return jax.tree.map(lambda a: a[None], fn(*args))

  return one_seed


def _epoch_fn(rule, mesh, steps, batch_size):
  """(state, x, y, key) -> (state, mean metrics): one pass in a random order."""

  def run(state, x, y, key):
    order_key, step_key = jax.random.split(key)
    batches = jax.random.permutation(order_key, len(x))[:steps * batch_size].reshape(steps, batch_size)

    def step(state, inputs):
      idx, rng = inputs
      return rule.train_step(state, parallel.split_batch(mesh, (x[idx], y[idx])), rng)

    state, metrics = jax.lax.scan(step, state, (batches, jax.random.split(step_key, steps)))
    return state, jax.tree.map(jnp.mean, metrics)

  return run


def _evaluator(model, rule, mesh, dataset, batch_size):
  """states (stacked over seeds) -> test accuracy per seed, over padded batches."""
  n = len(dataset.x_test)
  data_devices = mesh.shape[parallel.AXIS]
  batch_size = -(-min(batch_size, n) // data_devices) * data_devices
  pad = -n % batch_size
  x = parallel.put_replicated(mesh, np.concatenate([dataset.x_test, dataset.x_test[:pad]]))
  y = parallel.put_replicated(mesh, np.concatenate([dataset.y_test, np.full(pad, -1, np.int32)]))  # -1: no class

  @jax.jit
  @functools.partial(jax.vmap, in_axes=(0, None, None))
  def count(state, xb, yb):
    xb, yb = parallel.split_batch(mesh, (xb, yb))
    return classification.correct(model.output(rule.params(state), xb), yb)

  def evaluate(states):
    total = sum(count(states, x[i:i + batch_size], y[i:i + batch_size])
                for i in range(0, len(x), batch_size))
    return np.asarray(total, np.float64) / n

  return evaluate


def _progress(rule, dataset, epoch, epochs, record, num_seeds):
  parts = [f'{rule} {dataset} epoch {epoch}/{epochs}:']
  for name in sorted(k for k in record if f'{k}_per_seed' in record):
    mean, std = record[name], record[f'{name}_std']
    if mean is None:
      parts.append(f'{name} nan')
    else:
      parts.append(f'{name} {mean:.4g}' + (f' ± {std:.2g}' if num_seeds > 1 else ''))
  if record['diverged_seeds']:
    parts.append(f'diverged seeds {record["diverged_seeds"]}')
  parts.append(f'({record["seconds"]:.2f}s)')
  return ' '.join(parts)

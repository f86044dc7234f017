"""The common trainer: train_and_evaluate(config, workdir), the same for every rule.

An epoch is one jitted `lax.scan` of `rule.train_step` over batches of the
device-resident training set, in a fresh random order each epoch. After each
epoch the trainer evaluates the rule's parameters itself (test accuracy of the
feedforward output) and appends a line to metrics.jsonl; a NaN or infinite
metric stops the run as diverged.
"""
import time

import jax
import jax.numpy as jnp
import numpy as np

from local_learning import data, models, registry, workdir as workdir_lib
from local_learning.errors import UserError
from local_learning.tasks import classification


def train_and_evaluate(config, workdir):
  """Trains config.rule on config.dataset; writes workdir; returns the summary dict."""
  if config.get('rule_module'):
    registry.import_module(config.rule_module)
  rule_cls = registry.get(config.rule.name)
  task = data.task_of(config.dataset.name)
  if task not in rule_cls.tasks:
    raise UserError(f'rule {rule_cls.name!r} supports {", ".join(rule_cls.tasks)}, not {task} '
                    f'(dataset {config.dataset.name!r})')
  _check_positive(config, 'batch_size', 'num_epochs', 'eval_batch_size')
  dataset = data.load(config.dataset)
  if config.batch_size > len(dataset.x_train):
    raise UserError(f'batch_size {config.batch_size} exceeds the {len(dataset.x_train)} training '
                    f'examples of {dataset.name}; lower --config.batch_size')
  model = models.FunctionalModel.of(
      models.build(config.model, dataset.input_shape, dataset.num_classes, config.seed))
  steps_per_epoch = len(dataset.x_train) // config.batch_size
  rule = rule_cls(model, config.rule, num_steps=steps_per_epoch * config.num_epochs)
  init_key, train_key = jax.random.split(jax.random.key(config.seed))
  state = rule.init(init_key)

  x_train, y_train = jnp.asarray(dataset.x_train), jnp.asarray(dataset.y_train)
  run_epoch = jax.jit(_epoch_fn(rule, steps_per_epoch, config.batch_size))
  evaluate = _evaluator(model, dataset, config.eval_batch_size)
  start = time.perf_counter()
  run_epoch = run_epoch.lower(state, x_train, y_train, train_key).compile()
  compile_seconds = time.perf_counter() - start

  out = workdir_lib.Workdir.create(workdir, config)
  status, train_seconds, accuracy = 'ok', 0.0, float('nan')
  for epoch in range(1, config.num_epochs + 1):
    start = time.perf_counter()
    state, metrics = run_epoch(state, x_train, y_train, jax.random.fold_in(train_key, epoch))
    metrics = {k: float(v) for k, v in jax.device_get(metrics).items()}
    seconds = time.perf_counter() - start
    train_seconds += seconds
    if not all(np.isfinite(v) for v in metrics.values()):
      status = 'diverged'
      out.log_epoch(dict(epoch=epoch, **metrics, seconds=seconds, status=status))
      print(f'epoch {epoch}/{config.num_epochs}: diverged ({_format(metrics)}); stopping', flush=True)
      break
    accuracy = evaluate(rule.params(state))
    out.log_epoch(dict(epoch=epoch, **metrics, test_accuracy=accuracy, seconds=seconds))
    print(f'{rule_cls.name} {dataset.name} epoch {epoch}/{config.num_epochs}: {_format(metrics)} '
          f'test_accuracy {accuracy:.4f} ({seconds:.2f}s)', flush=True)

  summary = dict(
      rule=rule_cls.name, dataset=dataset.name, model=config.model.name, seed=config.seed,
      status=status, test_accuracy=accuracy if status == 'ok' else float('nan'),
      epochs=epoch, steps=epoch * steps_per_epoch, train_seconds=train_seconds,
      steps_per_second=epoch * steps_per_epoch / train_seconds, compile_seconds=compile_seconds,
      device=jax.devices()[0].device_kind)
  out.write_summary(summary)
  return summary


def _epoch_fn(rule, steps, batch_size):
  """(state, x, y, key) -> (state, mean metrics): one pass in a random order."""

  def run(state, x, y, key):
    order_key, step_key = jax.random.split(key)
    batches = jax.random.permutation(order_key, len(x))[:steps * batch_size].reshape(steps, batch_size)

    def step(state, inputs):
      idx, rng = inputs
      return rule.train_step(state, (x[idx], y[idx]), rng)

    state, metrics = jax.lax.scan(step, state, (batches, jax.random.split(step_key, steps)))
    return state, jax.tree.map(jnp.mean, metrics)

  return run


def _evaluator(model, dataset, batch_size):
  """params -> test accuracy, over padded batches of one compiled shape."""
  n = len(dataset.x_test)
  batch_size = min(batch_size, n)
  pad = -n % batch_size
  x = jnp.asarray(np.concatenate([dataset.x_test, dataset.x_test[:pad]]))
  y = jnp.asarray(np.concatenate([dataset.y_test, np.full(pad, -1, np.int32)]))   # -1 never matches

  @jax.jit
  def count(params, xb, yb):
    return classification.correct(model.output(params, xb), yb)

  def evaluate(params):
    total = sum(count(params, x[i:i + batch_size], y[i:i + batch_size]) for i in range(0, len(x), batch_size))
    return float(total) / n

  return evaluate


def _check_positive(config, *fields):
  for field in fields:
    if not config[field] > 0:
      raise UserError(f'config.{field} must be positive, got {config[field]}')


def _format(metrics):
  return ' '.join(f'{k} {v:.4g}' for k, v in metrics.items())

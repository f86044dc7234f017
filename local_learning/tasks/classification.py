"""Classification: output losses, accuracy, and the task the trainer runs.

The seeds train as one vmapped program, data-parallel over the run's devices
(and with config.layer_parallel > 1 splitting a model's stacked layers,
parallel.py). A round is an epoch over the device-resident training set, in
a fresh order per seed and epoch, run as compiled calls of a loop of
rule.train_step over a range of its steps: the calls are sized to take about
CALL_SECONDS (so a long epoch reports progress between them), or are single
steps without a loop where XLA runs a model's step slower inside a loop
(convolutions on CPU: benchmarks/steps_per_call.py); config.steps_per_call
sets the steps of a call instead. Evaluation is the test accuracy of
the argmax of rule.output (the feedforward output unless a rule predicts
otherwise), the same computation for every rule.
"""
import functools
import time

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from local_learning import costs, data, models, parallel, validate
from local_learning.errors import UserError

LOSSES = ('mse', 'ce')
CALL_SECONDS = 1.0        # a compiled call of the epoch loop is sized to take about this long


def loss_fn(name):
  """fn(outputs (B, C), labels (B,)) -> per-sample loss (B,).

  mse: 1/2 ||outputs - onehot||^2 (the output clamped to the target, in PC terms);
  ce: softmax cross-entropy of the outputs read as logits.
  """
  if name == 'mse':
    return lambda out, y: 0.5 * jnp.sum(jnp.square(out - jax.nn.one_hot(y, out.shape[-1])), axis=-1)
  if name == 'ce':
    return optax.softmax_cross_entropy_with_integer_labels
  raise UserError(f'unknown loss {name!r}; choose one of {", ".join(LOSSES)}')


def correct(outputs, labels):
  """Number of correct argmax predictions in the batch."""
  return jnp.sum(jnp.argmax(outputs, axis=-1) == labels)


class ClassificationTask:
  """Image classification: see local_learning.tasks for the interface."""
  name = 'classification'
  datasets = data.NAMES
  metric, metric_label, scale = 'test_accuracy', 'test accuracy (%)', 100.0
  round_name = 'epoch'
  key_names = ('init', 'train')
  size_keys = ('epochs', 'steps')
  speed_cells = (('steps_per_second', 'steps/s'), ('seconds_per_epoch', 's/epoch'))

  def dataset_config(self, name):
    return data.default_config(name)

  def add_defaults(self, config, model):
    config.model = models.default_config(model)
    config.batch_size = 128              # split over the devices: a multiple of their number
    config.num_epochs = 10
    config.eval_batch_size = 1000
    config.num_devices = 0               # devices of the run; 0 = all visible
    config.layer_parallel = 1            # of them, how many split a model's stacked layers (resmlp);
                                         # the batch is split over the rest
    config.steps_per_call = 0            # train steps per compiled call; 0 = chosen by the trainer
    config.train_examples = 0            # train on the first N training examples only; 0 = all
    config.test_examples = 0             # evaluate on the first N test examples only; 0 = all
    config.validation_examples = 0       # N > 0: train without the last N training examples and evaluate
                                         # on them instead of the test set (to choose settings)
    config.diagnostics = ml_collections.ConfigDict(dict(
        bp_alignment_every=0))           # epochs between diagnostics.bp_alignment lines; 0 = never

  def problems(self, config):
    return (validate.int_problems(config, ('batch_size', 'num_epochs', 'eval_batch_size', 'layer_parallel'), 1)
            + validate.int_problems(config, ('num_devices', 'steps_per_call', 'train_examples', 'test_examples',
                                             'validation_examples'), 0)
            + validate.int_problems(config.get('diagnostics', {}), ('bp_alignment_every',), 0, 'config.diagnostics.')
            + models.problems(config.model))

  def start(self, config, rule_cls, keys):
    return _Run(config, rule_cls, keys)


class _Run:
  """One run's dataset on the mesh, bound rule and compiled programs; keys (K, 2)."""

  def __init__(self, config, rule_cls, keys):
    self.mesh = parallel.mesh(config.num_devices, config.layer_parallel)
    data_devices = self.mesh.shape[parallel.AXIS]
    if config.batch_size % data_devices:
      raise UserError(f'batch_size {config.batch_size} does not split over {data_devices} devices; '
                      'use a multiple of the device count, or set --config.num_devices')
    dataset = data.load(config.dataset)
    if config.get('validation_examples'):
      if config.validation_examples >= len(dataset.x_train):
        raise UserError(f'validation_examples {config.validation_examples} leaves no training examples of the '
                        f'{len(dataset.x_train)} in {dataset.name}; lower --config.validation_examples')
      dataset = dataset.holdout(config.validation_examples)
    if config.get('train_examples') or config.get('test_examples'):
      dataset = dataset.first(config.get('train_examples', 0), config.get('test_examples', 0))
    if config.batch_size > len(dataset.x_train):
      raise UserError(f'batch_size {config.batch_size} exceeds the {len(dataset.x_train)} training '
                      f'examples of {dataset.name}; lower --config.batch_size')
    model = models.functional(config.model, dataset.input_shape, dataset.num_classes)
    if config.layer_parallel > 1 and not any(model.stacks):
      raise UserError(f'layer_parallel={config.layer_parallel} splits a model\'s stacked layers, and model '
                      f'{config.model.name!r} has none; use model resmlp or --config.layer_parallel=1')
    self.steps, self.batch_size = len(dataset.x_train) // config.batch_size, config.batch_size
    self.rounds = config.num_epochs
    self.rule = rule_cls(model, config.rule, num_steps=self.steps * self.rounds)
    self.title, self.model_name = f'{self.rule.name} {dataset.name}', config.model.name
    self.devices, self.layer_parallel = self.mesh.size, config.layer_parallel
    self.init_keys, self.train_keys = keys[:, 0], keys[:, 1]
    self.x = parallel.put_replicated(self.mesh, dataset.x_train)
    self.y = parallel.put_replicated(self.mesh, dataset.y_train)
    self.evaluate = _evaluator(self.rule, self.mesh, dataset, config.eval_batch_size)
    step_calls = not model.loops_well and jax.default_backend() == 'cpu'
    self.steps_per_call = config.steps_per_call or (1 if step_calls else 0)    # 0: sized by time
    self.alignment_every = config.get('diagnostics', {}).get('bp_alignment_every', 0)
    self._alignment = _aligner(self.rule, (self.x[:self.batch_size], self.y[:self.batch_size]))
    self._plan = jax.jit(jax.vmap(_plan_fn(self.steps, self.batch_size, len(dataset.x_train))))
    self._call = None
    self._step_seconds = None
    self.seeds_loop = False     # True: the seeds one after another in the program (jax.lax.map), not vmapped

  def init(self):
    return jax.jit(jax.vmap(self.rule.init), out_shardings=parallel.replicated(self.mesh))(self.init_keys)

  def compile(self, states):
    """Compiles the program of one call for states; returns the seconds it took."""
    batches, keys = self._plan(jax.vmap(jax.random.fold_in, in_axes=(0, None))(self.train_keys, 1))
    axes = (0, None, None, 0, 0, None) if self.steps_per_call == 1 else (0, None, None, 0, 0, None, None)
    fn = (_one_step_fn if self.steps_per_call == 1 else _steps_fn)(self.rule, self.mesh)
    fn = _over_seeds(fn, in_axes=axes, num_seeds=len(self.train_keys), loop=self.seeds_loop)
    counts = (0,) if self.steps_per_call == 1 else (0, 1)
    start = time.perf_counter()
    with jax.set_mesh(self.mesh):           # the mesh that the model's split_layers sees
      self._call = jax.jit(fn, out_shardings=parallel.replicated(self.mesh)).lower(
          states, self.x, self.y, batches, keys, *counts).compile()
    return time.perf_counter() - start

  def costs(self, states):
    """(matrix-product FLOPs of one seed's train step, the memory its compiled call allocates)."""
    state = jax.tree.map(lambda a: a[0], states)
    batch = (self.x[:self.batch_size], self.y[:self.batch_size])
    flops = costs.matmul_flops(self.rule.train_step, state, batch, self.train_keys[0])
    return flops, costs.memory_bytes(self._call)

  def train_round(self, states, epoch, progress=lambda done, total: None, steps=None):
    """One epoch of every seed -> (states, {metric: mean over the epoch's steps (K,)});
    progress(steps done, steps) is called after each call. `steps` stops the epoch early
    (benchmarks/steps_per_call.py times calls with it)."""
    batches, keys = self._plan(jax.vmap(jax.random.fold_in, in_axes=(0, None))(self.train_keys, epoch))
    steps = steps or self.steps
    done, sums = 0, {}
    while done < steps:
      count = min(self._call_size(), steps - done)
      start = time.perf_counter()
      args = (done,) if self.steps_per_call == 1 else (done, count)
      states, metrics = self._call(states, self.x, self.y, batches, keys, *args)
      metrics = {k: np.asarray(v, np.float64) for k, v in jax.device_get(metrics).items()}
      self._step_seconds = (time.perf_counter() - start) / count
      sums = {k: sums.get(k, 0.0) + v for k, v in metrics.items()}
      done += count
      progress(done, steps)
    return states, {k: v / steps for k, v in sums.items()}

  def diagnose(self, states, epoch):
    """{name: (K,)}: diagnostics.bp_alignment on the first training batch, every
    config.diagnostics.bp_alignment_every epochs (and after the last); {} otherwise."""
    if not self.alignment_every or (epoch % self.alignment_every and epoch != self.rounds):
      return {}
    keys = jax.vmap(jax.random.fold_in, in_axes=(0, None))(self.train_keys, (1 << 30) + epoch)  # not a plan key
    with jax.set_mesh(self.mesh):
      return {k: np.asarray(v, np.float64) for k, v in jax.device_get(self._alignment(states, keys)).items()}

  def _call_size(self):
    """Steps for the next call: config.steps_per_call, else about CALL_SECONDS' worth (one step to start)."""
    if self.steps_per_call:
      return self.steps_per_call
    return 1 if self._step_seconds is None else max(1, int(CALL_SECONDS / self._step_seconds))

  def size(self, epochs):
    return dict(epochs=epochs, steps=epochs * self.steps)

  def speed(self, epochs, seconds):
    return dict(steps_per_second=epochs * self.steps / seconds, seconds_per_epoch=seconds / epochs)


def _over_seeds(fn, in_axes, num_seeds, loop=False):
  """jax.vmap(fn, in_axes) over the seeds axis, or with `loop` jax.lax.map (the seeds one
  after another: XLA:CPU ran PC's batched inference slower per seed, local_learning.trial_lanes);
  for a single seed, fn itself with that axis taken off its inputs and put back on its outputs:
  XLA:CPU fused the deep resmlp's inference loop worse around a batch axis of size 1."""
  if num_seeds > 1 and loop:
    mapped = [i for i, axis in enumerate(in_axes) if axis == 0]

    def seeds_in_turn(*args):
      def one_seed(values):
        full = list(args)
        for i, value in zip(mapped, values):
          full[i] = value
        return fn(*full)

      return jax.lax.map(one_seed, [args[i] for i in mapped])

    return seeds_in_turn
  if num_seeds > 1:
    return jax.vmap(fn, in_axes=in_axes)

  def one_seed(*args):
    args = [jax.tree.map(lambda a: a[0], arg) if axis == 0 else arg for arg, axis in zip(args, in_axes)]
    return jax.tree.map(lambda a: a[None], fn(*args))

  return one_seed


def _plan_fn(steps, batch_size, examples):
  """key -> (batches (steps, B) of example indices, step keys (steps,)): one epoch's order and keys."""

  def plan(key):
    order_key, step_key = jax.random.split(key)
    batches = jax.random.permutation(order_key, examples)[:steps * batch_size].reshape(steps, batch_size)
    return batches, jax.random.split(step_key, steps)

  return plan


def _steps_fn(rule, mesh):
  """(state, x, y, batches, keys, start, count) -> (state, {metric: sum over the steps}): steps
  start .. start + count - 1 of an epoch's plan, as one loop (one program for any count)."""

  def run(state, x, y, batches, keys, start, count):
    def step(i, carry):
      state, sums = carry
      state, metrics = _step(rule, mesh, state, x, y, batches, keys, i)
      return state, jax.tree.map(lambda total, m: total + m.astype(jnp.float32), sums, metrics)

    shapes = jax.eval_shape(lambda: _step(rule, mesh, state, x, y, batches, keys, 0)[1])
    sums = jax.tree.map(lambda m: jnp.zeros(m.shape, jnp.float32), shapes)
    return jax.lax.fori_loop(start, start + count, step, (state, sums))

  return run


def _one_step_fn(rule, mesh):
  """(state, x, y, batches, keys, i) -> (state, metrics of step i): one step, no loop."""
  return lambda state, x, y, batches, keys, i: _step(rule, mesh, state, x, y, batches, keys, i)


def _step(rule, mesh, state, x, y, batches, keys, i):
  idx = batches[i]
  return rule.train_step(state, parallel.split_batch(mesh, (x[idx], y[idx])), keys[i])


def _aligner(rule, batch):
  """(states, keys) -> diagnostics.flat(bp_alignment) per seed, on the fixed batch."""
  from local_learning import diagnostics  # pylint: disable=g-import-not-at-top  (diagnostics imports tasks)
  return jax.jit(jax.vmap(lambda state, key: diagnostics.flat(diagnostics.bp_alignment(rule, state, batch, key))))


def _evaluator(rule, mesh, dataset, batch_size):
  """states (stacked over seeds) -> ({'test_accuracy': (K,)}, parameters finite (K,)),
  over padded batches of the test set."""
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
    return correct(rule.output(state, xb), yb)

  finite = jax.jit(jax.vmap(lambda state: jnp.all(jnp.array(
      [jnp.all(jnp.isfinite(p)) for p in jax.tree.leaves(rule.params(state))]))))

  def evaluate(states):
    total = sum(count(states, x[i:i + batch_size], y[i:i + batch_size])
                for i in range(0, len(x), batch_size))
    return {'test_accuracy': np.asarray(total, np.float64) / n}, np.asarray(finite(states))

  return evaluate


TASK = ClassificationTask()

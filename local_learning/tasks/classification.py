"""Classification: the task the trainer runs (its losses and accuracy: local_learning.losses).

The seeds train as one vmapped program, data-parallel over the run's devices
(and with config.layer_parallel > 1 splitting a model's stacked layers,
parallel.py). A round is an epoch over the device-resident training set, in
a fresh order per seed and epoch, run as compiled calls of a loop of
rule.train_step over a range of its steps: the calls are sized to take about
CALL_SECONDS (so a long epoch reports progress between them), or are single
steps without a loop where XLA runs a model's step slower inside a loop
(convolutions on CPU: benchmarks/steps_per_call.py); config.steps_per_call
sets the steps of a call instead. A call returns each step's metrics, not
their sum, so a run's numbers are bit-identical whatever the call sizes (two
runs of the default, a killed and resumed run). Evaluation is the test accuracy of
the argmax of rule.output (the feedforward output unless a rule predicts
otherwise), the same computation for every rule.
"""
import functools
import time

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from local_learning import contract, costs, cpu_flags, data, diagnostics, models, parallel, validate
from local_learning.errors import UserError
from local_learning.losses import LOSSES, correct, loss_fn
from local_learning.tasks import base

__all__ = ['LOSSES', 'TASK', 'CALL_SECONDS', 'ClassificationTask', 'correct', 'loss_fn']  # losses: re-exported

CALL_SECONDS = 1.0        # a compiled call of the epoch loop is sized to take about this long


class ClassificationTask(base.Task):
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
    config.early_stopping_patience = 0   # N > 0: stop after N epochs in a row without a new best evaluation
                                         # accuracy (of any seed); 0 = never
    config.schedule_epochs = 0           # N > 0: the rule's schedules (learning rate, beta) span N epochs, of
                                         # which the run trains the first num_epochs (a tuning trial shorter
                                         # than the run it tunes for); 0 = num_epochs

  def problems(self, config):
    return (validate.int_problems(config, ('batch_size', 'num_epochs', 'eval_batch_size', 'layer_parallel'), 1)
            + validate.int_problems(config, ('num_devices', 'steps_per_call', 'train_examples', 'test_examples',
                                             'validation_examples', 'early_stopping_patience', 'schedule_epochs'), 0)
            + _schedule_problems(config)
            + validate.int_problems(config.get('diagnostics', {}), ('bp_alignment_every',), 0, 'config.diagnostics.')
            + data.problems(config.dataset) + models.problems(config.model))

  def start(self, config, rule_cls, keys):
    return _Run(config, rule_cls, keys)

  def check_data(self, config):
    """A UserError where config's example counts or batch size do not fit its dataset (the table
    runner checks every cell so before training any)."""
    sized_dataset(config)


def _schedule_problems(config):
  span, epochs = config.get('schedule_epochs', 0), config.get('num_epochs')
  if isinstance(span, int) and isinstance(epochs, int) and 0 < span < epochs:
    return [f'schedule_epochs {span} is shorter than num_epochs {epochs}: the schedules would end before the '
            'run; set it to at least num_epochs, or 0']
  return []


def schedule_steps(config: ml_collections.ConfigDict, steps_per_epoch: int) -> int:
  """The steps the rule's schedules span: schedule_epochs' (if set) or the run's epochs."""
  return steps_per_epoch * (config.get('schedule_epochs', 0) or config.num_epochs)


def sized_dataset(config):
  """The dataset a run of `config` trains and evaluates on (a validation split, the first examples),
  after checking the counts against it: a UserError otherwise."""
  dataset = data.load(config.dataset)
  if config.get('validation_examples'):
    if config.validation_examples >= len(dataset.x_train):
      raise UserError(f'validation_examples {config.validation_examples} leaves no training examples of the '
                      f'{len(dataset.x_train)} in {dataset.name}; lower --config.validation_examples')
    dataset = dataset.holdout(config.validation_examples)
  for name, available in (('train_examples', len(dataset.x_train)), ('test_examples', len(dataset.x_test))):
    if config.get(name, 0) > available:
      raise UserError(f'{name} {config[name]} exceeds the {available} of {dataset.name}; lower '
                      f'--config.{name} (0: all)')
  if config.get('train_examples') or config.get('test_examples'):
    dataset = dataset.first(config.get('train_examples', 0), config.get('test_examples', 0))
  if config.batch_size > len(dataset.x_train):
    raise UserError(f'batch_size {config.batch_size} exceeds the {len(dataset.x_train)} training '
                    f'examples of {dataset.name}; lower --config.batch_size')
  return dataset


class _Run(base.Run):
  """One run's dataset on the mesh, bound rule and compiled programs; keys (K, 2)."""

  def __init__(self, config, rule_cls, keys):
    self.mesh = parallel.mesh(config.num_devices, config.layer_parallel)
    data_devices = self.mesh.shape[parallel.AXIS]
    if config.batch_size % data_devices:
      raise UserError(f'batch_size {config.batch_size} does not split over {data_devices} devices; '
                      'use a multiple of the device count, or set --config.num_devices')
    dataset = sized_dataset(config)
    model = models.functional(config.model, dataset.input_shape, dataset.num_classes)
    if config.layer_parallel > 1 and not any(model.stacks):
      raise UserError(f'layer_parallel={config.layer_parallel} splits a model\'s stacked layers, and model '
                      f'{config.model.name!r} has none; use model resmlp or --config.layer_parallel=1')
    self.steps, self.batch_size = len(dataset.x_train) // config.batch_size, config.batch_size
    self.rounds = config.num_epochs
    self.rule = rule_cls(model, config.rule, num_steps=schedule_steps(config, self.steps))
    self._traced_step = None
    if not getattr(self.rule, 'traced_values', False):      # tuning lanes probe their traced rule themselves
      with jax.set_mesh(self.mesh):           # as the compiled call sees it
        self._traced_step = contract.check_classification(self.rule, config.model.name, dataset.input_shape,
                                                          config.batch_size)
    self.title, self.model_name = f'{self.rule.name} {dataset.name}', config.model.name
    self.devices, self.layer_parallel = self.mesh.size, config.layer_parallel
    self.keys = keys                      # (K, 2): init, train; indexed inside the programs
    self.x = parallel.put_replicated(self.mesh, dataset.x_train)
    self.y = parallel.put_replicated(self.mesh, dataset.y_train)
    self._flops = self._traced_step and costs.jaxpr_matmul_flops(self._traced_step.jaxpr)    # of one step
    self._options = cpu_flags.training_options(self._flops and self._flops * self.steps * self.rounds * len(keys))
    self._evaluate = _evaluator(self.rule, self.mesh, dataset, config.eval_batch_size, self._options)
    step_calls = not model.loops_well and jax.default_backend() == 'cpu'
    self.steps_per_call = config.steps_per_call or (1 if step_calls else 0)    # 0: sized by time
    self.alignment_every = config.get('diagnostics', {}).get('bp_alignment_every', 0)
    self._alignment = _aligner(self.rule, self.batch_size)
    self._plan = _plans(_plan_fn(self.steps, self.batch_size, len(dataset.x_train)))
    self._call = None
    self._step_seconds = None
    self.seeds_loop = False     # True: the seeds one after another in the program (jax.lax.map), not vmapped

  def init(self):
    def init(keys):
      return jax.vmap(self.rule.init)(keys[:, 0])

    return jax.jit(init, out_shardings=parallel.replicated(self.mesh),
                   compiler_options=cpu_flags.INIT_PROGRAM)(self.keys)

  def compile(self, states):
    """Compiles the program of one call for states; returns the seconds it took."""
    batches, keys = self._plan(self.keys, 1)
    axes = (0, None, None, 0, 0, None) if self.steps_per_call == 1 else (0, None, None, 0, 0, None, None)
    metrics = self._traced_step and self._traced_step.metrics
    fn = _one_step_fn(self.rule, self.mesh) if self.steps_per_call == 1 else _steps_fn(self.rule, self.mesh, metrics)
    fn = _over_seeds(fn, in_axes=axes, num_seeds=len(self.keys), loop=self.seeds_loop)
    counts = (0,) if self.steps_per_call == 1 else (0, 1)
    start = time.perf_counter()
    with jax.set_mesh(self.mesh):           # the mesh that the model's split_layers sees
      self._call = jax.jit(fn, out_shardings=parallel.replicated(self.mesh), compiler_options=self._options).lower(
          states, self.x, self.y, batches, keys, *counts).compile()
    return time.perf_counter() - start

  def costs(self, states):
    """(matrix-product FLOPs of one seed's train step, the memory its compiled call allocates)."""
    def first_step(states, x, y, keys):    # sliced while tracing: eager slices compile one program each
      batch = (x[:self.batch_size], y[:self.batch_size])
      return self.rule.train_step(jax.tree.map(lambda a: a[0], states), batch, keys[0, 1])

    if self._traced_step:           # the step the contract traced: the same shapes
      flops = self._flops
    else:
      flops = costs.matmul_flops(first_step, states, self.x, self.y, self.keys)
    return flops, costs.memory_bytes(self._call)

  def train_round(self, states, epoch, progress=lambda done, total: None, steps=None):
    """One epoch of every seed -> (states, {metric: mean over the epoch's steps (K,)});
    progress(steps done, steps) is called after each call. `steps` stops the epoch early
    (benchmarks/steps_per_call.py times calls with it)."""
    batches, keys = self._plan(self.keys, epoch)
    steps = steps or self.steps
    done, per_step = 0, {}
    while done < steps:
      count = min(self._call_size(), steps - done)
      start = time.perf_counter()
      args = (done,) if self.steps_per_call == 1 else (done, count)
      assert self._call is not None, 'compile(states) comes before train_round'
      states, metrics = self._call(states, self.x, self.y, batches, keys, *args)
      for k, v in jax.device_get(metrics).items():    # (K,) of one step, or (K, self.steps) of the epoch's
        values = per_step.setdefault(k, np.zeros((len(self.keys), self.steps), np.float32))
        values[:, done:done + count] = v[:, done:done + count] if v.ndim == 2 else v[:, None]
      self._step_seconds = (time.perf_counter() - start) / count
      done += count
      progress(done, steps)
    # Each step's value as the step computed it, summed in one order: the same for any call sizes.
    return states, {k: v[:, :steps].sum(axis=1, dtype=np.float64) / steps for k, v in per_step.items()}

  def evaluate(self, states):
    """-> ({'test_accuracy': (K,)}, parameters finite (K,))."""
    return self._evaluate(states)

  def diagnose(self, states, epoch):
    """{name: (K,)}: diagnostics.bp_alignment on the first training batch, every
    config.diagnostics.bp_alignment_every epochs (and after the last); {} otherwise."""
    if not self.alignment_every or (epoch % self.alignment_every and epoch != self.rounds):
      return {}
    with jax.set_mesh(self.mesh):
      metrics = self._alignment(states, self.x, self.y, self.keys, (1 << 30) + epoch)   # not a plan key
      return {k: np.asarray(v, np.float64) for k, v in jax.device_get(metrics).items()}

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


def _plans(plan):
  """(keys (K, 2), epoch) -> every seed's `plan` for that epoch, from its train key folded with the
  epoch: one program for every epoch."""
  def plans(keys, epoch):
    return jax.vmap(lambda key: plan(jax.random.fold_in(key[1], epoch)))(keys)

  return jax.jit(plans, compiler_options=cpu_flags.INTEGER_PROGRAM)


def _plan_fn(steps, batch_size, examples):
  """key -> (batches (steps, B) of example indices, step keys (steps,)): one epoch's order and keys."""

  def plan(key):
    order_key, step_key = jax.random.split(key)
    batches = jax.random.permutation(order_key, examples)[:steps * batch_size].reshape(steps, batch_size)
    return batches, jax.random.split(step_key, steps)

  return plan


def _steps_fn(rule, mesh, metrics=None):
  """(state, x, y, batches, keys, start, count) -> (state, {metric: (steps,) each step's value at its
  index, zeros elsewhere}): steps start .. start + count - 1 of an epoch's plan, as one loop (one
  program for any count). Per-step values, not a sum, so that the epoch's metrics do not depend on
  how the epoch is split into calls. `metrics`: the step's metric names where known (else traced)."""

  def run(state, x, y, batches, keys, start, count):
    def step(i, carry):
      state, values = carry
      state, metrics = _step(rule, mesh, state, x, y, batches, keys, i)
      return state, jax.tree.map(lambda v, m: v.at[i].set(m.astype(jnp.float32)), values, metrics)

    names = metrics or jax.eval_shape(lambda: _step(rule, mesh, state, x, y, batches, keys, 0)[1])
    values = {name: jnp.zeros((batches.shape[0],), jnp.float32) for name in names}
    return jax.lax.fori_loop(start, start + count, step, (state, values))

  return run


def _one_step_fn(rule, mesh):
  """(state, x, y, batches, keys, i) -> (state, metrics of step i): one step, no loop."""
  return lambda state, x, y, batches, keys, i: _step(rule, mesh, state, x, y, batches, keys, i)


def _step(rule, mesh, state, x, y, batches, keys, i):
  idx = batches[i]
  return rule.train_step(state, parallel.split_batch(mesh, (x[idx], y[idx])), keys[i])


def _aligner(rule, batch_size):
  """(states, x, y, keys (K, 2), n) -> diagnostics.flat(bp_alignment) per seed, on the first
  batch_size training examples, with each seed's train key folded with n."""
  def align(states, x, y, keys, n):
    batch = (x[:batch_size], y[:batch_size])
    one = lambda state, key: diagnostics.flat(diagnostics.bp_alignment(rule, state, batch, jax.random.fold_in(key, n)))
    return jax.vmap(one)(states, keys[:, 1])

  return jax.jit(align)


def _evaluator(rule, mesh, dataset, batch_size, options):
  """states (stacked over seeds) -> ({'test_accuracy': (K,)}, parameters finite (K,)),
  over padded batches of the test set; options: the program's compiler_options."""
  n = len(dataset.x_test)
  data_devices = mesh.shape[parallel.AXIS]
  batch_size = -(-min(batch_size, n) // data_devices) * data_devices
  pad = -n % batch_size
  x = parallel.put_replicated(mesh, np.concatenate([dataset.x_test, dataset.x_test[:pad]]))
  y = parallel.put_replicated(mesh, np.concatenate([dataset.y_test, np.full(pad, -1, np.int32)]))  # -1: no class

  @functools.partial(jax.jit, compiler_options=options)
  @functools.partial(jax.vmap, in_axes=(0, None, None, None))
  def count(state, x, y, start):
    """(correct predictions in the batch at `start`, parameters finite): one program for every batch."""
    xb, yb = (jax.lax.dynamic_slice_in_dim(a, start, batch_size) for a in (x, y))
    xb, yb = parallel.split_batch(mesh, (xb, yb))
    finite = jnp.all(jnp.array([jnp.all(jnp.isfinite(p)) for p in jax.tree.leaves(rule.params(state))]))
    return correct(rule.output(state, xb), yb), finite

  def evaluate(states):
    counts, finite = zip(*(jax.device_get(count(states, x, y, i)) for i in range(0, len(x), batch_size)))
    return {'test_accuracy': np.sum(counts, axis=0, dtype=np.float64) / n}, np.asarray(finite[0])

  return evaluate


TASK = ClassificationTask()

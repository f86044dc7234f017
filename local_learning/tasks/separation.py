"""Blind source separation: the problem a rule is bound to, its metric, and the task.

Per seed, the sources, mixing and mixtures are generated from the seed's data
key (data.sources), the rule is initialised and trained: an online rule by
one train_step per sample, in order; a batch rule by config.rule.iterations
train_steps on all mixtures. The pass is split into config.num_rounds
rounds; after each, the trainer scores the feedforward outputs W X of
rule.params the same way for every rule: each source is matched to the
output with the largest |cosine| or, with config.matching = 'inner_product',
the largest |<y_i, s_j>| (the PEM reference's matching), the output's sign and
scale are fixed by least squares, and then
  SINR = 10 log10(||S||^2 / ||S - Y||^2)      over all sources together,
  SNR_i = 10 log10(||s_i||^2 / ||s_i - y_i||^2) per source, mSNR = mean_i SNR_i.

The seeds run vmapped, or, for a rule with seeds_last, as the SIMD lanes of
one scan (local_learning.lanes): up to `lane_group` seeds per program, the
groups at once on the host's cores.
"""
import concurrent.futures
import dataclasses
import functools
import os
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from local_learning import costs, cpu_flags, lanes, rule, validate
from local_learning.data import sources
from local_learning.errors import UserError
from local_learning.tasks import base

DOMAINS = sources.DOMAINS
check_domain = sources.check_domain
MATCHINGS = ('cosine', 'inner_product')
# Seeds per lanes program. On XLA:CPU one 32-lane program takes nearly twice one
# of 16 lanes (benchmarks/pem_speed.py --seeds=16, and --seeds=32 --lane_group=32),
# so more seeds run as several 16-lane programs, one per core.
LANE_GROUP = 16


@dataclasses.dataclass(frozen=True)
class SeparationModel:
  """What a separation rule is bound to: n sources, m mixtures, the sources' domain."""
  n: int
  m: int
  domain: str


class SeparationRule(rule.Rule):
  """Base of separation rules: bound to a SeparationModel; params(state) is W (n, m).

  An online rule (the default) gets one mixture x (m,) per train_step, the
  samples in order, and num_steps = the number of samples; a batch rule
  (`online = False`) gets all mixtures X (N, m) at every train_step, and
  num_steps = its config's `iterations`.

  An online rule may set `seeds_last = True`: its train_step then also accepts
  a state and x whose every array carries a trailing seeds axis (K,) (x (m, K);
  every leaf of init's state gets the axis appended; rng becomes K keys) and
  returns metrics of shape (K,); init and params stay per seed. Written with
  local_learning.lanes, one code serves both, and the trainer steps the seeds
  as SIMD lanes of one loop, where vmap would spend each per-sample step
  moving the seeds axis around.
  """
  tasks = ('separation',)
  online = True
  seeds_last = False
  # True for a rule that estimates the sources up to their means (ICA): it is scored on
  # W X centred and, on a nonnegative domain, each matched output is shifted to a minimum
  # of 0, as the PEM reference scores ICA (PredictiveBSS_Correlated_NNAntisparse_10by5.py:203-206).
  zero_mean_outputs = False

  def params(self, state):
    return state['W']


def evaluate(outputs, sources_, matching='cosine', shift=False):
  """outputs Y (n, N), sources S (n, N), one signal per row -> dict(sinr_db, msnr_db, snr_db (n,)).

  Each source is matched to the output with the largest |cosine| (invariant to a
  permutation, signs and scales of the outputs) or, with matching='inner_product',
  the largest |<y_i, s_j>| (what the PEM reference computes, BSSbase.py:143-190: its
  normalisation is constant per source, so a larger output can win). With `shift`,
  each matched output, sign corrected, is shifted to a minimum of 0 before its scale
  is fitted. +inf on exact recovery.
  """
  power = jnp.sum(jnp.square(sources_), axis=1)
  cross = sources_ @ outputs.T                                             # (n, n)
  score = jnp.abs(cross)
  if matching == 'cosine':
    score = score / jnp.sqrt(jnp.sum(jnp.square(outputs), axis=1))
  matched = jnp.argmax(score, axis=1)
  y, inner = outputs[matched], jnp.take_along_axis(cross, matched[:, None], axis=1)[:, 0]
  if shift:
    y = jnp.sign(inner)[:, None] * y
    y = y - jnp.min(y, axis=1, keepdims=True)
    inner = jnp.sum(y * sources_, axis=1)
  scale = inner / jnp.sum(jnp.square(y), axis=1)
  error = jnp.sum(jnp.square(sources_ - scale[:, None] * y), axis=1)
  snr = 10 * jnp.log10(power / error)
  return dict(sinr_db=10 * jnp.log10(jnp.sum(power) / jnp.sum(error)), msnr_db=jnp.mean(snr),
              snr_db=snr)


def whiten(x, n):
  """Mixtures x (N, m) -> (Z (N, n), K (n, m)): the centred mixtures on their n leading
  principal components, scaled to unit variance, Z = (x - mean) K^T (for ICA rules)."""
  centred = x - jnp.mean(x, axis=0)
  values, vectors = jnp.linalg.eigh(centred.T @ centred / len(x))
  k = (vectors[:, -n:] / jnp.sqrt(values[-n:])).T
  return centred @ k.T, k


def bind(rule_cls, config):
  """rule_cls on config.dataset's problem, num_steps = its samples (online) or config.rule.iterations."""
  problem = config.dataset
  model = SeparationModel(problem.n, problem.m, problem.domain)
  return rule_cls(model, config.rule, problem.samples if rule_cls.online else config.rule.iterations)


class SeparationTask(base.Task):
  """Blind source separation on synthetic sources: see local_learning.tasks for the interface."""
  name = 'separation'
  datasets = ('sources',)
  metric, metric_label, scale = 'msnr_db', 'mSNR (dB)', 1.0
  round_name = 'round'
  key_names = ('data', 'init', 'train')
  size_keys = ('samples',)
  speed_cells = (('samples_per_second', 'samples/s'), ('train_seconds', 's'))

  def dataset_config(self, name):
    del name
    return sources.default_config()

  def add_defaults(self, config, model):
    del model                      # the problem (n, m, domain) is config.dataset
    config.num_rounds = 10         # the pass is split into rounds: evaluated and checkpointed after each
    config.matching = 'cosine'     # how outputs are matched to sources: MATCHINGS (evaluate)

  def problems(self, config):
    out = validate.int_problems(config, ('num_rounds',), 1) + sources.problems(config.dataset)
    if config.matching not in MATCHINGS:
      out.append(f'unknown matching {config.matching!r}; known: {", ".join(MATCHINGS)}')
    return out

  def start(self, config, rule_cls, keys, lane_group=LANE_GROUP):
    return _Run(config, rule_cls, keys, lane_group)


class _Run(base.Run):
  """One run's seeds in groups, each group's data and compiled programs; keys (K, 3)."""

  def __init__(self, config, rule_cls, keys, lane_group):
    self.problem = problem = config.dataset
    self.rule = bind(rule_cls, config)
    self.rounds = config.num_rounds
    if self.rule.num_steps % self.rounds:
      raise UserError(f'num_rounds={self.rounds} does not divide the {self.rule.num_steps} training steps of '
                      f'{self.rule.name}; choose --config.num_rounds to divide them')
    self.steps_per_round = self.rule.num_steps // self.rounds
    self.title = f'{self.rule.name} {problem.domain} rho={problem.rho:g} snr={problem.snr_db:g}dB'
    self.model_name = problem.domain      # what stands for the model in tables: the sources' domain
    self.devices, self.layer_parallel = 1, 1
    self.num_seeds = len(keys)
    as_lanes = self.rule.online and self.rule.seeds_last
    size = min(len(keys), lane_group) if as_lanes else len(keys)
    # Each group's keys (size, 3), the last group padded with copies of its last seed's.
    self.groups = [lanes.pad(keys[i:i + size], size, axis=0) for i in range(0, len(keys), size)]
    program = _LanesProgram if as_lanes else _VmappedProgram
    self.program = program(self.rule, problem, self.steps_per_round, _scorer(self.rule, config))
    self._options = cpu_flags.quick_options(problem.samples * len(keys) < cpu_flags.QUICK_SAMPLES)
    self._generate = jax.jit(_key(self.program.generate, 0, 0), compiler_options=self._options)
    self._init = jax.jit(_key(self.program.init, 0, 1), compiler_options=self._options)
    self.data: list[Any] = []            # every group's data, from init()
    self._train: Any = None              # the compiled programs, from compile()
    self._evaluate: Any = None

  def init(self):
    """Generates every group's data from its seeds' data keys; -> the groups' initial states."""
    self.data = [self._generate(group) for group in self.groups]
    return [self._init(group) for group in self.groups]

  def compile(self, states):
    start = time.perf_counter()
    group, data, state = self.groups[0], self.data[0], states[0]
    self._train = jax.jit(_key(self.program.train, 2, 2), compiler_options=self._options).lower(
        state, data, group, 0).compile()
    self._evaluate = jax.jit(self.program.evaluate, compiler_options=self._options).lower(state, data).compile()
    return time.perf_counter() - start

  def costs(self, states):
    """(None: a separation step's work is its neural dynamics, stopped early, not matrix products;
    the memory a group's compiled training program allocates)."""
    del states
    return None, costs.memory_bytes(self._train)

  def train_round(self, states, r, progress=None):
    """Round r (1-based) of every group, the groups at once in threads, one per core ->
    (states, {metric: mean over the round's steps (K,)}). (Rounds are short: no progress within.)"""
    del progress
    start = (r - 1) * self.steps_per_round

    def run_group(i):
      return jax.block_until_ready(self._train(states[i], self.data[i], self.groups[i], start))

    with concurrent.futures.ThreadPoolExecutor(min(len(self.groups), os.cpu_count() or 1)) as pool:
      results = list(pool.map(run_group, range(len(self.groups))))
    return [state for state, _ in results], self._seeds([metrics for _, metrics in results])

  def evaluate(self, states):
    """-> ({sinr_db, msnr_db: (K,)}, W finite (K,))."""
    results = self._seeds([self._evaluate(state, data) for state, data in zip(states, self.data)])
    finite = results.pop('finite').astype(bool)
    results.pop('snr_db')
    return results, finite

  def size(self, rounds):
    del rounds
    return dict(samples=self.problem.samples)

  def speed(self, rounds, seconds):
    samples = self.problem.samples * rounds / self.rounds
    return dict(samples_per_second=samples * self.num_seeds / seconds)

  def _seeds(self, per_group):
    """[{name: (group size, ...)}] -> {name: NumPy (K, ...)}: the groups joined, padding dropped."""
    return {name: np.concatenate([np.asarray(g[name]) for g in per_group])[:self.num_seeds]
            for name in per_group[0]}


def _key(fn, position, column):
  """fn taking a group's keys (size, 3) as its argument at `position`, of which it uses `column`: the
  column is taken inside the compiled program (an eager slice compiles two programs of its own)."""

  @functools.wraps(fn)
  def with_keys(*args):
    return fn(*args[:position], args[position][:, column], *args[position + 1:])

  return with_keys


def _scorer(rule_, config):
  """-> score(W (n, m), X^T (m, N), S^T (n, N)): the metric of one seed's W, as evaluate()
  computes it with config.matching, for a rule with zero_mean_outputs on centred outputs."""
  shift = rule_.zero_mean_outputs and config.dataset.domain in sources.NONNEGATIVE_DOMAINS

  def score(w, x, s):
    y = w @ x
    if rule_.zero_mean_outputs:
      y = y - jnp.mean(y, axis=1, keepdims=True)
    return evaluate(y, s, config.matching, shift)

  return score


class _VmappedProgram:
  """The programs of a group of seeds, vmapped: state, data and metrics lead with the seeds."""

  def __init__(self, rule_, problem, steps, score):
    self.rule, self.problem, self.steps, self.score = rule_, problem, steps, score

  def generate(self, keys):
    """(K,) keys -> sources S^T (K, n, N), one per row, and mixtures X (K, N, m)."""
    s, _, x = jax.vmap(lambda key: sources.generate(key, self.problem))(keys)
    return jnp.swapaxes(s, 1, 2), x

  def init(self, keys):
    return jax.vmap(self.rule.init)(keys)


  def train(self, state, data, keys, start):
    """`steps` train_steps from step `start` -> (state, {metric: mean over them (K,)})."""
    rule_ = self.rule

    def seed(state, x, key):
      def step(state, i):
        return rule_.train_step(state, x[i] if rule_.online else x, jax.random.fold_in(key, i))

      state, metrics = jax.lax.scan(step, state, start + jnp.arange(self.steps))
      return state, {k: jnp.mean(v.astype(jnp.float32)) for k, v in metrics.items()}

    return jax.vmap(seed)(state, data[1], keys)

  def evaluate(self, state, data):
    s, x = data
    w = jax.vmap(self.rule.params)(state)
    return dict(finite=jnp.all(jnp.isfinite(w), axis=(1, 2)), **jax.vmap(self.score)(w, jnp.swapaxes(x, 1, 2), s))


class _LanesProgram:
  """The programs of a group of K seeds as the lanes of one scan: the state keeps a trailing
  seeds axis padded to lanes.padded(K) with copies of the last seed."""

  def __init__(self, rule_, problem, steps, score):
    self.rule, self.problem, self.steps, self.score = rule_, problem, steps, score

  def generate(self, keys):
    """(K,) keys -> S^T (K, n, N) and X^T (K, m, N) for evaluation, and the mixtures
    sample by sample with the seeds last, (N, m, lanes.padded(K)), for training."""
    s, _, x = jax.vmap(lambda key: sources.generate(key, self.problem))(keys)
    stream = lanes.pad(jnp.moveaxis(x, 0, -1), lanes.padded(len(keys)))
    return jnp.swapaxes(s, 1, 2), jnp.swapaxes(x, 1, 2), stream

  def init(self, keys):
    return jax.vmap(self.rule.init, out_axes=-1)(lanes.pad(keys, lanes.padded(len(keys)), axis=0))


  def train(self, state, data, keys, start):
    stream = data[2]
    keys = lanes.pad(keys, stream.shape[-1], axis=0)

    def step(carry, i):
      state, totals = carry
      rngs = jax.vmap(jax.random.fold_in, in_axes=(0, None))(keys, i)
      state, metrics = self.rule.train_step(state, stream[i], rngs)
      return (state, jax.tree.map(lambda t, v: t + v.astype(jnp.float32), totals, metrics)), None

    metrics = jax.eval_shape(lambda: self.rule.train_step(state, stream[0], keys)[1])
    totals = jax.tree.map(lambda v: jnp.zeros(v.shape, jnp.float32), metrics)
    (state, totals), _ = jax.lax.scan(step, (state, totals), start + jnp.arange(self.steps))
    return state, {name: (v / self.steps)[:len(data[0])] for name, v in totals.items()}

  def evaluate(self, state, data):
    s, x, _ = data
    w = jax.vmap(self.rule.params, in_axes=-1)(state)[:len(s)]
    return dict(finite=jnp.all(jnp.isfinite(w), axis=(1, 2)), **jax.vmap(self.score)(w, x, s))


TASK = SeparationTask()

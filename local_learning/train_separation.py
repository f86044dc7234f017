"""The separation trainer: the seeds of a setting as vmapped or SIMD-lane programs.

Per seed s in config.seed .. config.seed + num_seeds - 1: the sources, mixing
and mixtures are generated from s (data.sources), the rule is initialised, and
trained: an online rule by one train_step per sample, in order, in one scan; a
batch rule by config.rule.iterations train_steps on all mixtures. Then the
trainer evaluates the feedforward outputs W X of rule.params (tasks.separation).
The seeds are vmapped, or, for a rule with seeds_last, SIMD lanes of one scan:
up to LANE_GROUP seeds per program, the groups run at once on the host's cores.
A seed whose weights or metrics are NaN is recorded as diverged.
Writes config.json, metrics.jsonl (one line per seed) and summary.json.
"""
import concurrent.futures
import os
import time

import jax
import jax.numpy as jnp
import numpy as np

from local_learning import lanes, seeds as seeds_lib, workdir as workdir_lib
from local_learning.data import sources
from local_learning.tasks import separation

# Seeds per lanes program. On XLA:CPU one 32-lane program takes nearly twice one
# of 16 lanes (benchmarks/pem_speed.py --seeds=16, and --seeds=32 --lane_group=32),
# so more seeds run as several 16-lane programs, one per core.
LANE_GROUP = 16


def train_and_evaluate(config, workdir, rule_cls, overwrite=False):
  """Trains rule_cls on config.dataset (the 'sources' problem); returns the summary dict.

  A workdir holding this run, finished, is left as it is; one holding a run of
  another config is a UserError unless overwrite.
  """
  sources.check(config.dataset)
  problem = config.dataset
  rule = bind(rule_cls, config)
  seeds = np.arange(config.seed, config.seed + config.num_seeds)
  if (summary := workdir_lib.finished_run(workdir, config, overwrite)) is not None:
    print(f'{workdir} holds this run, finished; nothing to do', flush=True)
    return summary

  start = time.perf_counter()
  run = compiled_run(rule, problem, seeds)
  compile_seconds = time.perf_counter() - start
  out = workdir_lib.Workdir.create(workdir, config, overwrite)
  start = time.perf_counter()
  results = run()
  train_seconds = time.perf_counter() - start

  diverged = ~results.pop('finite') | np.isnan(results['sinr_db'])
  snr_per_source = results.pop('snr_db')
  for i, seed in enumerate(seeds):
    record = dict(seed=int(seed), status='diverged' if diverged[i] else 'ok',
                  **{k: float(v[i]) for k, v in results.items()}, snr_db=snr_per_source[i].tolist())
    out.log_epoch(record)
    print(f'{rule_cls.name} {problem.domain} rho={problem.rho:g} seed {seed}: {record["status"]} '
          f'sinr {record["sinr_db"]:.2f} dB msnr {record["msnr_db"]:.2f} dB', flush=True)
  values = {k: np.where(diverged, np.nan, v) for k, v in results.items()}
  summary = dict(
      rule=rule_cls.name, dataset=problem.name, model=problem.domain, task='separation',
      status='diverged' if diverged.any() else 'ok', seeds=seeds.tolist(),
      diverged_seeds=seeds[diverged].tolist(), **seeds_lib.summarize(values),
      samples=problem.samples, train_seconds=train_seconds,
      samples_per_second=problem.samples * len(seeds) / train_seconds,
      compile_seconds=compile_seconds, device=jax.devices()[0].device_kind)
  out.write_summary(summary)
  print(f'{rule_cls.name} {problem.domain} rho={problem.rho:g}: msnr {_mean_std(summary, "msnr_db")} dB, '
        f'sinr {_mean_std(summary, "sinr_db")} dB over {len(seeds)} seeds ({train_seconds:.2f}s, '
        f'compile {compile_seconds:.2f}s)', flush=True)
  return summary


def bind(rule_cls, config):
  """rule_cls on config.dataset's problem, num_steps = its samples (online) or config.rule.iterations."""
  problem = config.dataset
  model = separation.SeparationModel(problem.n, problem.m, problem.domain)
  return rule_cls(model, config.rule, problem.samples if rule_cls.online else config.rule.iterations)


def compiled_run(rule, problem, seeds):
  """-> run() -> {metric: NumPy (K,)}: data and training of the seeds (K,),
  compiled. rule was built with num_steps = the samples (online) or its
  iterations (batch). Each of seed_groups' groups runs its programs in a
  thread of its own, as many at once as the host has cores."""
  groups = seed_groups(rule, seeds)
  generate, train = programs(rule, problem, groups[0])

  def run_group(group_seeds):
    return jax.tree.map(np.asarray, jax.block_until_ready(train(group_seeds, generate(group_seeds))))

  def run():
    with concurrent.futures.ThreadPoolExecutor(min(len(groups), os.cpu_count() or 1)) as pool:
      results = list(pool.map(run_group, groups))
    return {name: np.concatenate([r[name] for r in results])[:len(seeds)] for name in results[0]}

  return run


def seed_groups(rule, seeds):
  """seeds (K,) in the groups that run as one program each: of LANE_GROUP for a seeds_last
  rule, the last padded with copies of its last seed; else all K together."""
  size = min(len(seeds), LANE_GROUP) if rule.online and rule.seeds_last else len(seeds)
  return [lanes.pad(seeds[i:i + size], size, axis=0) for i in range(0, len(seeds), size)]


def programs(rule, problem, seeds):
  """The two programs of one group of seeds, compiled for seeds (K,): generate(seeds) -> data
  and train(seeds, data) -> {metric: (K,)}."""
  if rule.online and rule.seeds_last:
    generate, train = _lanes_data(problem), _lanes_program(rule)
  else:
    generate, train = jax.vmap(lambda seed: _data(seed, problem)), jax.vmap(_seed_program(rule))
  generate, train = jax.jit(generate), jax.jit(train)
  data = jax.eval_shape(generate, seeds)
  return generate.lower(seeds).compile(), train.lower(seeds, data).compile()


def _data(seed, problem):
  """One seed's sources S^T (n, N), one per row, and mixtures X (N, m)."""
  s, _, x = sources.generate(_keys(seed)[0], problem)
  return s.T, x


def _seed_program(rule):
  """(seed, (S^T, X)) -> dict of the seed's metrics: init, training, evaluation.

  (Generating the data in a separate program keeps this loop fast: generated in
  the same program, XLA:CPU slows every step of the scan several-fold.)
  """

  def run(seed, data):
    s, x = data
    _, init_key, train_key = _keys(seed)
    state = rule.init(init_key)

    def step(state, i):
      batch = x[i] if rule.online else x
      return rule.train_step(state, batch, jax.random.fold_in(train_key, i))

    state, metrics = jax.lax.scan(step, state, jnp.arange(rule.num_steps))
    w = rule.params(state)
    return dict(finite=jnp.all(jnp.isfinite(w)), **separation.evaluate(w @ x.T, s),
                **{k: jnp.mean(v.astype(jnp.float32)) for k, v in metrics.items()})

  return run


def _lanes_data(problem):
  """seeds (K,) -> S^T (K, n, N) and X^T (K, m, N) for evaluation, and the mixtures
  sample by sample with the seeds last, (N, m, lanes.padded(K)), for training."""

  def generate(seeds):
    s, x = jax.vmap(lambda seed: _data(seed, problem))(seeds)
    return s, jnp.swapaxes(x, 1, 2), lanes.pad(jnp.moveaxis(x, 0, -1), lanes.padded(len(seeds)))

  return generate


def _lanes_program(rule):
  """(seeds (K,), data of _lanes_data) -> dict of metrics (K,): the seeds as the lanes of
  one scan, padded to lanes.padded(K) with copies of the last."""

  def run(seeds, data):
    s, x, stream = data
    k = seeds.shape[0]
    _, init_keys, train_keys = (lanes.pad(keys, lanes.padded(k), axis=0)
                                for keys in jnp.moveaxis(jax.vmap(_keys)(seeds), 1, 0))
    state = jax.vmap(rule.init, out_axes=-1)(init_keys)

    def step(carry, i):
      state, totals = carry
      rngs = jax.vmap(jax.random.fold_in, in_axes=(0, None))(train_keys, i)
      state, metrics = rule.train_step(state, stream[i], rngs)
      return (state, jax.tree.map(lambda t, v: t + v.astype(jnp.float32), totals, metrics)), None

    metrics = jax.eval_shape(lambda: rule.train_step(state, stream[0], train_keys)[1])
    totals = jax.tree.map(lambda v: jnp.zeros(v.shape, jnp.float32), metrics)
    (state, totals), _ = jax.lax.scan(step, (state, totals), jnp.arange(rule.num_steps))
    w = jax.vmap(rule.params, in_axes=-1)(state)[:k]
    return dict(finite=jnp.all(jnp.isfinite(w), axis=(1, 2)), **jax.vmap(separation.evaluate)(w @ x, s),
                **{name: (v / rule.num_steps)[:k] for name, v in totals.items()})

  return run


def _keys(seed):
  """The seed's data, init and training keys."""
  return jax.random.split(jax.random.key(seed), 3)


def _mean_std(summary, name):
  if summary[name] is None:
    return 'nan'
  return f'{summary[name]:.2f} ± {summary[name + "_std"]:.2f}'

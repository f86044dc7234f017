"""The separation trainer: every seed of a setting in one jitted, vmapped program.

Per seed s in config.seed .. config.seed + num_seeds - 1: the sources, mixing
and mixtures are generated from s (data.sources), the rule is initialised, and
trained: an online rule by one train_step per sample, in order, in one scan; a
batch rule by config.rule.iterations train_steps on all mixtures. Then the
trainer evaluates the feedforward outputs X W^T of rule.params (tasks.separation).
A seed whose weights or metrics are NaN is recorded as diverged.
Writes config.json, metrics.jsonl (one line per seed) and summary.json.
"""
import time

import jax
import jax.numpy as jnp
import numpy as np

from local_learning import seeds as seeds_lib, workdir as workdir_lib
from local_learning.data import sources
from local_learning.tasks import separation


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
  generate, train = programs(rule, problem, seeds)
  compile_seconds = time.perf_counter() - start
  out = workdir_lib.Workdir.create(workdir, config, overwrite)
  start = time.perf_counter()
  s, _, x = generate(seeds)
  results = jax.tree.map(np.asarray, jax.block_until_ready(train(seeds, s, x)))
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


def programs(rule, problem, seeds):
  """The run's two programs, compiled for seeds (K,): generate(seeds) -> (S (K, N, n),
  A (K, m, n), X (K, N, m)) and train(seeds, S, X) -> {metric: (K,)}, all seeds vmapped.
  rule was built with num_steps = the samples (online) or its iterations (batch)."""
  generate = jax.jit(jax.vmap(lambda seed: sources.generate(_keys(seed)[0], problem)))
  train = jax.jit(jax.vmap(_seed_program(rule, rule.num_steps)))
  s, _, x = jax.eval_shape(generate, seeds)
  return generate.lower(seeds).compile(), train.lower(seeds, s, x).compile()


def _seed_program(rule, num_steps):
  """(seed, sources, mixtures) -> dict of the seed's metrics: init, training, evaluation.

  (Generating the data in a separate program keeps this loop fast: generated in
  the same program, XLA:CPU slows every step of the scan several-fold.)
  """

  def run(seed, s, x):
    _, init_key, train_key = _keys(seed)
    state = rule.init(init_key)

    def step(state, i):
      batch = x[i] if rule.online else x
      return rule.train_step(state, batch, jax.random.fold_in(train_key, i))

    state, metrics = jax.lax.scan(step, state, jnp.arange(num_steps))
    w = rule.params(state)
    scores = separation.evaluate(x @ w.T, s)
    return dict(finite=jnp.all(jnp.isfinite(w)), **scores,
                **{k: jnp.mean(v.astype(jnp.float32)) for k, v in metrics.items()})

  return run


def _keys(seed):
  """The seed's data, init and training keys."""
  return jax.random.split(jax.random.key(seed), 3)


def _mean_std(summary, name):
  if summary[name] is None:
    return 'nan'
  return f'{summary[name]:.2f} ± {summary[name + "_std"]:.2f}'

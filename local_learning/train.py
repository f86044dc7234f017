"""The trainer: train_and_evaluate(config, workdir), the same for every rule and task.

The `config.num_seeds` seeds (config.seed, config.seed + 1, ...) of a run
train as one program. The config's task (tasks/, chosen by the dataset)
supplies the data, the compiled round program and the evaluation; the
trainer drives the rounds (epochs, or parts of a separation pass): after
each it evaluates every seed and appends a line to metrics.jsonl. It
checkpoints the whole state after a round once config.checkpoint_seconds
have passed since the last checkpoint, after every config.checkpoint_every-th
round, after the last, and when SIGTERM or SIGINT stops the run (it finishes
the round first; stopping.py); re-running the same command resumes after the
last checkpoint. A seed whose parameters, training metrics or evaluation
turn NaN (or whose parameters or training metrics turn infinite) is
recorded as diverged; the run stops when every seed has diverged, or, with
config.early_stopping_patience = N > 0 (classification), after N rounds in a
row in which no seed beat its best evaluation (Lightning's EarlyStopping on
validation accuracy; the last weights are kept, not the best). An
optional `on_round(r, line)` sees each round's metrics.jsonl line after its
checkpoint; an exception it raises stops the run there and propagates (a
tuner prunes a trial this way; re-running resumes after round r).
"""
import functools
import importlib.util
import time

import jax
import numpy as np

from local_learning import compilation_cache, cpu_flags, optim, records, registry, stopping, tasks, validate
from local_learning import provenance as provenance_lib
from local_learning.checkpoint import Checkpoints
from local_learning.errors import Stopped, UserError
from local_learning.workdir import Workdir

MAX_SEED = 2**31 - 1     # seeds are int32 in JAX
PROGRESS_SECONDS = 10.0  # a round longer than this reports its progress this often
REQUIRED = ('rule.name', 'dataset.name', 'seed', 'num_seeds', 'checkpoint_every')   # fields every config has


def check(config):
  """(task, rule class) of a config, after checking it all: one UserError, a line per problem
  (the config's, its task's, and the rule's own, rule_cls.problems)."""
  missing = [name for name in REQUIRED if not _has(config, name)]
  if missing:
    raise UserError(f'the config lacks {", ".join(missing)}; build it with local_learning.config.base(rule, '
                    'dataset) as the files in configs/ do')
  if config.get('rule_module'):
    registry.import_module(config.rule_module)
    if config.rule.name not in registry.names():
      raise UserError(f'unknown rule {config.rule.name!r}: config.rule_module {config.rule_module!r} was imported '
                      'and registers no rule of that name (a rule is a class with name = ... under '
                      f'@local_learning.register); known rules: {", ".join(registry.names())}')
  rule_cls = registry.get(config.rule.name)
  task = tasks.for_dataset(config.dataset.name)
  if task.name not in rule_cls.tasks:
    raise UserError(f'rule {rule_cls.name!r} supports {", ".join(rule_cls.tasks)}, not {task.name} '
                    f'(dataset {config.dataset.name!r})')
  problems = validate.int_problems(config, ('num_seeds',), 1)
  problems += validate.int_problems(config, ('seed', 'checkpoint_every'), 0)
  if not isinstance(config.get('checkpoint_seconds', 0.0), (int, float)) or config.get('checkpoint_seconds', 0.0) < 0:
    problems.append(f'config.checkpoint_seconds must be a number >= 0, got {config.checkpoint_seconds!r}')
  if not problems and config.seed + config.num_seeds > MAX_SEED + 1:
    problems.append(f'seeds {config.seed}..{config.seed + config.num_seeds - 1} exceed {MAX_SEED}; '
                    'choose a smaller config.seed')
  problems += task.problems(config)
  problems += rule_cls.problems(config.rule)
  if 'optimizer' in config.rule:
    problems += optim.problems(config.rule.optimizer)
  if config.get('tensorboard') and importlib.util.find_spec('tensorboardX') is None:
    problems.append('config.tensorboard needs tensorboardX: pip install "local-learning[tensorboard]"')
  if problems:
    raise UserError('\n'.join(problems))
  return task, rule_cls


def train_and_evaluate(config, workdir, overwrite=False, on_round=None):
  """Trains config.rule on config.dataset; writes workdir; returns the Summary. SIGTERM or SIGINT
  during training stops it after the round, checkpointed: errors.Stopped. on_round(r, line): called
  after round r's line (metrics.jsonl's dict) is logged and checkpointed."""
  with stopping.Signals() as signals:
    return _train_and_evaluate(config, workdir, overwrite, signals, on_round)


def _train_and_evaluate(config, workdir, overwrite, signals, on_round=None):
  task, rule_cls = check(config)
  out = Workdir(workdir, task)
  out.check()
  with out.locked():
    return _train(config, workdir, overwrite, task, rule_cls, out, signals, on_round)


def _train(config, workdir, overwrite, task, rule_cls, out, signals, on_round):
  """train_and_evaluate's work, in `out` checked and locked."""
  provenance = provenance_lib.of_run(rule_cls)
  if (summary := out.finished(config, overwrite, provenance)) is not None:
    _say(f'{workdir} holds this run, finished; nothing to do')
    return summary
  compilation_cache.use(config.get('compilation_cache', compilation_cache.AUTO))
  seeds = [config.seed + i for i in range(config.num_seeds)]
  run = task.start(config, rule_cls, seed_keys(seeds, task))
  states = run.init()
  compile_seconds = run.compile(states)
  flops_per_step, memory_bytes = run.costs(states)

  out.start(config, provenance, overwrite)
  checkpoints = (Checkpoints(workdir, out.record)
                 if config.checkpoint_every or config.get('checkpoint_seconds') else None)
  record = records.RunRecord.start(len(seeds))
  if checkpoints and checkpoints.latest() is not None:
    states, record = checkpoints.restore(checkpoints.latest(), states)
    _say(f'resuming {workdir} after {task.round_name} {record.rounds}')
  out.keep_rounds(record.rounds)

  diverged = np.array(record.diverged)
  saved_at = time.monotonic()
  patience = config.get('early_stopping_patience', 0)
  signals.catch()
  for r in range(record.rounds + 1, run.rounds + 1):
    start = time.perf_counter()
    states, metrics = run.train_round(states, r, _inside_round(run, task, r))
    seconds = time.perf_counter() - start
    evaluation, finite = run.evaluate(states)
    diverged |= ~finite | ~np.all([np.isfinite(v) for v in metrics.values()], axis=0)
    diverged |= np.any([np.isnan(v) for v in evaluation.values()], axis=0)
    evaluation = {k: np.where(diverged, np.nan, v) for k, v in evaluation.items()}
    record.update(seconds, diverged, evaluation)
    stopping_early = record.stalled(task.metric, patience) and r < run.rounds
    diagnostics = run.diagnose(states, r)
    line = {task.round_name: r, 'seconds': seconds, **records.summarize({**metrics, **evaluation, **diagnostics}),
            'diverged_seeds': [s for s, d in zip(seeds, diverged) if d]}
    out.log(line, seeds, config.get('tensorboard', False))
    _say(_progress(run, task, r, line, len(seeds)))
    last = r == run.rounds or stopping_early or diverged.all()
    if checkpoints and (last or signals.received or _checkpoint_due(config, r, saved_at)):
      checkpoints.save(r, states, record)
      saved_at = time.monotonic()
    if on_round is not None:
      on_round(r, line)
    if diverged.all():
      _say('every seed diverged; stopping')
      break
    if stopping_early:
      _say(f'no new best {task.metric} for {patience} {task.round_name}s in a row; stopping early')
      break
    if signals.received and r < run.rounds:
      raise _stopped(signals.received, f'after {task.round_name} {r} of {run.rounds}; ' + (
          'checkpointed: run the same command again to resume' if checkpoints else
          'not resumable (config.checkpoint_every and config.checkpoint_seconds are 0: no checkpoints)'))

  summary = records.Summary(
      rule=rule_cls.name, dataset=config.dataset.name, model=run.model_name, task=task.name,
      seeds=seeds, diverged_seeds=[s for s, d in zip(seeds, diverged) if d],
      results=record.last, best=record.best, size=run.size(record.rounds),
      speed=run.speed(record.rounds, record.train_seconds), train_seconds=record.train_seconds,
      compile_seconds=compile_seconds, device=jax.devices()[0].device_kind, num_devices=run.devices,
      layer_parallel=run.layer_parallel, flops_per_step=flops_per_step, memory_bytes=memory_bytes,
      provenance=provenance)
  out.write_summary(summary)
  if signals.received:
    raise _stopped(signals.received, f'after {task.round_name} {record.rounds}: the run had finished')
  return summary


def _has(config, dotted):
  """Whether the config has the field `dotted` ('rule.name')."""
  for part in dotted.split('.'):
    if not hasattr(config, 'keys') or part not in config.keys():
      return False
    config = config[part]
  return True


def seed_keys(seeds, task):
  """The keys (K, len(task.key_names)) of seeds (K,): each seed's key split, one per name."""
  return _split_seeds(np.array(list(seeds), np.int32), len(task.key_names))


@functools.partial(jax.jit, static_argnums=1, compiler_options=cpu_flags.INTEGER_PROGRAM)
def _split_seeds(seeds, n):
  """One program (eager ops compile one each): seeds (K,) -> keys (K, n)."""
  return jax.vmap(lambda s: jax.random.split(jax.random.key(s), n))(seeds)


def _checkpoint_due(config, r, saved_at):
  """Whether round r ends an interval: config.checkpoint_every rounds, or config.checkpoint_seconds
  since the last checkpoint (time.monotonic() `saved_at`, or the loop's start)."""
  every, seconds = config.checkpoint_every, config.get('checkpoint_seconds', 0.0)
  return bool(every and r % every == 0) or bool(seconds and time.monotonic() - saved_at >= seconds)


def _stopped(signum, detail):
  """The Stopped exception for `signum` (a signal.Signals): exit status 128 + signum."""
  return Stopped(f'{signum.name} {detail}', 128 + signum.value)


def _inside_round(run, task, r):
  """progress(done, total) for round r: a line every PROGRESS_SECONDS, with the rate and ETA."""
  start = last = time.perf_counter()

  def progress(done, total):
    nonlocal last
    now = time.perf_counter()
    if done < total and now - last >= PROGRESS_SECONDS:
      rate = done / (now - start)
      _say(f'  {run.title} {task.round_name} {r}: {done}/{total} steps, {rate:.3g} steps/s, '
           f'ETA {_duration((total - done) / rate)}')
      last = now

  return progress


def _say(line):
  """Prints a progress line, from process 0 only in a multi-process run."""
  if jax.process_index() == 0:
    print(line, flush=True)


def _duration(seconds):
  minutes, seconds = divmod(round(seconds), 60)
  hours, minutes = divmod(minutes, 60)
  return f'{hours}h{minutes:02d}m' if hours else f'{minutes}m{seconds:02d}s'


def _progress(run, task, r, line, num_seeds):
  parts = [f'{run.title} {task.round_name} {r}/{run.rounds}:']
  for name in sorted(k[:-len('_per_seed')] for k in line if k.endswith('_per_seed')):
    mean, std = line[name], line[f'{name}_std']
    if mean is None:
      parts.append(f'{name} nan')
    else:
      parts.append(f'{name} {mean:.4g}' + (f' ± {std:.2g}' if num_seeds > 1 else ''))
  if line['diverged_seeds']:
    parts.append(f'diverged seeds {line["diverged_seeds"]}')
  parts.append(f'({line["seconds"]:.2f}s)')
  return ' '.join(parts)

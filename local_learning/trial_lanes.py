"""K trials as K lanes of one compiled program: train_lanes(configs, workdirs, on_round).

Tuning trials of one rule differ only in numbers that do not change shapes
(config.rule's learning rates, weight decay, momentum, beta, activity_lr,
...). Their lanes (trials x each trial's seeds) train on the seeds axis
that the classification task already vmaps: each lane's state carries its
values of the differing fields (P,), and every traced step builds the rule
from a copy of config.rule holding them, so no rule needs to change. A rule
whose constructor or step branches in Python on such a value cannot be
traced this way: the trials then run one program each (said in one line).
The lanes run batched (vmap) by default; on CPU `layouts=('vmap', 'loop')`
also tries them one after another inside the program (jax.lax.map) and keeps
whichever a probe of PROBE_STEPS steps finds faster (one more compilation:
worth it for long PC trials, whose batched inference XLA:CPU ran about 1.5-2x
slower per lane than one lane alone). Half the lanes stopped (pruned or diverged trials)
shrinks the program to the others (one more compilation).

Each trial writes a normal workdir through workdir.py and records.py
(config.json, metrics.jsonl, summary.json with its own seeds and results);
its summary.json adds `lane_group` (the group's trials, lanes and lane
fields), and `pruned_round` with status 'pruned' when on_round pruned it.
Resume is coarse: trials with a summary.json are done (returned as they
are); the others restart from scratch as one new group (no checkpoints).
"""
import dataclasses
import time

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optuna

from local_learning import cpu_flags, parallel, records, train
from local_learning import provenance as provenance_lib
from local_learning.errors import UserError
from local_learning.workdir import Workdir, read_json

FREE_FIELDS = ('seed', 'num_seeds', 'checkpoint_every', 'tensorboard')   # may differ: not part of the program
NOT_TRACEABLE = (jax.errors.ConcretizationTypeError, UserError, TypeError)
LAYOUTS = ('vmap', 'loop')   # the lanes batched, or one after another (jax.lax.map)
PROBE_STEPS = 16             # steps timed per layout when several are tried


@dataclasses.dataclass
class LaneSummary(records.Summary):
  """A trial's Summary with its lane group ({trials, lanes, fields}) and the round that pruned it."""
  lane_group: dict | None = None
  pruned_round: int | None = None

  @property
  def status(self):
    return 'pruned' if self.pruned_round else super().status

  def to_json(self):
    return dict(super().to_json(), lane_group=self.lane_group, pruned_round=self.pruned_round)


def train_lanes(configs, workdirs, on_round=None, layouts=('vmap',)):
  """Trains trials configs[i] into workdirs[i] as lanes of one program -> [Summary] per trial.

  on_round(trial index, round, metrics line) is called after each round a trial
  logs; raising optuna.TrialPruned stops that trial (its lanes stop counting,
  its summary says pruned at that round). The group stops when no lane counts.
  layouts: of LAYOUTS, those to try on CPU (several: each timed, the faster kept).
  """
  if not layouts or set(layouts) - set(LAYOUTS):
    raise UserError(f'layouts {layouts!r}: choose from {", ".join(LAYOUTS)}')
  if len(configs) != len(workdirs) or not configs:
    raise UserError(f'train_lanes needs one workdir per config, got {len(configs)} configs, {len(workdirs)} workdirs')
  task, rule_cls = [train.check(config) for config in configs][0]
  fields = lane_fields(configs)
  outs = [Workdir(path, task) for path in workdirs]
  for out in outs:
    out.check()
  provenance = provenance_lib.of_run(rule_cls)
  summaries = [_finished(out, config, provenance) for out, config in zip(outs, configs)]
  todo = [i for i, summary in enumerate(summaries) if summary is None]
  if not todo:
    return summaries
  group = _Group(task, rule_cls, [configs[i] for i in todo], fields, layouts)
  if (reason := group.untraceable()) is not None:
    train._say(f'{rule_cls.name}: {reason}; training the {len(todo)} trials one program each')
    del group                                       # every trial's rule was built: no mistake is left to find
    for i in todo:
      one = _Group(task, rule_cls, [configs[i]], [], layouts)
      summaries[i] = one.train([outs[i]], provenance, _trial_hook(on_round, [i]))[0]
    return summaries
  for i, summary in zip(todo, group.train([outs[i] for i in todo], provenance, _trial_hook(on_round, todo))):
    summaries[i] = summary
  return summaries


def lane_fields(configs):
  """The config.rule fields (paths under config.rule) whose float values differ between configs;
  a UserError naming the first other field that differs (it would change the program)."""
  flat = [_flatten(config.to_dict()) for config in configs]
  fields = []
  for path in sorted(set().union(*flat)):
    values = [f.get(path, _MISSING) for f in flat]
    if path in FREE_FIELDS or all(v == values[0] and type(v) is type(values[0]) for v in values):
      continue
    if path.startswith('rule.') and all(_is_number(v) for v in values) and any(isinstance(v, float) for v in values):
      fields.append(path[len('rule.'):])
      continue
    a, b = next((a, b) for a in values for b in values if a != b or type(a) is not type(b))
    raise UserError(f'trials differ in config.{path} ({_show(a)} and {_show(b)}), which changes the program; '
                    'lanes need trials that differ only in float fields of config.rule: train them apart')
  return fields


class _Group:
  """Trials (configs) of one rule as lanes: trials x their seeds on the run's seeds axis."""

  def __init__(self, task, rule_cls, configs, fields, layouts):
    self.task, self.rule_cls, self.configs, self.fields = task, rule_cls, configs, fields
    self.layouts = layouts
    self.seeds = [[c.seed + j for j in range(c.num_seeds)] for c in configs]
    self.trial_of = np.array([t for t, seeds in enumerate(self.seeds) for _ in seeds])
    values = [[_get(c.rule, f) for f in fields] for c in configs]
    self.values = np.array([values[t] for t in self.trial_of], np.float32).reshape(len(self.trial_of), len(fields))
    self.run = task.start(configs[0], self._bind_rule, train.seed_keys(sum(self.seeds, []), task))

  def _bind_rule(self, model, rule_config, num_steps):
    """The run's rule: each trial's rule built concretely first (its mistakes are UserErrors)."""
    del rule_config
    self.concrete = [self.rule_cls(model, c.rule, num_steps=num_steps) for c in self.configs]
    return _LaneRule(self.rule_cls, self.configs[0].rule, self.fields, model, num_steps, self.concrete[0])

  def untraceable(self):
    """Why the lanes cannot be one program (the rule branches on a lane field), or None."""
    if self.configs[0].get('diagnostics', {}).get('bp_alignment_every'):
      return 'config.diagnostics.bp_alignment_every is not run in lanes'
    if self.task.name != 'classification':
      return f'lanes are for classification, not {self.task.name}'
    rule, run = self.run.rule, self.run
    batch = (run.x[:run.batch_size], run.y[:run.batch_size])
    key, values = run.keys[0, 0], jnp.asarray(self.values[0])
    try:
      lane = jax.eval_shape(rule.init_lane, key, values)
      jax.eval_shape(rule.train_step, lane, batch, key)
      jax.eval_shape(rule.output, lane, batch[0])
      jax.eval_shape(rule.params, lane)
    except NOT_TRACEABLE as e:
      return f'cannot trace its config.rule.{"/".join(self.fields)} as lane values ({str(e).splitlines()[0][:120]})'
    for concrete in self.concrete:
      if jax.tree.structure(jax.eval_shape(concrete.init, key)) != jax.tree.structure(lane['rule']):
        return 'its state (e.g. the optimizer\'s) has another structure when lane values are traced'
    return None

  def init(self):
    run = self.run
    init = jax.jit(jax.vmap(run.rule.init_lane), out_shardings=parallel.replicated(run.mesh),
                   compiler_options=cpu_flags.INIT_PROGRAM)
    return init(run.keys[:, 0], jnp.asarray(self.values))

  def train(self, outs, provenance, on_round):
    """Trains every trial into outs[t] -> [LaneSummary] per trial."""
    run, task = self.run, self.task
    states = self.init()
    compile_seconds, layout = self._compile(states)
    flops_per_step, memory_bytes = run.costs(states)
    for out, config in zip(outs, self.configs):
      out.start(config, provenance)
      out.keep_rounds(0)      # an unfinished earlier attempt starts again
    group = dict(trials=len(self.configs), lanes=len(self.trial_of), fields=self.fields, layout=layout)
    trials = [_Trial(seeds, records.RunRecord.start(len(seeds))) for seeds in self.seeds]
    lanes = np.arange(len(self.trial_of))          # the group's lanes still in the program
    patience = self.configs[0].get('early_stopping_patience', 0)   # the same in every trial (lane_fields)
    for r in range(1, run.rounds + 1):
      start = time.perf_counter()
      states, metrics = run.train_round(states, r)
      seconds = time.perf_counter() - start
      evaluation, finite = run.evaluate(states)
      for t, trial in enumerate(trials):
        if trial.done:
          continue
        at = np.flatnonzero(self.trial_of[lanes] == t)
        line = trial.round(task, r, seconds, {k: v[at] for k, v in metrics.items()},
                           {k: v[at] for k, v in evaluation.items()}, finite[at])
        outs[t].log(line, trial.seeds, self.configs[t].get('tensorboard', False))
        try:
          on_round(t, r, line)
        except optuna.TrialPruned:
          trial.pruned = r
        trial.stopped_early = trial.record.stalled(task.metric, patience)
      for t, trial in enumerate(trials):
        if not trial.done and (trial.stopped or r == run.rounds):
          trial.summary = self._summary(trial, compile_seconds, flops_per_step, memory_bytes, provenance, group)
          outs[t].write_summary(trial.summary)
      live = [t for t, trial in enumerate(trials) if not trial.done]
      train._say(f'{run.title} lanes {len(lanes)} ({len(live)}/{len(trials)} trials go on) '
                 f'{task.round_name} {r}/{run.rounds} ({seconds:.2f}s)')
      if not live:
        break
      keep = np.isin(self.trial_of[lanes], live)
      if keep.sum() <= len(lanes) // 2:          # half the lanes idle: a smaller program
        kept = np.flatnonzero(keep)
        states = jax.device_put(jax.tree.map(lambda a: a[kept], states), parallel.replicated(run.mesh))
        run.keys, lanes = run.keys[kept], lanes[kept]
        compile_seconds += run.compile(states)
    return [trial.summary for trial in trials]

  def _compile(self, states):
    """Compiles the lanes' program -> (seconds, layout): on CPU, of several layouts the one faster
    on PROBE_STEPS steps; one layout, or another backend (then batched), is compiled alone."""
    run = self.run
    cpu = jax.default_backend() == 'cpu' and len(self.trial_of) > 1
    layouts = tuple(self.layouts) if cpu else ('vmap',)
    seconds, calls, times = 0.0, {}, {}
    for layout in layouts:
      run.seeds_loop = layout == 'loop'
      seconds += run.compile(states)
      if len(layouts) == 1:
        return seconds, layout
      steps = min(PROBE_STEPS, run.steps)
      jax.block_until_ready(run.train_round(states, 1, steps=steps)[0])     # sizes its calls
      start = time.perf_counter()
      jax.block_until_ready(run.train_round(states, 1, steps=steps)[0])
      calls[layout], times[layout] = run._call, time.perf_counter() - start   # pylint: disable=protected-access
    layout = min(times, key=lambda name: times[name])
    run.seeds_loop, run._call = layout == 'loop', calls[layout]              # pylint: disable=protected-access
    return seconds, layout

  def _summary(self, trial, compile_seconds, flops_per_step, memory_bytes, provenance, group):
    run, record = self.run, trial.record
    return LaneSummary(
        rule=self.rule_cls.name, dataset=self.configs[0].dataset.name, model=run.model_name, task=self.task.name,
        seeds=trial.seeds, diverged_seeds=[s for s, d in zip(trial.seeds, record.diverged) if d],
        results=record.last, best=record.best, size=run.size(record.rounds),
        speed=run.speed(record.rounds, record.train_seconds), train_seconds=record.train_seconds,
        compile_seconds=compile_seconds, device=jax.devices()[0].device_kind, num_devices=run.devices,
        layer_parallel=run.layer_parallel, flops_per_step=flops_per_step, memory_bytes=memory_bytes,
        provenance=provenance, lane_group=group, pruned_round=trial.pruned)


class _Trial:
  """One trial's loop state in a group: its seeds, RunRecord, and how it stopped (pruned, early as
  config.early_stopping_patience says, or every seed diverged)."""

  def __init__(self, seeds, record):
    self.seeds, self.record = seeds, record
    self.diverged = np.zeros(len(seeds), bool)
    self.pruned = None
    self.stopped_early = False
    self.summary = None

  @property
  def stopped(self):
    return self.pruned is not None or self.stopped_early or self.diverged.all()

  @property
  def done(self):
    return self.summary is not None

  def round(self, task, r, seconds, metrics, evaluation, finite):
    """Records round r as the trainer does (its divergence rule) -> the metrics.jsonl line."""
    self.diverged |= ~finite | ~np.all([np.isfinite(v) for v in metrics.values()], axis=0)
    self.diverged |= np.any([np.isnan(v) for v in evaluation.values()], axis=0)
    evaluation = {k: np.where(self.diverged, np.nan, v) for k, v in evaluation.items()}
    self.record.update(seconds, self.diverged, evaluation)
    return {task.round_name: r, 'seconds': seconds, **records.summarize({**metrics, **evaluation}),
            'diverged_seeds': [s for s, d in zip(self.seeds, self.diverged) if d]}


class _LaneRule:
  """The rule the run trains: a lane's state is {'rule': the rule's state, 'values': its lane values (P,)}."""
  tasks = ('classification',)

  def __init__(self, rule_cls, rule_config, fields, model, num_steps, concrete):
    self.rule_cls, self.rule_config, self.fields = rule_cls, rule_config, fields
    self.model, self.num_steps, self.concrete = model, num_steps, concrete
    self.name = rule_cls.name
    self.traced_values = bool(fields)     # the trainer's contract check is untraceable()'s probe here

  def bind(self, values):
    """The rule of a lane whose fields take `values` (P,), traced; the concrete rule if there are none."""
    if not self.fields:
      return self.concrete
    config = ml_collections.ConfigDict(self.rule_config.to_dict(), type_safe=False)
    for i, field in enumerate(self.fields):
      *parents, name = field.split('.')
      section = config
      for parent in parents:
        section = section[parent]
      section[name] = values[i]
    return self.rule_cls(self.model, config, num_steps=self.num_steps)

  def init_lane(self, key, values):
    return dict(rule=self.bind(values).init(key), values=values)

  def init(self, key):
    """A lane of the first trial's values (the trainer's contract check builds one)."""
    return self.init_lane(key, jnp.asarray([_get(self.rule_config, f) for f in self.fields], jnp.float32))

  def train_step(self, state, batch, rng):
    rule_state, metrics = self.bind(state['values']).train_step(state['rule'], batch, rng)
    return dict(rule=rule_state, values=state['values']), metrics

  def params(self, state):
    return self.bind(state['values']).params(state['rule'])

  def output(self, state, x):
    return self.bind(state['values']).output(state['rule'], x)


def _finished(out, config, provenance):
  """The trial's Summary if its workdir holds it finished (a LaneSummary if it ran in lanes), else None."""
  summary = out.finished(config, False, provenance)
  if summary is None:
    return None
  data = read_json(out.file('summary.json'))
  return LaneSummary(**dataclasses.asdict(summary), lane_group=data.get('lane_group'),
                     pruned_round=data.get('pruned_round'))


def _trial_hook(on_round, trials):
  """on_round(group's trial t, r, line) -> the caller's on_round(trials[t], r, line)."""
  return lambda t, r, line: on_round and on_round(trials[t], r, line)


_MISSING = object()


def _flatten(d, prefix=''):
  out = {}
  for key, value in d.items():
    if isinstance(value, dict):
      out.update(_flatten(value, f'{prefix}{key}.'))
    else:
      out[f'{prefix}{key}'] = value
  return out


def _get(config, path):
  for name in path.split('.'):
    config = config[name]
  return config


def _is_number(v):
  return isinstance(v, (int, float)) and not isinstance(v, bool)


def _show(v):
  return 'absent' if v is _MISSING else repr(v)

"""A run's typed records: the loop state checkpointed with the weights, and the summary.

Both keep per-seed values (None where a seed's value is not finite); means and
standard deviations are derived from them. summary.json is flat, as users read
it (`test_accuracy`, `test_accuracy_std`, `test_accuracy_per_seed`, ...), and
carries `schema`, the version of this layout.
"""
import dataclasses

import numpy as np

SCHEMA = 2


def to_list(values):
  """Floats for JSON, None for NaN or infinity."""
  return [float(v) if np.isfinite(v) else None for v in np.asarray(values, np.float64)]


def from_list(values):
  """The inverse of to_list: None back to NaN."""
  return np.array([np.nan if v is None else v for v in values], np.float64)


def summarize(metrics):
  """{M: values (K,)} -> {M: mean over finite seeds, M_std, M_per_seed}; None where nothing is finite."""
  out = {}
  for name, values in metrics.items():
    values = np.asarray(values, np.float64)
    finite = values[np.isfinite(values)]
    out[name] = float(finite.mean()) if finite.size else None
    out[f'{name}_std'] = float(finite.std()) if finite.size else None
    out[f'{name}_per_seed'] = to_list(values)
  return out


@dataclasses.dataclass
class RunRecord:
  """What the trainer's loop carries from round to round; checkpointed with the states.

  rounds: rounds done; diverged: per seed; last, best: {metric: per-seed values}
  of the latest evaluation and the best one so far; since_best: {metric: rounds
  in a row in which no seed beat its best} (what early stopping counts, so a
  resumed run stops where an uninterrupted one would).
  """
  rounds: int
  train_seconds: float
  diverged: list
  last: dict
  best: dict
  since_best: dict = dataclasses.field(default_factory=dict)

  @classmethod
  def start(cls, num_seeds):
    return cls(0, 0.0, [False] * num_seeds, {}, {})

  def update(self, seconds, diverged, evaluation):
    """Adds one round: its seconds, the divergence so far (K,) and the evaluation {M: (K,)}."""
    for k, v in evaluation.items():
      improved = k not in self.best or bool(np.any(np.asarray(v) > from_list(self.best[k])))
      self.since_best[k] = 0 if improved else self.since_best.get(k, 0) + 1
    best = {k: np.fmax(from_list(self.best.get(k, [None] * len(v))), v) for k, v in evaluation.items()}
    self.rounds += 1
    self.train_seconds += seconds
    self.diverged = [bool(d) for d in diverged]
    self.last = {k: to_list(v) for k, v in evaluation.items()}
    self.best = {k: to_list(v) for k, v in best.items()}

  def stalled(self, metric, patience):
    """Whether early stopping with `patience` (0: never) ends the run: that many rounds in a row without a
    new best of `metric`."""
    return bool(patience) and self.since_best.get(metric, 0) >= patience

  def to_json(self):
    return dict(schema=SCHEMA, **dataclasses.asdict(self))

  @classmethod
  def from_json(cls, record):
    if 'schema' not in record:     # written before the schema: classification only
      return cls(record['epoch'], record['train_seconds'], record['diverged'],
                 {'test_accuracy': record['accuracy']}, {'test_accuracy': record['best']})
    # A record written before since_best existed counts it again from its restart.
    return cls(**{f.name: record[f.name] for f in dataclasses.fields(cls) if f.name != 'since_best'},
               since_best=record.get('since_best', {}))


@dataclasses.dataclass
class Summary:
  """summary.json: a finished run. results and best are {metric: per-seed values};
  size and speed are the task's counts ({'epochs': .., 'steps': ..}) and rates."""
  rule: str
  dataset: str
  model: str
  task: str
  seeds: list
  diverged_seeds: list
  results: dict
  best: dict
  size: dict
  speed: dict
  train_seconds: float
  compile_seconds: float
  device: str
  num_devices: int = 1
  layer_parallel: int = 1
  flops_per_step: float | None = None     # matrix-product FLOPs of one seed's train step (costs.py), None if unknown
  memory_bytes: int | None = None         # peak memory of the compiled training program, all seeds, data excluded
  provenance: dict | None = None          # provenance.of_run: the rule's code, the project, the libraries

  @property
  def status(self):
    return 'diverged' if self.diverged_seeds else 'ok'

  def values(self, metric, best=False):
    """The finite per-seed values of `metric` (NumPy)."""
    values = from_list((self.best if best else self.results).get(metric, []))
    return values[np.isfinite(values)]

  def mean(self, metric):
    """The mean of `metric` over the finite seeds, None if there are none."""
    values = self.values(metric)
    return float(values.mean()) if values.size else None

  def to_json(self):
    return dict(
        schema=SCHEMA, rule=self.rule, dataset=self.dataset, model=self.model, task=self.task,
        status=self.status, seeds=self.seeds, diverged_seeds=self.diverged_seeds,
        **summarize({k: from_list(v) for k, v in self.results.items()}),
        **summarize({f'best_{k}': from_list(v) for k, v in self.best.items()}),
        **self.size, **self.speed, train_seconds=self.train_seconds,
        compile_seconds=self.compile_seconds, device=self.device, num_devices=self.num_devices,
        layer_parallel=self.layer_parallel, flops_per_step=self.flops_per_step, memory_bytes=self.memory_bytes,
        provenance=self.provenance)

  @classmethod
  def from_json(cls, data, size_keys, speed_keys):
    """From summary.json (any schema); size_keys and speed_keys: the task's."""
    metrics = [k[:-len('_per_seed')] for k in data if k.endswith('_per_seed')]
    return cls(
        rule=data['rule'], dataset=data['dataset'], model=data['model'], task=data['task'],
        seeds=data['seeds'], diverged_seeds=data['diverged_seeds'],
        results={k: data[f'{k}_per_seed'] for k in metrics if not k.startswith('best_')},
        best={k[5:]: data[f'{k}_per_seed'] for k in metrics if k.startswith('best_')},
        size={k: data[k] for k in size_keys if k in data}, speed={k: data[k] for k in speed_keys if k in data},
        train_seconds=data['train_seconds'], compile_seconds=data['compile_seconds'], device=data['device'],
        num_devices=data.get('num_devices', 1), layer_parallel=data.get('layer_parallel', 1),
        flops_per_step=data.get('flops_per_step'), memory_bytes=data.get('memory_bytes'),
        provenance=data.get('provenance'))

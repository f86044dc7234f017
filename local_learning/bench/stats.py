"""Statistics of a table cell over its seeds, and the paired comparison of two cells.

Every number here is computed from per-seed values (NaN where a seed
diverged): n counts the finite seeds, std is the sample standard deviation
(n - 1), the 95% confidence interval of the mean uses Student's t with n - 1
degrees of freedom. Two cells are paired by seed id (the same seed means the
same initial weights' key and data order in both), over the seeds finite in
both; Cohen's d of paired samples is the mean difference over the standard
deviation of the differences.
"""
import dataclasses
import math

import numpy as np
from scipy import stats as scipy_stats

CONFIDENCE = 0.95


@dataclasses.dataclass(frozen=True)
class Spread:
  """n, mean, std (n - 1), standard error and the half-width of the 95% CI of the mean."""
  n: int
  mean: float
  std: float
  se: float
  ci: float

  @classmethod
  def of(cls, values):
    values = np.asarray(values, np.float64)
    values = values[np.isfinite(values)]
    n = len(values)
    if not n:
      return cls(0, math.nan, math.nan, math.nan, math.nan)
    mean = float(values.mean())
    if n == 1:
      return cls(1, mean, math.nan, math.nan, math.nan)
    std = float(values.std(ddof=1))
    se = std / math.sqrt(n)
    return cls(n, mean, std, se, float(scipy_stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1)) * se)


@dataclasses.dataclass(frozen=True)
class Paired:
  """A cell against a baseline cell over the seeds finite in both: n, mean difference
  (cell - baseline), the paired t-test's two-sided p-value, Cohen's d."""
  n: int
  difference: float
  p: float
  d: float

  @classmethod
  def of(cls, seeds, values, baseline_seeds, baseline_values):
    """Per-seed values of the cell and of its baseline, each with its seed ids."""
    base = dict(zip(baseline_seeds, np.asarray(baseline_values, np.float64)))
    pairs = [(v, base[s]) for s, v in zip(seeds, np.asarray(values, np.float64))
             if s in base and np.isfinite(v) and np.isfinite(base[s])]
    if not pairs:
      return cls(0, math.nan, math.nan, math.nan)
    ours, theirs = np.array(pairs).T
    differences = ours - theirs
    if len(pairs) < 2:
      return cls(1, float(differences[0]), math.nan, math.nan)
    std = differences.std(ddof=1)
    if std == 0:          # identical differences: the test is undefined
      return cls(len(pairs), float(differences.mean()), math.nan, math.nan)
    return cls(len(pairs), float(differences.mean()), float(scipy_stats.ttest_rel(ours, theirs).pvalue),
               float(differences.mean() / std))

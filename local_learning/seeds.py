"""Results of the seeds of one run, for JSON: mean and std over the finite ones."""
import numpy as np


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


def to_list(values):
  """Floats for JSON, None for NaN or infinity."""
  return [float(v) if np.isfinite(v) else None for v in np.asarray(values, np.float64)]


def from_list(values):
  """The inverse of to_list: None back to NaN."""
  return np.array([np.nan if v is None else v for v in values], np.float64)

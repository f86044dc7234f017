"""A study's plots: Optuna's optimisation history and parameter importances (its matplotlib visualisations)."""
import os
import warnings

import matplotlib
import optuna

from local_learning.tuning import storage as storage_lib
from local_learning.tuning import study as study_lib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)


def draw(folder, title, storage=''):
  """Writes FOLDER/history.png and, with at least 2 completed trials and 1 parameter, FOLDER/importances.png
  for the study in folder; returns the paths written."""
  optuna.logging.set_verbosity(optuna.logging.WARNING)
  warnings.filterwarnings('ignore', category=optuna.exceptions.ExperimentalWarning)
  study = optuna.load_study(study_name=study_lib.STUDY_NAME, storage=_storage(storage_lib.url(storage, folder)))
  complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
  paths = []
  if complete:
    ax = optuna.visualization.matplotlib.plot_optimization_history(study)
    _title(ax, f'{title}: optimisation history')
    paths.append(_save(ax, os.path.join(folder, 'history.png')))
  if len(complete) >= 2 and complete[0].params:
    ax = optuna.visualization.matplotlib.plot_param_importances(study)
    _title(ax, f'{title}: parameter importances')
    paths.append(_save(ax, os.path.join(folder, 'importances.png')))
  return paths


def _storage(url):
  if url.startswith(storage_lib.JOURNAL):
    return optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(url[len(storage_lib.JOURNAL):]))
  return url


def _title(ax, text):
  """Replaces Optuna's title (left or centre) with ours."""
  for loc in ('left', 'center', 'right'):
    ax.set_title('', loc=loc)
  ax.set_title(text)


def _save(ax, path):
  fig = ax.figure
  fig.set_size_inches(6, 3.8)
  fig.tight_layout()
  fig.savefig(path, dpi=80)
  plt.close(fig)
  return path

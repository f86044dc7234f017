"""Tuned tables (`--tune=N`): every cell's rule tuned with the same budget, then its best retrained.

For each cell: a study of the cell's rule (local_learning.tuning) with N
trials in CELL/tuning/, each trial the cell's config with one seed, trained on
the training set less a validation split (config.validation_examples: 300
for digits, else 10,000, or --tune_validation) and scored on that split;
separation tasks, which draw a fresh problem per seed, tune on the cell's
seeds. Then the best trial's hyperparameters train on the full training set
with the table's number of seeds, from config.seed + FINAL_SEED_OFFSET (no
tuning seed among them), in CELL/ as an untuned cell's run, and the table
reports their test metric; render adds the tuned settings.
"""
import os

from local_learning import space, train
from local_learning.bench import progress, runner
from local_learning.errors import DatasetUnavailable, UserError
from local_learning.lock import Busy
from local_learning.tuning import study as study_lib

FINAL_SEED_OFFSET = 1000        # final seeds start here above the cell's seed; trials use the cell's seed
VALIDATION = {'digits': 300}    # validation examples per dataset; others: DEFAULT_VALIDATION
DEFAULT_VALIDATION = 10000
TUNING = 'tuning'


def tuning_config(cell, root, validation=0, epochs=0):
  """The cell's config as its study's base: one seed, the validation split, and `epochs` (0: the cell's).
  A trial of fewer epochs than the cell trains the first of them under the cell's schedules
  (schedule_epochs): its learning rate and beta at each step are those of the final run."""
  config = cell.build_config(1, root)
  if 'validation_examples' in config:
    config.validation_examples = validation or VALIDATION.get(config.dataset.name, DEFAULT_VALIDATION)
  if epochs:
    if 'num_epochs' not in config:
      raise UserError(f'cell {cell.id}: --tune_epochs applies to tasks with epochs; its task has rounds')
    if epochs < config.num_epochs:
      config.schedule_epochs = config.get('schedule_epochs', 0) or config.num_epochs
    config.num_epochs = epochs
  return config


def final_config(cell, root, seeds, params):
  """The cell's config with the tuned params {path in config.rule: value} and fresh seeds."""
  config = cell.build_config(seeds, root)
  space.apply(config.rule, params)
  config.seed += FINAL_SEED_OFFSET
  return config


def run_tuned_table(table, workdir, root, trials, seeds=None, shard=(0, 1), cells_filter='', overwrite=False,
                    validation=0, epochs=0, timeout_minutes=0.0, say=None, lanes=1, verbose=False):
  """Tunes and retrains the selected cells; returns {cell id: 'done' | 'no trial completed' | 'unavailable: ...' |
  'busy: ...'} (busy: another process, sharing the table, is training the cell's best settings).
  Every cell's tuning config is checked first; re-running resumes each study and skips finished runs.
  lanes: trials asked at once, trained as lanes of one program where they can be. A line per cell on the
  terminal (bench/progress.py); the studies' and trainer's lines go to `say` (default: CELL/table.log)."""
  say = say or _print
  seeds = table.seeds if seeds is None else seeds
  if not (isinstance(seeds, int) and seeds >= 1):
    raise UserError(f'seeds must be an integer >= 1, got {seeds!r}')
  if not (isinstance(trials, int) and trials >= 1):
    raise UserError(f'--tune must be an integer >= 1 (trials per cell), got {trials!r}')
  plans = []
  for cell in runner.select(table, shard, cells_filter):
    config = tuning_config(cell, root, validation, epochs)
    _, rule_cls = train.check(config)
    if not rule_cls.search_space():
      raise UserError(f'cell {cell.id}: rule {rule_cls.name!r} declares no search space; it cannot be tuned')
    plans.append((cell, config))
  outcome = {}
  settings = study_lib.Settings(timeout_minutes=timeout_minutes, **study_lib.lane_settings(lanes))
  show = progress.Progress(len(plans), verbose)
  show.say(f'tuned table {table.name}: {len(plans)} cells, {trials} trials each, in {workdir}; each cell\'s output '
           f'in its {progress.LOG}' + ('' if verbose else ' (--verbose: here too)'))
  for i, (cell, config) in enumerate(plans, 1):
    cell_dir = os.path.join(workdir, cell.id)
    folder = os.path.join(cell_dir, TUNING)
    with show.cell(f'[{i}/{len(plans)}] {cell.id}', cell_dir) as running:
      say(f'{cell.id}: tuning, {trials} trials')
      try:
        study_lib.tune(config, folder, trials, settings, say)
        best = study_lib.read_best(folder)['best']
        if best is None:
          outcome[cell.id] = 'no trial completed'
          running.done('no trial completed; not trained')
          continue
        final = final_config(cell, root, seeds, best['params'])
        say(f'{cell.id}: training trial {best["number"]}\'s settings, seeds {final.seed}..{final.seed + seeds - 1}')
        summary = train.train_and_evaluate(final, cell_dir, overwrite)
        outcome[cell.id] = 'done'
        running.done(f'{runner.result_text(cell, summary, final)} (trial {best["number"]}\'s settings)')
      except DatasetUnavailable as e:
        outcome[cell.id] = runner.mark_unavailable(cell_dir, e)
        running.done(f'unavailable: {e}')
      except Busy as e:       # another process trains the cell's best settings: this one goes on
        outcome[cell.id] = f'busy: {e}'
        running.done(f'left to the process running it ({e.holder})', timed=False)
  return outcome


def _print(line):
  print(line, flush=True)

"""Table specs: a table is a list of cells, each one training config.

A spec is a Python file with `get_table()` returning a `Table`; the built-in
ones live in the checkout's benchmarks/tables/. A cell names a config file (the trainer's
own, with its `:ARGS`), config overrides, and where it goes in the table:
its row (usually the rule) and column (usually dataset/model). A cell's
optional `x` places it on the table's line plot (e.g. depth, rho).
"""
import dataclasses
import importlib.util
import os
import re
from typing import Any

from local_learning import config as ll_config
from local_learning.errors import UserError


@dataclasses.dataclass(frozen=True)
class Cell:
  row: str
  column: str
  config: str                  # 'configs/FILE.py[:ARGS]', relative to the repository root
  overrides: tuple = ()        # (('rule.inference_steps', 20), ...)
  x: Any = None

  @property
  def id(self):
    return re.sub(r'[^A-Za-z0-9_.=-]+', '_', f'{self.row}__{self.column}')

  def build_config(self, seeds, root):
    """The locked ConfigDict this cell trains; a bad override is a UserError."""
    path, _, arg = self.config.partition(':')
    config = load_config_file(os.path.join(root, path), arg)
    config.num_seeds = seeds
    for key, value in self.overrides:
      ll_config.override(config, key, value)
    return config


@dataclasses.dataclass(frozen=True)
class Table:
  name: str
  cells: tuple
  seeds: int = 3
  description: str = ''
  plot_x: str = ''             # x-axis label of the line plot (metric against cell.x); '' = none


def grid(rows, columns, config, seeds=3, name='table', description='', plot_x=''):
  """A full rows x columns Table; config(row, column) -> (config path, overrides, x)."""
  cells = []
  for row in rows:
    for column in columns:
      path, overrides, x = config(row, column)
      cells.append(Cell(row, str(column), path, tuple(overrides), x))
  return Table(name, tuple(cells), seeds, description, plot_x)


def load_table(name_or_path, tables_dir=''):
  """The Table of a name in tables_dir ('quick') or of a spec file path."""
  path = name_or_path if name_or_path.endswith('.py') else os.path.join(tables_dir, f'{name_or_path}.py')
  if not os.path.exists(path):
    known = sorted(f[:-3] for f in os.listdir(tables_dir) if f.endswith('.py'))
    raise UserError(f'no table spec {name_or_path!r}; built-in tables: {", ".join(known)}, or give a .py path')
  return _load_module(path).get_table()


def load_config_file(path, arg=''):
  """get_config(arg) of a config file, locked (a mistyped override fails)."""
  if not os.path.exists(path):
    raise UserError(f'config file {path} not found')
  config = _load_module(path).get_config(arg)
  config.lock()
  return config


def _load_module(path):
  spec = importlib.util.spec_from_file_location(f'_spec_{abs(hash(path))}', path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module

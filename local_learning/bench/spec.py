"""Table specs: a table is a list of cells, each one training config.

A spec is a Python file with `get_table()` returning a `Table`; the built-in
ones live in the checkout's benchmarks/tables/. A cell names a config file (the trainer's
own, with its `:ARGS`), config overrides, and where it goes in the table:
its row (usually the rule) and column (usually dataset/model). A cell's
optional `x` places it on the table's line plot (e.g. depth, rho).
"""
import dataclasses
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
    config = ll_config.load_file(os.path.join(root, path), arg)
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
    known = sorted(f[:-3] for f in os.listdir(tables_dir) if f.endswith('.py')) if tables_dir else []
    raise UserError(f'no table spec {name_or_path!r}; built-in tables: {", ".join(known)}, or give a .py path')
  get_table = getattr(ll_config.load_module(path, 'table spec'), 'get_table', None)
  if not callable(get_table):
    raise UserError(f'table spec {path} has no get_table() function')
  table = get_table()
  if not isinstance(table, Table):
    raise UserError(f'get_table() in {path} returned {type(table).__name__}, not a local_learning.bench.Table')
  return table

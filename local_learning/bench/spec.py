"""Table specs: a table is a list of cells, each one training config.

A spec is a Python file with `get_table(rules=None)` returning a `Table`; the
built-in ones are benchmarks/tables/*.py, installed as local_learning.tables
(with configs/ as local_learning.configs), so tables run from an installed
package as from a checkout. A spec over rules takes the rules of its rows as
`rules` (None: its own), so `--rules=a,b` selects or adds rules. A cell names
a config file (the trainer's own, with its `:ARGS`, relative to the folder
holding configs/), config overrides, and where it goes in the table: its row
(usually the rule) and column (usually dataset/model). A cell's optional `x`
places it on the table's line plot (e.g. depth, rho); its optional
`reference` is a published number to reproduce. `with_overrides` applies the
command line's `--override=field=value,...` to every cell: its `tag` names the
overrides, so an overridden cell trains in a folder of its own.
"""
import dataclasses
import fnmatch
import hashlib
import importlib.util
import inspect
import os
import re
from typing import Any

from local_learning import config as ll_config
from local_learning import registry
from local_learning.errors import UserError


@dataclasses.dataclass(frozen=True)
class Reference:
  """A published value of a cell's metric, in the table's units (%, dB), with its source.

  band: the half-width within which ours reproduces it; None means
  max(0.5, 2 standard errors of our mean).
  """
  value: float
  source: str
  band: float | None = None


@dataclasses.dataclass(frozen=True)
class Cell:
  row: str
  column: str
  config: str                  # 'configs/FILE.py[:ARGS]', relative to the folder holding configs/
  overrides: tuple = ()        # (('rule.inference_steps', 20), ...)
  x: Any = None
  reference: Reference | None = None
  settings: tuple = ()         # (('num_epochs', '2'), ...): --override's fields, as command-line text
  tag: str = ''                # names `settings` in the cell's folder: ROW__COLUMN__TAG

  @property
  def id(self):
    """The cell's folder name in the table's workdir: ROW__COLUMN, and __TAG where overridden."""
    return self.base_id + (f'__{self.tag}' if self.tag else '')

  @property
  def base_id(self):
    return slug(f'{self.row}__{self.column}')

  def build_config(self, seeds, root):
    """The locked ConfigDict this cell trains; a bad override is a UserError. An override of
    rule_module is imported first, so the config file finds the module's rules."""
    overrides = dict(self.overrides)
    if overrides.get('rule_module'):
      registry.import_module(overrides['rule_module'])
    path, _, arg = self.config.partition(':')
    config = ll_config.load_file(os.path.join(root, path), arg)
    config.num_seeds = seeds
    for key, value in self.overrides:
      ll_config.override(config, key, value)
    for key, text in self.settings:
      try:
        ll_config.override_from_text(config, key, text)
      except UserError as e:
        raise UserError(f'--override {key}={text}: {str(e).replace(f"--config.{key}=", "")}') from None
    return config


@dataclasses.dataclass(frozen=True)
class Table:
  name: str
  cells: tuple
  seeds: int = 3
  description: str = ''
  plot_x: str = ''             # x-axis label of the line plot (metric against cell.x); '' = none
  baseline: str = 'bp'         # the row each cell is paired with in its column ('' = none)
  extra: Any = None            # fn(results, workdir) -> ([render.Section], [image file names]): the
                               # spec's own sections and plots (e.g. limits' heatmaps), or None
  overrides: tuple = ()        # (('num_epochs', '2'), ...): --override, applied to every cell (with_overrides)


def parse_overrides(text: str) -> tuple:
  """'num_epochs=2,model.widths=(16,16)' -> (('num_epochs', '2'), ('model.widths', '(16,16)')): split at the
  commas that start a new FIELD=."""
  pairs = []
  for item in re.split(r',(?=\s*[A-Za-z_][\w.]*=)', text.strip()) if text.strip() else []:
    key, sep, value = item.strip().partition('=')
    if not sep or not re.fullmatch(r'[A-Za-z_][\w.]*', key) or not value:
      raise UserError(f'bad --override item {item!r}; use FIELD=VALUE[,FIELD=VALUE...], e.g. num_epochs=2')
    pairs.append((key, value))
  keys = [k for k, _ in pairs]
  if len(set(keys)) < len(keys):
    raise UserError(f'--override sets {", ".join(sorted({k for k in keys if keys.count(k) > 1}))} more than once')
  return tuple(pairs)


def with_overrides(table: Table, overrides: tuple, root: str) -> Table:
  """The table with `overrides` ((field, text), ...) set in every cell whose config has the field (a
  separation cell has no num_epochs), each such cell tagged with the ones it takes; a field no cell has
  is a UserError. root: the folder holding configs/."""
  if not overrides:
    return table
  cells, used = [], set()
  for cell in table.cells:
    config = cell.build_config(1, root)
    mine = tuple((k, v) for k, v in overrides if _has(config, k))
    used |= {k for k, _ in mine}
    if mine:
      cell = dataclasses.replace(cell, settings=cell.settings + mine, tag=override_tag(mine))
      cell.build_config(1, root)          # a value of the wrong type: its UserError now
    cells.append(cell)
  unused = [k for k, _ in overrides if k not in used]
  if unused:
    raise UserError(f'--override {", ".join(unused)}: no cell of table {table.name!r} has such a config field; '
                    f'its fields: {", ".join(sorted(table.cells[0].build_config(1, root).keys()))}')
  return dataclasses.replace(table, cells=tuple(cells), overrides=tuple(overrides))


def _has(config, dotted: str) -> bool:
  for part in dotted.split('.'):
    if not hasattr(config, 'keys') or part not in config.keys():
      return False
    config = config[part]
  return True


def override_tag(overrides: tuple) -> str:
  """A folder-name tag of overrides: 'num_epochs=2' as it reads where short, else 'override-' and a digest."""
  text = ','.join(f'{k}={v}' for k, v in overrides)
  tag = slug(text)
  return tag if len(tag) <= 48 else f'override-{hashlib.sha256(text.encode()).hexdigest()[:10]}'


def matches(cell: Cell, pattern: str) -> bool:
  """Whether --cells' part `pattern` names the cell: its id (ROW__COLUMN, as its folder without an override
  tag), its row or its column exactly (spaces and slashes as in the id: 'digits_mlp'), or a glob over its id."""
  names = {cell.base_id, cell.id, slug(cell.row), slug(cell.column)}
  if pattern in names:
    return True
  return any(ch in pattern for ch in '*?[') and any(fnmatch.fnmatchcase(n, pattern) for n in (cell.base_id, cell.id))


def slug(text: str) -> str:
  return re.sub(r'[^A-Za-z0-9_.=-]+', '_', text)


def grid(rows, columns, config, seeds=3, name='table', description='', plot_x='', baseline='bp',
         references=None):
  """A full rows x columns Table; config(row, column) -> (config path, overrides, x);
  references: {(row, column): Reference}."""
  cells = []
  for row in rows:
    for column in columns:
      path, overrides, x = config(row, column)
      cells.append(Cell(row, str(column), path, tuple(overrides), x, (references or {}).get((row, str(column)))))
  return Table(name, tuple(cells), seeds, description, plot_x, baseline)


def root():
  """The folder holding configs/: the checkout, or the installed package."""
  return os.path.dirname(os.path.dirname(os.path.abspath(_package_file('local_learning.configs'))))


def tables_dir():
  """The folder of the built-in table specs (benchmarks/tables, installed as local_learning.tables)."""
  return os.path.dirname(os.path.abspath(_package_file('local_learning.tables')))


def _package_file(name: str) -> str:
  """The __init__.py of package `name`, found without importing it (the table specs import local_learning.bench)."""
  spec = importlib.util.find_spec(name)
  assert spec is not None and spec.origin is not None, f'{name} is part of the local-learning installation'
  return spec.origin


def load_table(name_or_path, rules=None, args=''):
  """The Table of a built-in name ('quick') or of a spec file path; rules: its rows' rules, if over
  rules; args: the text a spec's get_table(args=...) takes (e.g. 'dataset=cifar10,grid=gpu')."""
  path = name_or_path if name_or_path.endswith('.py') else os.path.join(tables_dir(), f'{name_or_path}.py')
  if not os.path.exists(path):
    known = sorted(f[:-3] for f in os.listdir(tables_dir()) if f.endswith('.py') and not f.startswith('_'))
    raise UserError(f'no table spec {name_or_path!r}; built-in tables: {", ".join(known)}, or give a .py path')
  get_table = getattr(ll_config.load_module(path, 'table spec'), 'get_table', None)
  if not callable(get_table):
    raise UserError(f'table spec {path} has no get_table() function')
  parameters = inspect.signature(get_table).parameters
  if rules is not None and 'rules' not in parameters:
    raise UserError(f'table {name_or_path!r} is not a table over rules; --rules applies to tables whose '
                    'get_table takes rules')
  if args and 'args' not in parameters:
    raise UserError(f'table {name_or_path!r} takes no --table_args')
  if rules is not None:
    rules = list(rules)
    if not rules or not all(rules):
      raise UserError(f'--rules={",".join(rules)} names no rule, or an empty one; give names as --rules=bp,pc, '
                      "or leave --rules out for the table's own rules")
    if len(set(rules)) < len(rules):
      twice = sorted({r for r in rules if rules.count(r) > 1})
      raise UserError(f'--rules names {", ".join(twice)} more than once; each rule is one row')
  kwargs = {**({'rules': rules} if rules is not None else {}), **({'args': args} if args else {})}
  try:
    table = get_table(**kwargs)
  except UserError:
    raise
  except Exception as e:  # pylint: disable=broad-except  (a spec's code: any error is its message)
    first = (str(e).strip().splitlines() or [''])[0][:200]
    raise UserError(f'get_table() in {path} raised {type(e).__name__}: {first}') from None
  if not isinstance(table, Table):
    raise UserError(f'get_table() in {path} returned {type(table).__name__}, not a local_learning.bench.Table')
  return table

"""The package's import graph: no cycle, and no import inside a function unless it is a listed lazy one.

The graph is read from the source with `ast` (nothing is imported): a module's edges are the
project modules its import statements name, at any depth of the file (inside functions too). Importing a.b.c also
runs a/__init__ and a/b/__init__; those implicit edges to parent packages are left out, as
every submodule would otherwise close a cycle through its package's __init__.
"""
import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The installed package's folders (pyproject.toml [tool.setuptools.package-dir]).
PACKAGES = {'local_learning': 'local_learning', 'local_learning.rules': 'rules',
            'local_learning.configs': 'configs', 'local_learning.tables': 'benchmarks/tables'}
# Imports inside a function, (module, imported module): each a lazy import of something slow or
# optional, for a reason other than a cycle.
LAZY = {
    ('local_learning.testing', 'local_learning.checkpoint'): 'orbax takes seconds to import; import local_learning '
                                                             'stays light',
    ('local_learning.pc.solvers', 'diffrax'): 'diffrax takes 1-2 s to import, only the ODE activity solvers need it',
    ('local_learning.data.prepare', 'tensorflow_datasets'): 'tfds is slow to import, only building a dataset needs it',
    ('local_learning.data.prepare', 'PIL'): 'only building a dataset from image files needs it',
    ('local_learning.data.tfds_source', 'tensorflow_datasets'): 'tfds is slow to import, only loading a tfds '
                                                                'dataset needs it',
    ('local_learning.workdir', 'tensorboardX'): 'an optional dependency (config.tensorboard)',
    ('local_learning.bench.plots', 'matplotlib'): 'slow to import, only plotting needs it (with the Agg backend set '
                                                  'first)',
}


def _modules():
  """{module name: path} of every source file of the package."""
  out = {}
  for package, folder in PACKAGES.items():
    base = os.path.join(ROOT, folder)
    for directory, dirs, files in os.walk(base):
      dirs[:] = [d for d in dirs if d != '__pycache__']
      relative = os.path.relpath(directory, base)
      parts = [package] + ([] if relative == '.' else relative.split(os.sep))
      for f in files:
        if f.endswith('.py'):
          out['.'.join(parts if f == '__init__.py' else parts + [f[:-3]])] = os.path.join(directory, f)
  return out


def _imports(name, path, modules):
  """[(imported name, inside a function)] of one file; relative imports resolved."""
  tree = ast.parse(open(path).read(), path)
  package = name if path.endswith('__init__.py') else name.rpartition('.')[0]
  out = []

  def visit(node, in_function):
    for child in ast.iter_child_nodes(node):
      inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
      if isinstance(child, ast.Import):
        out.extend((alias.name, inside) for alias in child.names)
      elif isinstance(child, ast.ImportFrom):
        base = child.module or ''
        if child.level:
          base = '.'.join(package.split('.')[:len(package.split('.')) - child.level + 1] + ([base] if base else []))
        for alias in child.names:
          out.append((f'{base}.{alias.name}' if f'{base}.{alias.name}' in modules else base, inside))
      visit(child, inside)

  visit(tree, False)
  return out


def _project(name, modules):
  """The project module an import names (its longest known prefix), or None for a third-party one."""
  parts = name.split('.')
  for end in range(len(parts), 0, -1):
    if '.'.join(parts[:end]) in modules:
      return '.'.join(parts[:end])
  return None


def _graph():
  modules = _modules()
  edges, lazy = {}, []
  for name, path in modules.items():
    edges[name] = set()
    for imported, inside in _imports(name, path, modules):
      target = _project(imported, modules)
      if inside:
        lazy.append((name, target or imported.split('.')[0]))
      if target and target != name:       # a lazy import that closes a cycle is a cycle too
        edges[name].add(target)
  return edges, lazy


def _cycles(edges):
  """Every strongly connected component of more than one module (Tarjan), each sorted."""
  index, low, stack, on_stack, out = {}, {}, [], set(), []

  def connect(v):
    index[v] = low[v] = len(index)
    stack.append(v)
    on_stack.add(v)
    for w in edges[v]:
      if w not in index:
        connect(w)
        low[v] = min(low[v], low[w])
      elif w in on_stack:
        low[v] = min(low[v], index[w])
    if low[v] == index[v]:
      component = []
      while True:
        w = stack.pop()
        on_stack.discard(w)
        component.append(w)
        if w == v:
          break
      if len(component) > 1:
        out.append(sorted(component))

  for v in sorted(edges):
    if v not in index:
      connect(v)
  return out


def test_the_graph_covers_the_package():
  edges, _ = _graph()
  assert {'local_learning', 'local_learning.rule', 'local_learning.losses', 'local_learning.tasks.classification',
          'local_learning.pc.rule', 'local_learning.rules.pc', 'local_learning.tables.limits'} <= set(edges)
  assert 'local_learning.losses' in edges['local_learning.rule']
  assert 'local_learning.diagnostics' in edges['local_learning.tasks.classification']


def test_no_import_cycle():
  assert _cycles(_graph()[0]) == []


def test_the_cycle_finder_finds_one():
  assert _cycles({'a': {'b'}, 'b': {'c'}, 'c': {'a'}, 'd': {'a'}}) == [['a', 'b', 'c']]


def test_no_import_inside_a_function_but_the_listed_lazy_ones():
  _, lazy = _graph()
  unlisted = sorted(set(pair for pair in lazy if pair not in LAZY))
  assert unlisted == [], f'imports inside functions: {unlisted}; import at the top, or list a lazy one in LAZY'
  assert set(LAZY) <= set(lazy), f'LAZY lists imports that are gone: {set(LAZY) - set(lazy)}'

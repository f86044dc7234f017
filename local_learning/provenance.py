"""Where a result came from: all the code it ran, the project's version and commit, the libraries.

A run records `of_run(rule_cls)` in config.json and summary.json. Its `code`
is the SHA-256 of every source file the run used: the project's own (the
local_learning package and its rules) and the user modules the rule depends
on (the modules of its class and its bases, and the modules those import,
transitively, from outside the standard library and site-packages). An edit
to any of them makes a finished run stale: re-running its workdir is refused
(or, with --overwrite, redone). Config files and table specs are not hashed:
what they produce, the config's values, is compared field by field. Nothing
here names a host or a user's home.
"""
import ast
import functools
import hashlib
import importlib.metadata
import importlib.util
import inspect
import os
import site
import subprocess
import sys
import sysconfig

PACKAGES = ('local_learning', 'local_learning.rules')    # the project's sources (rules are mapped from rules/)
MAPPED = ('rules', 'configs', 'tables')     # installed under local_learning/ (not in a checkout): hashed as
                                            # local_learning.rules, or not at all

LIBRARIES = ('jax', 'jaxlib', 'flax', 'optax', 'orbax-checkpoint', 'numpy')


def of_rule(rule_cls):
  """{name, class, module, distribution, version, source_sha256} of a rule class."""
  module = sys.modules[rule_cls.__module__]
  source = inspect.getsourcefile(module) or inspect.getfile(module)   # the .py, else what the module ran from
  with open(source, 'rb') as f:
    digest = hashlib.sha256(f.read()).hexdigest()
  distribution = _distribution(rule_cls.__module__.split('.')[0])
  return dict(name=rule_cls.name, **{'class': f'{rule_cls.__module__}.{rule_cls.__qualname__}'},
              module=rule_cls.__module__, distribution=distribution,
              version=_version(distribution), source_sha256=digest)


@functools.lru_cache(maxsize=1)
def of_project():
  """{version, commit, dirty}: local-learning's installed version and, from a git checkout, its commit."""
  folder = os.path.dirname(os.path.abspath(__file__))
  try:
    _git(folder, 'ls-files', '--error-unmatch', '__init__.py')   # this very file is tracked: a checkout
    commit = _git(folder, 'rev-parse', 'HEAD')
    dirty = bool(_git(folder, 'status', '--porcelain', '--untracked-files=no'))
  except (OSError, subprocess.CalledProcessError):
    commit, dirty = '', None
  return dict(version=_version('local-learning'), commit=commit, dirty=dirty)


@functools.lru_cache(maxsize=1)
def of_libraries():
  """{library: version} of the libraries results depend on, and Python's (read once a process: the
  modules it imported do not change)."""
  return dict({name: _version(name) for name in LIBRARIES}, python=sys.version.split()[0])


def of_code(rule_cls):
  """{sha256: of them all, files: {name: SHA-256}} of the project's source files (named by their path
  from the package, 'local_learning/pc/rule.py') and the user modules rule_cls depends on (by module
  name)."""
  files = {}
  for package, folder in project_folders().items():
    for root, dirs, names in os.walk(folder):
      dirs[:] = sorted(d for d in dirs if d != '__pycache__' and not (root == folder and d in MAPPED))
      for name in sorted(n for n in names if n.endswith('.py')):
        path = os.path.join(root, name)
        rel = os.path.relpath(path, folder).replace(os.sep, '/')
        files[f'{package.replace(".", "/")}/{rel}'] = _sha256(path)
  for name, path in user_modules(rule_cls).items():
    files[name] = _sha256(path)
  total = hashlib.sha256(''.join(f'{k}\0{v}\n' for k, v in sorted(files.items())).encode()).hexdigest()
  return dict(sha256=total, files=files)


def project_folders():
  """{package: folder} of the project's sources."""
  specs = {name: importlib.util.find_spec(name) for name in PACKAGES}
  return {name: spec.submodule_search_locations[0] for name, spec in specs.items()
          if spec is not None and spec.submodule_search_locations}


def user_modules(rule_cls):
  """{module name: source file} of the user modules rule_cls depends on: those of its class and
  bases, and the modules they import (transitively), outside the project, the standard library and
  site-packages."""
  outside = _library_folders() + tuple(os.path.realpath(f) + os.sep for f in project_folders().values())
  found, todo = {}, [c.__module__ for c in rule_cls.__mro__]
  while todo:
    name = todo.pop()
    module = sys.modules.get(name)
    path = getattr(module, '__file__', None)
    if name in found or not path or not path.endswith('.py') or os.path.realpath(path).startswith(outside):
      continue
    found[name] = path
    todo += _imported(module, path)
  return dict(sorted(found.items()))


def of_run(rule_cls):
  return dict(rule=of_rule(rule_cls), code=of_code(rule_cls), project=of_project(), libraries=of_libraries())


def changed(old, new):
  """'' if provenance `old` ran the code of `new`, else what changed (one file named). Runs recorded
  before `code` existed compare their rule's source only."""
  if isinstance(old.get('code'), dict) and isinstance(old['code'].get('files'), dict):
    before, now = old['code']['files'], new['code']['files']
    for name in sorted(set(before) | set(now)):
      if before.get(name) != now.get(name):
        what = 'is new' if name not in before else 'is gone' if name not in now else 'changed'
        more = sum(before.get(n) != now.get(n) for n in set(before) | set(now)) - 1
        return f'{name} {what} since it ran' + (f' (and {more} more files)' if more else '')
    return ''
  before, now = old.get('rule', {}), new['rule']
  if before.get('source_sha256') and before['source_sha256'] != now['source_sha256']:
    return f'its source {before.get("module", "?")} changed: sha256 {before["source_sha256"][:12]} then, ' \
           f'{now["source_sha256"][:12]} now'
  return ''


def _imported(module, path):
  """Names of the modules `module`'s source imports (absolute, resolved), that are loaded."""
  try:
    with open(path, 'rb') as f:
      tree = ast.parse(f.read())
  except (OSError, SyntaxError, ValueError):
    return []
  names = []
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      names += [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
      try:
        base = importlib.util.resolve_name('.' * node.level + (node.module or ''), module.__package__ or '') \
            if node.level else node.module
      except (ImportError, ValueError):
        continue
      names += [base] + [f'{base}.{alias.name}' for alias in node.names]
  return [n for n in names if n in sys.modules]


def _library_folders():
  """The folders of the standard library and site-packages, each ending in a separator."""
  paths = sysconfig.get_paths()
  folders = [paths[k] for k in ('stdlib', 'platstdlib', 'purelib', 'platlib')]
  folders += site.getsitepackages() + [site.getusersitepackages()]
  return tuple(os.path.realpath(f) + os.sep for f in folders if f)


_DIGESTS: dict[str, tuple[tuple[int, ...], str]] = {}    # path -> ((inode, mtime_ns, size), SHA-256) read before


def _sha256(path):
  """The file's SHA-256, read again only if its inode, modification time or size changed since last read."""
  stat = os.stat(path)
  key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
  if path in _DIGESTS and _DIGESTS[path][0] == key:
    return _DIGESTS[path][1]
  with open(path, 'rb') as f:
    digest = hashlib.sha256(f.read()).hexdigest()
  _DIGESTS[path] = (key, digest)
  return digest


@functools.lru_cache(maxsize=None)
def _distribution(top):
  """The installed distribution of top-level package `top` ('' if none): this project's by name,
  another's from a scan of every installed distribution's files (a second or more), once."""
  if top == __name__.split('.')[0]:
    return 'local-learning'
  return (importlib.metadata.packages_distributions().get(top) or [''])[0]


def _version(distribution):
  try:
    return importlib.metadata.version(distribution) if distribution else ''
  except importlib.metadata.PackageNotFoundError:
    return ''


def _git(folder, *args):
  return subprocess.run(['git', '-C', folder, *args], capture_output=True, text=True, check=True,
                        timeout=10).stdout.strip()

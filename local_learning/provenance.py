"""Where a result came from: the rule's code, the project's version and commit, the libraries.

A run records `of_run(rule_cls)` in config.json and summary.json. A rule's
source hash is what makes a finished run stale: re-running a workdir whose
rule file has changed since is refused (or, with --overwrite, redone).
Nothing here names a host or a user's home.
"""
import functools
import hashlib
import importlib.metadata
import inspect
import os
import subprocess
import sys

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


def of_libraries():
  """{library: version} of the libraries results depend on, and Python's."""
  return dict({name: _version(name) for name in LIBRARIES}, python=sys.version.split()[0])


def of_run(rule_cls):
  return dict(rule=of_rule(rule_cls), project=of_project(), libraries=of_libraries())


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

"""Register and look up learning rules.

A rule is registered with the `@register` decorator when its module is
imported. Modules are imported from three places:
  * installed packages that publish the entry-point group `local_learning.rules`
    (the built-in rules come in this way too, exactly like a third-party plugin);
  * modules named by the user (`config.rule_module`, comma-separated, or `import_module`);
  * any module the user imports before calling `get`.
"""
import importlib
import importlib.metadata
import warnings

from local_learning.errors import UserError

ENTRY_POINT_GROUP = 'local_learning.rules'

_RULES = {}
_entry_points_loaded = False


def register(cls):
  """Class decorator: makes `cls` available under `cls.name`."""
  name = getattr(cls, 'name', None)
  if not isinstance(name, str) or not name:
    raise TypeError(f'{cls.__qualname__} needs a non-empty `name` attribute to be registered')
  known = _RULES.get(name)
  if known is not None and _qualified(known) != _qualified(cls):
    raise UserError(f'rule name {name!r} is taken by {_qualified(known)}; rename {_qualified(cls)}')
  _RULES[name] = cls
  return cls


def get(name):
  """The rule class registered as `name`; a UserError lists the known names."""
  _load_entry_points()
  try:
    return _RULES[name]
  except KeyError:
    raise UserError(f'unknown rule {name!r}; known rules: {", ".join(names())}. '
                    'A rule of your own: pass its module as config.rule_module') from None


def names():
  """Sorted names of all registered rules."""
  _load_entry_points()
  return sorted(_RULES)


def import_module(module_name):
  """Imports a user's rule module (e.g. 'my_lab.my_rule'), or several, comma-separated
  ('my_lab.dtp,my_lab.pc_variants'), registering their rules.

  A module must be importable: on PYTHONPATH, or in an installed package. The
  installed plugins are loaded first, so that a user's rule whose name is
  taken by one of them is refused, whichever would have been loaded first.
  """
  _load_entry_points()
  for name in module_name.split(','):
    _import_one(name.strip())


def _import_one(module_name):
  if not module_name or module_name.startswith('.'):
    raise UserError(f'rule module {module_name!r} is not an absolute module name; use e.g. my_lab.my_rule '
                    '(several: comma-separated, my_lab.a,my_lab.b)')
  try:
    importlib.import_module(module_name)
  except UserError:
    raise
  except ImportError as e:
    raise UserError(f'cannot import rule module {module_name!r} ({e}); '
                    'check the name and that it is on PYTHONPATH or installed') from None
  except SyntaxError as e:
    raise UserError(f'rule module {module_name!r} has a syntax error in {e.filename} at line {e.lineno}: '
                    f'{e.msg}') from None
  except Exception as e:  # pylint: disable=broad-except
    raise UserError(f'rule module {module_name!r} raised {type(e).__name__}: {e} when imported') from None


def _load_entry_points():
  """Imports every installed plugin once; a broken one warns and is skipped, a name clash is an error."""
  global _entry_points_loaded
  if _entry_points_loaded:
    return
  _entry_points_loaded = True
  for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
    try:
      cls = ep.load()
    except UserError:                     # its name is taken (its module registers on import)
      raise
    except Exception as e:  # pylint: disable=broad-except
      warnings.warn(f'local-learning: plugin rule {ep.name!r} ({ep.value}) failed to load '
                    f'and is skipped: {type(e).__name__}: {e}', stacklevel=2)
      continue
    register(cls)


def _qualified(cls):
  return f'{cls.__module__}.{cls.__qualname__}'

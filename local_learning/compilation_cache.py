"""JAX's persistent compilation cache, on by default: a command run again (a resumed run, a table
re-run, a tuning trial of the same shapes) loads its compiled programs instead of compiling them.

config.compilation_cache names the folder: 'auto' (the default) is $JAX_COMPILATION_CACHE_DIR if
set, else $XDG_CACHE_HOME/local-learning/jax (~/.cache/local-learning/jax without XDG_CACHE_HOME);
'' turns the cache off; anything else is the folder. JAX_ENABLE_COMPILATION_CACHE=false turns it
off for every command. Every program is cached, however fast it compiled, unless
JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS says otherwise (JAX's default skips those under 1 s,
which are most of ours on a CPU).
"""
import os

import jax
from jax.experimental.compilation_cache import compilation_cache as jax_cache

AUTO = 'auto'


def folder(setting):
  """The cache folder that config.compilation_cache `setting` names, or None (off)."""
  if setting != AUTO:
    return os.path.expanduser(setting) if setting else None
  if os.environ.get('JAX_COMPILATION_CACHE_DIR'):
    return os.environ['JAX_COMPILATION_CACHE_DIR']
  base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
  return os.path.join(base, 'local-learning', 'jax')


def use(setting):
  """Compiles through the cache in `setting`'s folder from now on in this process (None: none)."""
  path = folder(setting)
  if 'JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS' not in os.environ:
    jax.config.update('jax_persistent_cache_min_compile_time_secs', 0.0)
  if path != jax.config.values.get('jax_compilation_cache_dir'):
    jax.config.update('jax_compilation_cache_dir', path)
    jax_cache.reset_cache()      # JAX opens its cache once; a new folder needs a fresh start

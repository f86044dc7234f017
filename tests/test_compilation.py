"""Compiled programs: each compiled once in a run, and loaded from the persistent cache by the next run."""
import os
import re

from conftest import run_cli

from local_learning import compilation_cache

ARGS = ['--config=configs/default.py:rule=pc', '--config.num_seeds=3', '--config.num_epochs=2']
PROGRAMS = ['jit(_split_seeds)', 'jit(count)', 'jit(init)', 'jit(plans)', 'jit(run)']


def test_a_run_compiles_each_program_once_and_the_next_run_none(tmp_path):
  env = {'JAX_LOG_COMPILES': '1', 'XDG_CACHE_HOME': str(tmp_path / 'cache')}
  first = run_cli(*ARGS, f'--workdir={tmp_path / "first"}', env=env)
  assert first.returncode == 0, first.stderr
  assert sorted(re.findall(r'Finished XLA compilation of (\S+)', first.stderr)) == PROGRAMS
  assert len(os.listdir(tmp_path / 'cache' / 'local-learning' / 'jax')) == len(PROGRAMS)
  second = run_cli(*ARGS, f'--workdir={tmp_path / "second"}', env=env)
  assert second.returncode == 0, second.stderr
  hits = re.findall(r"Persistent compilation cache hit for '(\S+)'", second.stderr)
  assert sorted(hits) == [name.replace('(', '_').rstrip(')') for name in PROGRAMS]
  assert len(os.listdir(tmp_path / 'cache' / 'local-learning' / 'jax')) == len(PROGRAMS)


def test_cache_folder_follows_the_config_and_xdg(monkeypatch):
  monkeypatch.delenv('JAX_COMPILATION_CACHE_DIR', raising=False)
  monkeypatch.setenv('XDG_CACHE_HOME', '/x/cache')
  assert compilation_cache.folder('auto') == '/x/cache/local-learning/jax'
  monkeypatch.delenv('XDG_CACHE_HOME')
  assert compilation_cache.folder('auto') == os.path.expanduser('~/.cache/local-learning/jax')
  assert compilation_cache.folder('') is None
  assert compilation_cache.folder('~/jax') == os.path.expanduser('~/jax')

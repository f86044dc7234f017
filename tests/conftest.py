"""Shared fixtures: the repository root, CLI runners, a user's plugin folder and real MNIST when present."""
import atexit
import contextlib
import io
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import jax
import numpy as np
import pytest
from absl import flags

from local_learning import cpu_flags, registry
from local_learning.data import prepare, sources, tfds_source

# The suite's programs are compiled with LLVM at -O1 rather than XLA:CPU's default -O2, and with XLA:CPU's
# elemental kernel emitter rather than its MLIR fusion emitters: the same programs in far less compile time
# (-O1: test_models 56 -> 20 s of compiling; the emitter: a small program 30 -> 25 ms, test_models and
# test_feedback_rules 50-56 -> 32-42 s), and compiling is most of the suite's time. The behaviour a test pins
# holds either way; a float result can differ in its last bits from a run with XLA's defaults.
# `LOCAL_LEARNING_TEST_OPT=default make test` runs the suite with XLA's defaults.
TEST_XLA_FLAGS = ('--xla_backend_optimization_level=1', '--xla_cpu_use_fusion_emitters=false')
if os.environ.get('LOCAL_LEARNING_TEST_OPT') != 'default':
  os.environ['XLA_FLAGS'] = ' '.join([os.environ.get('XLA_FLAGS', ''), *(
      flag for flag in TEST_XLA_FLAGS if flag.split('=')[0] not in os.environ.get('XLA_FLAGS', ''))]).strip()
cpu_flags.apply()    # as the command line does, before JAX's first computation
# JAX's compilation cache (config.compilation_cache 'auto') goes to a folder of this session, shared by the xdist
# workers and the commands the tests run, never the user's: the suite spends less CPU time with it than without
# (tests compile the same programs: 72 s against 106 s of CPU for test_end_to_end, test_cli, test_diagnostics).
os.environ.pop('JAX_COMPILATION_CACHE_DIR', None)
if 'PYTEST_XDIST_WORKER' not in os.environ:
  os.environ['XDG_CACHE_HOME'] = tempfile.mkdtemp(prefix='local-learning-tests-')
  atexit.register(shutil.rmtree, os.environ['XDG_CACHE_HOME'], ignore_errors=True)
ROOT = pathlib.Path(__file__).resolve().parents[1]
MNIST_SOURCE = ROOT.parent / 'shared' / 'data' / 'mnist'


def xla_flags(*extra):
  """{'XLA_FLAGS': the suite's XLA flags and `extra`}, for a command's environment (e.g. fake devices)."""
  return {'XLA_FLAGS': ' '.join((os.environ.get('XLA_FLAGS', ''), *extra)).strip()}


def run_cli(*args, env=None, module='local_learning.main', timeout=300):
  """Runs `python -m module args...` from the repository root; returns CompletedProcess."""
  full_env = dict(os.environ, **(env or {}))
  return subprocess.run([sys.executable, '-m', module, *args], cwd=ROOT, env=full_env,
                        capture_output=True, text=True, timeout=timeout)


def run_cli_batch(*commands, env=None, timeout=600):
  """Runs the command lines `commands` (each a list of args) one after another in one new process
  (tests/cli_batch.py, through run_main) -> a CompletedProcess-like per command."""
  result = subprocess.run([sys.executable, str(ROOT / 'tests' / 'cli_batch.py')], input=json.dumps(commands),
                          cwd=ROOT, env=dict(os.environ, **(env or {})), capture_output=True, text=True,
                          timeout=timeout)
  assert result.returncode == 0, result.stderr
  results = json.loads(result.stdout.splitlines()[-1])
  return [subprocess.CompletedProcess(args, *r) for args, r in zip(commands, results)]


def run_main(*args):
  """The command line in this process (cheaper than run_cli for mistakes found before training):
  -> CompletedProcess-like (returncode, stdout, stderr). Run from the repository root."""
  from local_learning import main  # pylint: disable=g-import-not-at-top
  flags.FLAGS.unparse_flags()
  out, err = io.StringIO(), io.StringIO()
  argv, cwd = sys.argv, os.getcwd()
  sys.argv = ['local_learning.main', *map(str, args)]
  os.chdir(ROOT)
  try:
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
      main.run()
    code = 0
  except SystemExit as e:
    code = e.code or 0
  finally:
    sys.argv = argv
    os.chdir(cwd)
  return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


@pytest.fixture
def on_pythonpath(tmp_path, monkeypatch):
  """tmp_path, importable as if it were on PYTHONPATH (its modules and its *.dist-info entry points):
  the rules, modules and entry points found there leave with the test, so that the command line can
  run in this process (run_main) what a user's own rule module does in theirs."""
  monkeypatch.syspath_prepend(str(tmp_path))
  monkeypatch.setattr(sys, 'dont_write_bytecode', True)        # a module edited within a second is re-read
  monkeypatch.setattr(registry, '_RULES', dict(registry._RULES))
  monkeypatch.setattr(registry, '_entry_points_loaded', False)  # the entry points under tmp_path are read too
  yield tmp_path
  forget_modules(*(name for name, module in list(sys.modules.items())
                   if str(getattr(module, '__file__', None) or '').startswith(str(tmp_path))))


def forget_modules(*names):
  """Forgets imported modules (and the rules they registered), as a new process would not know them."""
  for name in names:
    sys.modules.pop(name, None)
  for rule, cls in list(registry._RULES.items()):
    if cls.__module__ in names:
      del registry._RULES[rule]


def generate_sources(key, config):
  """sources.generate(key, config) compiled as one program: called op by op, each of its few hundred
  operations would compile a program of its own (tests/test_separation.py checks that both agree)."""
  return jax.jit(lambda k: sources.generate(k, config))(key)


def error_lines(result):
  """The lines of stderr that carry our one-line error message."""
  return [line for line in result.stderr.splitlines() if line.startswith('error: ')]


# For a test of behaviour that holds at any XLA optimisation level (structure, bookkeeping, a contract), whose
# programs run for a moment: XLA:CPU compiles them in about half the CPU time (test_conformance: 94 -> 55 s).
# A module uses it as `pytestmark = pytest.mark.usefixtures('few_optimisations')`.


@pytest.fixture
def few_optimisations():
  jax.config.update('jax_disable_most_optimizations', True)
  yield
  jax.config.update('jax_disable_most_optimizations', False)


@pytest.fixture(scope='session')
def mnist_data_dir(tmp_path_factory):
  """A tfds data dir with mnist prepared from ../shared/data/mnist; skips where absent."""
  if not (MNIST_SOURCE / 'SHA256SUMS').exists():
    pytest.skip('real MNIST not available at ../shared/data/mnist')
  data_dir = tmp_path_factory.mktemp('tfds')
  prepare.prepare('mnist', str(MNIST_SOURCE), str(data_dir))
  return str(data_dir)


# A finished 3-epoch bp run on digits (checkpoints of epochs 2 and 3, with its marker), built once per
# worker: tests copy it before changing anything.
FINISHED_ARGS = ['--config=configs/default.py:rule=bp', '--config.num_epochs=3', '--config.model.widths=(16,)',
                 '--config.checkpoint_every=1']


@pytest.fixture(scope='session')
def finished(tmp_path_factory):
  workdir = tmp_path_factory.mktemp('finished') / 'run'
  result = run_main(*FINISHED_ARGS, f'--workdir={workdir}')
  assert result.returncode == 0, result.stderr
  return workdir


# Every tfds dataset the project lists, as tiny fake datasets in tfds's own format (written by the
# prepare command's writer, read by the trainer's loader): (training, test) examples of each; every class
# appears in both splits.
FAKE_SIZES = {'mnist': (48, 20), 'fashion_mnist': (48, 20), 'cifar10': (48, 20), 'cifar100': (200, 100)}


@pytest.fixture(scope='session')
def fake_tfds(tmp_path_factory):
  """(tfds data dir, {name: {split: arrays written}}): random images, labels cycling over the classes."""
  data_dir = tmp_path_factory.mktemp('fake_tfds')
  rng = np.random.default_rng(0)
  written = {}
  for name, sizes in FAKE_SIZES.items():
    shape, classes = tfds_source.SHAPES[name]
    splits = {}
    for split, n in zip(('train', 'test'), sizes):
      label = rng.permutation(np.arange(n) % classes)
      splits[split] = dict(image=rng.integers(0, 256, (n, *shape), dtype=np.uint8), label=label)
      if name == 'cifar100':
        splits[split]['coarse_label'] = label // 5
    prepare.write(name, splits, str(data_dir))
    written[name] = splits
  return str(data_dir), written


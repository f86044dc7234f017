"""XLA:CPU settings that local-learning's workloads run fastest with.

XLA reads XLA_FLAGS once, when JAX starts its CPU backend (at its first
computation), so `apply()` must run before that: the command-line entry
points (local_learning.main, benchmarks/) call it first thing; in a notebook,
call it yourself before anything computes. A setting already named in the
user's XLA_FLAGS is left as the user set it. Both only concern XLA:CPU; on GPU
and TPU they do nothing.

  --xla_cpu_experimental_ynn_fusion_type=  (empty: no YNNPACK fusions)
      Matrix products go to Eigen rather than YNNPACK. YNNPACK wins on large
      products (benchmarks/mupc_speed.py prints both on a 2048^2 one) but,
      on a 2-core CPU with jax 0.10.2, `benchmarks/pc_speed.py` ran both bp
      and pc faster with Eigen: local rules are made of 64-128 wide products.
  --xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold=65536
      XLA:CPU compiles a while loop into one fast kernel only if it touches
      little memory (1 kB by default): one seed's separation dynamics
      (local_learning.dynamics) do, a batch of seeds needs more.

`INTEGER_PROGRAM` is the compiler_options of a jit that computes integers
only (seeds' keys, an epoch's order): LLVM's optimisations off, which takes a
half to a third of the compile time, and integer results do not depend on
them (float results can, in the last bit, so no float program uses it).
`INIT_PROGRAM` is that of the parameters' initialisation (random bits made
floats): LLVM at -O1, a third of the default's compile time (1.5 -> 0.5 s for
the digits MLP), the default's values bit for bit (tests/test_cpu_flags.py
checks an MLP, a VGG and a residual MLP).

`training_options(work)` is that of a run's training and evaluation
programs: for a run of less than QUICK_WORK matrix-product FLOPs of training
on a CPU (the embedded digits: 16 GFLOP for pc's 3 seeds; the MNIST MLP: 2
TFLOP a seed), `QUICK_PROGRAM`, LLVM at -O1 with XLA:CPU's elemental emitter
instead of its fusion emitters: those programs compile in about two thirds
of the time and run about 10% slower, and such a run spends more time
compiling than training. A separation run is small under QUICK_SAMPLES samples
of all its seeds together (the quick table's: 60,000). A setting the user's
XLA_FLAGS names is left to it.
"""
import os

import jax

_FLAGS = {
    'xla_cpu_experimental_ynn_fusion_type': '',
    'xla_backend_extra_options': 'xla_cpu_small_while_loop_byte_threshold=65536',
}

INTEGER_PROGRAM = {'xla_backend_optimization_level': 0}
INIT_PROGRAM = {'xla_backend_optimization_level': 1}
QUICK_PROGRAM = {'xla_backend_optimization_level': 1, 'xla_cpu_use_fusion_emitters': False}
QUICK_WORK = 1e11       # FLOPs of a run's training below which its programs compile with QUICK_PROGRAM
QUICK_SAMPLES = 1e6     # the same for a separation run's samples, all seeds together


def apply():
  """Adds each flag to XLA_FLAGS unless XLA_FLAGS already names it."""
  flags = os.environ.get('XLA_FLAGS', '')
  for name, value in _FLAGS.items():
    if name not in flags:
      flags = f'{flags} --{name}={value}'.strip()
  os.environ['XLA_FLAGS'] = flags


def training_options(work: float | None) -> dict:
  """compiler_options of the training and evaluation programs of a run whose training takes `work`
  matrix-product FLOPs (None: unknown): quick_options under QUICK_WORK, else {} (XLA's defaults)."""
  return quick_options(work is not None and work < QUICK_WORK)


def quick_options(small: bool) -> dict:
  """compiler_options of a small run's programs: QUICK_PROGRAM on a CPU, less what XLA_FLAGS sets; {} for
  a run that is not small, or on another backend."""
  if not small or jax.default_backend() != 'cpu':
    return {}
  named = os.environ.get('XLA_FLAGS', '')
  return {name: value for name, value in QUICK_PROGRAM.items() if f'--{name}' not in named}

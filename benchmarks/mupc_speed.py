"""muPC speed at depth: compile time, throughput against matmul peak, mupc vs bp.

  .venv/bin/python benchmarks/mupc_speed.py [--depth=128] [--width=128] [--batch=64] [--steps=4] [--rounds=5]

Prints, all measured in this one run:
  * compile time of the jitted mupc train step at depth 8 and at --depth (target ratio <= 2x);
  * this machine's large-matmul throughput (a 2048 x 2048 jnp.dot, GFLOP/s), the better
    of XLA:CPU's two matmul libraries: Eigen (local-learning's default, see
    local_learning/cpu_flags.py) and YNNPACK (faster at this size);
  * the steady-state mupc step at --depth (T = depth, the muPC default): seconds, the
    FLOPs it must do (counted below) and the GFLOP/s achieved, as a share of the matmul's;
  * a bp step on the same network, and the mupc / bp time ratio;
  * what the step is made of: the batched product of the depth - 1 hidden layers,
    in the forward form (Z W) and the transposed form of dF/dz (E W^T), with
    Eigen and with YNNPACK, GFLOP/s.
FLOPs of one mupc step, K = depth - 1 stacked residual layers, each matmul 2 B N^2:
forward pass 1, each of the T inference steps 2 (predict, and its transpose for
dF/dz), the weight update 2 (predict, dF/dW): (2 T + 3) K 2 B N^2, plus the input
and output layers (3 matmuls each). At depth 128, width 128, batch 64: 69.0 GFLOP.
Timed rounds alternate matmul, mupc and bp; the best round of each is reported.
"""
import sys
import time

import jax
import jax.numpy as jnp
from absl import app, flags

sys.path.insert(0, '.')
from configs import depth as depth_config  # pylint: disable=g-import-not-at-top,wrong-import-position
from local_learning import models, registry  # pylint: disable=wrong-import-position

flags.DEFINE_integer('depth', 128, 'Hidden layers H of the timed network.')
flags.DEFINE_integer('width', 128, 'Width N.')
flags.DEFINE_integer('batch', 64, 'Batch size B.')
flags.DEFINE_integer('steps', 4, 'Train steps per timed call (one jitted scan).')
flags.DEFINE_integer('rounds', 5, 'Timed rounds (best reported).')
FLAGS = flags.FLAGS
INPUT_SHAPE, CLASSES, MATMUL = (28, 28, 1), 10, 2048
YNNPACK = {'xla_cpu_experimental_ynn_fusion_type': 'LIBRARY_FUSION_TYPE_DOT,LIBRARY_FUSION_TYPE_ELTWISE'}


def bound_rule(rule_name, depth):
  """(rule, state) for `rule_name` on the configs/depth.py network of `depth` hidden layers."""
  config = depth_config.get_config(f'rule={rule_name},depth={depth},width={FLAGS.width},dataset=digits')
  model = models.functional(config.model, INPUT_SHAPE, CLASSES)
  rule = registry.get(rule_name)(model, config.rule, num_steps=1000)
  return rule, jax.jit(rule.init)(jax.random.key(0))


def batches(steps):
  keys = jax.random.split(jax.random.key(1))
  return (jax.random.normal(keys[0], (steps, FLAGS.batch, *INPUT_SHAPE)),
          jax.random.randint(keys[1], (steps, FLAGS.batch), 0, CLASSES))


def compile_seconds(depth):
  """Seconds to lower and compile one jitted mupc train step at `depth`."""
  rule, state = bound_rule('mupc', depth)
  xs, ys = batches(1)
  start = time.perf_counter()
  jax.jit(rule.train_step).lower(state, (xs[0], ys[0]), None).compile()
  return time.perf_counter() - start


def timed_scan(rule_name, depth, steps):
  """(compiled fn, args): `steps` train steps as one jitted scan."""
  rule, state = bound_rule(rule_name, depth)

  def run(state, xs, ys):
    def step(state, batch):
      return rule.train_step(state, batch, None)[0], None
    return jax.lax.scan(step, state, (xs, ys))[0]

  args = (state, *batches(steps))
  return jax.jit(run).lower(*args).compile(), args


def step_flops(depth, width, batch, steps):
  """FLOPs of one mupc train step (see the module docstring)."""
  d, c = 784, CLASSES
  matmul = 2 * batch * width
  return (2 * steps + 3) * (depth - 1) * matmul * width + 3 * matmul * (d + c)


def batched_products(depth):
  """{name: (compiled fn, args)}: the stacked layers' product, both forms, both libraries."""
  keys = jax.random.split(jax.random.key(3))
  k, n = depth - 1, FLAGS.width
  z, w = jax.random.normal(keys[0], (k, FLAGS.batch, n)), jax.random.normal(keys[1], (k, n, n))
  forms = {'Z W': 'kbn,knm->kbm', 'E W^T': 'kbm,knm->kbn'}
  return {(form, library): (jax.jit(lambda z, w, eq=eq: jnp.einsum(eq, z, w)).lower(z, w)
                            .compile(compiler_options=options), (z, w))
          for form, eq in forms.items() for library, options in (('Eigen', None), ('YNNPACK', YNNPACK))}


def best_seconds(fns, rounds):
  """{name: best wall seconds of fn(*args)} over interleaved rounds."""
  for fn, args in fns.values():
    jax.block_until_ready(fn(*args))
  best = {name: float('inf') for name in fns}
  for _ in range(rounds):
    for name, (fn, args) in fns.items():
      start = time.perf_counter()
      jax.block_until_ready(fn(*args))
      best[name] = min(best[name], time.perf_counter() - start)
  return best


def main(argv):
  del argv
  depth = FLAGS.depth
  compile_small, compile_deep = min(compile_seconds(8) for _ in range(2)), min(compile_seconds(depth) for _ in range(2))
  a = jax.random.normal(jax.random.key(2), (MATMUL, MATMUL))
  fns = {'matmul': (jax.jit(jnp.dot).lower(a, a).compile(), (a, a)),
         'matmul_ynnpack': (jax.jit(jnp.dot).lower(a, a).compile(compiler_options=YNNPACK), (a, a)),
         'mupc': timed_scan('mupc', depth, FLAGS.steps),
         'bp': timed_scan('bp', depth, FLAGS.steps)}
  products = batched_products(depth)
  best = best_seconds({**fns, **products}, FLAGS.rounds)
  eigen, ynnpack = (2 * MATMUL ** 3 / best[name] / 1e9 for name in ('matmul', 'matmul_ynnpack'))
  peak = max(eigen, ynnpack)
  mupc_step, bp_step = best['mupc'] / FLAGS.steps, best['bp'] / FLAGS.steps
  flops = step_flops(depth, FLAGS.width, FLAGS.batch, depth)
  achieved = flops / mupc_step / 1e9
  print(f'device {jax.devices()[0].device_kind}, jax {jax.__version__}; resmlp width {FLAGS.width}, '
        f'batch {FLAGS.batch}, mupc T = depth')
  print(f'compile time of the train step: depth 8 {compile_small:.2f}s, depth {depth} {compile_deep:.2f}s, '
        f'ratio {compile_deep / compile_small:.2f}x (target <= 2x)')
  print(f'matmul {MATMUL}x{MATMUL}: {peak:.1f} GFLOP/s (Eigen {eigen:.1f}, YNNPACK {ynnpack:.1f})')
  print(f'mupc step at depth {depth}: {mupc_step * 1e3:.1f} ms, {flops / 1e9:.1f} GFLOP, {achieved:.1f} GFLOP/s '
        f'= {achieved / peak:.0%} of the matmul (target >= 60%)')
  print(f'bp step at depth {depth}: {bp_step * 1e3:.1f} ms; mupc / bp = {mupc_step / bp_step:.1f}x')
  product_flops = 2 * (depth - 1) * FLAGS.batch * FLAGS.width ** 2
  print(f'batched product of the {depth - 1} hidden layers, GFLOP/s: ' + ', '.join(
      f'{form} {library} {product_flops / best[form, library] / 1e9:.1f}' for form, library in products))


if __name__ == '__main__':
  app.run(main)

"""muPC speed at depth: compile time, throughput against matmul peak, mupc vs bp.

  .venv/bin/python benchmarks/mupc_speed.py [--depth=128] [--width=128] [--batch=64] [--steps=2] [--rounds=5]

On a CPU the script runs one host device per core (XLA_FLAGS
--xla_force_host_platform_device_count=<cores> --xla_cpu_multi_thread_eigen=false,
unless XLA_FLAGS names them), as a layer-parallel run would: the step's
stacked layers are split over the devices (the trainer's config.layer_parallel).
Prints, all measured in this one run:
  * compile time of the jitted mupc train step at depth 8 and at --depth (target ratio <= 2x);
  * this machine's large-matmul throughput: the best of a 2048 x 2048 jnp.dot on one
    device and split by rows over all devices, each with XLA:CPU's two matmul
    libraries, Eigen (local-learning's default, see local_learning/cpu_flags.py) and
    YNNPACK (GFLOP/s);
  * the steady-state mupc step at --depth (T = depth, the muPC default), layer-parallel
    over all devices and on one device: seconds, the FLOPs it must do (counted below)
    and the GFLOP/s achieved, as a share of the matmul's (target >= 60%);
  * a bp step on the same network (one device), and the mupc / bp time ratio;
  * the batched product of the stacked layers on one device, in the forward form (Z W)
    and the form of its gradient (E W^T) that resmlp avoids with a transposed copy of
    the weights, with Eigen and with YNNPACK, GFLOP/s.
FLOPs of one mupc step, K = depth - 1 stacked residual layers, each matmul 2 B N^2:
forward pass 1, each of the T inference steps 2 (predict, and its transpose for
dF/dz), the weight update 2 (predict, dF/dW): (2 T + 3) K 2 B N^2, plus the input
and output layers (3 matmuls each). At depth 128, width 128, batch 64: 69.0 GFLOP.
Timed rounds alternate between everything timed; the best round of each is reported.
"""
import os
import time

CPU_FLAGS = {'xla_force_host_platform_device_count': os.cpu_count(), 'xla_cpu_multi_thread_eigen': 'false'}
os.environ['XLA_FLAGS'] = ' '.join([os.environ.get('XLA_FLAGS', '')] + [
    f'--{name}={value}' for name, value in CPU_FLAGS.items() if name not in os.environ.get('XLA_FLAGS', '')]).strip()

import jax  # pylint: disable=g-import-not-at-top,wrong-import-position
import jax.numpy as jnp  # pylint: disable=g-import-not-at-top,wrong-import-position
from absl import app, flags  # pylint: disable=g-import-not-at-top,wrong-import-position
from jax.sharding import NamedSharding, PartitionSpec as P  # pylint: disable=g-import-not-at-top,wrong-import-position

from local_learning import cpu_flags, models, parallel, registry  # pylint: disable=g-import-not-at-top,wrong-import-position
from local_learning import config as ll_config  # pylint: disable=g-import-not-at-top,wrong-import-position

CONFIGS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'configs')

flags.DEFINE_integer('depth', 128, 'Hidden layers H of the timed network.')
flags.DEFINE_integer('width', 128, 'Width N.')
flags.DEFINE_integer('batch', 64, 'Batch size B.')
flags.DEFINE_integer('steps', 2, 'Train steps per timed call (one jitted scan).')
flags.DEFINE_integer('rounds', 5, 'Timed rounds (best reported).')
FLAGS = flags.FLAGS
INPUT_SHAPE, CLASSES, MATMUL = (28, 28, 1), 10, 2048
YNNPACK = {'xla_cpu_experimental_ynn_fusion_type': 'LIBRARY_FUSION_TYPE_DOT,LIBRARY_FUSION_TYPE_ELTWISE'}
LIBRARIES = (('Eigen', None), ('YNNPACK', YNNPACK))


def bound_rule(rule_name, depth):
  """(rule, state) for `rule_name` on the configs/depth.py network of `depth` hidden layers."""
  config = ll_config.load_file(os.path.join(CONFIGS, 'depth.py'),
                                 f'rule={rule_name},depth={depth},width={FLAGS.width},dataset=digits')
  model = models.functional(config.model, INPUT_SHAPE, CLASSES)
  rule = registry.get(rule_name)(model, config.rule, num_steps=1000)
  return rule, jax.jit(rule.init)(jax.random.key(0))


def batches(steps):
  keys = jax.random.split(jax.random.key(1))
  return (jax.random.normal(keys[0], (steps, FLAGS.batch, *INPUT_SHAPE)),
          jax.random.randint(keys[1], (steps, FLAGS.batch), 0, CLASSES))


def train_steps(rule_name, depth, steps, mesh):
  """(compiled fn, args): `steps` train steps as one jitted scan, inputs replicated over `mesh`."""
  rule, state = bound_rule(rule_name, depth)

  def run(state, xs, ys):
    def step(state, batch):
      return rule.train_step(state, batch, None)[0], None
    return jax.lax.scan(step, state, (xs, ys))[0]

  replicated = parallel.replicated(mesh)
  args = jax.device_put((state, *batches(steps)), replicated)
  with jax.set_mesh(mesh):
    return jax.jit(run, out_shardings=replicated).lower(*args).compile(), args


def compile_seconds(depth, mesh):
  """Seconds to lower and compile one jitted mupc train step at `depth` on `mesh`."""
  rule, state = bound_rule('mupc', depth)
  xs, ys = batches(1)
  start = time.perf_counter()
  with jax.set_mesh(mesh):
    jax.jit(rule.train_step).lower(state, (xs[0], ys[0]), None).compile()
  return time.perf_counter() - start


def step_flops(depth, width, batch, steps):
  """FLOPs of one mupc train step (see the module docstring)."""
  d, c = 784, CLASSES
  matmul = 2 * batch * width
  return (2 * steps + 3) * (depth - 1) * matmul * width + 3 * matmul * (d + c)


def matmuls(mesh):
  """{name: (compiled fn, args)}: the 2048^2 product, one device or split by rows over `mesh`."""
  a = jax.random.normal(jax.random.key(2), (MATMUL, MATMUL))
  rows = NamedSharding(mesh, P(mesh.axis_names))
  split = jax.device_put(a, rows), jax.device_put(a, parallel.replicated(mesh))
  fns = {}
  for library, options in LIBRARIES:
    fns['matmul', library, 1] = (jax.jit(jnp.dot).lower(a, a).compile(compiler_options=options), (a, a))
    fns['matmul', library, mesh.size] = (jax.jit(jnp.dot, out_shardings=rows).lower(*split)
                                         .compile(compiler_options=options), split)
  return fns


def batched_products(depth):
  """{name: (compiled fn, args)}: the stacked layers' product, both forms, both libraries."""
  keys = jax.random.split(jax.random.key(3))
  k, n = depth - 1, FLAGS.width
  z, w = jax.random.normal(keys[0], (k, FLAGS.batch, n)), jax.random.normal(keys[1], (k, n, n))
  forms = {'Z W': 'kbn,knm->kbm', 'E W^T': 'kbm,knm->kbn'}
  return {(form, library): (jax.jit(lambda z, w, eq=eq: jnp.einsum(eq, z, w)).lower(z, w)
                            .compile(compiler_options=options), (z, w))
          for form, eq in forms.items() for library, options in LIBRARIES}


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
  depth, devices = FLAGS.depth, jax.device_count()
  layers, one = parallel.mesh(0, devices), parallel.mesh(1)
  compile_small = min(compile_seconds(8, layers) for _ in range(2))
  compile_deep = min(compile_seconds(depth, layers) for _ in range(2))
  steps = {(rule, mesh.size): train_steps(rule, depth, FLAGS.steps, mesh)
           for rule, mesh in (('mupc', layers), ('mupc', one), ('bp', one))}
  products = batched_products(depth)
  best = best_seconds({**matmuls(layers), **steps, **products}, FLAGS.rounds)

  peaks = {name[1:]: 2 * MATMUL ** 3 / seconds / 1e9 for name, seconds in best.items() if name[0] == 'matmul'}
  peak = max(peaks.values())
  flops = step_flops(depth, FLAGS.width, FLAGS.batch, depth)
  step = {name: seconds / FLAGS.steps for name, seconds in best.items() if name in steps}
  print(f'{jax.devices()[0].device_kind} x {devices} devices, jax {jax.__version__}; resmlp width {FLAGS.width}, '
        f'batch {FLAGS.batch}, mupc T = depth')
  print(f'compile time of the train step: depth 8 {compile_small:.2f}s, depth {depth} {compile_deep:.2f}s, '
        f'ratio {compile_deep / compile_small:.2f}x (target <= 2x)')
  print(f'matmul {MATMUL}x{MATMUL}: {peak:.1f} GFLOP/s (' + ', '.join(
      f'{library} on {n} device{"s" * (n > 1)} {gflops:.1f}' for (library, n), gflops in peaks.items()) + ')')
  for n in sorted({devices, 1}, reverse=True):   # one line on a single device
    achieved = flops / step['mupc', n] / 1e9
    how = f'layer-parallel over {n} devices' if n > 1 else 'on 1 device'
    print(f'mupc step at depth {depth}, {how}: {step["mupc", n] * 1e3:.1f} ms, {flops / 1e9:.1f} GFLOP, '
          f'{achieved:.1f} GFLOP/s = {achieved / peak:.0%} of the matmul (target >= 60%)')
  print(f'bp step at depth {depth}, on 1 device: {step["bp", 1] * 1e3:.1f} ms; '
        f'mupc ({devices} devices) / bp = {step["mupc", devices] / step["bp", 1]:.1f}x')
  product_flops = 2 * (depth - 1) * FLAGS.batch * FLAGS.width ** 2
  print(f'batched product of the {depth - 1} hidden layers on 1 device, GFLOP/s: ' + ', '.join(
      f'{form} {library} {product_flops / best[form, library] / 1e9:.1f}' for form, library in products))


if __name__ == '__main__':
  cpu_flags.apply()
  app.run(main)

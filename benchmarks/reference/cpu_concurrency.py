"""When XLA:CPU runs independent kernels side by side: a loop of n independent batched products.

  .venv/bin/python benchmarks/reference/cpu_concurrency.py [--layers=3] [--counts=6,8,9,12] [--iterations=200]

Each loop iteration computes tanh(Z_i W_i) for i = 1..n, Z_i (K, 64, 128) and
W_i (K, 128, 128): n independent products of K layers each, as n groups of
the stacked μPC layers are (models/residual.py). Prints, per n, the time per
iteration, the process's cores busy (CPU time over wall time) and GFLOP/s,
under local-learning's XLA:CPU flags on one device. XLA:CPU's executor hands
ready kernels to a second thread only when more than 8 are ready at once
(README, Speed at depth), so the cores busy jump between n = 8 and n = 9.
"""
import time

from absl import app, flags

from local_learning import cpu_flags

flags.DEFINE_integer('layers', 3, 'Layers K in each batched product.')
flags.DEFINE_list('counts', ['6', '8', '9', '12'], 'Numbers n of independent products per iteration.')
flags.DEFINE_integer('iterations', 200, 'Loop iterations per call.')
flags.DEFINE_integer('calls', 5, 'Timed calls per n.')
FLAGS = flags.FLAGS
BATCH, WIDTH = 64, 128


def products_loop(n, layers):
  """(compiled fn, args): FLAGS.iterations iterations of n independent batched products."""
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  keys = jax.random.split(jax.random.key(0), 2 * n)
  zs = [jax.random.normal(k, (layers, BATCH, WIDTH)) for k in keys[:n]]
  ws = [jax.random.normal(k, (layers, WIDTH, WIDTH)) / WIDTH for k in keys[n:]]
  body = lambda _, zs: [jnp.tanh(jnp.einsum('kbn,knm->kbm', z, w)) for z, w in zip(zs, ws)]
  loop = jax.jit(lambda zs: jax.lax.fori_loop(0, FLAGS.iterations, body, zs))
  return loop.lower(zs).compile(), zs


def main(argv):
  del argv
  import jax  # pylint: disable=g-import-not-at-top
  print(f'{jax.devices()[0].device_kind}, jax {jax.__version__}; products ({FLAGS.layers}, {BATCH}, {WIDTH}) x '
        f'({FLAGS.layers}, {WIDTH}, {WIDTH}), {FLAGS.calls} calls of {FLAGS.iterations} iterations')
  for n in (int(c) for c in FLAGS.counts):
    fn, args = products_loop(n, FLAGS.layers)
    jax.block_until_ready(fn(args))
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(FLAGS.calls):
      jax.block_until_ready(fn(args))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    flops = 2 * n * FLAGS.layers * BATCH * WIDTH ** 2 * FLAGS.iterations * FLAGS.calls
    print(f'  n = {n:2d}: {wall / FLAGS.calls / FLAGS.iterations * 1e6:6.1f} us per iteration, '
          f'{cpu / wall:.2f} cores busy, {flops / wall / 1e9:.0f} GFLOP/s')


if __name__ == '__main__':
  cpu_flags.apply()
  app.run(main)

"""muPC speed at depth: the stacked step against a per-layer step, compile times, share of a matmul.

  .venv/bin/python benchmarks/mupc_speed.py [--depth=128] [--width=128] [--batch=64] [--rounds=7] [--groups=G]

The main process is what a user gets from `python -m local_learning.main`:
one device, XLA's own threading, local-learning's XLA:CPU flags
(local_learning/cpu_flags.py). Two helper processes run beside it, each
timing its own programs when the main process asks, so that every round
times everything in turn (interleaved rounds; medians are reported). In a
round each program runs back to back for about ROUND_SECONDS, as the
trainer runs its steps, and counts the mean time of a call (the number of
calls is fixed per program after the warm-up; a single call of a 25 ms step
measured mostly what ran before it):
  * the per-layer reference under XLA's default flags (no cpu_flags), one device;
  * on a CPU with more than one core, the layer-parallel step: one host device
    per core, single-threaded Eigen, the stacked layers (one group) split over
    the devices (the trainer's config.layer_parallel), with a matmul in that
    same setting.
Prints:
  * a check that the per-layer reference (benchmarks/reference/per_layer_mupc.py) is the
    same step: the largest weight difference after one step at depth 8;
  * compile time of one jitted train step at depth 8 and at --depth, for the
    stacked step (in --depth's groups at both depths) and the reference
    (target: stacked within 2x from depth 8 to --depth, and below the
    reference's);
  * a 2048 x 2048 matmul in each setting (the best of XLA:CPU's two matmul
    libraries, Eigen and YNNPACK), GFLOP/s;
  * the mupc step at --depth (T = depth): stacked as configs/depth.py has it
    (the hidden layers in groups: models/residual.py), stacked as one group,
    the per-layer reference under local-learning's flags and under XLA's
    defaults (the faster of the two is the reference), layer-parallel;
    milliseconds, the matrix-product GFLOP each program executes
    (local_learning.costs, from its jaxpr), GFLOP/s and share of the matmul of
    the same setting; stacked / reference speedup of the medians (target
    >= 1.3x at depth 128, >= 1.2x at depth 32), and its range round by round
    (each round times both);
  * a bp step on the same network, and the stacked layers' product as one batched
    dot and as separate dots: GFLOP/s and how many cores each keeps busy.
FLOPs of one mupc step without skipping, K = depth - 1 stacked residual layers,
each matmul 2 B N^2: forward pass 1, each of the T inference steps 2 (predict,
and its transpose for dF/dz), the weight update 2 (predict, dF/dW): (2 T + 3) K
2 B N^2, plus the input and output layers (3 matmuls each); at depth 128, width
128, batch 64: 69.0 GFLOP. The per-layer reference executes all of them. The
stacked step skips the groups below PC's error wave (exact: the same
activities; local_learning.pc.solvers), with G groups about (G - 1) / 2G of
the inference products; as one group it skips two steps' worth.
The machine's load is printed with the results (`uptime`): on a shared machine
the absolute times move; the ratios are taken within one run.
"""
import json
import os
import subprocess
import sys
import time

from absl import app, flags

flags.DEFINE_integer('depth', 128, 'Hidden layers H of the timed network.')
flags.DEFINE_integer('width', 128, 'Width N.')
flags.DEFINE_integer('batch', 64, 'Batch size B.')
flags.DEFINE_integer('rounds', 7, 'Timed rounds (medians reported).')
flags.DEFINE_integer('groups', 0, 'Groups of the stacked hidden layers (0: configs/depth.py\'s choice).')
flags.DEFINE_enum('serve', None, ['reference_defaults', 'layer_parallel'], 'Internal: run as a helper process.')
FLAGS = flags.FLAGS
INPUT_SHAPE, CLASSES, MATMUL = (28, 28, 1), 10, 2048
YNNPACK = {'xla_cpu_experimental_ynn_fusion_type': 'LIBRARY_FUSION_TYPE_DOT,LIBRARY_FUSION_TYPE_ELTWISE'}
LIBRARIES = (('Eigen', {'xla_cpu_experimental_ynn_fusion_type': ''}), ('YNNPACK', YNNPACK))
CONFIGS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'configs')


def bound_rule(rule_name, depth, groups=None):
  """(rule, state) for `rule_name` on the configs/depth.py network of `depth` hidden layers
  (its hidden layers in the config's number of groups, or `groups`)."""
  import jax  # pylint: disable=g-import-not-at-top

  from local_learning import config as ll_config  # pylint: disable=g-import-not-at-top
  from local_learning import models, registry
  config = ll_config.load_file(os.path.join(CONFIGS, 'depth.py'),
                               f'rule={rule_name},depth={depth},width={FLAGS.width},dataset=digits')
  groups = groups or FLAGS.groups
  if groups:
    config.model.groups = min(groups, depth - 1)
  model = models.functional(config.model, INPUT_SHAPE, CLASSES)
  rule = registry.get(rule_name)(model, config.rule, num_steps=1000)
  return rule, jax.jit(rule.init)(jax.random.key(0))


def batch():
  import jax  # pylint: disable=g-import-not-at-top
  keys = jax.random.split(jax.random.key(1))
  return (jax.random.normal(keys[0], (FLAGS.batch, *INPUT_SHAPE)),
          jax.random.randint(keys[1], (FLAGS.batch,), 0, CLASSES))


def compiled(fn, *args, **options):
  """(compiled fn, args, seconds to lower and compile, matmul FLOPs of one call as executed)."""
  import jax  # pylint: disable=g-import-not-at-top

  from local_learning import costs  # pylint: disable=g-import-not-at-top
  start = time.perf_counter()
  out = jax.jit(fn, **options).lower(*args).compile()
  return out, args, time.perf_counter() - start, costs.matmul_flops(fn, *args)


def stacked_step(rule_name, depth, mesh=None, groups=None):
  """Our train step: `compiled`'s tuple, inputs replicated over `mesh` if given."""
  import jax  # pylint: disable=g-import-not-at-top

  from local_learning import parallel  # pylint: disable=g-import-not-at-top
  rule, state = bound_rule(rule_name, depth, groups)
  step = lambda state, x, y: rule.train_step(state, (x, y), None)[0]
  if mesh is None:
    return compiled(step, state, *batch())
  replicated = parallel.replicated(mesh)
  with jax.set_mesh(mesh):
    return compiled(step, *jax.device_put((state, *batch()), replicated), out_shardings=replicated)


def reference_step(depth):
  """The per-layer step: `compiled`'s tuple."""
  import jax  # pylint: disable=g-import-not-at-top
  from reference import per_layer_mupc  # pylint: disable=g-import-not-at-top
  d = INPUT_SHAPE[0] * INPUT_SHAPE[1] * INPUT_SHAPE[2]
  init_state, _, step = per_layer_mupc.make_step(d, FLAGS.width, depth)
  params = per_layer_mupc.init(jax.random.key(0), d, FLAGS.width, depth, CLASSES)
  return compiled(step, init_state(params), *batch())


def reference_difference(depth=8):
  """The largest difference between the weight gradients of the stacked step and the per-layer
  reference from the same weights and batch, relative to the step's largest gradient (the lowest
  layers' gradients are at float32's rounding level, about 1e-9, in both)."""
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  from reference import per_layer_mupc  # pylint: disable=g-import-not-at-top
  rule, state = bound_rule('mupc', depth)
  x, y = batch()
  ours = jax.jit(rule.grads)(state, (x, y), None)[0]
  params = rule.params(state)
  _, grads, _ = per_layer_mupc.make_step(x[0].size, FLAGS.width, depth)
  reference = jax.jit(grads)([params['w_in'][...], *params['w_hidden'][...], params['w_out'][...]], x, y)
  mine = [ours['w_in'][...], *ours['w_hidden'][...], ours['w_out'][...]]
  largest = max(float(jnp.max(jnp.abs(b))) for b in reference)
  return max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(mine, reference)) / largest


def matmuls(mesh=None):
  """{'matmul LIBRARY': (compiled fn, args)}: the 2048^2 product, split by rows over `mesh` if given
  ('matmul LIBRARY split')."""
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  from jax.sharding import NamedSharding  # pylint: disable=g-import-not-at-top
  from jax.sharding import PartitionSpec as P

  from local_learning import parallel  # pylint: disable=g-import-not-at-top
  a = jax.random.normal(jax.random.key(2), (MATMUL, MATMUL))
  args, options = (a, a), {}
  if mesh is not None:
    rows = NamedSharding(mesh, P(mesh.axis_names))
    args, options = (jax.device_put(a, rows), jax.device_put(a, parallel.replicated(mesh))), dict(out_shardings=rows)
  suffix = '' if mesh is None else ' split'
  return {f'matmul {library}{suffix}': (jax.jit(jnp.dot, **options).lower(*args).compile(compiler_options=compiler),
                                        args)
          for library, compiler in LIBRARIES}


REPEATS = 20     # products per call in products(): long enough to read the cores busy


def products(depth):
  """{name: (compiled fn, args)}: REPEATS times the stacked layers' forward product Z W, as one batched
  dot ('product batched') and as K separate dots ('product per layer'), in a loop."""
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  keys = jax.random.split(jax.random.key(3))
  k, n = depth - 1, FLAGS.width
  z, w = jax.random.normal(keys[0], (k, FLAGS.batch, n)), jax.random.normal(keys[1], (k, n, n)) / n
  batched = lambda z, w: jnp.einsum('kbn,knm->kbm', z, w)
  per_layer = lambda zs, ws: [a @ b for a, b in zip(zs, ws)]
  repeat = lambda product: jax.jit(lambda z, w: jax.lax.fori_loop(0, REPEATS, lambda _, z: product(z, w), z))
  return {'product batched': (repeat(batched).lower(z, w).compile(), (z, w)),
          'product per layer': (repeat(per_layer).lower(list(z), list(w)).compile(), (list(z), list(w)))}


def cores_busy(fn, args, calls=3):
  """The process's CPU time over wall time while fn runs: how many cores it keeps busy."""
  import jax  # pylint: disable=g-import-not-at-top
  wall, cpu = time.perf_counter(), time.process_time()
  for _ in range(calls):
    jax.block_until_ready(fn(*args))
  return (time.process_time() - cpu) / (time.perf_counter() - wall)


ROUND_SECONDS = 0.25     # how long each program runs back to back in a round


def time_round(fns, calls=None):
  """{name: mean seconds per call of each fn over calls[name] (default 1) back-to-back calls}, in turn."""
  import jax  # pylint: disable=g-import-not-at-top
  out = {}
  for name, (fn, args) in fns.items():
    count = calls[name] if calls else 1
    start = time.perf_counter()
    for _ in range(count):
      jax.block_until_ready(fn(*args))
    out[name] = (time.perf_counter() - start) / count
  return out


def warm_up(fns):
  """Runs every fn twice -> {name: back-to-back calls that fill about ROUND_SECONDS (at least 1)}."""
  time_round(fns)
  return {name: max(1, round(ROUND_SECONDS / seconds)) for name, seconds in time_round(fns).items()}


def helper_programs(kind, depth):
  """A helper process's programs -> ({name: (fn, args)}, {name: compile seconds})."""
  import jax  # pylint: disable=g-import-not-at-top
  if kind == 'reference_defaults':
    small, deep = min(reference_step(8)[2] for _ in range(2)), reference_step(depth)
    return {'reference': deep[:2]}, {'reference 8': small, 'reference': deep[2]}
  from local_learning import parallel  # pylint: disable=g-import-not-at-top
  mesh = parallel.mesh(0, jax.device_count())
  step = stacked_step('mupc', depth, mesh, groups=1)
  return {'layer-parallel': step[:2], **matmuls(mesh)}, {'layer-parallel': step[2], 'flops': step[3]}


def serve(kind, depth):
  """Helper process: set up, report compile times, then time one round per line read."""
  fns, compile_times = helper_programs(kind, depth)
  calls = warm_up(fns)
  print(json.dumps({'compile': compile_times}), flush=True)
  for line in sys.stdin:
    if line.strip() != 'round':
      break
    print(json.dumps(time_round(fns, calls)), flush=True)


def start_helper(kind):
  """A helper process running this script with --serve=kind, in its setting's XLA flags."""
  user_flags = os.environ.get('XLA_FLAGS', '')
  env = dict(os.environ, XLA_FLAGS=user_flags, LL_NO_CPU_FLAGS='1')
  if kind == 'layer_parallel':
    env.pop('LL_NO_CPU_FLAGS')
    env['XLA_FLAGS'] = (f'{user_flags} --xla_force_host_platform_device_count={os.cpu_count()} '
                        '--xla_cpu_multi_thread_eigen=false').strip()
  argv = [sys.executable, os.path.abspath(__file__), f'--serve={kind}', f'--depth={FLAGS.depth}',
          f'--width={FLAGS.width}', f'--batch={FLAGS.batch}', f'--groups={FLAGS.groups}']
  process = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
  return process


def read(process):
  for line in process.stdout:
    if line.startswith('{'):
      return json.loads(line)
  raise RuntimeError('a helper process ended early')


def median(values):
  values = sorted(values)
  mid = len(values) // 2
  return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def step_flops(depth, width, batch_size, steps):
  """FLOPs of one mupc step (see the module docstring)."""
  d, c = INPUT_SHAPE[0] * INPUT_SHAPE[1] * INPUT_SHAPE[2], CLASSES
  matmul = 2 * batch_size * width
  return (2 * steps + 3) * (depth - 1) * matmul * width + 3 * matmul * (d + c)


def main(argv):
  del argv
  import jax  # pylint: disable=g-import-not-at-top
  depth = FLAGS.depth
  if FLAGS.serve:
    return serve(FLAGS.serve, depth)
  helpers = {'reference_defaults': start_helper('reference_defaults')}
  if (os.cpu_count() or 1) > 1 and jax.default_backend() == 'cpu':
    helpers['layer_parallel'] = start_helper('layer_parallel')
  difference = reference_difference()
  compile_times, fns, flops = {}, {}, {}
  groups = bound_rule('mupc', depth)[0].model.num_layers - 2      # depth 8 compiles in the same layout
  for name, make in (('stacked', lambda d: stacked_step('mupc', d, groups=groups)), ('reference', reference_step),
                     ('stacked 1 group', lambda d: stacked_step('mupc', d, groups=1))):
    if name != 'stacked 1 group':
      compile_times[name + ' 8'] = min(make(8)[2] for _ in range(2))
    fn, args, compile_times[name], flops[name] = make(depth)
    fns[name] = (fn, args)
  fns['bp'] = stacked_step('bp', depth)[:2]
  fns.update(matmuls())
  fns.update(products(depth))
  helper_compile = {kind: read(process)['compile'] for kind, process in helpers.items()}
  calls = warm_up(fns)
  samples = {}
  for _ in range(FLAGS.rounds):
    rounds = [time_round(fns, calls)]
    for kind, process in helpers.items():
      process.stdin.write('round\n')
      process.stdin.flush()
      rounds.append({(f'{k} (XLA defaults)' if kind == 'reference_defaults' else k): v
                     for k, v in read(process).items()})
    for r in rounds:
      for name, seconds in r.items():
        samples.setdefault(name, []).append(seconds)
  for process in helpers.values():
    process.stdin.close()
    process.wait()
  busy = {name: cores_busy(*fns[name]) for name in ('product batched', 'product per layer')}
  report(depth, groups, difference, compile_times, helper_compile, flops, busy, samples)


def report(depth, groups, difference, compile_times, helper_compile, flops, busy, samples):
  """Prints the results (see the module docstring); samples: each program's seconds per round."""
  import jax  # pylint: disable=g-import-not-at-top
  seconds = {name: median(times) for name, times in samples.items()}
  matmul_gflops = lambda names: max(2 * MATMUL ** 3 / seconds[n] / 1e9 for n in names if n in seconds)
  peak = matmul_gflops(['matmul Eigen', 'matmul YNNPACK'])
  defaults = helper_compile['reference_defaults']
  chosen = 'configs/depth.py' if not FLAGS.groups else '--groups'
  print(f'{jax.devices()[0].device_kind}, jax {jax.__version__}, {os.cpu_count()} cores; resmlp width '
        f'{FLAGS.width}, batch {FLAGS.batch}, mupc T = depth; medians of {FLAGS.rounds} interleaved rounds, each '
        f'program about {ROUND_SECONDS} s of back-to-back calls a round; load: '
        f'{" ".join(f"{load:.2f}" for load in os.getloadavg())} (1/5/15 min)')
  print(f'per-layer reference = stacked step: weight gradients at depth 8 differ by {difference:.1e} of the '
        'largest gradient')
  print(f'compile time, depth 8 -> {depth}: stacked {compile_times["stacked 8"]:.2f}s -> '
        f'{compile_times["stacked"]:.2f}s ({compile_times["stacked"] / compile_times["stacked 8"]:.2f}x, '
        f'target <= 2x); per-layer reference {compile_times["reference 8"]:.2f}s -> {compile_times["reference"]:.2f}s '
        f'(XLA defaults {defaults["reference 8"]:.2f}s -> {defaults["reference"]:.2f}s)')
  print(f'matmul {MATMUL}x{MATMUL} on 1 device: {peak:.1f} GFLOP/s (Eigen {matmul_gflops(["matmul Eigen"]):.1f}, '
        f'YNNPACK {matmul_gflops(["matmul YNNPACK"]):.1f})')
  reference = min(('reference', 'reference (XLA defaults)'), key=lambda n: seconds[n])
  flops['reference (XLA defaults)'] = flops['reference']
  lines = [(f'stacked (ours, {chosen}: {groups} groups)', 'stacked'),
           ('stacked, one group', 'stacked 1 group'),
           ('per-layer reference, local-learning flags', 'reference'),
           ('per-layer reference, XLA defaults', 'reference (XLA defaults)')]
  print(f'mupc step at depth {depth} on 1 device (GFLOP executed: the matrix products of one step, counted '
        f'from its program; {step_flops(depth, FLAGS.width, FLAGS.batch, depth) / 1e9:.1f} without skipping):')
  for label, name in lines:
    rate = flops[name] / seconds[name] / 1e9
    print(f'  {label}: {seconds[name] * 1e3:.1f} ms, {flops[name] / 1e9:.1f} GFLOP, {rate:.1f} GFLOP/s = '
          f'{rate / peak:.0%} of the matmul')
  target = 1.3 if depth >= 128 else 1.2
  reference_compile = compile_times['reference'] if reference == 'reference' else defaults['reference']
  per_round = sorted(r / s for r, s in zip(samples[reference], samples['stacked']))
  print(f'  stacked / per-layer reference ({reference}): {seconds[reference] / seconds["stacked"]:.2f}x faster '
        f'(target >= {target}x; round by round {per_round[0]:.2f}x to {per_round[-1]:.2f}x, '
        f'{sum(r >= target for r in per_round)} of {len(per_round)} rounds at the target); '
        f'compile {compile_times["stacked"]:.2f}s vs {reference_compile:.2f}s')
  if 'layer-parallel' in seconds:
    parallel_peak = matmul_gflops(['matmul Eigen split', 'matmul YNNPACK split'])
    rate = helper_compile['layer_parallel']['flops'] / seconds['layer-parallel'] / 1e9
    print(f'layer-parallel over {os.cpu_count()} devices (single-threaded Eigen, one group): '
          f'{seconds["layer-parallel"] * 1e3:.1f} ms, {rate:.1f} GFLOP/s = {rate / parallel_peak:.0%} '
          f'of the matmul split over them ({parallel_peak:.1f} GFLOP/s); compile '
          f'{helper_compile["layer_parallel"]["layer-parallel"]:.2f}s')
  print(f'bp step at depth {depth}, 1 device: {seconds["bp"] * 1e3:.1f} ms; mupc stacked / bp = '
        f'{seconds["stacked"] / seconds["bp"]:.1f}x')
  product_flops = REPEATS * 2 * (depth - 1) * FLAGS.batch * FLAGS.width ** 2
  print(f'the {depth - 1} hidden layers\' product Z W on 1 device: ' + '; '.join(
      f'{form}: {product_flops / seconds["product " + form] / 1e9:.1f} GFLOP/s, {busy["product " + form]:.2f} '
      'cores busy' for form in ('batched', 'per layer')))


if __name__ == '__main__':
  if not os.environ.get('LL_NO_CPU_FLAGS'):
    from local_learning import cpu_flags  # pylint: disable=g-import-not-at-top
    cpu_flags.apply()
  sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
  app.run(main)

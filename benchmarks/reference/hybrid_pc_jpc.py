"""JPC's hybrid PC notebook (thebuckleylab/jpc examples/hybrid_pc.ipynb, master 7d6cc05) with our `hpc`.

  make mnist   # once
  .venv/bin/python benchmarks/reference/hybrid_pc_jpc.py                 # the notebook's protocol
  .venv/bin/python benchmarks/reference/hybrid_pc_jpc.py --test_batches=20 --eval_every=300   # cheaper

The notebook's protocol: generator 10-300-300-784 and amortiser 784-300-300-10
(jpc.make_mlp: depth 3, width 300, ReLU before every linear map but the first,
no biases, U(+-1/sqrt(fan_in)) kernels; ours: model mlp widths (300, 300),
param='sp'); Adam 1e-3 for both; batch 64 of shuffled MNIST standardised by
(0.1307, 0.3081) (ours by the training set's mean and std, the same values),
one-hot labels; inference by diffrax's Heun with PIDController(rtol = atol =
1e-3) on the batch-mean energy, to max_t1 = 50 in training (hpc's
activity_solver='adaptive', activity_energy='mean', activity_max_t1=50) and
test_hpc's default 500 at test (prediction_max_t1=500); 300 iterations,
seed 0; every 100 iterations the test accuracy of the amortiser, of hybrid
inference (from the amortiser's guess) and of the generator alone (from
N(0, 0.05^2) activities), over the test set in batches of 64, the last
partial batch dropped (9984 images). Printed beside the notebook's output.

Differences we know of: the notebook's data order and JPC's initial weights
come from torch's and equinox's generators (ours: NumPy's permutation of
seed 0, JAX's keys of seed 0); its test loader shuffles (the accuracy is a
mean over batches of equal size, so the order does not matter); JPC's solver
state also carries a dummy image-layer activity that never moves (it enters
only the step-size controller's norm), and JPC's steady-state event compares
the activities' norm, so its solves run to max_t1, where ours stop at the
flow's steady state (local_learning.pc.solvers).
"""
import time

import jax
import ml_collections
import numpy as np
from absl import app, flags

import local_learning as ll
from local_learning import cpu_flags, data, models, registry

flags.DEFINE_integer('iterations', 300, 'Training iterations (the notebook: 300).')
flags.DEFINE_integer('eval_every', 100, 'Evaluate every this many iterations (the notebook: 100).')
flags.DEFINE_integer('test_batches', 0, 'Test batches of 64 to evaluate (0: all 156, as the notebook).')
flags.DEFINE_integer('seed', 0, 'Seed of the weights and the data order (the notebook: SEED = 0).')
flags.DEFINE_string('data_dir', '', 'tfds data dir (default: $TFDS_DATA_DIR or ~/tensorflow_datasets).')
FLAGS = flags.FLAGS

BATCH = 64
# The notebook's printed output (iteration: amortised, hybrid, generator test accuracy, %).
JPC = {100: (74.719551, 81.500404, 81.390221), 200: (80.669067, 82.341743, 82.331734),
       300: (82.121391, 83.022835, 83.203125)}


def make_rule(model, prediction):
  adam = ll.optim.default_config(name='adam', learning_rate=1e-3, weight_decay=0.0)
  return ll.testing.make_rule(registry.get('hpc'), model, num_steps=FLAGS.iterations, optimizer=adam,
                              loss='mse', activity_solver='adaptive', activity_energy='mean',
                              activity_max_t1=50.0, activity_tol=1e-3, prediction=prediction,
                              prediction_max_t1=500.0)


def main(_):
  cpu_flags.apply()
  mnist = data.load(ml_collections.ConfigDict(dict(name='mnist', data_dir=FLAGS.data_dir)))
  model = models.functional(ml_collections.ConfigDict(dict(name='mlp', widths=(300, 300), activation='relu',
                                                           param='sp', output_multiplier=1.0)),
                            mnist.input_shape, mnist.num_classes)
  rules = {p: make_rule(model, p) for p in ('amortised', 'hybrid', 'generator')}
  step = jax.jit(rules['hybrid'].train_step)
  outputs = {p: jax.jit(rule.output) for p, rule in rules.items()}
  state = rules['hybrid'].init(jax.random.key(FLAGS.seed))
  order = np.random.default_rng(FLAGS.seed).permutation(len(mnist.x_train))
  batches = len(mnist.x_test) // BATCH
  batches = min(batches, FLAGS.test_batches) if FLAGS.test_batches else batches
  print(f'hpc, JPC hybrid_pc.ipynb protocol: {FLAGS.iterations} iterations, batch {BATCH}, seed {FLAGS.seed}, '
        f'test on {batches * BATCH} images')
  start = time.process_time()
  for i in range(FLAGS.iterations):
    index = order[i * BATCH:(i + 1) * BATCH]
    state, metrics = step(state, (mnist.x_train[index], mnist.y_train[index]), None)
    if (i + 1) % FLAGS.eval_every and i + 1 != FLAGS.iterations:
      continue
    accuracy = {p: 0.0 for p in outputs}
    for b in range(batches):
      x, y = mnist.x_test[b * BATCH:(b + 1) * BATCH], mnist.y_test[b * BATCH:(b + 1) * BATCH]
      for p, output in outputs.items():
        accuracy[p] += 100 * float(np.mean(np.argmax(output(state, x), -1) == y)) / batches
    jpc = JPC.get(i + 1)
    reference = (f'   JPC notebook: amortised {jpc[0]:.2f}%, hybrid {jpc[1]:.2f}%, generator {jpc[2]:.2f}%'
                 if jpc and not FLAGS.test_batches else '')
    print(f'iter {i + 1}: gen loss {float(metrics["generation_loss"]):.4f}, '
          f'amortised {accuracy["amortised"]:.2f}%, hybrid {accuracy["hybrid"]:.2f}%, '
          f'generator {accuracy["generator"]:.2f}%  (CPU {time.process_time() - start:.0f} s)' + reference,
          flush=True)


if __name__ == '__main__':
  app.run(main)

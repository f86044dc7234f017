"""ePC's reference deep-MLP protocol, re-implemented standalone in JAX, with a validation split.

  .venv/bin/python benchmarks/reference/epc_reference.py --out=ce --e_lr=0.1 --iters=64 --epochs=3

What cgoemaere/error_based_PC (master 95c5551: pc_e.py, get_arch.py, sweep.py,
datamodules/) runs for its 20-layer MNIST MLP, written from its description,
not from our library, so that it checks our `epc` (configs/deep_mlp.py
protocol=epc) against the reference's own math:
  * 20 Linear layers 784-128x19-10, GELU (exact), torch's orthogonal init with
    ReLU's gain sqrt(2), zero biases; pixels (x - 0.5) / 0.5.
  * The errors sit after the activation, s_l = gelu(W_l s_{l-1} + b_l) + e_l,
    s_0 = x, and the output has none: out = W s_19 + b (--out=ce, summed
    cross-entropy) or sigmoid(W s_19 + b) with 1/2 ||. - onehot||^2 summed
    (--out=sigmoid_mse, the reference's default). Our mlp puts the errors on the
    pre-activations (--place=pre).
  * E(e) = 1/2 sum_l ||e_l||^2 + output, summed over the batch; inference is
    `iters` plain SGD steps of `e_lr` on the errors from e = 0.
  * The weights take Adam(1e-4) on the local energy at the states reached,
    divided by the batch (64, shuffled, last partial batch dropped).
  * 90/10 train/validation split of the training set (seed 42), as the
    reference's datamodule, which picks its grid point on validation accuracy.
Prints, every --eig_every steps, the mean energy per sample at e = 0 and after
inference and the eigenvalue of d2E/de2 of largest magnitude at both points
(power iteration; negative where E is not convex there; gradient descent with
step e_lr is stable near a minimum only while it is below 2 / e_lr); per epoch the
validation accuracy and the share of batches whose inference raised the energy; at
the end the test accuracy.
--rule=bp trains the same network by backprop of the output loss instead (the
eigenvalues are then those ePC's inference would meet on BP's weights).
"""
import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from local_learning.data import tfds_source

WIDTH = 128
BATCH = 64


def parse():
  p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  p.add_argument('--rule', default='epc', choices=('epc', 'bp'))
  p.add_argument('--out', default='ce', choices=('ce', 'sigmoid_mse'))
  p.add_argument('--place', default='post', choices=('post', 'pre'),
                 help='errors after (reference) or before the activation')
  p.add_argument('--hidden', type=int, default=19, help='hidden layers (the reference: 19, i.e. 20 Linear layers)')
  p.add_argument('--e_lr', type=float, default=0.1)
  p.add_argument('--iters', type=int, default=64)
  p.add_argument('--epochs', type=int, default=3)
  p.add_argument('--seed', type=int, default=0)
  p.add_argument('--eig_every', type=int, default=200)
  p.add_argument('--data_dir', default='', help='default: $TFDS_DATA_DIR or ~/tensorflow_datasets')
  return p.parse_args()


def load(data_dir):
  """(train, validation, test) pairs (x (N, 784) in [-1, 1], y (N,)); validation: 10% of train, seed 42."""
  xtr, ytr, xte, yte, _ = tfds_source.load_arrays('mnist', data_dir or tfds_source.default_data_dir())
  norm = lambda x: ((x.reshape(len(x), -1) / 255.0 - 0.5) / 0.5).astype(np.float32)
  xtr, xte = norm(xtr), norm(xte)
  perm = np.random.default_rng(42).permutation(len(xtr))
  val, train = perm[:len(xtr) // 10], perm[len(xtr) // 10:]
  return (xtr[train], ytr[train]), (xtr[val], ytr[val]), (xte, yte)


class Network:
  """The reference's MLP with errors; params: [(W (in, out), b (out,))] per Linear layer."""

  def __init__(self, args):
    self.args = args
    self.act = lambda a: jax.nn.gelu(a, approximate=False)

  def init(self, seed):
    sizes = [784] + [WIDTH] * self.args.hidden + [10]
    keys = jax.random.split(jax.random.key(seed), len(sizes) - 1)
    ortho = jax.nn.initializers.orthogonal(np.sqrt(2.0))
    return [(ortho(k, (a, b), jnp.float32), jnp.zeros((b,))) for k, a, b in zip(keys, sizes[:-1], sizes[1:])]

  def loss(self, out, y):
    """Output term summed over the batch; out: the last layer's affine output."""
    if self.args.out == 'ce':
      return jnp.sum(optax.softmax_cross_entropy_with_integer_labels(out, y))
    return 0.5 * jnp.sum(jnp.square(jax.nn.sigmoid(out) - jax.nn.one_hot(y, 10)))

  def block(self, params, l, s):
    """The prediction of entry l+1 from entry l (s_0 = x)."""
    W, b = params[l]
    if self.args.place == 'post':
      return self.act(s @ W + b)
    return (s if l == 0 else self.act(s)) @ W + b

  def readout(self, params, s):
    W, b = params[-1]
    return (self.act(s) if self.args.place == 'pre' else s) @ W + b

  def states(self, params, x, errors):
    s, out = x, []
    for l, e in enumerate(errors):
      s = self.block(params, l, s) + e
      out.append(s)
    return out

  def zeros(self, x):
    return [jnp.zeros((x.shape[0], WIDTH)) for _ in range(self.args.hidden)]

  def energy(self, errors, params, x, y):
    """E(e), summed over the batch."""
    hidden = self.states(params, x, errors)
    return 0.5 * sum(jnp.sum(e * e) for e in errors) + self.loss(self.readout(params, hidden[-1]), y)

  def local_energy(self, params, hidden, x, y):
    """The same value from the states, each layer's term local in its weights."""
    hidden = jax.lax.stop_gradient(hidden)
    value, s = 0.0, x
    for l, h in enumerate(hidden):
      value += 0.5 * jnp.sum(jnp.square(self.block(params, l, s) - h))
      s = h
    return value + self.loss(self.readout(params, s), y)

  def infer(self, params, x, y):
    grad = jax.grad(self.energy)
    step = lambda _, e: jax.tree.map(lambda a, d: a - self.args.e_lr * d, e, grad(e, params, x, y))
    return jax.lax.fori_loop(0, self.args.iters, step, self.zeros(x))

  def top_eigenvalue(self, params, x, y, errors):
    """The eigenvalue of d2E/de2 at `errors` of largest magnitude (over all samples' blocks), 30 power steps."""
    hvp = lambda v: jax.jvp(lambda e: jax.grad(self.energy)(e, params, x, y), (errors,), (v,))[1]
    dot = lambda a, b: sum(jnp.sum(p * q) for p, q in zip(jax.tree.leaves(a), jax.tree.leaves(b)))

    def power(_, v):
      hv = hvp(v)
      return jax.tree.map(lambda a: a / jnp.sqrt(dot(hv, hv)), hv)
    v = jax.lax.fori_loop(0, 30, power, [jax.random.normal(jax.random.key(1), e.shape) for e in errors])
    return dot(v, hvp(v))

  def predict(self, params, x):
    return self.readout(params, self.states(params, x, self.zeros(x))[-1])


def main():
  args = parse()
  print(vars(args), flush=True)
  (xtr, ytr), (xva, yva), (xte, yte) = load(args.data_dir)
  net = Network(args)
  params = net.init(args.seed)
  tx = optax.adam(1e-4)
  opt = tx.init(params)

  @jax.jit
  def train_step(params, opt, x, y):
    if args.rule == 'bp':
      loss = lambda p: net.loss(net.predict(p, x), y)
      grads, e0, e1 = jax.grad(loss)(params), 0.0, 0.0
    else:
      errors = net.infer(params, x, y)
      e0, e1 = net.energy(net.zeros(x), params, x, y), net.energy(errors, params, x, y)
      grads = jax.grad(net.local_energy)(params, net.states(params, x, errors), x, y)
    updates, opt = tx.update(jax.tree.map(lambda g: g / x.shape[0], grads), opt, params)
    return optax.apply_updates(params, updates), opt, e0 / x.shape[0], e1 / x.shape[0]

  eigenvalues = jax.jit(lambda p, x, y: (net.top_eigenvalue(p, x, y, net.zeros(x)),
                                         net.top_eigenvalue(p, x, y, net.infer(p, x, y))))
  accuracy = jax.jit(lambda p, x, y: jnp.mean(jnp.argmax(net.predict(p, x), -1) == y))
  rng = np.random.default_rng(args.seed)
  step = 0
  for epoch in range(args.epochs):
    order, start, log = rng.permutation(len(xtr)), time.time(), []
    for i in range(len(xtr) // BATCH):
      idx = order[i * BATCH:(i + 1) * BATCH]
      x, y = jnp.asarray(xtr[idx]), jnp.asarray(ytr[idx])
      report = step % args.eig_every == 0
      if report:
        lam0, lam1 = (float(v) for v in eigenvalues(params, x, y))
      params, opt, e0, e1 = train_step(params, opt, x, y)
      log.append((float(e0), float(e1)))
      if report:
        print(f'step {step}: E(0) {e0:.4g} E(after) {e1:.4g} lam_max(e=0) {lam0:.3g} lam_max(after) {lam1:.3g} '
              f'(stable if < {2 / args.e_lr:.3g})', flush=True)
      step += 1
    log = np.array(log)
    val = float(accuracy(params, jnp.asarray(xva), jnp.asarray(yva)))
    print(f'epoch {epoch + 1}: val {100 * val:.2f}% mean E(0) {log[:, 0].mean():.4g} mean E(after) '
          f'{log[:, 1].mean():.4g} max E(after) {log[:, 1].max():.4g} batches with E raised '
          f'{100 * np.mean(log[:, 1] > log[:, 0]):.1f}% ({time.time() - start:.0f} s)', flush=True)
  print(f'test {100 * float(accuracy(params, jnp.asarray(xte), jnp.asarray(yte))):.2f}%', flush=True)


if __name__ == '__main__':
  main()

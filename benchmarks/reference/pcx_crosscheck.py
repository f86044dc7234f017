"""One step of PCX's PC and iPC beside ours on identical weights and data, in float64.

  /work/scratch/pcx-venv/bin/python benchmarks/reference/pcx_crosscheck.py

PCX is never a dependency of this project: run this with the python of a scratch
environment holding both `pcx` (PyPI, 0.6.x) and this package (`pip install pcx`,
then `pip install -e .` of this checkout; pcx 0.6.3 pins jax < 0.5 and equinox < 0.12,
which our jax does not meet: equinox 0.13 runs it, `pip install equinox==0.13.8`).

PCX's side is its benchmark's code (liukidar/pcx c722834,
examples/s4_1_discriminative_mode: models.py's MLP, PC.py's and iPC.py's train_on_batch)
in pcx 0.6.3's API: the vodes hold post-activations, x = vode(act_fn(linear(x))); the
output vode is frozen at u - beta (u - y) from the forward pass; T steps of optax SGD
(with momentum) on the hidden vodes, the gradient of the batch-mean energy scaled by the
batch size; then (PC) the weights' gradient of the batch-mean energy times 1 / beta, or
(iPC) at each of the T steps both the activity step and an SGD step of the weights from
one gradient. Ours: pc, pn and ipc with `activities='post'` (and, for contrast, 'pre',
another energy). Printed: the largest absolute difference of the hidden activities after
inference and of the weight gradients (PC, pn) or the weights after the step (iPC), and
the largest magnitude of PCX's values for scale.
"""
from importlib import metadata

import jax

jax.config.update('jax_enable_x64', True)

import jax.numpy as jnp  # noqa: E402
import ml_collections  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
import pcx  # noqa: E402
import pcx.functional as pxf  # noqa: E402
import pcx.nn as pxnn  # noqa: E402
import pcx.predictive_coding as pxc  # noqa: E402
import pcx.utils as pxu  # noqa: E402
from absl import app, flags  # noqa: E402
from pcx_mlp import PCXMLP, energy, forward, free, ipc_step  # noqa: E402  (beside this script)

from local_learning import models, testing  # noqa: E402

flags.DEFINE_integer('batch', 32, 'Batch size.')
flags.DEFINE_list('widths', ['128', '128', '128'], 'Hidden widths of the MLP 784-...-10.')
flags.DEFINE_string('activation', 'gelu', 'Activation (a jax.nn function: PCX takes it by name).')
FLAGS = flags.FLAGS

# name: (our rule, loss, beta, T, activity step, activity momentum); iPC's weight step below.
CASES = {
    'PC, squared error': ('pc', 'mse', 1.0, 8, 0.1, 0.5),
    'PC, cross-entropy': ('pc', 'ce', 1.0, 8, 0.1, 0.5),
    'PC, positive nudging (beta 0.55)': ('pn', 'mse', 0.55, 5, 0.05805, 0.7),
    'iPC, squared error': ('ipc', 'mse', 1.0, 8, 0.8495, 0.35),
}
WEIGHT_LR = 0.05      # iPC's weight step (SGD on both sides)


def pcx_pc_step(T, x, y, *, model, optim_w, optim_h, beta):
  """PC.py's train_on_batch -> the weights' gradients (times 1 / beta); the optimizer steps on them."""
  model.train()
  with pxu.step(model, pxc.STATUS.INIT, clear_params=pxc.VodeParam.Cache):
    forward(x, y, model=model, beta=beta)
  optim_h.init(free()(model))
  for _ in range(T):
    with pxu.step(model, clear_params=pxc.VodeParam.Cache):
      _, g = pxf.value_and_grad(free().to([False, True]), has_aux=True)(energy)(x, model=model)
    optim_h.step(model, g['model'], scale_by=x.shape[0])
  optim_h.clear()
  hidden = [np.asarray(pcx.get(v.h)) for v in model.vodes[:-1]]
  with pxu.step(model, clear_params=pxc.VodeParam.Cache):
    _, g = pxf.value_and_grad(pxu.M(pxnn.LayerParam).to([False, True]), has_aux=True)(energy)(x, model=model)
  grads = [(np.asarray(pcx.get(l.nn.weight)) / beta, np.asarray(pcx.get(l.nn.bias)) / beta)
           for l in g['model'].layers]      # read first: pcx 0.6.3's Optim.step(scale_by=) scales g in place
  optim_w.step(model, g['model'], scale_by=1 / beta)
  return hidden, grads


def pcx_ipc_step(T, x, y, *, model, optim_w, optim_h, beta):
  """iPC.py's train_on_batch -> the hidden vodes after the T steps."""
  ipc_step(T, x, y, model=model, optim_w=optim_w, optim_h=optim_h, beta=beta)
  return [np.asarray(pcx.get(v.h)) for v in model.vodes[:-1]]


def pcx_model(params, sizes, loss):
  """PCX's MLP holding our weights (equinox's Linear: weight (out, in))."""
  model = PCXMLP(sizes, getattr(jax.nn, FLAGS.activation), loss == 'mse')
  for l, layer in enumerate(model.layers):
    layer.nn.weight.set(jnp.asarray(params['layers'][l]['kernel'][...]).T)
    layer.nn.bias.set(jnp.asarray(params['layers'][l]['bias'][...]))
  return model


def weights(model):
  return [(np.asarray(pcx.get(l.nn.weight)), np.asarray(pcx.get(l.nn.bias))) for l in model.layers]


def ours(params, flat):
  """Our params as [(W (out, in), b)], PCX's layout."""
  return [(np.asarray(flat['layers'][l]['kernel'][...]).T, np.asarray(flat['layers'][l]['bias'][...]))
          for l in range(len(params['layers']))]


def largest(a, b):
  return max(float(np.max(np.abs(np.asarray(u) - np.asarray(v)))) for u, v in zip(a, b))


def run_case(name, case, model, params, x, y, sizes):
  """-> printed row: differences of ours (post, pre) from PCX."""
  rule_name, loss, beta, T, lr, momentum = case
  optimizer = ml_collections.ConfigDict(dict(name='sgd', learning_rate=WEIGHT_LR, weight_decay=0.0, momentum=0.0,
                                             schedule='constant', warmup_steps=0))
  fields = dict(loss=loss, beta=beta, inference_steps=T, activity_lr=lr, activity_momentum=momentum,
                optimizer=optimizer)
  theirs = pcx_model(params, sizes, loss)
  optim_h = pxu.Optim(lambda: optax.sgd(lr, momentum=momentum))
  optim_w = pxu.Optim(lambda: optax.sgd(WEIGHT_LR), pxu.M(pxnn.LayerParam)(theirs))
  onehot = jax.nn.one_hot(y, sizes[-1], dtype=x.dtype)
  flat = x.reshape(x.shape[0], -1)
  row = [name]
  if rule_name == 'ipc':
    hidden = pcx_ipc_step(T, flat, onehot, model=theirs, optim_w=optim_w, optim_h=optim_h, beta=beta)
    after = weights(theirs)
    scale = max(float(np.max(np.abs(h))) for h in hidden)
    for activities in ('post', 'pre'):
      rule = testing.make_rule(rule_name, model, activities=activities, **fields)
      got, new_params, _, _ = rule.learn(params, rule.tx.init(params), x, y)
      got = [jnp.asarray(model.phi(params, l, z)) for l, z in enumerate(got, 1)] if activities == 'pre' else got
      row += [largest(got, hidden), largest([w for p in ours(params, new_params) for w in p],
                                            [w for p in after for w in p])]
  else:
    hidden, grads = pcx_pc_step(T, flat, onehot, model=theirs, optim_w=optim_w, optim_h=optim_h, beta=beta)
    scale = max(float(np.max(np.abs(h))) for h in hidden)
    for activities in ('post', 'pre'):
      rule = testing.make_rule(rule_name, model, activities=activities, **fields)
      state = rule.init(jax.random.key(0))
      state = dict(state, params=params)
      beta_now = rule.beta(state) if rule_name == 'pn' else beta
      settled = rule.settle(params, x, y, beta_now)
      got = settled.hidden
      got = [model.phi(params, l, z) for l, z in enumerate(got, 1)] if activities == 'pre' else got
      our_grads, _ = rule.learn_from(params, x, y, beta_now, settled)
      row += [largest(got, hidden), largest([w for p in ours(params, our_grads) for w in p],
                                            [w for p in grads for w in p])]
  return row + [scale]


def main(argv):
  del argv
  widths = tuple(int(w) for w in FLAGS.widths)
  sizes = [784, *widths, 10]
  config = ml_collections.ConfigDict(dict(name='mlp', widths=widths, activation=FLAGS.activation, param='flax',
                                          output_multiplier=1.0))
  model = models.functional(config, (28, 28, 1), 10)
  params = jax.tree.map(lambda a: a.astype(jnp.float64), model.init(jax.random.key(0)))
  kx, ky = jax.random.split(jax.random.key(1))
  x = jax.random.uniform(kx, (FLAGS.batch, 28, 28, 1), jnp.float64)
  y = jax.random.randint(ky, (FLAGS.batch,), 0, 10)
  print(f'MLP {"-".join(map(str, sizes))} ({FLAGS.activation}), batch {FLAGS.batch}, float64, '
        f'pcx {metadata.version("pcx")}, equinox {metadata.version("equinox")}, jax {jax.__version__}')
  print('| case | activities: post, max diff | weights: post, max diff | activities: pre (other energy) '
        '| weights: pre | max abs activity (PCX) |')
  print('|---|---|---|---|---|---|')
  for name, case in CASES.items():
    row = run_case(name, case, model, params, x, y, sizes)
    print('| ' + ' | '.join([row[0], *(f'{v:.2e}' for v in row[1:])]) + ' |')
  print('weights: PC and pn rows compare dF/dW / beta (PCX: of the batch-mean energy), the iPC row the weights '
        f'after its T interleaved SGD steps (rate {WEIGHT_LR}). pre: our default energy, whose nodes are '
        'pre-activations (compared after the activation), another function.')


if __name__ == '__main__':
  app.run(main)

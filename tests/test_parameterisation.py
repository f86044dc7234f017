"""Parameterisations (models/parameterisation.py): the muP desiderata, checked numerically.

At init and after one SGD step at the limits paper's rates (eta N under muP),
as the width N grows 64 -> 1024: under mup / mupc the hidden features and
their change and the output's change stay Theta(1), and the output at init
vanishes like 1/sqrt(N) (muP's readout); under sp at a fixed rate the features
are Theta(1) at init but one step moves the output by ~N (and the features by
~sqrt(N), for N well above the input's dimension). vgg's mup, its width
being the channels, keeps the same promises from 16 to 128 channels.
"""
import json
import subprocess
import sys

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from flax import nnx

from local_learning import models, optim, testing, workdir
from local_learning.models import parameterisation

WIDTHS = (64, 1024)
# Orders of magnitude across widths and depths, not last bits: they hold at any optimisation level.
pytestmark = pytest.mark.usefixtures('few_optimisations')


def _model(name, param, width):
  fields = (dict(name='resmlp', depth=3, width=width, activation='tanh', param=param, output_multiplier=1.0)
            if name == 'resmlp' else dict(name='mlp', widths=(width, width), activation='tanh', param=param))
  return models.functional(ml_collections.ConfigDict(fields), testing.INPUT_SHAPE, testing.CLASSES)


def _rms(a):
  return float(jnp.sqrt(jnp.mean(jnp.square(a))))


def _scales(name, param, width):
  """(rms of the last hidden layer, of the output; of their changes after one SGD step)."""
  model = _model(name, param, width)
  layers = 4 if name == 'resmlp' else 3
  lr = parameterisation.learning_rate(param, 'sgd', 0.02, width, layers)
  rule = testing.make_rule('bp', model, loss='mse', optimizer=optim.default_config('sgd', lr, 0.0))
  state = rule.init(jax.random.key(0))
  x, y = testing.batch(32)
  before = model.forward(state['params'], x)
  after = model.forward(rule.train_step(state, (x, y), None)[0]['params'], x)
  last = lambda zs: zs[-2][-1] if model.stack_size(len(zs) - 2) else zs[-2]
  return (_rms(last(before)), _rms(before[-1]),
          _rms(last(after) - last(before)), _rms(after[-1] - before[-1]))


@pytest.mark.parametrize('name, param', [('resmlp', 'mupc'), ('resmlp', 'mup'), ('mlp', 'mup')])
def test_mup_keeps_features_outputs_and_their_updates_order_one(name, param):
  small, large = (np.array(_scales(name, param, n)) for n in WIDTHS)
  ratio = large / small
  features, output, features_change, output_change = ratio
  assert 0.5 < features < 2 and 0.5 < features_change < 2 and 0.5 < output_change < 2, (small, large)
  assert 0.15 < output < 0.4            # 1/sqrt(N): 0.25


@pytest.mark.parametrize('name', ['resmlp', 'mlp'])
def test_sp_features_move_more_with_width(name):
  small, large = (np.array(_scales(name, 'sp', n)) for n in WIDTHS)
  ratio = large / small
  assert 0.4 < ratio[0] < 2.5 and 0.4 < ratio[1] < 2.5     # forward pass O(1) at init
  assert ratio[3] > 4        # theory, as N grows: 16 (at these widths the input layer's share delays it)


def _cnn(name, param, channels):
  fields = (dict(name='vgg', channels=(channels, channels)) if name == 'vgg'
            else dict(name='rescnn', width=channels, blocks=1))
  fields.update(activation='tanh', param=param, output_multiplier=1.0)
  return models.functional(ml_collections.ConfigDict(fields), testing.INPUT_SHAPE, testing.CLASSES)


@pytest.mark.parametrize('name, param', [('vgg', 'mup'), ('rescnn', 'mupc')])
def test_cnn_mup_keeps_features_outputs_and_their_updates_order_one(name, param):
  """`_scales` for the CNNs, the width being the channels (16 -> 128), each width one program."""
  scales = []
  for channels in (16, 128):
    model = _cnn(name, param, channels)
    lr = parameterisation.learning_rate(param, 'sgd', 0.02, channels, 0)     # eta N: L does not enter
    x, y = testing.batch(32)

    @jax.jit
    def run(key, model=model, lr=lr, x=x, y=y):
      params = model.init(key)
      loss = lambda p: 0.5 * jnp.mean(jnp.sum(jnp.square(model.output(p, x) - jax.nn.one_hot(y, 10)), -1))
      stepped = jax.tree.map(lambda p, g: p - lr * g, params, jax.grad(loss)(params))
      before, after = model.forward(params, x), model.forward(stepped, x)
      rms = lambda a: jnp.sqrt(jnp.mean(jnp.square(a)))
      return jnp.stack([rms(before[-2]), rms(before[-1]), rms(after[-2] - before[-2]), rms(after[-1] - before[-1])])

    scales.append(np.asarray(run(jax.random.key(0))))
  features, output, features_change, output_change = scales[1] / scales[0]
  assert 0.5 < features < 2 and 0.5 < features_change < 2 and 0.5 < output_change < 2, scales
  assert 0.1 < output < 0.5            # the readout's 1/sqrt(fan-in): 0.35


def test_vgg_multipliers_are_the_table_and_a_wrong_param_is_named():
  module = nnx.eval_shape(lambda: _cnn('vgg', 'mup', 16).build(nnx.Rngs(0)))
  assert module.multipliers == pytest.approx((1 / 3, 1 / 12, 1 / (2 * 2 * 16)))   # 1/sqrt(9 C_in); 1/fan-in
  fields = dict(name='vgg', channels=(4,), activation='relu', param='mupc', output_multiplier=1.0)
  assert models.problems(ml_collections.ConfigDict(fields)) == [
      "unknown parameterisation 'mupc' for model vgg; choose one of flax, sp, mup"]


def test_init_distributions_and_multipliers_are_the_table():
  model = _model('resmlp', 'sp', 256)
  w_in, w_hidden, _ = model.kernels(model.init(jax.random.key(0)))
  bound = 1 / np.sqrt(256)
  assert np.abs(w_hidden).max() <= bound and np.abs(w_hidden).max() > 0.99 * bound    # U(+-1/sqrt(n))
  np.testing.assert_allclose(np.var(w_hidden), bound**2 / 3, rtol=0.02)
  module = _model('resmlp', 'mupc', 256).build(nnx.Rngs(0))
  assert (module.a_in, module.a_hid, module.a_out, module.skip_coefficient) == pytest.approx(
      (1 / 8, 1 / np.sqrt(256 * 4), 1 / 256, 1.0))
  assert _model('resmlp', 'mup', 256).build(nnx.Rngs(0)).a_hid == pytest.approx(1 / 16)


def test_orthogonal_is_epcs_init_with_zero_biases():
  model = _model('mlp', 'orthogonal', 64)
  params = model.init(jax.random.key(0))
  hidden = model.kernels(params)[1]                      # (64, 64)
  np.testing.assert_allclose(hidden.T @ hidden, 2 * np.eye(64), atol=1e-4)     # gain sqrt(2)
  assert all(not np.any(params['layers'][l]['bias'][...]) for l in range(model.num_layers))


_SEEDS_INIT = """
import jax, ml_collections, numpy as np
from local_learning import cpu_flags, models
cpu_flags.apply()
cfg = ml_collections.ConfigDict(dict(name='mlp', widths=(128, 128, 128), activation='gelu', param='orthogonal'))
model = models.functional(cfg, (28, 28, 1), 10)
keys = jax.random.split(jax.random.key(0), 3)
seeds = jax.jit(jax.vmap(model.init), compiler_options=cpu_flags.INIT_PROGRAM)(keys)
for k, key in enumerate(keys):
  one = jax.jit(model.init, compiler_options=cpu_flags.INIT_PROGRAM)(key)
  for a, b in zip(jax.tree.leaves(seeds), jax.tree.leaves(one)):
    np.testing.assert_array_equal(a[k], b)
print('ok')
"""


def test_orthogonal_init_of_several_seeds_finishes_and_is_each_seeds_own():
  """Three seeds of ePC's 784-wide MLP initialised under vmap: this deadlocked XLA:CPU (batched QRs run at
  once on the 2-thread pool) before the QR went one seed at a time. In a subprocess, so a hang fails."""
  try:
    result = subprocess.run([sys.executable, '-c', _SEEDS_INIT], capture_output=True, text=True, timeout=120)
  except subprocess.TimeoutExpired:
    pytest.fail('the vmapped orthogonal init did not finish in 120 s')
  assert result.returncode == 0 and result.stdout.strip() == 'ok', result.stderr[-2000:]


def test_an_older_mlp_run_without_the_new_fields_still_matches(tmp_path):
  from configs import default as default_config  # pylint: disable=import-outside-toplevel
  config = default_config.get_config('rule=bp')
  old = json.loads(config.to_json())
  for section, fields in (('model', ('param', 'output_multiplier')),
                          (None, ('train_examples', 'test_examples', 'validation_examples', 'diagnostics'))):
    for field in fields:
      (old[section] if section else old).pop(field)
  (tmp_path / 'config.json').write_text(json.dumps(old))
  assert workdir.Workdir(str(tmp_path), None).status(config)[0] == 'unfinished'

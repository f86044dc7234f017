"""ePC's reference protocol's options: the sigmoid + squared-error output, pixels in [-1, 1], early stopping on
the evaluation split, and the epc_protocol table spec's two phases."""
import json

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from conftest import run_main

from local_learning import UserError, bench, data, losses, train, workdir
from local_learning import config as ll_config


def test_sigmoid_mse_is_half_the_squared_error_of_the_sigmoid_against_the_one_hot_label():
  out, y = jnp.array([[0.0, 2.0, -1.0]]), jnp.array([1])
  want = 0.5 * ((0.5 - 0) ** 2 + (jax.nn.sigmoid(2.0) - 1) ** 2 + jax.nn.sigmoid(-1.0) ** 2)
  np.testing.assert_allclose(losses.loss_fn('sigmoid_mse')(out, y), [want], rtol=1e-6)


def test_symmetric_pixels_map_0_1_to_minus_1_1():
  config = ml_collections.ConfigDict(dict(name='digits', data_dir='', pixels='symmetric'))
  symmetric, raw = data.load(config), np.load(data.digits.FILE)['x_train'].reshape(-1, 8, 8, 1)
  np.testing.assert_allclose(symmetric.x_train, raw / 8.0 - 1.0, atol=1e-6)
  assert data.problems(dict(pixels='minmax')) and not data.problems(config)


def test_early_stopping_stops_after_patience_epochs_without_a_new_best(tmp_path):
  """A rate so small that the accuracy never changes: the first epoch sets the best, the next `patience`
  epochs do not beat it, and the run ends there, its summary counting the epochs it ran."""
  result = run_main('--config=configs/default.py:rule=bp', f'--workdir={tmp_path}', '--config.num_epochs=6',
                    '--config.early_stopping_patience=2', '--config.rule.optimizer.learning_rate=1e-12',
                    '--config.train_examples=64', '--config.test_examples=50')
  assert result.returncode == 0, result.stderr
  assert 'stopping early' in result.stdout + result.stderr
  lines = (tmp_path / 'metrics.jsonl').read_text().splitlines()
  assert [json.loads(line)['epoch'] for line in lines] == [1, 2, 3]
  assert json.loads((tmp_path / 'summary.json').read_text())['epochs'] == 3
  defaults = ll_config.load_file('configs/default.py', 'rule=bp').to_dict()   # a run made before the fields
  assert workdir.ADDED_FIELDS['early_stopping_patience'] == defaults['early_stopping_patience']
  assert workdir.ADDED_FIELDS['dataset']['pixels'] == defaults['dataset']['pixels']


def test_a_resumed_run_stops_early_where_an_uninterrupted_run_stops(tmp_path):
  """The epochs without a new best are checkpointed with the weights: the run of the test above, killed after
  epoch 2 (one epoch without a new best) and resumed, still ends after epoch 3, not 4."""
  config = ll_config.load_file('configs/default.py', 'rule=bp')
  config.update(num_epochs=6, early_stopping_patience=2, train_examples=64, test_examples=50, checkpoint_every=1)
  config.rule.optimizer.learning_rate = 1e-12

  def kill_after_epoch_2(epoch, line):
    if epoch == 2:
      raise KeyboardInterrupt

  with pytest.raises(KeyboardInterrupt):
    train.train_and_evaluate(config, str(tmp_path), on_round=kill_after_epoch_2)
  assert not (tmp_path / 'summary.json').exists()
  assert train.train_and_evaluate(config, str(tmp_path)).size['epochs'] == 3
  lines = (tmp_path / 'metrics.jsonl').read_text().splitlines()
  assert [json.loads(line)['epoch'] for line in lines] == [1, 2, 3]


def test_the_grid_phase_has_the_references_grid_and_the_final_phase_its_chosen_points():
  grid = bench.load_table('epc_protocol', args='phase=grid,depth=3,epochs=1')
  assert sorted({c.column for c in grid.cells if c.row == 'bp'}) == ['ce', 'sigmoid_mse']
  assert len([c for c in grid.cells if c.row == 'epc']) == 8 and grid.seeds == 1
  cell = next(c for c in grid.cells if c.row == 'pc' and c.column == 'sigmoid_mse/0.3/256')
  config = cell.build_config(1, bench.spec.root())
  assert (config.rule.loss, config.rule.activity_lr, config.rule.inference_steps) == ('sigmoid_mse', 0.3, 256)
  assert (config.validation_examples, config.early_stopping_patience, config.dataset.pixels) == (6000, 3, 'symmetric')
  assert config.model.widths == (128,) * 3 and config.model.param == 'orthogonal' and config.batch_size == 64
  assert (config.rule.activities, config.model.activation) == ('post', 'gelu_exact')   # the reference's form
  ours = bench.load_table('epc_protocol', args='phase=grid,depth=3,activities=pre,activation=gelu')
  config = next(c for c in ours.cells if c.row == 'epc').build_config(1, bench.spec.root())
  assert (config.rule.activities, config.model.activation) == ('pre', 'gelu') and 'pre-activation' in ours.name
  with pytest.raises(UserError, match='activities must be'):
    bench.load_table('epc_protocol', args='activities=after')
  final = bench.load_table('epc_protocol', args='phase=final,epc=ce/0.1/256,pc=ce/0.3/64,bp=sigmoid_mse')
  configs = {c.row: c.build_config(3, bench.spec.root()) for c in final.cells}
  assert configs['epc'].rule.inference_steps == 256 and configs['bp'].rule.loss == 'sigmoid_mse'
  assert configs['pc'].validation_examples == 0 and configs['pc'].early_stopping_patience == 0
  assert configs['pc'].num_epochs == 5 and final.seeds == 3
  with pytest.raises(UserError, match='needs each rule'):
    bench.load_table('epc_protocol', args='phase=final,epc=ce/0.1/64')
  with pytest.raises(UserError, match='not a point of the grid'):
    bench.load_table('epc_protocol', args='phase=final,epc=ce/0.2/64,pc=ce/0.1/64,bp=ce')

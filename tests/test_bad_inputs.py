"""Bad inputs: each gets one clear UserError line before anything is written.

In-process (the command line's own handling of a UserError is tested in
test_cli.py): build the config as the command line does, apply the overrides,
train, and check the error and that the workdir was never created.
"""
import os

import pytest

from local_learning import config as ll_config
from local_learning import train
from local_learning.errors import UserError

ROOT = os.path.join(os.path.dirname(__file__), '..')
DEFAULT, DEPTH, BSS = 'configs/default.py', 'configs/depth.py', 'configs/bss.py'

CASES = [
    # (config file, its argument, overrides, a part of the expected message)
    (DEFAULT, 'rule=nope', {}, "unknown rule 'nope'"),
    (DEFAULT, 'dataset=imagenet', {}, "unknown dataset 'imagenet'"),
    (DEFAULT, 'colour=red', {}, "bad config argument 'colour=red'"),
    (DEFAULT, '', {'rule.optimizer.learning_rate': -1.0}, 'learning_rate must be positive'),
    (DEFAULT, '', {'rule.optimizer.learning_rate': 0.0}, 'learning_rate must be positive'),
    (DEFAULT, '', {'rule.optimizer.weight_decay': -0.1}, 'weight_decay must be >= 0'),
    (DEFAULT, '', {'rule.optimizer.momentum': 1.5}, 'momentum must be in [0, 1)'),
    (DEFAULT, '', {'rule.optimizer.schedule': 'zigzag'}, "unknown schedule 'zigzag'"),
    (DEFAULT, '', {'rule.optimizer.warmup_steps': -5}, 'warmup_steps must be an integer >= 0'),
    (DEFAULT, '', {'rule.optimizer.name': 'nosuchopt'}, "unknown optimizer 'nosuchopt'"),
    (DEFAULT, '', {'rule.loss': 'hinge'}, "unknown loss 'hinge'"),
    (DEFAULT, '', {'rule.inference_steps': -1}, 'pc needs inference_steps >= 0'),
    (DEFAULT, '', {'rule.activity_lr': 0.0}, 'activity_lr > 0'),
    (DEFAULT, '', {'rule.activity_energy': 'avg'}, "activity_energy must be 'sum' or 'mean'"),
    (DEFAULT, '', {'model.activation': 'swish2'}, "unknown activation 'swish2'"),
    (DEFAULT, '', {'model.widths': (16, -4)}, 'widths must be positive integers'),
    (DEFAULT, '', {'model.name': 'transformer'}, "unknown model 'transformer'"),
    (DEFAULT, '', {'model.name': 'vgg'}, "config.model lacks channels for model 'vgg'"),
    (DEFAULT, 'model=nope', {}, "unknown model 'nope'"),
    (DEFAULT, '', {'batch_size': 0}, 'batch_size must be an integer >= 1'),
    (DEFAULT, '', {'batch_size': 100000}, 'batch_size 100000 exceeds'),
    (DEFAULT, '', {'batch_size': 'large'}, 'cannot set config.batch_size'),
    (DEFAULT, '', {'num_epochs': 0}, 'num_epochs must be an integer >= 1'),
    (DEFAULT, '', {'num_seeds': 0}, 'num_seeds must be an integer >= 1'),
    (DEFAULT, '', {'seed': -1}, 'seed must be an integer >= 0'),
    (DEFAULT, '', {'eval_batch_size': 0}, 'eval_batch_size must be an integer >= 1'),
    (DEFAULT, '', {'checkpoint_every': -1}, 'checkpoint_every must be an integer >= 0'),
    (DEFAULT, '', {'num_devices': 64}, 'num_devices=64 but only'),
    (DEFAULT, '', {'rule_module': 'no_such_lab.my_rule'}, 'no_such_lab'),
    (DEFAULT, '', {'no_such_field': 1}, "config has no field 'no_such_field'"),
    (DEFAULT, 'dataset=cifar10', {'dataset.data_dir': '/nonexistent'}, "dataset 'cifar10' is not prepared"),
    (DEPTH, 'rule=mupc,dataset=digits,depth=1', {}, 'config.model.depth must be an integer >= 2'),
    (DEPTH, 'rule=mupc,dataset=digits', {'model.param': 'ntk'}, "unknown parameterisation 'ntk'"),
    (BSS, 'rule=bp', {}, "rule 'bp' supports classification, not separation"),
    (BSS, 'domain=circle', {}, "unknown domain 'circle'"),
    (BSS, 'rho=1.5', {}, 'rho must be in [0, 1)'),
    (BSS, '', {'dataset.n': 12}, 'need 1 <= n <= m'),
    (BSS, 'samples=1', {}, 'samples must be at least 2'),
    (BSS, 'rule=pem', {'rule.lam': 1.5}, 'pem needs'),
    (BSS, 'rule=pem', {'rule.lr_schedule': 'cosine'}, "pem needs lr_schedule 'inverse' or 'log'"),
    (BSS, 'rule=corinfomax-pem', {'rule.error_weight': 0.0}, 'corinfomax-pem needs'),
    (BSS, 'rule=infomax', {'rule.l_rate': 0.0}, 'infomax needs'),
    (BSS, '', {'matching': 'hungarian'}, "unknown matching 'hungarian'"),
    (BSS, 'domain=sparse,rho=0.3', {}, 'independent uniform sources have rho = 0'),
    (BSS, '', {'num_seeds': 0}, 'num_seeds must be an integer >= 1'),
]


@pytest.mark.parametrize('path, arg, overrides, message', CASES, ids=[c[3] for c in CASES])
def test_bad_input_is_one_clear_line_and_writes_nothing(tmp_path, path, arg, overrides, message):
  workdir = tmp_path / 'run'
  with pytest.raises(UserError) as error:
    config = ll_config.load_file(os.path.join(ROOT, path), arg)
    for key, value in overrides.items():
      ll_config.override(config, key, value)
    train.train_and_evaluate(config, str(workdir))
  text = str(error.value)
  assert '\n' not in text and message in text, text
  assert not workdir.exists()


def test_every_problem_of_a_config_is_listed_one_per_line(tmp_path):
  config = ll_config.load_file(os.path.join(ROOT, DEFAULT))
  for key, value in {'batch_size': 0, 'num_epochs': 0, 'rule.optimizer.learning_rate': -1.0}.items():
    ll_config.override(config, key, value)
  with pytest.raises(UserError) as error:
    train.train_and_evaluate(config, str(tmp_path / 'run'))
  assert len(str(error.value).splitlines()) == 3
  assert not (tmp_path / 'run').exists()


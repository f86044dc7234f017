"""VGG-5 on CIFAR-10/100 (the PC benchmark literature's CNN protocol): four
3x3 conv blocks of 128, 256, 512, 512 channels, each max-pooled, one linear
layer; batch 128, 25 epochs, AdamW with warmup-cosine.

  python -m local_learning.main --config=configs/cifar_vgg.py:rule=pc,dataset=cifar10 --workdir=runs/cifar_pc

Needs the tfds dataset prepared (array_record) in the data dir. Not run on
this project's CPU machines: no accuracy is claimed for it yet.
"""
from local_learning import config as ll_config


def get_config(arg=''):
  args = ll_config.parse_arg(arg, rule='pc', dataset='cifar10')
  config = ll_config.base(args.rule, args.dataset, model='vgg')
  config.model.channels = (128, 256, 512, 512)
  config.model.activation = 'gelu'
  config.batch_size = 128
  config.num_epochs = 25
  config.eval_batch_size = 500
  optimizer = config.rule.optimizer
  optimizer.schedule = 'warmup_cosine'
  optimizer.warmup_steps = 500
  if args.rule == 'pc':
    config.rule.loss = 'ce'
    config.rule.inference_steps = 8
    config.rule.activity_lr = 0.05
    optimizer.learning_rate = 1e-4
  return config

"""The standard MNIST protocol: MLP 784-128-128-128-10, batch 128, 25 epochs,
AdamW with a warmup-cosine schedule (as in the PC benchmark literature).

  make mnist   # once: builds tfds mnist from ../shared/data/mnist, offline
  python -m local_learning.main --config=configs/mnist_mlp.py:rule=pc --workdir=runs/mnist_pc

Arguments: rule=NAME (default pc), dataset=mnist|fashion_mnist.
Expected final-epoch test accuracy on MNIST: see the README table.

PC variants: pn, nn, cn and ipc take PCX's MNIST hyperparameters
(liukidar/pcx PR #52, examples/s4_1_discriminative_mode/hps/MLP/MNIST/*.yaml):
T, activity step and momentum, beta and its schedule, weight decay, and the
weight learning rate (PCX's peak, 1.1 x its lr) under our schedule (warmup
from 0 over 500 steps, cosine to 0; PCX warms up from lr over 10% of training
and ends at 0.1 lr), and PCX's energy: the nodes hold post-activations
(activities='post', local_learning.pc.post_activation; --config.rule.activities=pre
gives our pre-activation energy). PCX's iPC used leaky_relu; the MLP here stays gelu for
every rule. epc, hpc and bpc, which PCX does not benchmark, take pc's settings
(bpc keeps its own gen_weight, 1e-3).
"""
from local_learning import config as ll_config


def get_config(arg=''):
  args = ll_config.parse_arg(arg, rule='pc', dataset='mnist')
  config = ll_config.base(args.rule, args.dataset, model='mlp')
  config.model.widths = (128, 128, 128)
  config.model.activation = 'gelu'
  config.batch_size = 128
  config.num_epochs = 25
  optimizer = config.rule.optimizer
  optimizer.name = 'adamw'
  optimizer.learning_rate = 1e-3
  optimizer.weight_decay = 1e-4
  optimizer.schedule = 'warmup_cosine'
  optimizer.warmup_steps = 500
  if args.rule == 'pc':
    config.rule.loss = 'ce'
    config.rule.inference_steps = 8
    config.rule.activity_lr = 0.1
  if args.rule in ('epc', 'hpc', 'bpc'):
    config.rule.loss = 'ce'
    config.rule.inference_steps = 8
    config.rule.activity_lr = 0.1
  if args.rule in PCX_MNIST:
    lr, weight_decay, rule = PCX_MNIST[args.rule]
    config.rule.update(rule)
    optimizer.learning_rate = 1.1 * lr
    optimizer.weight_decay = weight_decay
  if args.rule in ('nn', 'cn'):
    config.rule.beta_phases = config.num_epochs     # beta's schedule and signs change once per epoch
  if args.rule == 'ep':
    _equilibrium_propagation(config)
  if args.rule == 'ff':
    _forward_forward(config)
  return config


# rule: (PCX weight lr, weight decay, rule fields); squared-error outputs, PCX's post-activation nodes.
PCX_MNIST = {
    'pn': (2.988e-4, 1.42e-4, dict(loss='mse', beta=0.55, inference_steps=5, activity_lr=0.05805,
                                   activity_momentum=0.70, activities='post')),
    'nn': (2.691e-4, 4.61e-3, dict(loss='mse', beta=-0.20, beta_increment=-0.02, inference_steps=4,
                                   activity_lr=0.06861, activity_momentum=0.50, activities='post')),
    'cn': (2.848e-4, 2.20e-4, dict(loss='mse', beta=0.55, inference_steps=7, activity_lr=0.03523,
                                   activity_momentum=0.90, activities='post')),
    'ipc': (2.526e-4, 3.25e-2, dict(loss='mse', beta=1.0, inference_steps=8, activity_lr=0.8495,
                                    activity_momentum=0.35, activities='post')),
}


def _equilibrium_propagation(config):
  """Laborieux et al.'s MNIST MLP (check/train_mnist.sh): 784-512-10, batch 50, Adam 5e-4 on both
  layers, T1 = 30, T2 = 10, beta = 0.1, mse; here centred (their --thirdphase) and with the hard
  sigmoid clip(u, 0, 1) (theirs: sigmoid(4 (u - 0.5))), 25 epochs as the protocol."""
  config.model.widths = (512,)
  config.model.activation = 'hard_sigmoid'
  config.batch_size = 50
  config.rule.optimizer.update(dict(name='adam', learning_rate=5e-4, weight_decay=0.0, schedule='constant',
                                    warmup_steps=0))


def _forward_forward(config):
  """loeweX's Forward-Forward settings: 784-1000-1000-1000 ReLU, batch 100 (+ 100 negatives),
  SGD with momentum 0.9, lr 1e-3, weight decay 3e-4; 25 epochs (theirs 100, linear cooldown)."""
  config.model.widths = (1000, 1000, 1000)
  config.model.activation = 'relu'
  config.batch_size = 100
  config.rule.optimizer.update(dict(name='sgd', learning_rate=1e-3, momentum=0.9, weight_decay=3e-4,
                                    schedule='constant', warmup_steps=0))

"""VGG-5 on CIFAR-10/100: PCX's discriminative CNN protocol (Pinchetti et al., ICLR 2025), without augmentation.

  python -m local_learning.data.prepare --dataset=cifar10 --source=DIR     # once (docs: Installation)
  python -m local_learning.main --config=configs/cifar_vgg.py:rule=pc,dataset=cifar10 --workdir=runs/cifar_pc

Arguments: rule=NAME (default pc), dataset=cifar10|cifar100. Not run on this
project's CPU machines: no accuracy is claimed for it yet.

Reference: liukidar/pcx, branch skip_connections (commit 3df5470),
examples/s4_1_discriminative_mode/VGG5/{cifar10,cifar100}/*.py and their
tuned VGG5_*.yaml. The same as there:
  model     four 3x3 convolutions (stride 1, 'same' padding) of 128, 256, 512,
            512 channels, each followed by the activation and 2x2 max pooling
            (stride 2), then one linear layer 2048 -> classes; biases
  batch     128, the last partial batch dropped (390 steps an epoch)
  epochs    50
  optimizer AdamW with the tuned weight learning rate and weight decay of
            PCX's yaml for the rule and dataset (bp: BP_CE, pc: PCN_CE; pn, nn
            and ipc: PCN_PN, PCN_NN, iPC with squared error), peak 1.1 x that
            rate after a warmup of 10% of training (1950 steps), cosine decay
  PC        T inference steps, the activities' SGD rate and momentum, beta and
            its per-epoch increment from the same yaml; activities start at
            the feedforward pass; the output's energy cross-entropy (bp, pc)
  activation per rule and dataset as the yaml (CIFAR-10: gelu, iPC
            hard_tanh; CIFAR-100: bp and pc hard_tanh, pn and nn gelu, iPC
            leaky_relu); epc, hpc and bpc, which PCX does not run, take pc's
            settings, every other rule bp's optimizer and activation
Differences, each a reason our numbers may differ from PCX's:
  augmentation   none (PCX: random crop 32 with 4-pixel padding and random
                 horizontal flip of the training images); expect lower test
                 accuracy and more overfitting in 50 epochs
  normalisation  each channel by the training set's own mean and std (CIFAR-10
                 std 0.247, 0.243, 0.261); PCX divides by the widely copied
                 (0.2023, 0.1994, 0.2010), so its inputs are ~1.2x ours
  schedule       warmup from 0 (PCX: from the base rate) and decay to 0 (PCX:
                 to 0.1 x the base rate)
  PC energy      on each convolution's output at full resolution, before the
                 activation (pooling belongs to the next layer, models/cnn.py);
                 PCX's activities are the pooled activations (issue 30)
  init           flax's (lecun-normal kernels, zero biases); PCX's layers
                 (equinox's) use uniform +-1/sqrt(fan-in) ones
  activity step  plain gradient descent with momentum on the batch-summed
                 energy (activity_energy 'sum'), as configs/mnist_mlp.py
                 takes PCX's rates; PCX differentiates a pmean over the batch
                 inside vmap, whose per-sample scale (1 or 1/128) depends on
                 JAX's transpose of pmean: not checked here
  evaluation     the final epoch's accuracy on all 10,000 test images (PCX:
                 the best epoch, on 9,984, its test loader dropping the last
                 partial batch; the table's --best adds that view)
  seeds          the table's 3 seeds (PCX reports 5 of 7 seeds' best epochs)
Not references here: the muPC paper (Innocenti et al. 2025) trains residual
MLPs only, and the limits paper's CNN (benchmarks/tables/limits_cnn.py: a
residual CNN, tanh, Adam on one fixed batch, PC-BP gradient alignment) is a
different experiment that sets nothing in this protocol.
"""
from local_learning import config as ll_config

EPOCHS, STEPS_PER_EPOCH = 50, 50000 // 128
# rule: {dataset: (activation, PCX weight lr, weight decay, rule fields)}; PCX's yaml as named above.
PCX_VGG5 = {
    'bp': {'cifar10': ('gelu', 2.942e-4, 1.003e-5, {}), 'cifar100': ('hard_tanh', 2.082e-4, 2.214e-5, {})},
    'pc': {'cifar10': ('gelu', 2.641e-4, 1.211e-5, dict(loss='ce', inference_steps=8, activity_lr=0.01471,
                                                        activity_momentum=0.05)),
           'cifar100': ('hard_tanh', 2.155e-4, 7.599e-3, dict(loss='ce', inference_steps=12, activity_lr=0.01151,
                                                              activity_momentum=0.25))},
    'pn': {'cifar10': ('gelu', 2.997e-4, 3.729e-5, dict(loss='mse', beta=0.3230, beta_increment=0.02,
                                                        inference_steps=7, activity_lr=0.03623,
                                                        activity_momentum=0.10)),
           'cifar100': ('gelu', 4.103e-5, 2.844e-4, dict(loss='mse', beta=0.10, beta_increment=0.0,
                                                        inference_steps=8, activity_lr=0.01923,
                                                        activity_momentum=0.10))},
    'nn': {'cifar10': ('gelu', 2.618e-4, 8.992e-4, dict(loss='mse', beta=-0.1788, beta_increment=-0.02,
                                                        inference_steps=7, activity_lr=0.02802,
                                                        activity_momentum=0.50)),
           'cifar100': ('gelu', 7.675e-5, 4.203e-3, dict(loss='mse', beta=-0.15, beta_increment=-0.02,
                                                        inference_steps=12, activity_lr=0.03325,
                                                        activity_momentum=0.25))},
    'ipc': {'cifar10': ('hard_tanh', 1.750e-4, 2.572e-5, dict(loss='mse', beta=1.0, inference_steps=8,
                                                              activity_lr=0.7441, activity_momentum=0.65)),
            'cifar100': ('leaky_relu', 1.417e-4, 3.653e-4, dict(loss='mse', beta=1.0, inference_steps=8,
                                                                activity_lr=0.8807, activity_momentum=0.55))},
}
PC_LIKE = ('epc', 'hpc', 'bpc')     # PC variants PCX does not run on VGG-5: pc's settings


def get_config(arg=''):
  args = ll_config.parse_arg(arg, rule='pc', dataset='cifar10')
  config = ll_config.base(args.rule, args.dataset, model='vgg')
  config.model.channels = (128, 256, 512, 512)
  config.batch_size = 128
  config.num_epochs = EPOCHS
  config.eval_batch_size = 500
  reference = PCX_VGG5.get(args.rule) or PCX_VGG5['pc' if args.rule in PC_LIKE else 'bp']
  activation, lr, weight_decay, fields = reference[args.dataset if args.dataset in reference else 'cifar10']
  config.model.activation = activation
  optimizer = config.rule.optimizer
  optimizer.name = 'adamw'
  optimizer.learning_rate = 1.1 * lr
  optimizer.weight_decay = weight_decay
  optimizer.schedule = 'warmup_cosine'
  optimizer.warmup_steps = EPOCHS * STEPS_PER_EPOCH // 10
  if args.rule in PCX_VGG5:
    config.rule.update(fields)
  elif args.rule in PC_LIKE:
    config.rule.update({k: v for k, v in fields.items() if k in config.rule})
  if 'beta_phases' in config.rule:
    config.rule.beta_phases = config.num_epochs     # beta changes once per epoch, as PCX's
  return config

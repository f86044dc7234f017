"""classic: the PC benchmark protocol — MLP on MNIST and Fashion-MNIST, VGG-5 on
CIFAR-10 and CIFAR-100 — for every classification rule with a standard config.

  python benchmarks/run.py --table=classic --workdir=runs/classic --seeds=3

Columns whose dataset is not prepared are reported as unavailable. Final-epoch
test accuracy (not the best epoch), mean ± std over seeds.
"""
from local_learning import bench

RULES = ('bp', 'pc')
PC_VARIANTS = ('ipc', 'epc', 'pn', 'nn', 'cn', 'hpc')     # configs/mnist_mlp.py gives each its settings
COLUMNS = {
    'MNIST / MLP': 'configs/mnist_mlp.py:rule={rule},dataset=mnist',
    'Fashion-MNIST / MLP': 'configs/mnist_mlp.py:rule={rule},dataset=fashion_mnist',
    'CIFAR-10 / VGG-5': 'configs/cifar_vgg.py:rule={rule},dataset=cifar10',
    'CIFAR-100 / VGG-5': 'configs/cifar_vgg.py:rule={rule},dataset=cifar100',
}


def get_table():
  return bench.grid(RULES + PC_VARIANTS, COLUMNS, lambda rule, col: (COLUMNS[col].format(rule=rule), (), None),
                    seeds=3, name='classic', description=__doc__)

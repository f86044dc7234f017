"""classic: the PC benchmark protocol — MLP on MNIST and Fashion-MNIST, VGG-5 on
CIFAR-10 and CIFAR-100.

  python benchmarks/run.py --table=classic --workdir=runs/classic --seeds=3

The MLP columns run every registered classification rule, each with its
configs/mnist_mlp.py settings (ep and ff have their own network there); the
VGG columns the rules that train a CNN (VGG_RULES). Columns whose dataset is
not prepared are reported as unavailable. Final-epoch test accuracy (not the
best epoch), mean ± std over seeds.
"""
from local_learning import bench, registry

VGG_RULES = ('bp', 'pc', 'fa', 'dfa', 'usf', 'brsf', 'frsf')
COLUMNS = {
    'MNIST / MLP': 'configs/mnist_mlp.py:rule={rule},dataset=mnist',
    'Fashion-MNIST / MLP': 'configs/mnist_mlp.py:rule={rule},dataset=fashion_mnist',
    'CIFAR-10 / VGG-5': 'configs/cifar_vgg.py:rule={rule},dataset=cifar10',
    'CIFAR-100 / VGG-5': 'configs/cifar_vgg.py:rule={rule},dataset=cifar100',
}


def classification_rules():
  """bp first, then every other registered classification rule by name."""
  names = [n for n in registry.names() if 'classification' in registry.get(n).tasks]
  return sorted(names, key=lambda n: (n != 'bp', n))


def get_table():
  cells = [bench.Cell(rule, column, path.format(rule=rule))
           for rule in classification_rules() for column, path in COLUMNS.items()
           if 'MLP' in column or rule in VGG_RULES]
  return bench.Table('classic', tuple(cells), seeds=3, description=__doc__)

"""classic: the PC benchmark protocol — MLP on MNIST and Fashion-MNIST, VGG-5 on
CIFAR-10 and CIFAR-100.

  python benchmarks/run.py --table=classic --workdir=runs/classic --seeds=3
  python benchmarks/run.py --table=classic --workdir=runs/classic --cells=MNIST_MLP --rules=bp,my_rule \\
      --rule_module=my_lab.my_rule

The MLP columns run every registered classification rule (mupc aside: PC on
deep residual networks, it has its own table, depth), each with its
configs/mnist_mlp.py settings (ep and ff have their own network there); the
VGG columns every rule but those that need a dense network (DENSE_ONLY).
Columns whose dataset is not prepared are reported as unavailable. Final-epoch
test accuracy (not the best epoch), every seed. The MNIST references are the
PCX benchmark's (Pinchetti et al., ICLR 2025, as DESIGN.md cites them: BP 98.5%,
PC 98.4%), which report the best epoch of the best 5 of 7 seeds.
"""
from local_learning import bench, registry

DENSE_ONLY = ('ep', 'ff', 'bpc', 'hpc')
COLUMNS = {
    'MNIST / MLP': 'configs/mnist_mlp.py:rule={rule},dataset=mnist',
    'Fashion-MNIST / MLP': 'configs/mnist_mlp.py:rule={rule},dataset=fashion_mnist',
    'CIFAR-10 / VGG-5': 'configs/cifar_vgg.py:rule={rule},dataset=cifar10',
    'CIFAR-100 / VGG-5': 'configs/cifar_vgg.py:rule={rule},dataset=cifar100',
}
PCX = 'Pinchetti et al. 2025 (PCX), best epoch'
REFERENCES = {('bp', 'MNIST / MLP'): bench.Reference(98.5, PCX), ('pc', 'MNIST / MLP'): bench.Reference(98.4, PCX)}


def classification_rules():
  """bp first, then every other registered classification rule by name (mupc aside)."""
  names = [n for n in registry.names() if 'classification' in registry.get(n).tasks and n != 'mupc']
  return sorted(names, key=lambda n: (n != 'bp', n))


def get_table(rules=None):
  cells = [bench.Cell(rule, column, path.format(rule=rule), reference=REFERENCES.get((rule, column)))
           for rule in rules or classification_rules() for column, path in COLUMNS.items()
           if 'MLP' in column or rule not in DENSE_ONLY]
  return bench.Table('classic', tuple(cells), seeds=3, description=__doc__)

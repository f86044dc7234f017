"""quick: every registered rule on the embedded digits dataset, 3 seeds (`make run`).

  python benchmarks/run.py --table=quick --workdir=runs/quick

Classification rules train the configs/default.py MLP on digits (μPC its own
residual network from configs/depth.py); separation rules a small PEM-style
problem from configs/bss.py. Under 5 minutes on a 2-core CPU.
"""
from local_learning import bench, registry

SPECIAL = {
    'mupc': 'configs/depth.py:rule=mupc,dataset=digits,depth=8,width=64',
}
SEPARATION = 'configs/bss.py:rule={rule},samples=20000'


def get_table(rules=None):
  cells = []
  for name in rules or registry.names():
    rule = registry.get(name)
    if 'classification' in rule.tasks:
      config = SPECIAL.get(name, f'configs/default.py:rule={name}')
      cells.append(bench.Cell(name, 'digits / mlp', config))
    elif 'separation' in rule.tasks:
      cells.append(bench.Cell(name, 'antisparse 5x10', SEPARATION.format(rule=name)))
  return bench.Table('quick', tuple(cells), seeds=3, description=__doc__)

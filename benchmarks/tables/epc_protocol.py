"""epc_protocol: ePC, PC and backprop on MNIST MLPs under ePC's reference protocol (Goemaere et al., 2025,
"matches backprop for deeper models where PC struggles"), in its two phases.

  # 1. the reference's grid, on a 90/10 validation split with early stopping (1 seed, as its sweep)
  python benchmarks/run.py --table=epc_protocol --workdir=runs/epc_grid --table_args=phase=grid,depth=19
  # 2. the final runs at each rule's chosen point (phase 1 prints them), full training set, 3 seeds
  python benchmarks/run.py --table=epc_protocol --workdir=runs/epc_final \\
      --table_args=phase=final,depth=19,epc=ce/0.1/64,pc=ce/0.1/64,bp=ce

configs/deep_mlp.py protocol=epc (cgoemaere/error_based_PC at 95c5551): MLP
784-128 x H-10, H = depth hidden layers (its deep MLP: 20 linear layers, depth=19;
its shallow one: depth=3), GELU, orthogonal init with gain sqrt(2), zero
biases, pixels in [-1, 1], batch 64, Adam 1e-4; epc and pc with plain SGD
of step e_lr on the errors (epc) or activities (pc) for `iters` steps.
Phase grid: each PC rule at every point of the reference's grid, output
{ce, sigmoid_mse} x e_lr {0.1, 0.3} x iters {64, 256}; bp at each output (the
other two do not apply); at most `epochs` (5) epochs, trained on the first
54,000 training images and evaluated on the last 6,000, stopped early after
3 epochs without a new best (the last weights kept); the table's accuracy
is the validation accuracy, and its last section names each row's best
point, as the reference's sweep chooses (highest final val_acc). Phase
final: each rule at its point (rule=OUT/E_LR/ITERS, bp=OUT), all 60,000
training images for `epochs` epochs, no early stopping, the test set, 3
seeds. epochs=N runs fewer epochs than the reference's 5 (to fit a budget).
As the reference, epc's and pc's errors sit after the activation and the GELU
is exact; activities=pre,activation=gelu runs our own form (pre-activation
errors, jax's tanh GELU) instead (docs: PC family, Notes).
"""
import dataclasses

from local_learning import UserError, bench
from local_learning import config as ll_config
from local_learning.bench import render

RULES = ('epc', 'pc', 'bp')
OUTS = ('ce', 'sigmoid_mse')
E_LRS = (0.1, 0.3)
ITERS = (64, 256)


def get_table(args='', rules=None):
  """args: phase, depth, epochs, and for phase=final each rule's point; rules: a subset of RULES (--rules)."""
  a = ll_config.parse_arg(args, phase='grid', depth=19, epochs=5, epc='', pc='', bp='', activities='post',
                          activation='gelu_exact')
  if a.activities not in ('pre', 'post'):
    raise UserError(f"epc_protocol: activities must be 'post' (the reference's) or 'pre', got {a.activities!r}")
  unknown = sorted(set(rules or ()) - set(RULES))
  if unknown:
    raise UserError(f'epc_protocol compares {", ".join(RULES)}; not {", ".join(unknown)}')
  rows = [rule for rule in RULES if rules is None or rule in rules]
  base = (f'configs/deep_mlp.py:depth={a.depth},protocol=epc,epochs={a.epochs},activities={a.activities},'
          f'activation={a.activation}')
  reference = (a.activities, a.activation) == ('post', 'gelu_exact')
  form = '' if reference else f', {a.activities}-activation, {a.activation}'
  if a.phase == 'grid':
    cells = [bench.Cell(rule, point, f'{base},rule={rule},split=validation,{_args(rule, point)}')
             for rule in rows for point in _points(rule)]
    table = bench.Table(f'epc_protocol grid (H={a.depth}, validation{form})', tuple(cells), seeds=1,
                        description=__doc__, baseline='')
    return dataclasses.replace(table, extra=lambda results, workdir: ([_chosen(results)], []))
  if a.phase != 'final':
    raise UserError(f"epc_protocol: phase must be 'grid' or 'final', got {a.phase!r}")
  chosen = {rule: a[rule] for rule in rows}
  missing = [rule for rule, point in chosen.items() if not point]
  if missing:
    raise UserError(f'epc_protocol phase=final needs each rule\'s chosen point ({", ".join(missing)} missing): '
                    'give e.g. --table_args=phase=final,epc=ce/0.1/64,pc=ce/0.1/64,bp=ce (phase=grid prints them)')
  for rule, point in chosen.items():
    if point not in _points(rule):
      raise UserError(f'epc_protocol: {rule}={point} is not a point of the grid; choose one of '
                      f'{", ".join(_points(rule))}')
  cells = [bench.Cell(rule, f'H={a.depth}', f'{base},rule={rule},split=full,{_args(rule, point)}', (), a.depth)
           for rule, point in chosen.items()]
  return bench.Table(f'epc_protocol final (H={a.depth}{form})', tuple(cells), seeds=3, description=__doc__)


def _points(rule):
  """The grid's points for rule: OUT/E_LR/ITERS, or OUT for bp."""
  if rule == 'bp':
    return list(OUTS)
  return [f'{out}/{e_lr}/{iters}' for out in OUTS for e_lr in E_LRS for iters in ITERS]


def _args(rule, point):
  """configs/deep_mlp.py's arguments for a grid point."""
  if rule == 'bp':
    return f'out={point}'
  out, e_lr, iters = point.split('/')
  return f'out={out},e_lr={e_lr},iters={iters}'


def _chosen(results):
  """Each row's point with the highest final validation accuracy (the reference's sweep's choice)."""
  rows = []
  for rule in RULES:
    done = [(float(r.values()[0]), r.cell.column, r.summary.size.get('epochs'))
            for r in results if r.cell.row == rule and r.summary is not None]
    if done:
      accuracy, point, epochs = max(done, key=lambda d: -1.0 if d[0] != d[0] else d[0])
      rows.append((rule, [point, f'{accuracy:.2f}', str(epochs), f'{len(done)} of {len(_points(rule))}']))
  return render.Section('Chosen points', 'the highest final validation accuracy of each row (NaN: diverged); '
                        'pass them to phase=final as rule=POINT', ['point', 'validation %', 'epochs run',
                                                                   'points run'], rows)

"""pc_solvers: PC's inference by gradient descent and by ODE solvers on the MNIST MLP.

  python benchmarks/run.py --table=pc_solvers --workdir=runs/pc_solvers

pc with configs/mnist_mlp.py's settings (T = 8 steps of 0.1, cross-entropy
output), its activities moved by each activity solver: gradient descent
(optax, today's default), explicit Euler and Heun (diffrax) with the same
steps, Heun with 4 steps of 0.2 (the same time span and the same number of
gradient evaluations as 8 of gradient descent), and Heun with diffrax's
PID step-size controller (tolerance 1e-3) as JPC's solve_inference runs it (up
to t = 20 or a steady state; docs/results/pc-family.md: the printed row is of
the earlier solver, over the same span as gd's). Final-epoch
test accuracy, 3 seeds. Times per step compare best within one run:
benchmarks/pc_speed.py (rows pc/euler, pc/heun, pc/heun4, pc/adaptive).
"""
from local_learning import bench

ROWS = {
    'gd (T=8)': {},
    'euler (T=8)': dict(activity_solver='euler'),
    'heun (T=8)': dict(activity_solver='heun'),
    'heun (T=4, step 0.2)': dict(activity_solver='heun', inference_steps=4, activity_lr=0.2),
    'adaptive (tol 1e-3)': dict(activity_solver='adaptive', activity_tol=1e-3),
}


def get_table():
  cells = [bench.Cell(row, 'MNIST / MLP', 'configs/mnist_mlp.py:rule=pc,dataset=mnist',
                      tuple((f'rule.{k}', v) for k, v in fields.items()))
           for row, fields in ROWS.items()]
  return bench.Table('pc_solvers', tuple(cells), seeds=3, description=__doc__)

"""Activity solvers: how inference follows the energy's flow dz/dt = -dF/dz.

  gd         T optax steps of gradient descent (with momentum if set); step = activity_lr
  euler      T explicit Euler steps of the flow (diffrax.Euler), dt = activity_lr:
             gradient descent without momentum, as an ODE solver
  heun       T Heun steps (diffrax.Heun, second order, two gradients per step)
  adaptive   as JPC's solve_inference runs it: Heun with diffrax's PIDController
             (rtol = atol = tol) from t = 0 to at most max_t1 (JPC's 20), its
             first step chosen by diffrax (dt0=None), stopped at the steady state
             (diffrax's steady_state_event: rms ||dF/dz|| < tol + tol rms ||z||;
             JPC's own event compares the activities' norm, not the flow's, and so
             in practice runs to max_t1), within diffrax's budget of max_steps
             steps (4096). A solve that runs out of steps keeps the activities it
             reached (the metric inference_budget_exhausted counts it; the seed is
             not diverged). max_t1 is in the time of the energy activity_lr steps
             on: with activity_energy='mean' (JPC's batch-mean energy) the
             per-sample flow is B times slower, so it spans max_t1 / B
  closed_form not a solver: PCRule computes the minimum of a linear network's
             quadratic energy (local_learning.pc.equilibrium)

A solver advances a state y (a list of arrays) given grad(y, bottom) -> dF/dy,
where entries below `bottom` are known to have zero gradient and may be
skipped. From the feedforward start the errors move down one layer per
gradient evaluation (local_learning.pc.inference), so the fixed-step solvers
take `bottom` from the error wave (`wave_bottoms`): a Heun step evaluates the
gradient twice, and its wave moves two layers per step; a stacked entry of K
layers is skipped until the wave is about to reach it. Steps that share a
bottom run as one scan, so the graph grows with the number of entries, not of
steps. The adaptive solver always evaluates every entry: its step sizes are
not known in advance.
"""
import dataclasses
import itertools
from typing import Any, Callable, Sequence, cast

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from local_learning.arrays import Array, Scalar

Y = list[Array]                              # the solved state: a list of arrays (the hidden activities)
Grad = Callable[[Y, int], Y]                 # grad(y, bottom) -> dF/dy, entries below bottom zero

CLOSED_FORM = 'closed_form'     # no solver: PCRule puts linear networks at the minimum (pc.equilibrium)
SOLVERS = ('gd', 'euler', 'heun', 'adaptive', CLOSED_FORM)


@dataclasses.dataclass(frozen=True)
class ActivitySolver:
  """name in SOLVERS; steps T (adaptive: 0 is no inference); lr: the step (gd, euler, heun); for
  adaptive, the per-sample time span t1 (from_config: max_t1, or max_t1 / B for the batch-mean energy).

  gd steps with `transform()`: optax.sgd(lr, momentum), or `tx` where given, any optax transform
  (a PCRule variant's solver(batch_size) returns dataclasses.replace(super().solver(batch_size),
  tx=optax.adam(...))). The ODE solvers ignore tx."""
  name: str
  steps: int
  lr: float | Array
  momentum: float = 0.0
  tol: float = 1e-3
  max_steps: int = 4096
  t1: float | Array = 20.0
  tx: optax.GradientTransformation | None = None

  @property
  def stages(self) -> int:
    """Gradient evaluations per step: how far the error wave moves in one step."""
    return 2 if self.name == 'heun' else 1

  def init(self, y: Y) -> Any:
    """The solver's state for one solve from y (gd: the optax state)."""
    return self.transform().init(y) if self.name == 'gd' else None

  def step(self, grad: Grad, y: Y, state: Any, t: float | Array, bottom: int = 0) -> tuple[Y, Any]:
    """One step from time t -> (y, state); grad(y, bottom) -> dF/dy."""
    if self.name == 'gd':
      updates, state = self.transform().update(grad(y, bottom), state, y)
      return cast(Y, optax.apply_updates(y, updates)), state     # optax keeps y's structure
    import diffrax  # pylint: disable=g-import-not-at-top  (1-2 s to import: only the ODE solvers need it)
    solver = {'euler': diffrax.Euler(), 'heun': diffrax.Heun()}[self.name]
    term = diffrax.ODETerm(lambda _, y, __: jax.tree.map(jnp.negative, grad(y, bottom)))
    y, *_ = solver.step(term, t, t + self.lr, y, None, None, made_jump=False)
    return y, state

  def run(self, grad: Grad, y: Y, sizes: Sequence[int] = ()) -> tuple[Y, Scalar]:
    """y after the solve -> (y, steps taken).

    sizes: the number of layers in each entry of y (1, or K for a stack of K)
    when every error starts at zero (the feedforward start), so that each
    step evaluates only the entries the error wave has reached; () when the
    start is anything else.
    """
    if self.name == 'adaptive':
      return self._adaptive(grad, y) if self.steps else (y, jnp.zeros((), jnp.float32))
    bottoms = wave_bottoms(sizes, self.steps, self.stages) if sizes else [0] * self.steps
    state, t = self.init(y), 0
    for bottom, same in itertools.groupby(bottoms):
      count = len(list(same))
      if count == 1:
        y, state = self.step(grad, y, state, t * self.lr, bottom)
      else:
        step = lambda carry, time, bottom=bottom: (self.step(grad, *carry, time, bottom), None)
        (y, state), _ = jax.lax.scan(step, (y, state), self.lr * jnp.arange(t, t + count, dtype=jnp.float32))
      t += count
    return y, jnp.asarray(self.steps, jnp.float32)

  def transform(self) -> optax.GradientTransformation:
    """gd's optax transform of the activities: tx, or sgd with step lr and momentum."""
    if self.tx is not None:
      return self.tx
    if isinstance(self.momentum, jax.Array):      # a traced value (tuning lanes): momentum 0 is plain sgd
      return optax.sgd(self.lr, momentum=self.momentum)
    return optax.sgd(self.lr, momentum=self.momentum or None)

  def _adaptive(self, grad, y):
    """-> (the activities at the steady state, at t1, or where the step budget ran out; steps taken)."""
    import diffrax  # pylint: disable=g-import-not-at-top  (1-2 s to import: only the ODE solvers need it)
    term = diffrax.ODETerm(lambda _, y, __: jax.tree.map(jnp.negative, grad(y, 0)))
    solution = diffrax.diffeqsolve(
        term, diffrax.Heun(), 0.0, self.t1, None, y,
        stepsize_controller=diffrax.PIDController(rtol=self.tol, atol=self.tol),
        event=diffrax.Event(diffrax.steady_state_event(rtol=self.tol, atol=self.tol)),
        max_steps=self.max_steps, throw=False)
    return jax.tree.map(lambda a: a[-1], solution.ys), jnp.asarray(solution.stats['num_steps'], jnp.float32)

  def exhausted(self, steps: Scalar) -> Scalar:
    """1.0 where an adaptive solve used its whole budget of max_steps (one that reached its end on
    exactly the last allowed step counts too), else 0.0."""
    return (steps >= self.max_steps).astype(jnp.float32)


def backtracking_descent(energy: Callable[[Y], Array], y: Y, steps: int, lr: float | Array) -> tuple[Y, Array]:
  """`steps` gradient-descent steps on energy(y) -> (B,) from y, each sample's step lr halved where it would
  raise that sample's energy (the step is then not taken) -> (y, the energy per sample (B,)).

  The energy never rises, so the descent cannot diverge where a fixed step exceeds 2 / the energy's
  curvature (a fixed-step solve there grows without bound). Every entry of y is (B, ...).
  """
  def total(y):
    per_sample = energy(y)
    return jnp.sum(per_sample), per_sample

  def step(_, carry):
    y, step_size = carry
    (_, before), grads = jax.value_and_grad(total, has_aux=True)(y)
    trial = [z - _per_sample(step_size, z) * g for z, g in zip(y, grads)]
    lower = energy(trial) <= before
    y = [jnp.where(_per_sample(lower, z), t, z) for z, t in zip(y, trial)]
    return y, jnp.where(lower, step_size, step_size / 2)

  step_size = jnp.full(y[0].shape[:1], lr, y[0].dtype)
  y, _ = jax.lax.fori_loop(0, steps, step, (list(y), step_size))
  return y, energy(y)


def _per_sample(values: Array, like: Array) -> Array:
  """values (B,) shaped to broadcast against like (B, ...)."""
  return values.reshape(values.shape + (1,) * (like.ndim - 1))


def wave_bottoms(sizes: Sequence[int], steps: int, stages: int = 1) -> list[int]:
  """The lowest entry each step must evaluate, from the feedforward start -> [bottom per step].

  sizes: layers per entry of the hidden activities (n = sum(sizes) layers,
  numbered 1..n from the input). Before the last gradient evaluation of step t
  there have been m = stages (t + 1) - 1 moves, so only layers n - m + 1..n
  have moved and only their errors are non-zero. Entry j (its top layer b) may
  be the bottom, its prediction held at the feedforward value and everything
  below it skipped, while b <= n - m: then none of its layers has moved (its
  prediction is still valid) and none of its errors is non-zero (so no
  gradient runs through the prediction held inside it, nor below it).
  """
  ends = np.cumsum(sizes)
  bottoms = []
  for t in range(steps):
    m = stages * (t + 1) - 1
    bottoms.append(max((j for j, end in enumerate(ends) if end <= ends[-1] - m), default=0))
  return bottoms


def problems(config: ml_collections.ConfigDict) -> list[str]:
  """Mistakes in a PC rule's solver fields, one line each."""
  out = []
  if config.activity_solver not in SOLVERS:
    out.append(f'unknown activity_solver {config.activity_solver!r}; choose one of {", ".join(SOLVERS)}')
  elif config.activity_solver != 'gd' and config.activity_momentum:
    out.append(f'activity_momentum applies to activity_solver=gd only, not {config.activity_solver!r}')
  if not 0 <= config.activity_momentum < 1:
    out.append(f'activity_momentum must be in [0, 1), got {config.activity_momentum}')
  if not config.activity_tol > 0:
    out.append(f'activity_tol must be positive, got {config.activity_tol}')
  if not (isinstance(config.activity_max_steps, int) and config.activity_max_steps >= 1):
    out.append(f'activity_max_steps must be an integer >= 1, got {config.activity_max_steps}')
  if not config.activity_max_t1 > 0:
    out.append(f'activity_max_t1 must be positive, got {config.activity_max_t1}')
  return out


def from_config(config: ml_collections.ConfigDict, steps: int, lr: float | Array) -> ActivitySolver:
  """The ActivitySolver of a PC rule's config, taking `steps` steps of size `lr` (activity_lr, divided
  by the batch size for the batch-mean energy: t1 = activity_max_t1 is divided alike)."""
  return ActivitySolver(config.activity_solver, steps, lr, config.activity_momentum, config.activity_tol,
                        config.activity_max_steps, config.activity_max_t1 * lr / config.activity_lr)

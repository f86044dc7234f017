"""Predictive coding as functions, for PC rules to compose (as in JPC).

  energies    energy(...) per sample, the output terms nudged_loss (beta * loss)
              and interpolated_target (PCX's nudging), weight_grads (dF/dW / beta)
  solvers     ActivitySolver: gd (optax), euler, heun, adaptive (diffrax); wave_bottoms, the
              lowest entry each step from the feedforward pass must evaluate; backtracking_descent,
              gradient descent whose energy never rises
  inference   infer (activities from the feedforward pass, skipping the blocks
              below the error wave, or from any start); error-optimised PC's
              states(errors), error_energy, infer_errors
  post_activation  PCX's post-activation nodes h_l = phi(z_l) as a view of the model
              (PCRule's activities='post')
  equilibrium the minimum of a linear network's energy in closed form: energy F*,
              rescaling S, activities (PCRule's activity_solver='closed_form')
  rule        PCRule, the base class of PC-family rules (its override points: its docstring),
              and Settled, one batch's inference

Shapes: x (B, ...); hidden activities and errors are lists of entries, (B, ...)
or a stacked (K, B, ...) (models/layered.py); energies are per sample (B,).
"""
from local_learning.pc import equilibrium, post_activation
from local_learning.pc.energies import energy, half_squared_norm, interpolated_target, nudged_loss, weight_grads
from local_learning.pc.inference import activity_grad, error_energy, infer, infer_errors, states
from local_learning.pc.rule import PCRule, Settled
from local_learning.pc.solvers import SOLVERS, ActivitySolver, backtracking_descent, wave_bottoms

__all__ = ['SOLVERS', 'ActivitySolver', 'PCRule', 'Settled', 'activity_grad', 'backtracking_descent', 'energy',
           'equilibrium', 'error_energy', 'half_squared_norm', 'infer', 'infer_errors', 'interpolated_target',
           'nudged_loss', 'post_activation', 'states', 'wave_bottoms', 'weight_grads']

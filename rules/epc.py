"""Error-optimised predictive coding (ePC; Goemaere et al., 2025, arXiv 2505.20137).

Inference runs over the prediction errors e instead of the activities: the
states are rebuilt from them bottom up, z_l = mu_l(z_{l-1}) + e_l, and the
solver follows E(e) = sum_l 1/2 ||e_l||^2 + output(mu_L) = F(z(e)) from e = 0,
the feedforward pass (local_learning.pc.inference). dE/de reaches every layer
in one evaluation through the forward chain, where PC's dF/dz moves the
output's signal down one layer per step and shrinks it on the way. The weight
update is PC's local dF/dW / beta at the states reached; at a minimum (dE/de =
0 exactly when dF/dz = 0) ePC and PC agree. As in the reference code
(cgoemaere/error_based_PC, pc_e.py), the errors start at zero every batch.
"""
import local_learning as ll


@ll.register
class EPC(ll.pc.PCRule):
  """Error-optimised PC: the activity solver runs on the errors."""
  name = 'epc'
  family = 'PC family'
  description = 'error-optimised PC: inference over the prediction errors, then the local PC weight update'
  closed_form = False     # its inference is its own
  energy_weighted = False   # its energy does not take PCRule's energy_weights

  @classmethod
  def search_space(cls):
    """pc's space (PCX's ranges for PC: activity step log 1e-2..5e-1, momentum 0..0.95, weight decay; T 4..12,
    our choice); ePC's authors publish no sweep, so for ePC it is our choice."""
    return {**super().search_space(), 'activity_lr': ll.space.LogUniform(1e-2, 5e-1),
            'activity_momentum': ll.space.Uniform(0.0, 0.95), 'inference_steps': ll.space.Int(4, 12)}

  def __init__(self, model, config, num_steps):
    if model.stack_size(0):
      raise ll.UserError(f'{self.name} needs a model whose first entry is a plain layer, not a stack')
    super().__init__(model, config, num_steps)

  def infer(self, params, x, output, feedforward, init=None, quadratic=None):
    """The solve over the errors from e = 0 -> (the states z(e), steps taken); init is not used."""
    del init, quadratic
    errors, steps = ll.pc.infer_errors(self.model, params, output, self.solver(x.shape[0]), feedforward)
    return ll.pc.states(self.model, params, errors, feedforward[0]), steps

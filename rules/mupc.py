"""muPC: predictive coding on a Depth-muP residual network (Innocenti, Achour & Buckley, 2025).

PC (local_learning.pc) with the muPC defaults: squared-error output clamped to
the target (beta = 1), plain gradient descent on the activities, T equal to
the number of hidden layers (inference_steps = 0 means that), Adam on the
weights. The parameterisation is the model's (resmlp with param='mupc'), so
`pc` on param='sp' is standard PC and `bp` on param='mupc' is the Depth-muP
backprop baseline of the same network.

The activity step is JPC's: activity_lr on the batch-mean energy
(activity_energy='mean'), 0.5 for relu as in the muPC paper's runs (1.0 for
linear and tanh there; jpc experiments/mupc_paper/plot_results.ipynb). Per
sample that is activity_lr / B for a batch of B samples, B read from the batch
when the step is traced, so the step follows the batch size as in the
reference (0.5 / 64 at its batch of 64).
"""
import local_learning as ll


@ll.register
class MuPC(ll.pc.PCRule):
  """PC with muPC's defaults; T = number of hidden layers unless set."""
  name = 'mupc'
  family = 'PC family'
  description = 'muPC: PC with Depth-muP defaults (T = hidden layers, GD on activities, Adam)'

  @classmethod
  def default_config(cls):
    config = super().default_config()
    config.update(dict(loss='mse', beta=1.0, inference_steps=0, activity_lr=0.5, activity_energy='mean',
                       activity_momentum=0.0,
                       optimizer=ll.optim.default_config(name='adam', learning_rate=0.1, weight_decay=0.0)))
    return config

  @classmethod
  def search_space(cls):
    """Our choice: a decade around the defaults (Adam's rate 0.1, activity step 0.5 on the batch-mean energy),
    the two rates muPC's paper (Innocenti et al. 2025) scans; T stays the depth's, the weight decay 0."""
    return {'optimizer.learning_rate': ll.space.LogUniform(1e-2, 1.0), 'activity_lr': ll.space.LogUniform(5e-2, 5.0)}

  def __init__(self, model, config, num_steps):
    super().__init__(model, config, num_steps)
    self.inference_steps = config.inference_steps or model.depth - 1

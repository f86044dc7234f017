"""Backpropagation: the task loss of the composed network, minimised with optax."""
import local_learning as ll


@ll.register
class BP(ll.GradientRule):
  """Backpropagation of the output loss through the whole network."""
  name = 'bp'
  family = 'backprop'
  description = 'backpropagation of the output loss (the baseline)'
  follows_gradient = True

  @classmethod
  def search_space(cls):
    """The weight optimizer's rate and weight decay: ll.GradientRule's space (its docstring cites the ranges)."""
    return super().search_space()

  def grads(self, state, batch, rng):
    del rng
    loss, grads = self.loss_grads(state['params'], batch)
    return grads, dict(loss=loss)

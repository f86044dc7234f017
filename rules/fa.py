"""Feedback alignment (Lillicrap et al., 2016): backprop with each W_l^T replaced by a fixed random B_l^T.

The error of the output is sent down through fixed random matrices B_l of
W_l's shape (model.forward with feedback): delta_l = phi_l'(z_l) * B_l^T
delta_{l+1}, through the same pooling and flattening as backprop; each
weight's update is its true local gradient given its block's delta, so the
output block is trained exactly as by backprop. As in BioTorch (its 'xavier'
default), every B_l is drawn xavier-uniform (model.random_feedback),
independent of the forward weights, which keep the model's own init.
"""
import local_learning as ll


@ll.register
class FA(ll.GradientRule):
  """Feedback alignment: fixed random feedback matrices, drawn once."""
  name = 'fa'
  family = 'feedback alignment'
  description = 'feedback alignment: errors sent down through fixed random matrices (Lillicrap et al. 2016)'

  @classmethod
  def search_space(cls):
    """BP's space (ll.GradientRule's): the same optimizer; BioTorch publishes no sweep, so our choice."""
    return super().search_space()

  def buffers(self, rng):
    return dict(feedback=self.model.random_feedback(rng))

  def grads(self, state, batch, rng):
    del rng
    loss, grads = self.loss_grads(state['params'], batch, [None, *state['feedback']])
    return grads, dict(loss=loss)

"""Feedback alignment (Lillicrap et al., 2016) as a one-file plugin rule.

  python -m local_learning.main --config=configs/mnist_mlp.py:rule=my_fa \
      --config.rule_module=my_fa --workdir=runs/my_fa      # with this folder on PYTHONPATH
"""
import jax

import local_learning as ll


@ll.register
class MyFA(ll.GradientRule):
  """Backprop's error sent down through fixed random matrices B_l in place of W_l."""
  name = 'my_fa'
  description = 'feedback alignment, written as a plugin'

  def buffers(self, rng):
    """One fixed random matrix per block, shaped like its kernel (xavier-uniform)."""
    keys = jax.random.split(rng, self.model.num_layers)
    init = jax.nn.initializers.xavier_uniform()
    return dict(feedback=[init(key, shape) for key, shape in zip(keys, self.model.kernel_shapes)])

  def grads(self, state, batch, rng):
    loss, grads = self.loss_grads(state['params'], batch, feedback=state['feedback'])
    return grads, dict(loss=loss)


if __name__ == '__main__':
  ll.testing.check_rule(MyFA)                                   # the rule contract, on a tiny MLP
  ll.testing.check_rule(MyFA, model=ll.testing.tiny_model('vgg'))
  print('my_fa passes local_learning.testing.check_rule')

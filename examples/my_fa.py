"""Feedback alignment (Lillicrap et al., 2016) as a one-file plugin rule.

  python -m local_learning.main --config=configs/mnist_mlp.py:rule=my_fa \
      --config.rule_module=my_fa --workdir=runs/my_fa      # with this folder on PYTHONPATH
"""
import local_learning as ll


@ll.register
class MyFA(ll.GradientRule):
  """Backprop's error sent down through fixed random matrices B_l in place of W_l."""
  name = 'my_fa'
  description = 'feedback alignment, written as a plugin'

  def buffers(self, rng):
    """Fixed random matrices B_1..B_{L-1}, shaped like the kernels (xavier-uniform)."""
    return dict(feedback=self.model.random_feedback(rng))

  def grads(self, state, batch, rng):
    feedback = [None, *state['feedback']]          # block 0: the input gets no gradient
    loss, grads = self.loss_grads(state['params'], batch, feedback=feedback)
    return grads, dict(loss=loss)


if __name__ == '__main__':
  ll.testing.check_rule(MyFA)                                   # the rule contract, on a tiny MLP
  ll.testing.check_rule(MyFA, model=ll.testing.tiny_model('vgg'))
  print('my_fa passes local_learning.testing.check_rule')

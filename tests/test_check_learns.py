"""testing.check_learns: a rule must learn a tiny separable problem (and follow bp's gradient where it
claims to); check_rule: trained auxiliary state must change. A broken rule fails each check."""
import jax
import pytest

from local_learning import registry, testing

BP = registry.get('bp')


class Backwards(BP):
  """bp with its gradient's sign flipped: it climbs the loss."""
  name = 'backwards_bp_under_test'

  def grads(self, state, batch, rng):
    grads, metrics = super().grads(state, batch, rng)
    return jax.tree.map(lambda g: -g, grads), metrics


class Untrained(BP):
  """bp with a trained copy of the weights (auxiliary) that its step never updates."""
  name = 'untrained_aux_under_test'

  def auxiliary(self, rng, params):
    return dict(copy=params)


def test_bp_learns_and_follows_its_own_gradient():
  result = testing.check_learns(BP)
  assert result['cosine'] > 0.999 and result['loss_after'] < 0.9 * result['loss_before']


def test_a_sign_flipped_rule_fails_both_checks(monkeypatch):
  with pytest.raises(AssertionError, match=r'backwards_bp_under_test: claims to follow a gradient .* cosine -1\.000'):
    testing.check_learns(Backwards)
  monkeypatch.setattr(Backwards, 'follows_gradient', False)
  with pytest.raises(AssertionError, match='did not learn a tiny separable problem'):
    testing.check_learns(Backwards, steps=10)


def test_check_rule_catches_trained_state_that_never_changes():
  state = testing.make_rule(Untrained, testing.tiny_model()).init(jax.random.key(0))
  assert set(state) == {'params', 'opt_state', 'copy', 'copy_opt_state'}
  with pytest.raises(AssertionError, match="did not change its trained state 'copy'"):
    testing.check_rule(Untrained)

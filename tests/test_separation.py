"""The separation task: the source generator, the metric, and user mistakes."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import generate_sources
from scipy import stats

from local_learning import separation
from local_learning.data import sources


def _uniforms(seed, samples, rho, n=5):
  g = jax.random.normal(jax.random.key(seed), (samples, n + 1 + sources.COPULA_DOF))
  return np.asarray(sources.copula_uniforms(g[:, :n], g[:, n:n + 1], g[:, n + 1:], rho))


def _scipy_copula(seed, samples, rho, n=5):
  """An independent float64 reference: multivariate t (4 dof) through scipy's t CDF."""
  rng = np.random.default_rng(seed)
  cov = (1 - rho) * np.eye(n) + rho
  t = stats.multivariate_t(np.zeros(n), cov, df=sources.COPULA_DOF).rvs(samples, random_state=rng)
  return stats.t.cdf(t, sources.COPULA_DOF)


@pytest.mark.parametrize('rho', [0.0, 0.5])
def test_copula_marginals_are_uniform(rho):
  u = _uniforms(0, 100000, rho)
  for column in u.T:
    assert stats.kstest(column, 'uniform').statistic < 0.01


@pytest.mark.parametrize('rho', [0.0, 0.3, 0.5])
def test_copula_correlation_matches_scipy_reference(rho):
  ours = np.corrcoef(_uniforms(1, 100000, rho).T)
  reference = np.corrcoef(_scipy_copula(1, 100000, rho).T)
  off = ~np.eye(5, dtype=bool)
  assert np.abs(ours[off] - reference[off]).max() < 0.02
  assert abs(ours[off].mean() - reference[off].mean()) < 0.01
  if rho == 0.5:
    assert 0.45 < ours[off].mean() < 0.5     # t copula: about (6 / pi) arcsin(rho / 2) = 0.48


@pytest.mark.parametrize('domain', separation.DOMAINS)
def test_sources_lie_in_their_domain(domain):
  config = sources.default_config()
  config.domain, config.samples, config.rho = domain, 20000, 0.3
  s = np.asarray(generate_sources(jax.random.key(0), config)[0])
  if domain == 'antisparse':
    assert s.min() >= -1 and s.max() <= 1 and s.min() < -0.99 and s.max() > 0.99
  if domain == 'nonnegative_antisparse':
    assert s.min() >= 0 and s.max() <= 1 and s.max() > 0.99
  if domain in ('sparse', 'nonnegative_sparse'):
    assert np.abs(s).sum(axis=1).max() <= 1 + 1e-5
    assert (s == 0).mean() > 0.3                      # sparse: many exact zeros
  if domain == 'nonnegative_sparse':
    assert s.min() >= 0
  if domain == 'sparse':
    assert s.min() < -0.5
  if domain == 'simplex':
    assert s.min() >= 0 and np.allclose(s.sum(axis=1), 1, atol=1e-5)


@pytest.mark.parametrize('project', [sources.project_l1_ball, sources.project_simplex])
def test_projections_are_nearest_points(project):
  v = 3 * jax.random.normal(jax.random.key(2), (500, 5))
  p = np.asarray(project(v))
  q = np.asarray(project(3 * jax.random.normal(jax.random.key(3), (500, 5))))   # other set points
  np.testing.assert_allclose(project(p), p, atol=1e-6)                          # p is in the set
  v = np.asarray(v)
  assert np.all(np.linalg.norm(v - p, axis=1) <= np.linalg.norm(v - q, axis=1) + 1e-5)


def test_normal_columns_are_jax_random_normal_bit_for_bit():
  key = jax.random.key(10)
  want = jax.random.normal(key, (1000, 20))
  got = jax.jit(sources.normal_columns, static_argnums=(1, 2, 3))(key, 1000, 20, (3, 4, 19))
  np.testing.assert_array_equal(got, want[:, [3, 4, 19]].T)


@pytest.mark.parametrize('rho', [0.0, 0.5])
def test_generated_sources_have_the_protocol_marginals_and_correlation(rho):
  config = sources.default_config()
  config.samples, config.rho = 100000, rho
  s = np.asarray(generate_sources(jax.random.key(12), config)[0])
  for column in s.T:
    assert stats.kstest(column, 'uniform', args=(-1, 2)).statistic < 0.01
  reference = np.corrcoef(_scipy_copula(1, 100000, rho).T)
  off = ~np.eye(5, dtype=bool)
  assert abs(np.corrcoef(s.T)[off].mean() - reference[off].mean()) < 0.01


@pytest.mark.parametrize('model, dependent', [('copula', True), ('uniform', False)])
def test_copula_sources_are_dependent_at_rho_0_and_uniform_ones_independent(model, dependent):
  """The t copula's shared chi-square scale makes |s_i| rise and fall together even at rho = 0
  (the PEM reference's correlation experiments); its noise experiments draw independent uniforms."""
  config = sources.default_config()
  config.samples, config.source_model = 20000, model
  s = np.asarray(generate_sources(jax.random.key(13), config)[0])
  off = ~np.eye(5, dtype=bool)
  assert abs(np.corrcoef(s.T)[off].mean()) < 0.02
  for column in s.T:
    assert stats.kstest(column, 'uniform', args=(-1, 2)).statistic < 0.015
  assert (np.corrcoef(s.T ** 2)[off].mean() > 0.1) == dependent


def test_mixtures_have_the_input_snr_per_mixture():
  config = sources.default_config()
  config.snr_db, config.samples = 20.0, 50000
  s, a, x = (np.asarray(v, np.float64) for v in generate_sources(jax.random.key(4), config))
  clean = s @ a.T
  snr = 10 * np.log10(np.mean(clean ** 2, axis=0) / np.mean((x - clean) ** 2, axis=0))
  np.testing.assert_allclose(snr, 20.0, atol=0.1)


def test_generator_is_deterministic_and_vmappable():
  config = sources.default_config()
  config.samples = 1000
  keys = jax.random.split(jax.random.key(5), 3)
  generate = jax.jit(lambda k: sources.generate(k, config))
  batched = jax.jit(jax.vmap(generate))(keys)
  for i in range(3):
    for got, want in zip(batched, generate(keys[i])):
      np.testing.assert_allclose(got[i], want, rtol=1e-6, atol=1e-6)
  for eager, compiled in zip(sources.generate(keys[0], config), generate(keys[0])):   # op by op
    np.testing.assert_allclose(eager, compiled, rtol=1e-6, atol=1e-6)


def test_metric_is_invariant_to_permutation_sign_and_scale():
  s = jax.random.uniform(jax.random.key(6), (5, 5000), minval=-1, maxval=1)
  y = s + 0.05 * jax.random.normal(jax.random.key(7), s.shape)
  reference = separation.evaluate(y, s)
  permuted = y[jnp.array([3, 0, 4, 1, 2])] * jnp.array([-2.0, 0.5, 7.0, -0.1, 1.0])[:, None]
  scrambled = separation.evaluate(permuted, s)
  for key in ('sinr_db', 'msnr_db'):
    np.testing.assert_allclose(scrambled[key], reference[key], rtol=1e-4)
  np.testing.assert_allclose(np.sort(scrambled['snr_db']), np.sort(reference['snr_db']), rtol=1e-4)


def test_metric_values():
  s = np.asarray(jax.random.uniform(jax.random.key(8), (20000, 5), minval=-1, maxval=1), np.float64)
  noise = 0.1 * np.asarray(jax.random.normal(jax.random.key(9), s.shape), np.float64)
  got = separation.evaluate(jnp.asarray(s + noise, jnp.float32).T, jnp.asarray(s, jnp.float32).T)
  scale = np.sum((s + noise) * s, axis=0) / np.sum((s + noise) ** 2, axis=0)
  error = np.sum((s - scale * (s + noise)) ** 2, axis=0)
  np.testing.assert_allclose(got['snr_db'], 10 * np.log10(np.sum(s ** 2, axis=0) / error), atol=1e-3)
  np.testing.assert_allclose(got['sinr_db'], 10 * np.log10(np.sum(s ** 2) / error.sum()), atol=1e-3)
  assert 14 < float(got['msnr_db']) < 16            # about 10 log10((1/3) / 0.01) = 15.2 dB
  perfect = separation.evaluate(-3.0 * jnp.asarray(s, jnp.float32).T[::-1], jnp.asarray(s, jnp.float32).T)
  assert float(perfect['msnr_db']) > 100 and float(perfect['sinr_db']) > 100


def test_inner_product_matching_lets_a_larger_output_win():
  """The PEM reference matches on |<y_i, s_j>| (its cosine's normalisation is constant per source):
  a large output that mixes two sources takes both sources' matches, where the cosine keeps the clean one."""
  s = jax.random.uniform(jax.random.key(14), (2, 5000), minval=-1, maxval=1)
  y = jnp.stack([s[0] + 0.01 * s[1], 10 * (s[0] + s[1])])
  cosine, inner = (separation.evaluate(y, s, matching) for matching in ('cosine', 'inner_product'))
  assert float(cosine['snr_db'][0]) > 35 and float(inner['snr_db'][0]) < 5
  np.testing.assert_allclose(inner['snr_db'][1], cosine['snr_db'][1], rtol=1e-5)


def test_shift_scores_zero_mean_outputs_of_nonnegative_sources_as_the_reference():
  """Centred outputs, sign corrected, shifted to a minimum of 0, then scaled by least squares
  (PredictiveBSS_Correlated_NNAntisparse_10by5.py:203-206), in NumPy."""
  s = np.asarray(jax.random.uniform(jax.random.key(15), (3, 4000)), np.float64)
  noise = 0.05 * np.asarray(jax.random.normal(jax.random.key(16), s.shape))
  y = -(s - s.mean(axis=1, keepdims=True))[::-1] + noise
  y = y - y.mean(axis=1, keepdims=True)
  matched = np.argmax(np.abs((s - s.mean(axis=1, keepdims=True)) @ y.T), axis=1)
  want = np.sign(np.sum(y[matched] * s, axis=1))[:, None] * y[matched]
  want = want - want.min(axis=1, keepdims=True)
  want = np.sum(want * s, axis=1)[:, None] / np.sum(want * want, axis=1)[:, None] * want
  snr = 10 * np.log10(np.sum(s * s, axis=1) / np.sum((s - want) ** 2, axis=1))
  got = separation.evaluate(jnp.asarray(y, jnp.float32), jnp.asarray(s, jnp.float32), 'inner_product', shift=True)
  np.testing.assert_allclose(got['snr_db'], snr, atol=1e-3)
  unshifted = separation.evaluate(jnp.asarray(y, jnp.float32), jnp.asarray(s, jnp.float32), 'inner_product')
  assert float(got['msnr_db']) > float(unshifted['msnr_db']) + 10


@pytest.mark.parametrize('field, value, message', [
    ('domain', 'nope', "unknown domain 'nope'"),
    ('source_model', 'gauss', "unknown source_model 'gauss'"),
    ('n', 12, 'need 1 <= n <= m'),
    ('n', 0, 'need 1 <= n <= m'),
    ('rho', 1.0, 'rho must be in [0, 1)'),
    ('samples', 1, 'samples must be at least 2'),
])
def test_bad_problem_is_reported(field, value, message):
  config = sources.default_config()
  config[field] = value
  (problem,) = sources.problems(config)
  assert message in problem

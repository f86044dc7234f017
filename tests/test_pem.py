"""PEM, u-PEM, CorInfoMax, FastICA and extended Infomax: their math, and that they separate a small problem."""
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import generate_sources
from sklearn import decomposition

import local_learning as ll
from configs import bss
from local_learning import config as ll_config
from local_learning import registry, tasks, train
from local_learning.data import sources

MODEL = ll.separation.SeparationModel(n=5, m=10, domain='antisparse')
# Every comparison here is to a tolerance (1e-4 to 1e-6 against float64 references, dB against scikit-learn and MNE):
# it holds at any optimisation level.
pytestmark = pytest.mark.usefixtures('few_optimisations')


def _rule(name, model=MODEL, num_steps=1000, **overrides):
  config = ll_config.rule_config(name)
  config.update(overrides)
  return registry.get(name)(model, config, num_steps)


def _reference_relax(h, b, lr, lr_min, steps, tol, lo=-1.0, hi=1.0, threshold_lr=None):
  """The papers' NumPy loop, in float64; with threshold_lr, the nonnegative sparse one
  (soft threshold, then the clip to [lo, hi], then the threshold's update)."""
  y, threshold = np.zeros(len(b)), 0.0
  for j in range(steps):
    y_old = y
    y = y - max(lr / (j + 1), lr_min) * (h @ y - b)
    if threshold_lr is not None:
      y = np.maximum(y - threshold, 0)
    y = np.clip(y, lo, hi)
    if threshold_lr is not None:
      threshold = max(threshold + threshold_lr * (np.sum(y) - 1), 0)
    if np.linalg.norm(y - y_old) < tol * np.linalg.norm(y):
      return y, j + 1
  return y, steps


def _problems(count, seed=0, n=5):
  rng = np.random.default_rng(seed)
  h = 250 * np.eye(n) + rng.normal(0, 3, (count, n, n))
  b = 250 * rng.uniform(-1.1, 1.1, (count, n))
  return h.astype(np.float32), b.astype(np.float32)


def test_relax_matches_the_reference_loop_and_stops_early():
  h, b = _problems(20)
  relax = jax.jit(lambda h, b: ll.dynamics.relax(h, b, 'antisparse', 0.5, 1e-6, 250, 1e-7))
  for hi, bi in zip(h, b):
    y, steps = relax(hi, bi)
    y_ref, steps_ref = _reference_relax(hi.astype(np.float64), bi.astype(np.float64), 0.5, 1e-6, 250, 1e-7)
    np.testing.assert_allclose(y, y_ref, atol=1e-5)
    assert abs(int(steps) - steps_ref) <= 3 and steps_ref < 200       # stopped early


def test_batched_relax_equals_one_at_a_time():
  h, b = _problems(11, seed=1)     # 11 seeds: padded to 16 lanes inside
  relax = lambda h, b: ll.dynamics.relax(h, b, 'antisparse', 0.5, 1e-6, 250, 1e-7)
  y, steps = jax.jit(jax.vmap(relax))(h, b)
  for i in range(len(b)):
    y_i, steps_i = jax.jit(relax)(h[i], b[i])
    np.testing.assert_allclose(y[i], y_i, atol=1e-6)
    assert int(steps[i]) == int(steps_i)
  y_shared, _ = jax.jit(jax.vmap(relax, in_axes=(None, 0)))(h[0], b)    # unbatched h
  np.testing.assert_allclose(y_shared[3], jax.jit(relax)(h[0], b[3])[0], atol=1e-6)
  y_lanes, steps_lanes = jax.jit(relax)(jnp.moveaxis(h, 0, -1), b.T)     # seeds as a trailing axis
  np.testing.assert_allclose(y_lanes.T, y, atol=1e-6)
  np.testing.assert_array_equal(steps_lanes, steps)


@pytest.mark.parametrize('steps', [1, 100])
def test_nonnegative_sparse_outputs_are_clipped_as_the_reference_clips_them(steps):
  """The PEM reference clips nonnegative sparse outputs to [0, 5] after the threshold (PDB:410-414):
  the first step hits the cap, and the trajectory through it ends where the reference's does."""
  h, b = _problems(10, seed=4)
  b = 8 * np.abs(b)                                      # drives far above 5
  relax = jax.jit(lambda h, b: ll.dynamics.relax(h, b, 'nonnegative_sparse', 0.1, 1e-4, steps, 1e-7, 0.5, 5.0))
  for hi, bi in zip(h, b):
    y, _ = relax(hi, bi)
    y_ref, _ = _reference_relax(hi.astype(np.float64), bi.astype(np.float64), 0.1, 1e-4, steps, 1e-7,
                                lo=0.0, hi=5.0, threshold_lr=0.5)
    np.testing.assert_allclose(y, y_ref, atol=1e-4)
    assert steps > 1 or y_ref.max() == 5.0


def test_weight_rate_schedules():
  t = jnp.array([0, 5000, 100000])
  np.testing.assert_allclose(ll.dynamics.weight_rate('inverse', 0.05, t, 5000.0, 1e-8), 0.05 / (1 + t / 5000),
                             rtol=1e-6)
  np.testing.assert_allclose(ll.dynamics.weight_rate('log', 0.05, t, 5000.0, 1e-8),
                             0.05 / (1 + np.log(t / 5000 + 2)), rtol=1e-6)
  assert float(ll.dynamics.weight_rate('log', 0.05, t, 5000.0, 1e-8)[-1]) == pytest.approx(0.0122, abs=1e-4)
  np.testing.assert_allclose(ll.dynamics.weight_rate('inverse', 1e-3, t, 1.0, 1e-6)[-1], 1e-6)   # the floor


def _reference_solution(h, b, domain, iterations=3000):
  """The fixed point y = P(y - eta (H y - b)) of projected gradient steps with the exact
  Euclidean projection P on the domain's set (float32, constant step)."""
  def nonnegative_ball(v):
    inside = jnp.maximum(v, 0.0)
    return jnp.where(jnp.sum(inside) <= 1, inside, sources.project_simplex(v))
  project = dict(sparse=sources.project_l1_ball, nonnegative_sparse=nonnegative_ball,
                 simplex=sources.project_simplex)[domain]
  step = 1 / np.linalg.norm(h, 2)
  return jax.lax.fori_loop(0, iterations, lambda _, y: project(y - step * (h @ y - b)), jnp.zeros_like(b))


@pytest.mark.parametrize('domain', ['sparse', 'nonnegative_sparse', 'simplex'])
def test_relax_sparse_domains_solve_the_constrained_problem(domain):
  """With the adaptive soft threshold, the dynamics settle where projected gradient steps
  onto the domain's set do (for the l1 ball, on its sphere when the drive lies outside).
  eta_0 ||H|| < 2: a larger first step overshoots, and the threshold integrates the overshoot."""
  h, b = _problems(5, seed=2)
  b = 4 * b                                  # most drives are far outside the unit ball
  relax = jax.jit(jax.vmap(lambda h, b: ll.dynamics.relax(h, b, domain, 0.005, 1e-3, 2000, 1e-7, 0.5)))
  y, steps = (np.asarray(v) for v in relax(h, b))
  want = np.stack([_reference_solution(hi, bi, domain) for hi, bi in zip(h, b)])
  np.testing.assert_allclose(y, want, atol=1e-4)
  assert (y == 0).any() and steps.max() < 2000
  if domain == 'sparse':
    np.testing.assert_allclose(np.abs(y).sum(axis=1), 1.0, atol=1e-4)
  else:
    assert y.min() >= 0
  if domain == 'simplex':
    np.testing.assert_allclose(y.sum(axis=1), 1.0, atol=1e-4)


def test_pem_step_matches_the_equations():
  rule = _rule('pem')
  state = rule.init(jax.random.key(0))
  rng = np.random.default_rng(3)
  c = np.eye(5) * 0.3 + 0.02 * rng.normal(size=(5, 5))
  c = (c + c.T) / 2
  state = dict(state, C=jnp.asarray(c, jnp.float32), mu=jnp.asarray(rng.normal(0, 0.1, 5), jnp.float32),
               t=jnp.int32(7000))
  x = jnp.asarray(0.2 * rng.normal(size=10), jnp.float32)
  new, metrics = jax.jit(rule.train_step)(state, x, None)

  w, mu, x64 = (np.asarray(v, np.float64) for v in (state['W'], state['mu'], x))
  d = np.diag(c) + 1e-5
  lateral = (c - np.diag(np.diag(c))) / np.outer(d, d) - np.diag(1 / d)
  y, steps = _reference_relax(250 * np.eye(5) + lateral, 250 * w @ x64 + lateral @ mu, 0.5, 1e-6, 250, 1e-7)
  lr = 0.05 / (1 + 7000 / 5000)
  mu_new = 0.99 * mu + 0.01 * y
  np.testing.assert_allclose(new['W'], w + lr * np.outer(y - w @ x64, x64), atol=1e-5)
  np.testing.assert_allclose(new['mu'], mu_new, atol=1e-6)
  np.testing.assert_allclose(new['C'], 0.99 * c + 0.01 * np.outer(y - mu_new, y - mu_new), atol=1e-6)
  assert int(new['t']) == 7001 and abs(int(metrics['neural_steps']) - steps) <= 3


@pytest.mark.parametrize('name', ['pem', 'u-pem', 'corinfomax', 'corinfomax-pem'])
def test_unclipped_dynamics_settle_at_their_fixed_point(name):
  """Inside the box the dynamics reach the fixed point H^-1 b; for the 2022 CorInfoMax the
  trainer scores exactly that linear map (rule.params)."""
  rule = _rule(name)
  state = rule.init(jax.random.key(1))
  if not name.startswith('corinfomax'):
    c = 0.3 * jnp.eye(5) + 0.05 * jnp.ones((5, 5))
    state = dict(state, C=c, mu=jnp.full(5, 0.1))
  x = 0.05 * jax.random.normal(jax.random.key(2), (10,))
  y, steps = rule.infer(state, x)
  if name == 'corinfomax':
    y_star = rule.params(state) @ x
  elif name == 'corinfomax-pem':
    y_star = jnp.linalg.solve(rule.fixed_point_map(state['B']), 10 * state['W'] @ x)
  else:
    lateral = rule.lateral(state['C'])
    y_star = jnp.linalg.solve(250 * jnp.eye(5) + lateral, 250 * state['W'] @ x + lateral @ state['mu'])
  assert jnp.abs(y_star).max() < 1 and int(steps) < rule.config.neural_steps
  np.testing.assert_allclose(y, y_star, atol=1e-5)


def test_corinfomax_pem_step_matches_the_reference_equations():
  """CIM:119-144, 388-397: dynamics dy = gy B y + 10 (W x - y), then W += eta(t) (y - W x) x^T with
  eta(t) = 0.05 / (1 + ln(t / 5000 + 2)), B <- (B - gy (B y)(B y)^T) / 0.99."""
  rule = _rule('corinfomax-pem')
  rng = np.random.default_rng(5)
  b = 5 * np.eye(5) + 0.3 * rng.normal(size=(5, 5))
  state = dict(rule.init(jax.random.key(8)), B=jnp.asarray(b + b.T, jnp.float32) / 2, t=jnp.int32(12000))
  x = jnp.asarray(0.1 * rng.normal(size=10), jnp.float32)
  new, _ = jax.jit(rule.train_step)(state, x, None)
  w, b, x64 = (np.asarray(v, np.float64) for v in (state['W'], state['B'], x))
  gy = 0.01 / 0.99
  y, _ = _reference_relax(10 * np.eye(5) - gy * b, 10 * w @ x64, 0.5, 1e-6, 250, 1e-7)
  lr = 0.05 / (1 + np.log(12000 / 5000 + 2))
  np.testing.assert_allclose(new['W'], w + lr * np.outer(y - w @ x64, x64), atol=1e-5)
  np.testing.assert_allclose(new['B'], (b - gy * np.outer(b @ y, b @ y)) / 0.99, rtol=1e-5, atol=1e-5)
  np.testing.assert_array_equal(rule.params(new), new['W'])      # scored on W x


def test_upem_lateral_is_unnormalised():
  c = jnp.array([[0.5, 0.1], [0.1, 0.25]])
  model = ll.separation.SeparationModel(2, 2, 'antisparse')
  pem, upem = _rule('pem', model), _rule('u-pem', model, lateral_gain=3.0)
  d = jnp.diag(c) + 1e-5
  np.testing.assert_allclose(pem.lateral(c), [[-1 / d[0], 0.1 / (d[0] * d[1])], [0.1 / (d[0] * d[1]), -1 / d[1]]],
                             rtol=1e-6)
  np.testing.assert_allclose(upem.lateral(c), [[-1 / d[0], 0.3], [0.3, -1 / d[1]]], rtol=1e-6)


def test_ica_whitens_and_keeps_orthonormal_rows():
  rule = _rule('ica')
  x = jax.random.normal(jax.random.key(3), (4000, 10)) @ jax.random.normal(jax.random.key(4), (10, 10))
  z, _ = jax.jit(ll.separation.whiten, static_argnums=1)(x, 5)
  np.testing.assert_allclose(z.T @ z / len(z), jnp.eye(5), atol=1e-4)
  state, _ = jax.jit(rule.train_step)(rule.init(jax.random.key(5)), x, None)
  np.testing.assert_allclose(state['W'] @ state['W'].T, jnp.eye(5), atol=1e-5)


def test_ica_reaches_the_scikit_learn_fastica_solution():
  config = sources.default_config()
  config.samples = 5000
  s, _, x = generate_sources(jax.random.key(6), config)
  rule = _rule('ica', num_steps=20)
  step = jax.jit(lambda state: rule.train_step(state, x, None)[0])
  state = rule.init(jax.random.key(7))
  for _ in range(20):
    state = step(state)
  ours = ll.separation.evaluate(rule.params(state) @ x.T, s.T)['snr_db']
  ica = decomposition.FastICA(5, algorithm='parallel', whiten='unit-variance', fun='logcosh',
                              max_iter=1000, tol=1e-8, random_state=0).fit(np.asarray(x, np.float64))
  theirs = ll.separation.evaluate(jnp.asarray(ica.components_, jnp.float32) @ x.T, s.T)['snr_db']
  np.testing.assert_allclose(ours, theirs, atol=0.05)       # the same unmixing, up to order and sign
  assert float(jnp.mean(ours)) > 20


@pytest.fixture(scope='module')
def separated(tmp_path_factory):
  """separated(rule) -> (summary, workdir): the rule on one small uncorrelated antisparse
  problem, 2 seeds; trained once per test worker, on first use."""
  runs = {}

  def run(name):
    if name not in runs:
      workdir = tmp_path_factory.mktemp(name)
      runs[name] = (train.train_and_evaluate(bss.get_config(f'rule={name},samples=30000,seeds=2'),
                                             str(workdir)), workdir)
    return runs[name]

  return run


def test_infomax_reaches_the_mne_extended_infomax_solution():
  """The same whitened mixtures: our extended Infomax and MNE's infomax (the PEM reference's call)
  find the same unmixing rows, up to order, sign and scale, and the same source SNRs."""
  infomax = pytest.importorskip('mne.preprocessing').infomax
  config = sources.default_config()
  config.samples = 10000
  s, _, x = generate_sources(jax.random.key(9), config)
  rule = _rule('infomax', num_steps=1)
  state, metrics = jax.jit(rule.train_step)(rule.init(jax.random.key(10)), x, jax.random.key(11))
  z, k = ll.separation.whiten(x, 5)
  theirs = infomax(np.asarray(z, np.float64), extended=True, n_subgauss=5, l_rate=1e-3, max_iter=10000,
                   random_state=1, verbose=False)
  ours = np.asarray(state['V']).T
  rows = lambda w: w / np.linalg.norm(w, axis=1, keepdims=True)
  assert np.abs(rows(ours) @ rows(theirs).T).max(axis=1).min() > 0.999
  snr = lambda w: ll.separation.evaluate(jnp.asarray(w, jnp.float32) @ k @ (x - x.mean(0)).T, s.T)['snr_db']
  np.testing.assert_allclose(np.sort(snr(ours)), np.sort(snr(theirs)), atol=0.1)
  assert 20 < int(metrics['passes']) < 1000                  # it stopped by MNE's rules, not max_iter


@pytest.mark.parametrize('name, msnr_db', [('pem', 15), ('corinfomax', 10), ('corinfomax-pem', 15), ('ica', 15),
                                           ('infomax', 15)])
def test_rule_separates_a_small_problem(separated, name, msnr_db):
  """The mixtures themselves score about 3 dB; CorInfoMax needs ~100000 samples for 20+ dB."""
  summary, _ = separated(name)
  assert summary.status == 'ok' and summary.seeds == [0, 1]
  assert min(summary.results['msnr_db']) > msnr_db, summary.results['msnr_db']


@pytest.mark.parametrize('name', ['pem', 'u-pem', 'corinfomax', 'corinfomax-pem', 'infomax', 'ica'])
def test_every_domain_of_configs_bss_is_a_valid_config(name):
  """The per-domain settings tables name only fields the rules have, with values they accept."""
  for domain in ll.separation.DOMAINS:
    config = bss.get_config(f'rule={name},domain={domain},samples=1000')
    train.check(config)
    ll.separation.bind(registry.get(name), config)


def test_pem_separates_sparse_sources(tmp_path):
  """On the l1 ball, with configs/bss.py's sparse settings (the soft-threshold dynamics)."""
  summary = train.train_and_evaluate(bss.get_config('domain=sparse,samples=20000,seeds=1'), str(tmp_path))
  assert summary.status == 'ok' and summary.mean('msnr_db') > 15, summary.results


def test_separation_workdir(separated):
  summary, workdir = separated('pem')
  on_disk = json.loads((workdir / 'summary.json').read_text())
  for metric in ('sinr_db', 'msnr_db'):
    assert on_disk[metric] == pytest.approx(np.mean(on_disk[f'{metric}_per_seed']))
    assert on_disk[f'{metric}_std'] == pytest.approx(np.std(on_disk[f'{metric}_per_seed']))
  for key in ('rule', 'dataset', 'model', 'status', 'seeds', 'train_seconds', 'samples_per_second',
              'compile_seconds', 'device'):
    assert key in on_disk
  assert (on_disk['rule'], on_disk['dataset'], on_disk['model']) == ('pem', 'sources', 'antisparse')
  lines = [json.loads(line) for line in (workdir / 'metrics.jsonl').read_text().splitlines()]
  assert [line['round'] for line in lines] == list(range(1, 11))
  assert lines[-1]['msnr_db_per_seed'] == summary.results['msnr_db']
  assert lines[0]['msnr_db'] < lines[-1]['msnr_db']                  # it learns along the pass
  assert 50 < lines[-1]['neural_steps'] < 150          # early stopping: far fewer than 250


def test_one_seed_of_a_batch_equals_the_seed_alone(separated, tmp_path):
  summary = train.train_and_evaluate(bss.get_config('rule=pem,samples=30000,seeds=1'), str(tmp_path))
  assert summary.mean('msnr_db') == pytest.approx(separated('pem')[0].results['msnr_db'][0], abs=1e-3)


def _one_pass(rule_cls, config, lane_group):
  """The seeds' training metrics and evaluation after one pass as one round, through the task's Run."""
  config.num_rounds = 1
  task = tasks.get('separation')
  run = task.start(config, rule_cls, train.seed_keys(range(config.num_seeds), task), lane_group)
  states = run.init()
  run.compile(states)
  states, metrics = run.train_round(states, 1)
  return {**metrics, **run.evaluate(states)[0]}


@pytest.mark.parametrize('name, domain, num_seeds, lane_group', [
    ('pem', 'antisparse', 3, 16),     # 3 seeds padded to 8 lanes
    ('u-pem', 'sparse', 3, 16),
    ('pem', 'antisparse', 11, 8),     # two groups: 8 seeds, then 3 padded with copies
    ('corinfomax-pem', 'nonnegative_sparse', 3, 16),
])
def test_seeds_as_lanes_equal_seeds_vmapped(name, domain, num_seeds, lane_group):
  """The seeds_last programs compute what vmap over seeds does, in one group of lanes or several."""
  config = bss.get_config(f'rule={name},domain={domain},samples=3000,seeds={num_seeds}')
  rule_cls = registry.get(name)
  assert rule_cls.seeds_last
  vmapped = type(name, (rule_cls,), dict(seeds_last=False))
  results = [_one_pass(r, config, lane_group) for r in (rule_cls, vmapped)]
  assert float(np.min(results[0]['msnr_db'])) > 5                       # it learned something
  assert results[0]['msnr_db'].shape == (num_seeds,)
  for metric, value in results[0].items():
    np.testing.assert_allclose(value, results[1][metric], rtol=1e-4, atol=1e-4, err_msg=metric)


@pytest.mark.parametrize('k', [(), (3,)])
def test_lanes_helpers_match_numpy(k):
  a, b, v, u = (np.asarray(jax.random.normal(jax.random.key(i), shape))
                for i, shape in enumerate([(4, 4, *k), (4, 6, *k), (6, *k), (4, *k)]))
  for i in np.ndindex(*k):
    at = lambda x: x[(...,) + i]
    np.testing.assert_allclose(at(ll.lanes.diagonal(a)), np.diag(at(a)), rtol=1e-6)
    np.testing.assert_allclose(at(ll.lanes.diag(u)), np.diag(at(u)), rtol=1e-6)
    np.testing.assert_allclose(at(ll.lanes.matvec(b, v)), at(b) @ at(v), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(at(ll.lanes.outer(u, v)), np.outer(at(u), at(v)), rtol=1e-6)
    np.testing.assert_allclose(at(np.broadcast_to(ll.lanes.eye(4, a), a.shape)), np.eye(4))
  padded = ll.lanes.pad(jnp.arange(6.0).reshape(2, 3), 8)
  np.testing.assert_array_equal(padded, [[0, 1, 2, 2, 2, 2, 2, 2], [3, 4, 5, 5, 5, 5, 5, 5]])
  assert [ll.lanes.padded(k) for k in (1, 3, 8, 30)] == [1, 8, 8, 32]


def test_nan_is_recorded_as_diverged(tmp_path):
  config = bss.get_config('rule=pem,samples=2000,seeds=2')
  config.rule.lr = 1e30
  summary = train.train_and_evaluate(config, str(tmp_path))
  assert summary.status == 'diverged' and summary.diverged_seeds == [0, 1]
  assert summary.mean('msnr_db') is None

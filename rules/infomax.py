"""Extended Infomax ICA (Bell & Sejnowski 1995; Lee, Girolami & Sejnowski 1999) as
MNE-Python runs it: the ICA baseline of the PEM paper.

The PEM reference fits mne.preprocessing.ICA(n_components=n, method='infomax',
fit_params=dict(extended=True, n_subgauss=n, l_rate=1e-3, max_iter=10000),
random_state=1) to all samples and scores its sources (src/bss/ica_utils.py:3-44).
MNE centres the mixtures and whitens them onto their n leading principal
components, Z (N, n) (ll.separation.whiten), and runs mne.preprocessing.infomax
(infomax_.py), written out here in JAX so that a cell's seeds run as one
vmapped program. From V = I, bias 0, every component's sign -1 (sub-Gaussian):

  a pass visits the samples in a random order, in blocks of b = floor(sqrt(N / 3)):
    u = Z_b V + bias,  V += l_rate V (b I - u^T tanh(u) diag(signs) - u^T u),
    bias -= 2 l_rate sum_b tanh(u);
  every ext_blocks blocks (first 1) the signs are re-estimated: the Fisher kurtosis
  of Z V at kurt_size random samples, averaged with the previous estimate k,
  signs = sign(k + 0.02); after 25 estimates without a change ext_blocks doubles.
  After a pass, dV its change: if the angle between dV and the last kept change
  exceeds 60 degrees, l_rate *= 0.9 and dV is kept; it stops after more than 20
  passes without that, once ||dV||^2 < 1e-12, or after max_iter passes; a change
  above 1e4 halves l_rate; a weight above 1e8 restarts from V = I with l_rate * 0.9.

The unmixing matrix is V^T K, K the whitening (n, m); its outputs are scored
centred (zero_mean_outputs), as MNE's sources are zero-mean. One train_step
runs the passes until it stops (config `iterations`: more steps do nothing).
Differences from MNE: float32, and the random numbers; a pass visits the samples
in the order i -> (a i + c) mod N, a a random unit modulo N and c random, where
MNE draws a permutation: sorting N random keys every pass cost more on a CPU than
the pass itself, and for samples drawn independently in time, as the separation
task's, each block is as random a draw. A test checks it reaches MNE's unmixing.
"""
import functools
import math

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

import local_learning as ll

# MNE's constants (mne/preprocessing/infomax_.py: infomax's defaults and body)
ANNEAL_DEG, ANNEAL_STEP, W_CHANGE, N_SMALL_ANGLE = 60.0, 0.9, 1e-12, 20
BLOWUP, BLOWUP_FAC, MAX_WEIGHT, RESTART_FAC, MIN_L_RATE = 1e4, 0.5, 1e8, 0.9, 1e-10
EXT_MOMENTUM, SIGNS_BIAS, SIGNCOUNT_THRESHOLD, SIGNCOUNT_STEP = 0.5, 0.02, 25, 2
SIGN_KEYS = ('signs', 'old_kurt', 'old_signs', 'sign_count', 'ext_blocks', 'blocks')   # updated per block


@ll.register
class Infomax(ll.SeparationRule):
  """Extended Infomax: a natural-gradient ICA with per-component sub/super-Gaussian signs."""
  name = 'infomax'
  family = 'separation'
  description = "extended Infomax ICA as MNE runs it (batch; the PEM paper's ICA baseline)"
  online = False
  zero_mean_outputs = True

  @classmethod
  def default_config(cls):
    return ml_collections.ConfigDict(dict(
        iterations=1,           # train_steps; the first runs Infomax until it stops
        l_rate=1e-3,            # the PEM reference's arguments (src/bss/ica_utils.py)
        max_iter=10000,         # passes
        n_subgauss=-1,          # components that start sub-Gaussian; -1: all (the reference's n)
        kurt_size=6000,         # samples of each kurtosis estimate (MNE's default)
    ))

  @classmethod
  def search_space(cls):
    """Our choice: a decade around the PEM reference's l_rate 1e-3 (src/bss/ica_utils.py)."""
    return {'l_rate': ll.space.LogUniform(1e-4, 1e-2)}

  def __init__(self, model, config, num_steps):
    super().__init__(model, config, num_steps)
    c = config
    if not (c.iterations >= 1 and c.l_rate > 0 and c.max_iter >= 1 and -1 <= c.n_subgauss <= model.n
            and c.kurt_size >= 2):
      raise ll.UserError(f'infomax needs iterations, max_iter >= 1, l_rate > 0, kurt_size >= 2 and '
                         f'-1 <= n_subgauss <= {model.n}')
    sub = model.n if c.n_subgauss < 0 else c.n_subgauss
    self.start_signs = jnp.where(jnp.arange(model.n) < sub, -1.0, 1.0)

  def init(self, rng):
    del rng
    n, m = self.model.n, self.model.m
    eye = jnp.eye(n)
    return dict(V=eye, bias=jnp.zeros(n), K=jnp.zeros((n, m)), l_rate=jnp.float32(self.config.l_rate),
                signs=self.start_signs, old_kurt=jnp.zeros(n), old_signs=jnp.zeros(n),
                sign_count=jnp.int32(0), ext_blocks=jnp.int32(1), blocks=jnp.int32(0),
                step=jnp.int32(0), max_iter=jnp.int32(self.config.max_iter), small_angles=jnp.int32(0),
                old_V=eye, old_delta=jnp.zeros((n, n)), old_change=jnp.float32(0), passes=jnp.int32(0))

  def train_step(self, state, batch, rng):
    z, k = ll.separation.whiten(batch, self.model.n)
    state = jax.lax.while_loop(lambda s: s['step'] < s['max_iter'],
                               lambda s: self.end_pass(self.run_pass(s, z, rng)), dict(state, K=k))
    return state, dict(passes=state['passes'], l_rate=state['l_rate'])

  def params(self, state):
    return state['V'].T @ state['K']

  def run_pass(self, state, z, rng):
    """One pass over the blocks of z (N, n) -> (state, blown: a weight rose above MAX_WEIGHT)."""
    samples, n = z.shape
    size = int(math.floor(math.sqrt(samples / 3.0)))
    key = jax.random.fold_in(rng, state['passes'])
    k_unit, k_start, k_kurt = jax.random.split(key, 3)
    # a i mod N visits every i once; in int32, for N up to about 3 million
    units = np.flatnonzero(np.gcd(np.arange(samples), samples) == 1)
    a = jnp.asarray(units)[jax.random.randint(k_unit, (), 0, len(units))]
    kurtosis = _computed_where_any(functools.partial(_kurtosis, size=self.config.kurt_size))
    l_rate, eye = state['l_rate'], size * jnp.eye(n)

    def block(carry, j):
      v, bias, signs, start, blown = carry
      u = z[(start + a * jnp.arange(size)) % samples] @ v + bias
      y = jnp.tanh(u)
      v = v + l_rate * v @ (eye - u.T @ y * signs['signs'][None] - u.T @ u)
      blown = blown | (jnp.max(jnp.abs(v)) > MAX_WEIGHT)   # the pass goes on, but a restart discards it
      signs = dict(signs, blocks=signs['blocks'] + 1)
      estimate = ~blown & (signs['blocks'] % signs['ext_blocks'] == 0)
      estimated = self.new_signs(signs, kurtosis(estimate, z, v, jax.random.fold_in(k_kurt, j)))
      return (v, bias - 2 * l_rate * jnp.sum(y, axis=0), _where(estimate, estimated, signs),
              (start + a * size % samples) % samples, blown), None

    start = jax.random.randint(k_start, (), 0, samples)
    carry = (state['V'], state['bias'], {k: state[k] for k in SIGN_KEYS}, start, jnp.bool_(False))
    (v, bias, signs, _, blown), _ = jax.lax.scan(block, carry, jnp.arange(samples // size))
    return dict(state, V=v, bias=bias, **signs, passes=state['passes'] + 1), blown

  def new_signs(self, s, kurt):
    """The SIGN_KEYS after a kurtosis estimate (n,): the signs, and when to estimate next (ext_blocks)."""
    kurt = EXT_MOMENTUM * s['old_kurt'] + (1 - EXT_MOMENTUM) * kurt
    signs = jnp.sign(kurt + SIGNS_BIAS)
    count = jnp.where(jnp.all(signs == s['old_signs']), s['sign_count'] + 1, 0)
    double = count >= SIGNCOUNT_THRESHOLD
    return dict(s, old_kurt=kurt, signs=signs, old_signs=signs, sign_count=jnp.where(double, 0, count),
                ext_blocks=jnp.where(double, s['ext_blocks'] * SIGNCOUNT_STEP, s['ext_blocks']))

  def end_pass(self, state_blown):
    """After a pass: anneal, stop, or restart after a blow-up, as MNE does."""
    s, blown = state_blown
    delta = s['V'] - s['old_V']
    change = jnp.sum(delta * delta)
    step = s['step'] + 1
    cosine = jnp.sum(delta * s['old_delta']) / jnp.sqrt(change * s['old_change'])
    angle = jnp.where(step > 2, jnp.degrees(jnp.arccos(jnp.clip(cosine, -1, 1))), 0.0)
    anneal = angle > ANNEAL_DEG                              # False where the angle is NaN, as in MNE
    keep = anneal | (step == 1)
    small_angles = jnp.where(anneal, 0, s['small_angles'] + 1)
    max_iter = jnp.where(~anneal & (small_angles > N_SMALL_ANGLE), step, s['max_iter'])
    l_rate = jnp.where(anneal, s['l_rate'] * ANNEAL_STEP, s['l_rate'])
    converged = (step > 2) & (change < W_CHANGE)
    l_rate = jnp.where(~converged & (change > BLOWUP), l_rate * BLOWUP_FAC, l_rate)
    passed = dict(s, step=jnp.where(converged, max_iter, step), max_iter=max_iter, l_rate=l_rate,
                  small_angles=small_angles, old_V=s['V'], old_delta=jnp.where(keep, delta, s['old_delta']),
                  old_change=jnp.where(keep, change, s['old_change']))
    return _where(blown, self.restart(s), passed)

  def restart(self, s):
    """From V = I with a lower l_rate; below MIN_L_RATE it gives up with V = NaN (diverged)."""
    n, l_rate = self.model.n, s['l_rate'] * RESTART_FAC
    failed = l_rate <= MIN_L_RATE
    return dict(s, V=jnp.where(failed, jnp.nan, jnp.eye(n)), old_V=jnp.eye(n), bias=jnp.zeros(n),
                old_delta=jnp.zeros((n, n)), l_rate=l_rate, step=jnp.where(failed, s['max_iter'], 0),
                blocks=jnp.int32(1), ext_blocks=jnp.int32(1), signs=self.start_signs, old_signs=jnp.zeros(n))


def _kurtosis(z, v, key, size):
  """The Fisher kurtosis (n,) of the outputs z[r] V at `size` random samples r of z (N, n),
  or at all samples if there are no more than `size`."""
  sample = z if size >= len(z) else z[jax.random.randint(key, (size,), 0, len(z) - 1)]   # MNE: floor(U (N - 1))
  u = sample @ v
  u = u - jnp.mean(u, axis=0)
  m2 = jnp.mean(u * u, axis=0)
  return jnp.mean(u ** 4, axis=0) / (m2 * m2) - 3


def _computed_where_any(fn):
  """f(needed, *args): fn(*args) where `needed` (else zeros). Vmapped, fn runs for every seed
  in the steps where any seed needs it; a vmapped lax.cond would run it in every step."""

  def skipped(*args):
    return jax.tree.map(jnp.zeros_like, jax.eval_shape(fn, *args))

  @jax.custom_batching.custom_vmap
  def f(needed, *args):
    return jax.lax.cond(needed, fn, skipped, *args)

  @f.def_vmap
  def f_vmapped(axis_size, in_batched, needed, *args):
    needed, *args = (x if batched else jnp.broadcast_to(x, (axis_size, *x.shape))
                     for x, batched in zip((needed, *args), in_batched))
    return jax.lax.cond(jnp.any(needed), jax.vmap(fn), jax.vmap(skipped), *args), True

  return f


def _where(condition, a, b):
  """The dict a where the scalar condition holds, else b, leaf by leaf."""
  return jax.tree.map(lambda x, y: jnp.where(condition, x, y), a, b)

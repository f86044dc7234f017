"""Synthetic blind-source-separation data: sources S, Gaussian mixing A, noisy mixtures X.

The protocol of the PEM / CorInfoMax papers. Every source starts as a uniform
u on [0, 1], drawn by `source_model`:
  copula   a Student-t copula with 4 degrees of freedom and equicorrelation
           rho: every pair is correlated by about rho, and even at rho = 0 the
           sources are dependent through the copula's shared chi-square scale
           (the PEM reference's correlation experiments, bss_utils.py:46-71);
  uniform  independent uniforms, rho must be 0 (its noise experiments, bss_utils.py:27-37).
The domain maps u, with the PEM reference's ranges (Simulations/PredictiveBSS/
*_Correlated_*.py:132, *_Noisy_Sparse:104-105, *_Noisy_NNSparse:102-104, *_Noisy_Simplex:74-75):
  antisparse              2u - 1, in [-1, 1]
  nonnegative_antisparse  u, in [0, 1]
  sparse                  8u - 4 (U[-4, 4]) projected onto the unit l1 ball
  nonnegative_sparse      4u - 2 (U[-2, 2]) projected onto the unit l1 ball, clipped at 0
  simplex                 8u - 4 projected onto the unit simplex
A (m, n) is standard Gaussian; each mixture gets white Gaussian noise snr_db
below its own power. Everything is a pure function of a key (vmappable over seeds).
"""
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from jax import lax

from local_learning.errors import UserError

COPULA_DOF = 4
DOMAINS = ('antisparse', 'nonnegative_antisparse', 'sparse', 'nonnegative_sparse', 'simplex')
NONNEGATIVE_DOMAINS = ('nonnegative_antisparse', 'nonnegative_sparse', 'simplex')
SOURCE_MODELS = ('copula', 'uniform')


def default_config():
  """The dataset section of a separation config."""
  return ml_collections.ConfigDict(dict(
      name='sources', domain='antisparse', source_model='copula', n=5, m=10, rho=0.0, snr_db=30.0,
      samples=100000))


def check_domain(domain):
  """A UserError unless `domain` is a known source domain."""
  for problem in _domain_problems(domain):
    raise UserError(problem)


def _domain_problems(domain):
  return [] if domain in DOMAINS else [f'unknown domain {domain!r}; known domains: {", ".join(DOMAINS)}']


def problems(config):
  """Every way config fails to describe a valid problem, one line each."""
  out = _domain_problems(config.domain)
  if not 1 <= config.n <= config.m:
    out.append(f'sources need 1 <= n <= m (n sources, m mixtures), got n={config.n}, m={config.m}')
  if config.source_model not in SOURCE_MODELS:
    out.append(f'unknown source_model {config.source_model!r}; known: {", ".join(SOURCE_MODELS)}')
  if not 0 <= config.rho < 1:
    out.append(f'correlation rho must be in [0, 1), got {config.rho}')
  elif config.rho and config.source_model == 'uniform':
    out.append(f'independent uniform sources have rho = 0, got rho={config.rho}; use source_model=copula')
  if config.samples < 2:
    out.append(f'samples must be at least 2, got {config.samples}')
  if not np.isfinite(config.snr_db):
    out.append(f'snr_db must be a finite number of dB, got {config.snr_db}')
  return out


def generate(key, config):
  """-> sources S (N, n), mixing A (m, n), mixtures X (N, m), float32.

  Computed transposed, the samples on the fast axis: rows of 5 or 10 numbers do
  not vectorise.
  """
  n, m, samples = config.n, config.m, config.samples
  k_samples, k_a = jax.random.split(key)
  width = n + 1 + COPULA_DOF + m      # columns: sources, the copula's shared normal and chi-square, noise
  source, shared, chi, noise = np.split(np.arange(width), np.cumsum([n, 1, COPULA_DOF]))
  columns = lambda c: normal_columns(k_samples, samples, width, c)
  if config.source_model == 'uniform':
    u = uniform_columns(k_samples, samples, width, source)
  else:
    u = copula_uniforms(columns(source), columns(shared), columns(chi), config.rho, axis=0)
  s = _DOMAIN_MAPS[config.domain](u.T)
  a = jax.random.normal(k_a, (m, n))
  clean = a @ s.T
  noise_std = jnp.sqrt(jnp.mean(jnp.square(clean), axis=1, keepdims=True) * 10 ** (-config.snr_db / 10))
  return s, a, (clean + noise_std * columns(noise)).T


def normal_columns(key, rows, width, columns):
  """jax.random.normal(key, (rows, width))[:, columns].T for a threefry key: (len(columns), rows)
  float32, bit for bit (rows * width < 2**32).

  jax.random hashes on CPU in a rolled loop, 5 passes over the whole array; the
  same hash unrolled (_threefry_bits) fuses with the transform and its consumers.
  """
  floats = uniform_columns(key, rows, width, columns)
  lo, hi = np.nextafter(np.float32(-1), np.float32(0)), np.float32(1)
  return np.float32(np.sqrt(2)) * lax.erf_inv(jnp.maximum(lo, floats * (hi - lo) + lo))


def uniform_columns(key, rows, width, columns):
  """jax.random.uniform(key, (rows, width))[:, columns].T, [0, 1) float32, bit for bit;
  see normal_columns (the same bits make its normals)."""
  index = np.asarray(columns, np.uint32)[:, None] + np.uint32(width) * lax.iota(jnp.uint32, rows)
  bits = _threefry_bits(jax.random.key_data(key), index)
  return lax.bitcast_convert_type(bits >> 9 | np.uint32(0x3F800000), jnp.float32) - 1


def _threefry_bits(key, index):
  """Bits (uint32) of jax.random.bits(key, shape) at row-major indices index (< 2**32) of
  shape, for key data (2,): Threefry-2x32 (20 rounds) of the counters (0, index), words xor-ed."""
  rotations = ((13, 15, 26, 6), (17, 29, 16, 24))
  k = (key[0], key[1], key[0] ^ key[1] ^ np.uint32(0x1BD11BDA))
  x0 = jnp.zeros_like(index) + k[0]
  x1 = index + k[1]
  for block in range(5):
    for r in rotations[block % 2]:
      x0 = x0 + x1
      x1 = x0 ^ (x1 << np.uint32(r) | x1 >> np.uint32(32 - r))
    x0, x1 = x0 + k[(block + 1) % 3], x1 + k[(block + 2) % 3] + np.uint32(block + 1)
  return x0 ^ x1


def copula_uniforms(g_source, g_shared, g_chi, rho, axis=-1):
  """Uniforms (N, n) on [0, 1]: a t copula (4 dof) with equicorrelation rho.

  From standard normals g_source (N, n), g_shared (N, 1), g_chi (N, 4); with
  axis=0 all four transposed, variables on the first axis.
  """
  z = jnp.sqrt(1 - rho) * g_source + jnp.sqrt(rho) * g_shared      # N(0, (1 - rho) I + rho 11^T)
  t = z * jnp.sqrt(COPULA_DOF / jnp.sum(jnp.square(g_chi), axis=axis, keepdims=True))
  x = t / jnp.sqrt(t * t + COPULA_DOF)
  return jnp.clip(0.5 + 0.75 * x - 0.25 * x ** 3, 0.0, 1.0)    # the CDF of t with 4 dof


def project_l1_ball(v):
  """Euclidean projection of each row of v onto {y: ||y||_1 <= 1}."""
  a = jnp.abs(v)
  u = -jnp.sort(-a, axis=-1)
  c = jnp.cumsum(u, axis=-1)
  r = jnp.sum(u > (c - 1) / jnp.arange(1, v.shape[-1] + 1), axis=-1, keepdims=True)
  theta = jnp.maximum((jnp.take_along_axis(c, r - 1, axis=-1) - 1) / r, 0.0)
  return jnp.sign(v) * jnp.maximum(a - theta, 0.0)


def project_simplex(v):
  """Euclidean projection of each row of v onto {y >= 0: sum(y) = 1}."""
  u = -jnp.sort(-v, axis=-1)
  c = jnp.cumsum(u, axis=-1) - 1
  r = jnp.sum(u > c / jnp.arange(1, v.shape[-1] + 1), axis=-1, keepdims=True)
  return jnp.maximum(v - jnp.take_along_axis(c, r - 1, axis=-1) / r, 0.0)


_DOMAIN_MAPS = {
    'antisparse': lambda u: 2 * u - 1,
    'nonnegative_antisparse': lambda u: u,
    'sparse': lambda u: project_l1_ball(8 * u - 4),
    'nonnegative_sparse': lambda u: jnp.maximum(project_l1_ball(4 * u - 2), 0.0),
    'simplex': lambda u: project_simplex(8 * u - 4),
}

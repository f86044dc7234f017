"""Blind source separation: the source domains, the problem a rule is bound to, the metrics.

The trainer grades every separation rule the same way, on the feedforward
outputs Y = W X: each source is matched to the output with the largest
|cosine|, the output's sign and scale are fixed by least squares, and then
  SINR = 10 log10(||S||^2 / ||S - Y||^2)      over all sources together,
  SNR_i = 10 log10(||s_i||^2 / ||s_i - y_i||^2) per source, mSNR = mean_i SNR_i.
"""
import dataclasses

import jax.numpy as jnp

from local_learning.errors import UserError

DOMAINS = ('antisparse', 'nonnegative_antisparse', 'sparse', 'nonnegative_sparse', 'simplex')


@dataclasses.dataclass(frozen=True)
class SeparationModel:
  """What a separation rule is bound to: n sources, m mixtures, the sources' domain."""
  n: int
  m: int
  domain: str


def check_domain(domain):
  if domain not in DOMAINS:
    raise UserError(f'unknown domain {domain!r}; known domains: {", ".join(DOMAINS)}')


def evaluate(outputs, sources):
  """outputs Y (n, N), sources S (n, N), one signal per row -> dict(sinr_db, msnr_db, snr_db (n,)).

  Invariant to a permutation, signs and scales of the outputs; +inf on exact recovery.
  """
  power = jnp.sum(jnp.square(sources), axis=1)
  output_power = jnp.sum(jnp.square(outputs), axis=1)
  cross = sources @ outputs.T                                              # (n, n)
  matched = jnp.argmax(jnp.abs(cross) / jnp.sqrt(output_power), axis=1)   # the largest |cosine|
  scale = jnp.take_along_axis(cross, matched[:, None], axis=1)[:, 0] / output_power[matched]
  error = jnp.sum(jnp.square(sources - scale[:, None] * outputs[matched]), axis=1)
  snr = 10 * jnp.log10(power / error)
  return dict(sinr_db=10 * jnp.log10(jnp.sum(power) / jnp.sum(error)), msnr_db=jnp.mean(snr),
              snr_db=snr)

"""Seeds as SIMD lanes: array helpers for rules whose arrays may carry a trailing seeds axis.

A rule with `seeds_last = True` (see ll.Rule) writes its step once, for arrays
shaped (n, m, *K): K is absent for one seed and (K,) when the trainer steps K
seeds together as lanes. These helpers broadcast over that trailing axis, so
the same code serves both. Vectors are (n, *K), matrices (n, m, *K).
"""
import jax
import jax.numpy as jnp

LANES = 8   # seeds are padded to a multiple of this: one SIMD register of float32


def padded(k):
  """The lane count for k seeds: k itself for one seed, else the next multiple of LANES."""
  return k if k == 1 else k + -k % LANES


def pad(x, k, axis=-1):
  """x with its `axis` (of length <= k) extended to k by copies of its last entry."""
  extra = k - x.shape[axis]
  if not extra:
    return x
  last = jax.lax.slice_in_dim(x, x.shape[axis] - 1, x.shape[axis], axis=axis)
  return jnp.concatenate([x, jnp.repeat(last, extra, axis=axis)], axis=axis)


def eye(n, like):
  """The identity (n, n, 1, ...) with as many trailing axes as `like` has beyond its first two."""
  return jnp.eye(n, dtype=like.dtype).reshape((n, n) + (1,) * (like.ndim - 2))


def diagonal(a):
  """a (n, n, *K) -> its diagonal (n, *K)."""
  return jnp.sum(a * eye(a.shape[0], a), axis=1)


def diag(v):
  """v (n, *K) -> the diagonal matrix (n, n, *K)."""
  return eye(v.shape[0], v[:, None]) * v[None]


def matvec(a, v):
  """a (n, k, *K) times v (k, *K) -> (n, *K), as a fused sum of products."""
  return jnp.sum(a * v[None], axis=1)


def outer(u, v):
  """u (n, *K), v (m, *K) -> (n, m, *K)."""
  return u[:, None] * v[None]


def sum_squares(v):
  """v (n, *K) -> sum over the first axis of v^2, (*K)."""
  return jnp.sum(jnp.square(v), axis=0)

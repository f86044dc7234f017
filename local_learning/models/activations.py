"""Activation functions by name."""
import functools

import jax
import jax.numpy as jnp

from local_learning.errors import UserError

ACTIVATIONS = {
    'relu': jax.nn.relu,
    'gelu': jax.nn.gelu,               # jax's default: the tanh approximation (PCX's, a JAX library)
    'gelu_exact': functools.partial(jax.nn.gelu, approximate=False),   # the erf form: torch.nn.GELU's default
    'tanh': jnp.tanh,
    'sigmoid': jax.nn.sigmoid,
    'silu': jax.nn.silu,
    'leaky_relu': jax.nn.leaky_relu,
    'hard_tanh': jax.nn.hard_tanh,
    'hard_sigmoid': lambda x: jnp.clip(x, 0.0, 1.0),   # equilibrium propagation's (Scellier & Bengio 2017)
    'linear': lambda x: x,
}


def get(name):
  try:
    return ACTIVATIONS[name]
  except KeyError:
    raise UserError(f'unknown activation {name!r}; choose one of {", ".join(sorted(ACTIVATIONS))}') from None

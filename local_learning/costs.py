"""What a train step costs: its matrix-product FLOPs, counted from its jaxpr, and a program's memory.

XLA's own cost analysis counts the body of a loop once, whatever its trip
count (PC's inference loop is T steps); here every dot product and
convolution is counted, a `scan` body as many times as the scan runs and a
`cond` by its costlier branch. A `while` loop's trip count is not known when
tracing (early-stopped dynamics), so a step with one has no count (None).
Elementwise work and biases are left out: these are the FLOPs of the matrix
products, 2 per multiply-add.
"""
import math
from typing import Any

import jax
import jax.extend.core

_SKIP: Any = object()     # a count that cannot be known (a while loop with matrix products)


def matmul_flops(fn, *args):
  """Matrix-product FLOPs of one call fn(*args), or None where a while loop hides its trip count."""
  return jaxpr_matmul_flops(jax.make_jaxpr(fn)(*args))


def jaxpr_matmul_flops(closed_jaxpr: jax.extend.core.ClosedJaxpr) -> int | None:
  """matmul_flops of a traced call."""
  count = _count(closed_jaxpr.jaxpr)
  return None if count is _SKIP else count


def memory_bytes(compiled):
  """Bytes a compiled program allocates besides its inputs, per XLA's memory analysis: its
  temporaries (activations, gradients, optimizer updates) and outputs (the new state). The inputs,
  the same for every rule of a table column (the training data, the state), are left out."""
  stats = compiled.memory_analysis()
  if stats is None:
    return None
  return int(stats.temp_size_in_bytes + stats.output_size_in_bytes - stats.alias_size_in_bytes)


def _count(jaxpr):
  total = 0
  for eqn in jaxpr.eqns:
    name = eqn.primitive.name
    if name == 'dot_general':
      flops = _dot(eqn)
    elif name == 'conv_general_dilated':
      flops = _conv(eqn)
    elif name == 'scan':
      body = _count(eqn.params['jaxpr'].jaxpr)
      flops = body if body is _SKIP else eqn.params['length'] * body
    elif name == 'while':
      flops = _SKIP if _has_products(eqn) else 0
    elif name == 'cond':
      branches = [_count(b.jaxpr) for b in eqn.params['branches']]
      flops = _SKIP if _SKIP in branches else max(branches)
    else:
      inner = [_count(j) for j in _sub_jaxprs(eqn)]
      flops = _SKIP if _SKIP in inner else sum(inner)
    if flops is _SKIP:
      return _SKIP
    total += flops
  return total


def _dot(eqn):
  lhs, rhs = (v.aval.shape for v in eqn.invars)
  (_, rhs_contract), (_, rhs_batch) = eqn.params['dimension_numbers']
  rhs_free = [d for i, d in enumerate(rhs) if i not in rhs_contract and i not in rhs_batch]
  return 2 * math.prod(lhs) * math.prod(rhs_free)


def _conv(eqn):
  kernel = eqn.invars[1].aval.shape
  out = eqn.outvars[0].aval.shape
  out_features = kernel[eqn.params['dimension_numbers'].rhs_spec[0]]
  return 2 * math.prod(out) * math.prod(kernel) // out_features


def _sub_jaxprs(eqn):
  for value in eqn.params.values():
    for item in value if isinstance(value, (tuple, list)) else (value,):
      if isinstance(item, jax.extend.core.ClosedJaxpr):
        yield item.jaxpr
      elif isinstance(item, jax.extend.core.Jaxpr):
        yield item


def _has_products(eqn):
  """Whether a while loop's body does any matrix product (else its cost is elementwise)."""
  return any(_count(j) != 0 for j in _sub_jaxprs(eqn))

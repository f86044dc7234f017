"""Type aliases of the public API: arrays with their shapes (jaxtyping, as JPC writes them), and pytrees.

Shape names: B the batch, C the classes, K the seeds (or a stack's layers), '...' any trailing axes.
"""
from typing import Any, Callable

from jaxtyping import Array, Float, Int, PRNGKeyArray

Params = Any                            # a pytree of arrays: a model's parameters, or a rule's weights
State = dict[str, Any]                  # a rule's state: params, optimizer states, buffers
Scalar = Float[Array, '']
Metrics = dict[str, Scalar]             # scalars, averaged per round by the trainer
Inputs = Float[Array, 'B ...']
Labels = Int[Array, ' B']
Scores = Float[Array, 'B C']
Batch = tuple[Inputs, Labels]           # a classification batch (x, y)
Activities = list[Array]                # one entry per layer: (B, ...), or a stacked (K, B, ...)
PerSample = Float[Array, ' B']
OutputTerm = Callable[[Scores], PerSample]   # the energy's output term: fn(mu_L (B, C)) -> (B,)
Key = PRNGKeyArray

__all__ = ['Activities', 'Array', 'Batch', 'Float', 'Inputs', 'Int', 'Key', 'Labels', 'Metrics', 'OutputTerm',
           'Params', 'PerSample', 'Scalar', 'Scores', 'State']

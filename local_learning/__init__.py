"""local-learning: local learning rules in JAX, one trainer, fair benchmark tables.

The public API, all a rule plugin needs:
  Rule, register        the rule contract and its registration decorator
  UserError             the exception for mistakes a user can fix
  optim                 weight optimizers from a config section
  classification        the classification task's losses
  separation            the separation task: domains, SeparationModel, metrics
  dynamics              neural dynamics of separation networks (relax)
  lanes                 helpers for steps written over a trailing seeds axis (seeds_last)
"""
from local_learning import cpu_flags  # first: XLA reads its flags when JAX starts
from local_learning import dynamics, lanes, optim
from local_learning.errors import UserError
from local_learning.registry import register
from local_learning.rule import Rule
from local_learning.tasks import classification, separation

__all__ = ['Rule', 'UserError', 'classification', 'dynamics', 'lanes', 'optim', 'register', 'separation']

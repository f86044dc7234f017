"""local-learning: local learning rules in JAX, one trainer, fair benchmark tables.

The public API, all a rule plugin needs:
  Rule, GradientRule    the rule contract, and its base for rules that estimate weight gradients
  SeparationRule        the base of separation rules
  register              the registration decorator
  UserError             the exception for mistakes a user can fix
  optim                 weight optimizers from a config section
  pc                    predictive coding's energy, inference and weight gradient, as functions
  losses                the output losses (loss_fn, LOSSES) and correct
  classification        the classification task (its losses re-exported: classification.loss_fn, ...)
  separation            the separation task: domains, SeparationModel, metrics
  dynamics              neural dynamics of separation networks (relax)
  lanes                 helpers for steps written over a trailing seeds axis (seeds_last)
  testing               the conformance kit: check_rule, tiny models and batches
  space                 search-space distributions for a rule's search_space() (LogUniform, Uniform, Int, Choice)

Importing it changes nothing global. The command-line entry points set
XLA:CPU flags that local rules run faster with; in a notebook, call
`local_learning.cpu_flags.apply()` before JAX's first computation to get them.
"""
from local_learning import cpu_flags, dynamics, lanes, losses, optim, pc, space, testing
from local_learning.errors import UserError
from local_learning.registry import register
from local_learning.rule import GradientRule, Rule
from local_learning.tasks import classification, separation
from local_learning.tasks.separation import SeparationRule

__all__ = ['GradientRule', 'Rule', 'SeparationRule', 'UserError', 'classification', 'cpu_flags', 'dynamics',
           'lanes', 'losses', 'optim', 'pc', 'register', 'separation', 'space', 'testing']

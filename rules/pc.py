"""Predictive coding (PC) with feedforward initialisation: local_learning.pc's PCRule as a rule."""
import local_learning as ll


@ll.register
class PC(ll.pc.PCRule):
  """Predictive coding: inference on activities, then a local weight update."""
  name = 'pc'
  description = 'predictive coding: T inference steps on activities, then local weight updates'

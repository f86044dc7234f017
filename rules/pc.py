"""Predictive coding (PC) with feedforward initialisation: local_learning.pc's PCRule as a rule."""
import local_learning as ll


@ll.register
class PC(ll.pc.PCRule):
  """Predictive coding: inference on activities, then a local weight update."""
  name = 'pc'
  family = 'PC family'
  description = 'predictive coding: T inference steps on activities, then local weight updates'

  @classmethod
  def search_space(cls):
    """PC's space as PCX searched it (liukidar/pcx hypertune configs, e.g.
    examples/pc_decoder/pc_mnist_adamw_hypertune.yaml: x.lr log 1e-2..5e-1, x.momentum 0..0.95, w.wd log
    1e-5..1e-2) with ll.GradientRule's weight rate; T 4..12 is our choice around PCX's tuned MNIST MLP values
    (4-8, examples/s4_1_discriminative_mode/hps/MLP/MNIST). beta stays 1 (plain PC)."""
    return {**super().search_space(), 'activity_lr': ll.space.LogUniform(1e-2, 5e-1),
            'activity_momentum': ll.space.Uniform(0.0, 0.95), 'inference_steps': ll.space.Int(4, 12)}

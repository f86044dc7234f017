"""PCX's benchmark MLP and its vmapped forward pass and energy, in pcx 0.6.3's API, for the
scripts that run PCX beside us (pcx_crosscheck.py, pcx_speed.py) in a scratch environment.

From liukidar/pcx (c722834) examples/s4_1_discriminative_mode/models.py's LinearModel: the vodes
hold post-activations, x = vode(act_fn(linear(x))); the output vode is frozen at
u - beta (u - y) after the forward pass.
"""
import jax
import pcx
import pcx.functional as pxf
import pcx.nn as pxnn
import pcx.predictive_coding as pxc
import pcx.utils as pxu


class PCXMLP(pxc.EnergyModule):
  """The MLP sizes[0]-...-sizes[-1]; se: squared-error output energy (else cross-entropy)."""

  def __init__(self, sizes, act_fn, se):
    super().__init__()
    self.act_fn = pcx.static(act_fn)
    self.layers = [pxnn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]
    self.vodes = [pxc.Vode() for _ in sizes[1:-1]] + [pxc.Vode(pxc.se_energy if se else pxc.ce_energy)]
    self.vodes[-1].h.frozen = True

  def __call__(self, x, y, beta=1.0):
    for vode, layer in zip(self.vodes[:-1], self.layers[:-1]):
      x = vode(self.act_fn(layer(x)))
    x = self.vodes[-1](self.layers[-1](x))
    if y is not None:
      self.vodes[-1].set('h', self.vodes[-1].get('u') - beta * (self.vodes[-1].get('u') - y))
    return self.vodes[-1].get('u')


VMAP = pxu.M(pxc.VodeParam | pxc.VodeParam.Cache).to((None, 0))


def free():
  """The hidden vodes' values (a new mask each time: M.to sets the mask it is called on)."""
  return pxu.M(pxc.VodeParam).hasnot(frozen=True)


@pxf.vmap(VMAP, in_axes=(0, 0), out_axes=0)
def forward(x, y, *, model, beta=1.0):
  return model(x, y, beta=beta)


@pxf.vmap(VMAP, in_axes=(0,), out_axes=(None, 0), axis_name='batch')
def energy(x, *, model):
  y_ = model(x, None)
  return jax.lax.pmean(model.energy().sum(), 'batch'), y_


def ipc_step(T, x, y, *, model, optim_w, optim_h, beta=1.0):
  """PCX's iPC.py train_on_batch (pcx 0.6.3's API): a weight step after each of the T activity steps."""
  model.train()
  step = pxf.value_and_grad((free() | pxu.M(pxnn.LayerParam)).to([False, True]), has_aux=True)(energy)
  with pxu.step(model, pxc.STATUS.INIT, clear_params=pxc.VodeParam.Cache):
    forward(x, y, model=model, beta=beta)
  optim_h.init(free()(model))
  for _ in range(T):
    with pxu.step(model, clear_params=pxc.VodeParam.Cache):
      _, g = step(x, model=model)
    optim_h.step(model, g['model'], scale_by=x.shape[0])
    optim_w.step(model, g['model'], scale_by=1 / beta)
  optim_h.clear()

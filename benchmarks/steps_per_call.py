"""How many train steps one compiled call should run: a whole epoch, the trainer's choice, or one.

  .venv/bin/python benchmarks/steps_per_call.py [--steps=20] [--rounds=3] [--models=mlp,vgg] [--rules=bp,pc]

For bp and pc on the MNIST MLP (configs/mnist_mlp.py) and on a VGG (configs/cifar_vgg.py
on MNIST, channels 32-64-64-64), the trainer's epoch program (local_learning/tasks/
classification.py) is compiled three ways and timed on the first --steps steps of an
epoch (the MLP: a whole epoch): all of them in one call of the loop program
(`--config.steps_per_call=N`), the trainer's default (`steps_per_call=0`: calls of about
CALL_SECONDS for the MLP, one step per call for the VGG on CPU), and one step per call
without a loop (`steps_per_call=1`). Prints compile seconds and steps/s (median of
--rounds, rounds alternating); the default must match the better of the other two.
"""
import os
import statistics
import time

import jax
from absl import flags

from local_learning import cli, registry, tasks, train
from local_learning import config as ll_config

CONFIGS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'configs')
flags.DEFINE_integer('steps', 20, 'Steps timed per round for the VGG (the MLP times a whole epoch).')
flags.DEFINE_integer('rounds', 3, 'Timed rounds (median reported).')
flags.DEFINE_list('models', ['mlp', 'vgg'], 'Models to time.')
flags.DEFINE_list('rules', ['bp', 'pc'], 'Rules to time.')
FLAGS = flags.FLAGS


def _config(model, rule):
  if model == 'mlp':
    return ll_config.load_file(os.path.join(CONFIGS, 'mnist_mlp.py'), f'rule={rule}')
  config = ll_config.load_file(os.path.join(CONFIGS, 'cifar_vgg.py'), f'rule={rule},dataset=mnist')
  config.model.channels = (32, 64, 64, 64)
  return config


def _run(model, rule, steps_per_call):
  """(the task's Run, its initial states, compile seconds) for one way of calling."""
  config = _config(model, rule)
  config.steps_per_call = steps_per_call
  task = tasks.get('classification')
  run = task.start(config, registry.get(rule), train.seed_keys([0], task))
  states = run.init()
  return run, states, run.compile(states)


def main(argv):
  del argv
  print(f'device {jax.devices()[0].device_kind}, jax {jax.__version__}; median of {FLAGS.rounds} rounds')
  print('| model | rule | calls | steps timed | compile s | steps/s |')
  print('|---|---|---|---|---|---|')
  for model in FLAGS.models:
    for rule in FLAGS.rules:
      probe = _run(model, rule, 0)[0]
      steps = probe.steps if model == 'mlp' else FLAGS.steps
      ways = {f'{steps} steps per call': steps, 'trainer default': 0, 'one step per call': 1}
      runs = {name: _run(model, rule, value) for name, value in ways.items()}
      times = {name: [] for name in ways}
      for _ in range(FLAGS.rounds + 1):                  # the first round warms up
        for name, (run, states, _) in runs.items():
          start = time.perf_counter()
          jax.block_until_ready(run.train_round(states, 1, steps=steps)[0])
          times[name].append(time.perf_counter() - start)
      for name, (_, _, compile_seconds) in runs.items():
        seconds = statistics.median(times[name][1:])
        print(f'| {model} | {rule} | {name} | {steps} | {compile_seconds:.1f} | {steps / seconds:.3g} |', flush=True)


if __name__ == '__main__':
  cli.run(main)

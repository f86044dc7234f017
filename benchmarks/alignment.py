"""bp_alignment of every registered classification rule on the MNIST MLP after training, as one table.

  .venv/bin/python benchmarks/alignment.py [--epochs=1] [--train_examples=0] [--rules=bp,pc,...]

Each rule trains with its configs/mnist_mlp.py settings (MLP 784-128-128-128-10
GELU, batch 128; ep and ff their own models) for --epochs epochs (the schedule
spans them), with --train_examples training examples (0: all 60000), then the
trainer logs `diagnostics.bp_alignment` on the first training batch
(config.diagnostics.bp_alignment_every): the update the rule's train_step
applies against BP's gradient of the rule's loss at the same weights. Printed:
the overall cosine and norm ratio, the cosine of each kernel (input layer
first), the energy / loss ratio for the PC family, and the test accuracy.
Needs `make mnist` once.
"""
import json
import tempfile

from absl import app, flags

from local_learning import config as ll_config
from local_learning import registry, train

flags.DEFINE_integer('epochs', 1, 'Training epochs before the measurement.')
flags.DEFINE_integer('train_examples', 0, 'Training examples (0: all).')
flags.DEFINE_integer('test_examples', 0, 'Test examples for the accuracy column (0: all).')
flags.DEFINE_list('rules', [], 'Rules, in order (default: every registered classification rule).')
FLAGS = flags.FLAGS


def measure(rule_name):
  """The last metrics.jsonl line of one run, which carries the alignment."""
  config = ll_config.load_file('configs/mnist_mlp.py', f'rule={rule_name}')
  config.num_epochs = FLAGS.epochs
  config.train_examples, config.test_examples = FLAGS.train_examples, FLAGS.test_examples
  config.diagnostics.bp_alignment_every = FLAGS.epochs
  config.checkpoint_every = 0
  with tempfile.TemporaryDirectory() as workdir:
    train.train_and_evaluate(config, workdir)
    with open(f'{workdir}/metrics.jsonl') as f:
      return json.loads(f.read().splitlines()[-1])


def main(argv):
  del argv
  names = FLAGS.rules or [n for n in registry.names() if 'classification' in registry.get(n).tasks]
  print('| rule | cosine | norm ratio | cosine per kernel (input first) | F / L | test acc |')
  print('| --- | --- | --- | --- | --- | --- |')
  for name in names:
    line = measure(name)
    kernels = sorted((k for k in line if k.startswith('bp_cosine/') and k.endswith('kernel')),
                     key=lambda k: int(k.split('/')[2]))
    ratio = _number(line['energy_loss_ratio'], 3) if 'energy_loss_ratio' in line else '-'
    print(f"| {name} | {_number(line['bp_cosine'], 4)} | {_number(line['bp_norm_ratio'], 4)} | "
          f"{', '.join(_number(line[k], 3) for k in kernels)} | {ratio} | {100 * line['test_accuracy']:.2f}% |",
          flush=True)


def _number(value, digits):
  """value to `digits` decimals; None (a NaN in metrics.jsonl: a zero update, e.g. ff's unused output block) 'nan'."""
  return 'nan' if value is None else f'{value:.{digits}f}'


if __name__ == '__main__':
  app.run(main)

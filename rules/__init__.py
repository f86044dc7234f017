"""The built-in rules, installed as `local_learning.rules` and registered
through the `local_learning.rules` entry-point group like any third-party
plugin. They import only the public API of `local_learning`."""

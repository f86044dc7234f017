"""MkDocs hook: a strict build counts its warnings, and shows them, even when run with --quiet.

`mkdocs build --quiet` raises the 'mkdocs' logger to ERROR, so a warning (a broken link, a missing anchor, a
docstring that names a parameter the signature lacks) never reaches the counter of --strict, and the build
passes. Under --strict this hook lowers the logger back to WARNING: INFO stays silent, and each warning is
printed and fails the build.
"""
import logging

from mkdocs.config.defaults import MkDocsConfig


def on_config(config: MkDocsConfig) -> MkDocsConfig:
  """Lowers the 'mkdocs' logger to WARNING in a strict build."""
  logger = logging.getLogger('mkdocs')
  if config.strict and logger.level > logging.WARNING:
    logger.setLevel(logging.WARNING)
  return config

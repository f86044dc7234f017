"""Checks of config values that report every problem as one line, without raising."""


def int_problems(section, fields, low, prefix='config.'):
  """One line for each of `fields` present in `section` that is not an integer >= low."""
  return [f'{prefix}{field} must be an integer >= {low}, got {section[field]!r}'
          for field in fields if field in section and not _int_at_least(section[field], low)]


def _int_at_least(value, low):
  return isinstance(value, int) and not isinstance(value, bool) and value >= low

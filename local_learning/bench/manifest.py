"""A table's provenance manifest: what produced its numbers, without hostnames or user paths."""
import datetime
import os
import re

from local_learning import provenance


def build(table, summaries):
  """The manifest of a table whose finished cells have `summaries` (records.Summary)."""
  rules = {}
  for summary in summaries:
    rule = (summary.provenance or {}).get('rule')
    if rule:
      rules.setdefault(summary.rule, [])
      entry = {k: rule.get(k) for k in ('class', 'module', 'distribution', 'version', 'source_sha256')}
      if entry not in rules[summary.rule]:
        rules[summary.rule].append(entry)
  devices = sorted({(s.device, s.num_devices) for s in summaries})
  return dict(
      table=table.name, date=datetime.date.today().isoformat(), project=provenance.of_project(),
      libraries=provenance.of_libraries(), devices=[dict(kind=k, count=n) for k, n in devices],
      xla_flags=_without_paths(os.environ.get('XLA_FLAGS', '')), rules=rules)


def header(manifest):
  """The one line a table's markdown opens with."""
  project = manifest['project']
  commit = (project['commit'][:10] + (' (dirty)' if project['dirty'] else '')) if project['commit'] else 'unknown'
  libraries = manifest['libraries']
  versions = ', '.join(f'{name} {libraries[name]}' for name in ('jax', 'jaxlib', 'flax', 'optax', 'orbax-checkpoint'))
  devices = ', '.join(f'{d["kind"]} x {d["count"]}' for d in manifest['devices']) or 'none run'
  flags = manifest['xla_flags'] or 'none'
  overrides = ', '.join(f'{k}={v}' for k, v in manifest.get('overrides', {}).items())
  return (f'{manifest["date"]} | local-learning {project["version"]}, commit {commit} | {versions} | '
          f'devices {devices} | XLA_FLAGS {flags} | ' + (f'overrides {overrides} | ' if overrides else '')
          + 'manifest.json')


def _without_paths(text):
  """XLA_FLAGS with any absolute path replaced by <path>."""
  return re.sub(r'(?<=[=,])/[^\s,]*', '<path>', text).strip()

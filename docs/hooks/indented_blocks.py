"""A Griffe extension for the API reference: a docstring's indented blocks are shown as written.

The project's docstrings are prose with aligned, indented lists (a name, then what it is) that Markdown would
run into one paragraph. Each run of lines indented under a prose line becomes a preformatted block, except
under a Google-style section header (`Args:`, `Returns:`, ...), which the docstring parser reads itself.
Loaded by mkdocs.yml (`extensions:` of the python handler); it changes the rendered page, not the code.
"""
import textwrap

import griffe

SECTIONS = {'args', 'arguments', 'params', 'parameters', 'other parameters', 'returns', 'return', 'yields',
            'receives', 'raises', 'exceptions', 'warns', 'warnings', 'attributes', 'functions', 'methods',
            'classes', 'modules', 'type aliases', 'type parameters', 'examples', 'example', 'note', 'notes'}


def _is_section(line: str) -> bool:
  """Whether a line is a Google-style section header such as `Args:`."""
  return line.rstrip().endswith(':') and line.strip()[:-1].strip().lower() in SECTIONS


def preformat(text: str) -> str:
  """The docstring text with each indented block under a prose line fenced as preformatted text."""
  lines = text.split('\n')
  out: list[str] = []
  fence = section = False
  i = 0
  while i < len(lines):
    line = lines[i]
    if line.lstrip().startswith('```'):
      fence = not fence
    elif not fence and line.strip() and not line.startswith(' '):
      section = _is_section(line)
    elif not fence and not section and line.startswith('  ') and line.strip():
      j = i
      while j < len(lines) and (lines[j].startswith('  ') or
                                (not lines[j].strip() and j + 1 < len(lines) and lines[j + 1].startswith('  '))):
        j += 1
      if out and out[-1].strip():
        out.append('')
      out += ['```text', *textwrap.dedent('\n'.join(lines[i:j])).split('\n'), '```']
      if j < len(lines) and lines[j].strip():
        out.append('')
      i = j
      continue
    out.append(line)
    i += 1
  return '\n'.join(out)


class IndentedBlocks(griffe.Extension):
  """Fences the indented blocks of every docstring once the package is loaded."""

  def on_object(self, *, obj: griffe.Object, loader: griffe.GriffeLoader, **kwargs) -> None:
    del loader, kwargs
    if not obj.is_alias and obj.docstring is not None:
      obj.docstring.value = preformat(obj.docstring.value)

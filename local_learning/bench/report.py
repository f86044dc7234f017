"""table.html: one self-contained page with a table's sections and its plots embedded.

A section over the table's cells groups its rows by the rules' family (Rule.family), each family a
<tbody> under its name; a click on a column's header sorts the rows within each family by it (by the
number a cell starts with, else its text; a few lines of inline JS, nothing fetched). Each cell's
text links to its run's folder (CELL/, relative to the page), and the first section's cells also to
its config.json, metrics.jsonl, summary.json and table.log. Stale cells are marked (the legend is in
the section's note). The page needs no network: the plots are inlined as data URIs.
"""
import base64
import html
import os

from local_learning import workdir
from local_learning.bench import plots
from local_learning.bench.progress import LOG

STYLE = ('body{font-family:sans-serif;max-width:1150px;margin:2em auto;color:#222}'
         'table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px solid #bbb;padding:4px 8px;'
         'text-align:left;font-size:14px}th{background:#eee}thead th{cursor:pointer;user-select:none}'
         'thead th:hover{background:#ddd}tr.family th{background:#dfe8f3;font-size:13px}'
         'td a{color:inherit;text-decoration:none}td a:hover{text-decoration:underline}'
         'span.files{font-size:11px;margin-left:6px}span.files a{color:#36c}'
         'td.stale{color:#a55a00;background:#fff5e6}p.note{color:#555;font-size:13px}'
         'img{max-width:100%;margin:4px 0}.header{font-size:12px;color:#666}')
FILES = (('config.json', 'config'), ('metrics.jsonl', 'metrics'), ('summary.json', 'summary'), (LOG, 'log'))
# Sorts a table's rows within each <tbody> by the clicked column; again: the other way.
SCRIPT = '''function key(row, i) {
  const text = row.cells[i] ? row.cells[i].textContent.trim() : '';
  const number = parseFloat(text.replace(/^[^0-9+.-]*/, ''));
  return isNaN(number) ? text : number;
}
function sortBy(th) {
  const table = th.closest('table'), i = th.cellIndex, way = th.dataset.way = th.dataset.way === '1' ? '-1' : '1';
  const order = (a, b) => a === '' ? 1 : b === '' ? -1 : typeof a === typeof b ?
      (typeof a === 'number' ? a - b : a.localeCompare(b)) * way : (typeof a === 'number' ? -1 : 1);
  for (const body of table.tBodies) {
    const rows = [...body.rows].filter(r => !r.classList.contains('family'));
    rows.sort((a, b) => order(key(a, i), key(b, i))).forEach(r => body.appendChild(r));
  }
}'''


def write_html(path, name, description, header, sections, images, lead_images=()):
  """Writes the page: the title, the description, the manifest line, each render.Section as a
  table, and the PNG files `images` inlined as data URIs (`lead_images` right after the first section)."""
  parts = [f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(name)}</title>'
           f'<style>{STYLE}</style><script>{SCRIPT}</script></head><body>', f'<h1>{html.escape(name)}</h1>']
  if description:
    parts.append(f'<p>{html.escape(description)}</p>')
  parts.append(f'<p class="header">{html.escape(header)}</p>')
  parts.append('<p class="note">Rows are grouped by the rule\'s family; click a column\'s header to sort within '
               'each family (again: the other way). A cell links to its run\'s folder.</p>')
  for i, section in enumerate(sections):
    if section.title:
      parts.append(f'<h2>{html.escape(section.title)}</h2>')
    if section.note:
      parts.append(f'<p class="note">{html.escape(section.note)}</p>')
    parts.append(_table(section, first=i == 0))
    if i == 0:
      parts += [_image(image) for image in lead_images]
  if images:
    parts.append('<h2>Plots</h2>')
  parts += [_image(image) for image in images]
  parts.append('</body></html>')
  workdir.write_atomic(path, '\n'.join(parts))


def _image(path):
  """An <img> of the PNG file at path, inlined."""
  with open(path, 'rb') as f:
    data = base64.b64encode(f.read()).decode()
  return f'<img alt="{html.escape(os.path.basename(path))}" src="data:image/png;base64,{data}">'


def _table(section, first=False):
  """A section as a sortable table: a <tbody> per family where it has results, else one. Rows without
  a value are left out but in the first section (the results), whose cells also link to their files."""
  head = ''.join(f'<th onclick="sortBy(this)" title="sort">{html.escape(c)}</th>' for c in ['rule', *section.columns])
  if section.results is None:
    body = ''.join(f'<tr><th>{html.escape(label)}</th>' + ''.join(f'<td>{html.escape(c)}</td>' for c in cells)
                   + '</tr>' for label, cells in section.rows)
    return f'<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
  groups = {}
  for (label, cells), results in zip(section.rows, section.results):
    if not (first or any(cells)):
      continue
    family = next((r.family for r in results if r is not None), 'other')
    row = f'<tr><th>{html.escape(label)}</th>' + ''.join(_cell(t, r, first) for t, r in zip(cells, results)) + '</tr>'
    groups.setdefault(family, []).append(row)
  bodies = ''.join(f'<tbody><tr class="family"><th colspan="{len(section.columns) + 1}">{html.escape(family)}</th>'
                   f'</tr>{"".join(rows)}</tbody>' for family, rows in sorted(groups.items(),
                                                                           key=lambda g: plots.family_order(g[0])))
  return f'<table><thead><tr>{head}</tr></thead>{bodies}</table>'


def _cell(text, result, files):
  """A <td>: the text linked to the cell's folder (and, with files, to its run's files)."""
  if result is None or not text:
    return f'<td>{html.escape(text)}</td>'
  folder = result.cell.id
  inner = f'<a href="{html.escape(folder)}/" title="{html.escape(folder)}">{html.escape(text)}</a>'
  if files and result.summary is not None:
    links = ' '.join(f'<a href="{html.escape(folder)}/{name}">{label}</a>' for name, label in FILES)
    inner += f'<span class="files">{links}</span>'
  return f'<td class="stale">{inner}</td>' if result.stale else f'<td>{inner}</td>'

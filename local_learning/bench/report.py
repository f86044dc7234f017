"""table.html: one self-contained page with a table's sections and its plots embedded."""
import base64
import html
import os

from local_learning import workdir

STYLE = ('body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}'
         'table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px solid #bbb;padding:4px 8px;'
         'text-align:left;font-size:14px}th{background:#eee}p.note{color:#555;font-size:13px}'
         'img{max-width:48%;margin:4px}.header{font-size:12px;color:#666}')


def write_html(path, name, description, header, sections, images):
  """Writes the page: the title, the description, the manifest line, each render.Section as a
  table, and the PNG files `images` inlined as data URIs."""
  parts = [f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(name)}</title>'
           f'<style>{STYLE}</style></head><body>', f'<h1>{html.escape(name)}</h1>']
  if description:
    parts.append(f'<p>{html.escape(description)}</p>')
  parts.append(f'<p class="header">{html.escape(header)}</p>')
  for section in sections:
    if section.title:
      parts.append(f'<h2>{html.escape(section.title)}</h2>')
    if section.note:
      parts.append(f'<p class="note">{html.escape(section.note)}</p>')
    head = ''.join(f'<th>{html.escape(c)}</th>' for c in ['rule', *section.columns])
    rows = ''.join('<tr><th>' + html.escape(label) + '</th>' + ''.join(f'<td>{html.escape(c)}</td>' for c in cells)
                   + '</tr>' for label, cells in section.rows)
    parts.append(f'<table><tr>{head}</tr>{rows}</table>')
  if images:
    parts.append('<h2>Plots</h2>')
  for image in images:
    with open(image, 'rb') as f:
      data = base64.b64encode(f.read()).decode()
    parts.append(f'<img alt="{html.escape(os.path.basename(image))}" src="data:image/png;base64,{data}">')
  parts.append('</body></html>')
  workdir.write_atomic(path, '\n'.join(parts))

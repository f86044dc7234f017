"""Standard benchmark tables: specs (grids of cells), a resumable runner, a renderer."""
from local_learning.bench.spec import Cell, Reference, Table, grid, load_table

__all__ = ['Cell', 'Reference', 'Table', 'grid', 'load_table']

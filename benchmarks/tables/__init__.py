"""Built-in table specs, loaded by path by name (installed as local_learning.tables)."""

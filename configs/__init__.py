"""Config files: get_config(arg) each, loaded by path (installed as local_learning.configs)."""

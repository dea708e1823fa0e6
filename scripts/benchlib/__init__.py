"""The pieces of scripts/bench (see its docstring)."""

"""The built-in commands, one module each with ``add_command(sub)`` (see :mod:`core.cli`)."""

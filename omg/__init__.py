"""The omg application: CLI, configuration, providers, Arch and AUR, the daemon.

Nothing is imported here: `omg use` and `omg rollback` must start fast.
"""

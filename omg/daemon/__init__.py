"""omgd: the daemon that owns a shared store (invariant 7, docs/invariants.md).

Both sides: `wire` holds what the two ends agree on (constants, the search
answer's `source`), on `os` alone. The server: `protocol` is the pure wire
format; `peer` knows who is on the other end of a socket and what they may do;
`base` is what every methods module shares; `store_methods`, `profile_methods`,
`runtime_methods` and `search_methods` declare methods as data; `table` builds
the one method table; `server` runs it on a Unix socket; each method runs the
same use cases a local command runs (`base.backend`: a `LocalBackend` for the
peer). The client: `client` (a connection, or one request), which
`omg.backends.daemon.DaemonBackend` speaks through. The server never imports the
client (an import-linter contract).
"""

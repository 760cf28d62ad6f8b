"""omgd: the daemon that owns a shared store (DESIGN.md invariant 7).

`protocol` is the pure wire format; `peer` knows who is on the other end of a
socket and what they may do; `handlers` is the method table; `server` runs it
on a Unix socket; `client` speaks it. `omg.remote_store` wraps the client in
the same interface as `store.local.LocalStore`.
"""

"""The content-addressed store: the lowest layer of omg.

It owns hashing, archive readers, ingest with deduplication, the LMDB index,
verify and repair, and the sweep half of garbage collection. It imports nothing
from the layers above it. Import submodules directly; this package does no work
at import time so that the hot paths stay cheap.

Comments across omg cite "invariant N": the numbered invariants of
docs/invariants.md, which also says how the code keeps each and which tests hold it.
"""

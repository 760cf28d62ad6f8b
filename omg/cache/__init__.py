"""Binary caches: signed store paths on a file, HTTP or S3 backend (issue 15).

`storage` is the one interface to a backend (get, exists, put, delete by key);
the cache format on top of it is described in docs/binary-cache.md.
"""

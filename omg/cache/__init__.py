"""Binary caches (docs/binary-cache.md): storage backends, signed manifests, push and pull."""

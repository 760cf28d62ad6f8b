"""Which generations a collection expires: `omg gc --older-than AGE` and the keep policy
(``[gc] keep_generations``, ``keep_days``) that every `omg gc` applies by itself.

Pure: a profile's generations as (number, time) in, the numbers to delete out. The
current generation is never among them. The policy deletes a generation only when no
rule keeps it: it is not one of the newest `keep_generations` and it is older than
`keep_days`; a rule at 0 keeps nothing by itself, and both at 0 turn the policy off.
"""

from __future__ import annotations

from typing import NamedTuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

DAY = 86400.0


class KeepPolicy(NamedTuple):
    generations: int = 0  # the newest N of each profile are kept
    days: float = 0.0  # generations younger than this are kept

    @property
    def active(self) -> bool:
        return self.generations > 0 or self.days > 0


def expired(gens: Sequence[tuple[int, float]], current: int | None, now: float, *,
            older_than: float | None = None, policy: KeepPolicy | None = None) -> list[int]:
    """The generations to delete: older than `older_than` seconds, or not kept by
    `policy`; never `current`."""
    doomed: set[int] = set()
    if older_than is not None:
        doomed |= {n for n, t in gens if t < now - older_than}
    if policy is not None and policy.active:
        newest = set(sorted(n for n, _ in gens)[-policy.generations:]) \
            if policy.generations else set()
        cutoff = now - policy.days * DAY
        doomed |= {n for n, t in gens if n not in newest and t < cutoff}
    if current is not None:
        doomed.discard(current)
    return sorted(doomed)

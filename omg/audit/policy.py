"""The policy engine: what `[policy]` decides about findings, before anything changes.

Pure: (policy, findings, what is asked) -> a `Decision` (the warnings to print, the
denials). The use cases (install, use, sync, exec, AUR builds) gather the findings from
cached data (`omg.audit.checks`), ask `decide`, and `enforce` raises `PolicyDenied`
(exit 11) before their first download, build or write. They run on the side that owns
the store, so through omgd it is omgd's `[policy]` that decides.

Rules, one per kind of finding, each "allow" (silent), "warn" (one ``warning:`` line per
finding) or "deny" (refused); every rule defaults to "warn", so nothing is denied until
a user asks. ``min_severity`` bounds `vulnerable = "deny"`: a vulnerability below it is
a warning, not a denial. ``aur`` is "review" (today's reviewed builds) or "deny".
"""

from __future__ import annotations

from omg.audit.finding import (
    END_OF_LIFE,
    OUTDATED,
    SEVERITIES,
    UNSIGNED,
    VULNERABILITY,
    Finding,
    rank,
)
from store.errors import PolicyDenied

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

ALLOW, WARN, DENY = "allow", "warn", "deny"
ACTIONS = (ALLOW, WARN, DENY)
REVIEW = "review"
AUR_ACTIONS = (REVIEW, DENY)
#: The `[policy]` key that judges each kind of finding.
RULE_OF = {VULNERABILITY: "vulnerable", END_OF_LIFE: "eol", OUTDATED: "outdated",
           UNSIGNED: "unsigned"}
RULES = tuple(RULE_OF.values())
_KEYS = (*RULES, "min_severity", "aur")


class Policy:
    """`[policy]` as configured (the defaults: warn of everything, deny nothing).

    A plain class, not a dataclass: it is built on the path of `omg use`."""

    __slots__ = _KEYS

    def __init__(self, vulnerable: str = WARN, eol: str = WARN, outdated: str = WARN,
                 unsigned: str = WARN, min_severity: str = SEVERITIES[0],
                 aur: str = REVIEW) -> None:
        self.vulnerable, self.eol, self.outdated, self.unsigned = (vulnerable, eol, outdated,
                                                                   unsigned)
        self.min_severity, self.aur = min_severity, aur

    def __repr__(self) -> str:
        return "Policy(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in _KEYS) + ")"

    def action(self, finding: Finding) -> str:
        """What this policy does about `finding` (an unknown kind: nothing)."""
        rule = RULE_OF.get(finding.kind)
        if rule is None:
            return ALLOW
        action: str = getattr(self, rule)
        if action == DENY and finding.kind == VULNERABILITY \
                and rank(finding.severity) < rank(self.min_severity):
            return WARN
        return action


def policy_of(raw: Mapping[str, object]) -> Policy:
    """The `[policy]` table of a loaded config (`omg.config` has checked its values)."""
    table = raw.get("policy")
    if not isinstance(table, dict):
        return Policy()
    known = {k: v for k, v in table.items() if k in _KEYS and isinstance(v, str)}
    return Policy(**known)


class Denial:
    """One finding a rule denies: `rule` names the `[policy]` key."""

    __slots__ = ("finding", "rule")

    def __init__(self, rule: str, finding: Finding) -> None:
        self.rule, self.finding = rule, finding

    def message(self) -> str:
        f = self.finding
        return f"policy {self.rule} = deny: {f.tool}@{f.version}: {describe(f)}"


class Decision:
    """What a policy says: the warnings to print, and what it denies."""

    __slots__ = ("denials", "warnings")

    def __init__(self, warnings: Sequence[str] = (), denials: Sequence[Denial] = ()) -> None:
        self.warnings, self.denials = tuple(warnings), tuple(denials)

    @property
    def allowed(self) -> bool:
        return not self.denials


def describe(f: Finding) -> str:
    """A finding in one line: the advisory (ids, the feed's own id, severity), what it
    says, and what fixes it."""
    if f.kind == END_OF_LIFE and f.fixed_in:
        return f"{f.summary}; consider {f.tool}@{f.fixed_in[0]}"
    if f.kind != VULNERABILITY:
        return f.summary
    names = ", ".join(dict.fromkeys((*f.ids, f.advisory) if f.advisory else f.ids))
    head = f"{names or f.feed} ({f.severity})"
    tail = f"; fixed in {', '.join(f.fixed_in)}" if f.fixed_in else ""
    return f"{head}: {f.summary}{tail}" if f.summary else head + tail


def warning_line(f: Finding) -> str:
    return f"{f.tool} {f.version}: {describe(f)}"


def decide(policy: Policy, findings: Iterable[Finding],
           asked: Iterable[tuple[str, str]]) -> Decision:
    """What `policy` says about the findings for the (tool, version) pairs asked for;
    a finding about anything else is not this command's business."""
    wanted = set(asked)
    warnings: list[str] = []
    denials: list[Denial] = []
    for f in findings:
        if (f.tool, f.version) not in wanted:
            continue
        action = policy.action(f)
        if action == DENY:
            denials.append(Denial(RULE_OF[f.kind], f))
        elif action == WARN:
            line = warning_line(f)
            if line not in warnings:
                warnings.append(line)
    return Decision(warnings, denials)


def enforce(policy: Policy, findings: Iterable[Finding],
            asked: Iterable[tuple[str, str]]) -> list[str]:
    """The warnings to print, or `PolicyDenied` naming the worst denial's rule and
    advisory (and how many more there are)."""
    decision = decide(policy, findings, asked)
    if decision.allowed:
        return list(decision.warnings)
    raise denied(decision.denials)


def denied(denials: Sequence[Denial]) -> PolicyDenied:
    """The error naming the worst of `denials` (the first of the most severe)."""
    first = max(denials, key=lambda d: rank(d.finding.severity))
    more = len(denials) - 1
    extra = f" (and {more} more finding{'s' if more > 1 else ''} denied)" if more else ""
    f = first.finding
    fix = f"{f.upgrade}, or " if f.upgrade else ""
    return PolicyDenied(first.message() + extra,
                        hint=f"{fix}set [policy] {first.rule} = \"warn\" to allow it with a "
                             "warning (omgd's config decides in the shared mode)")


def check_aur(policy: Policy, names: Sequence[str]) -> None:
    """`aur = "deny"`: no AUR build at all, refused before any download."""
    if policy.aur == DENY and names:
        raise PolicyDenied(f"policy aur = deny: AUR builds are not allowed "
                           f"({', '.join(f'aur/{n}' for n in names)})",
                           hint='set [policy] aur = "review" to build reviewed AUR packages')

"""The policy engine (omg/audit/policy.py, pure) and the cached checks it is fed
(omg/audit/checks.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omg import config
from omg.audit import checks
from omg.audit.finding import (
    END_OF_LIFE,
    KINDS,
    OUTDATED,
    SEVERITIES,
    UNSIGNED,
    VULNERABILITY,
    Finding,
    rank,
)
from omg.audit.policy import (
    ACTIONS,
    AUR_ACTIONS,
    RULE_OF,
    RULES,
    Policy,
    check_aur,
    decide,
    enforce,
    policy_of,
    warning_line,
)
from store.errors import PolicyDenied

# security-wg vuln/core/index.json entry 171, as omg.audit.cache makes it.
HASHDOS = Finding("node", "20.10.0", VULNERABILITY, "medium", "node", "HashDoS in V8",
                  advisory="security-wg:171", ids=("CVE-2026-21717",),
                  fixed_in=("20.20.2",), upgrade="omg install node@20.20.2")
ENDED = Finding("node", "20.10.0", END_OF_LIFE, "medium", "endoflife.date",
                "the node 20 line is end-of-life since 2026-04-30", fixed_in=("24",))


def test_the_defaults_warn_of_everything_and_deny_nothing() -> None:
    decision = decide(Policy(), [HASHDOS, ENDED], [("node", "20.10.0")])
    assert decision.allowed and decision.warnings == (
        "node 20.10.0: CVE-2026-21717, security-wg:171 (medium): HashDoS in V8; fixed in "
        "20.20.2",
        "node 20.10.0: the node 20 line is end-of-life since 2026-04-30; consider node@24")
    assert repr(policy_of({})) == repr(policy_of({"policy": {}})) == repr(Policy())


def test_a_denial_names_the_rule_the_advisory_and_the_fix() -> None:
    with pytest.raises(PolicyDenied) as info:
        enforce(policy_of({"policy": {"vulnerable": "deny"}}), [HASHDOS, ENDED],
                [("node", "20.10.0")])
    assert info.value.exit_code == 11
    assert info.value.message == ("policy vulnerable = deny: node@20.10.0: CVE-2026-21717, "
                                  "security-wg:171 (medium): HashDoS in V8; fixed in 20.20.2")
    assert info.value.hint is not None and info.value.hint.startswith(
        'omg install node@20.20.2, or set [policy] vulnerable = "warn"')


def test_min_severity_turns_weaker_denials_into_warnings() -> None:
    strict = Policy(vulnerable="deny", min_severity="high")
    decision = decide(strict, [HASHDOS], [("node", "20.10.0")])
    assert decision.allowed and len(decision.warnings) == 1
    assert not decide(Policy(vulnerable="deny", min_severity="medium"), [HASHDOS],
                      [("node", "20.10.0")]).allowed


def test_findings_about_what_was_not_asked_are_not_judged() -> None:
    deny_all = Policy(*(["deny"] * 4))
    assert decide(deny_all, [HASHDOS, ENDED], [("node", "22.2.0")]).warnings == ()
    assert decide(deny_all, [HASHDOS, ENDED], [("node", "22.2.0")]).allowed


def test_aur_deny_refuses_every_aur_build() -> None:
    check_aur(Policy(), ["yay"])  # review: today's reviewed builds
    check_aur(Policy(aur="deny"), [])
    with pytest.raises(PolicyDenied, match=r"^policy aur = deny: .*aur/yay"):
        check_aur(Policy(aur="deny"), ["yay"])


def test_the_config_schema_says_what_the_engine_knows() -> None:
    table = config.SCHEMA["policy"]
    assert not isinstance(table, config.Kind)
    assert set(table) == {*RULES, "min_severity", "aur"}
    assert set(RULE_OF) == set(KINDS)
    for rule in RULES:
        assert [a for a in (*ACTIONS, "nope") if table[rule].ok(a)] == list(ACTIONS)
    assert [a for a in (*AUR_ACTIONS, "warn") if table["aur"].ok(a)] == list(AUR_ACTIONS)
    assert [s for s in (*SEVERITIES, "moderate") if table["min_severity"].ok(s)] == \
        list(SEVERITIES)


# The property: every asked-for finding is exactly one of allowed, warned or denied,
# as its rule says, and nothing else is.

findings = st.builds(
    Finding, tool=st.sampled_from(["node", "go"]), version=st.sampled_from(["1.0", "2.0"]),
    kind=st.sampled_from(KINDS), severity=st.sampled_from(SEVERITIES),
    feed=st.just("feed"), summary=st.text(max_size=5), advisory=st.text(max_size=5))
policies = st.builds(Policy, vulnerable=st.sampled_from(ACTIONS),
                     eol=st.sampled_from(ACTIONS), outdated=st.sampled_from(ACTIONS),
                     unsigned=st.sampled_from(ACTIONS),
                     min_severity=st.sampled_from(SEVERITIES))
asked = st.lists(st.tuples(st.sampled_from(["node", "go"]), st.sampled_from(["1.0", "2.0"])))


@given(policies, st.lists(findings, max_size=8), asked)
def test_each_asked_finding_is_judged_by_its_rule(policy: Policy, found: list[Finding],
                                                  wanted: list[tuple[str, str]]) -> None:
    decision = decide(policy, found, wanted)
    mine = [f for f in found if (f.tool, f.version) in set(wanted)]

    def expected(f: Finding) -> str:
        action = str(getattr(policy, RULE_OF[f.kind]))
        weak = f.kind == VULNERABILITY and rank(f.severity) < rank(policy.min_severity)
        return "warn" if action == "deny" and weak else action

    assert [d.finding for d in decision.denials] == [f for f in mine if expected(f) == "deny"]
    assert decision.warnings == tuple(dict.fromkeys(
        warning_line(f) for f in mine if expected(f) == "warn"))
    assert decision.allowed == (not any(expected(f) == "deny" for f in mine))
    # Warning more never denies more; denying is only ever by a "deny" rule.
    lenient = Policy(**{r: "warn" if getattr(policy, r) == "deny" else getattr(policy, r)
                        for r in RULES})
    assert decide(lenient, found, wanted).allowed


# The cached checks ----------------------------------------------------------------------


def test_outdated_is_a_newer_final_release_of_the_same_line() -> None:
    upstream = ["22.2.0", "20.12.0", "20.11.1", "20.13.0-rc.1", "20.10.0", "18.19.0"]
    assert checks.newer_patch("node", "20.10.0", upstream) == "20.12.0"
    assert checks.newer_patch("node", "20.12.0", upstream) == ""
    assert checks.newer_patch("python", "3.12.1", ["3.13.0", "3.12.2", "3.12.10"]) == "3.12.10"
    assert checks.newer_patch("java", "21.0.3+9", ["21.0.3+10", "22.0.1+8"]) == "21.0.3+10"
    assert checks.newer_patch("go", "1.22rc1", ["1.22.0"]) == ""  # a pre-release: no line
    [f] = checks.outdated("node", "20.10.0", upstream)
    assert (f.kind, f.upgrade) == (OUTDATED, "omg install node@20.12.0")


def test_unsigned_is_a_signing_upstream_not_verified() -> None:
    from omg import providers

    assert {t for t in providers.TOOLS if providers.get(t).signs} == checks.SIGNING
    assert [f.kind for f in checks.unsigned("node", "20.10.0", "missing")] == [UNSIGNED]
    assert checks.unsigned("node", "20.10.0", "verified") == []
    assert checks.unsigned("python", "3.12.1", "off") == []  # upstream signs nothing
    assert checks.unsigned("node", "20.10.0", "upstream-unsigned") == []


def test_the_recorded_signature_is_read_from_the_record_head(tmp_path: Path) -> None:
    record = {"created": 1.0, "files": 2, "format": 1, "name": "node",
              "origin": {"url": "u", "signature": {"status": "no-gpgv"}},
              "path": "abc-node-20.10.0", "tree": [["bin/node", "x", "0" * 64, 1]] * 5000}
    (tmp_path / "abc-node-20.10.0.meta").write_text(json.dumps(record, sort_keys=True))
    assert checks.recorded_signature(str(tmp_path), "abc-node-20.10.0") == "no-gpgv"
    (tmp_path / "bad.meta").write_text('{"origin": {"signature": ')
    assert checks.recorded_signature(str(tmp_path), "bad") == ""
    assert checks.recorded_signature(str(tmp_path), "missing") == ""

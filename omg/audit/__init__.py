"""Security: advisories and end of life (`omg audit`), and what they decide (`[policy]`).

`finding` is the vocabulary every part shares (a finding, severities); the feeds, the
audit use case, the policy engine and SBOMs build on it.
"""

"""A static check of a PKGBUILD or install script: risky constructs, with line numbers.

Pure (text in, findings out; only `bash -n` is run, which parses without executing).
The text is never sourced: a PKGBUILD's top level runs whenever it is read.

How it reads shell: one scan over the whole text classifies every character as code,
quoted, comment or here-document (command substitutions inside double quotes are code
again), which gives logical lines (continuations and multi-line strings joined) and a
masked copy where quoted text is blank, so a `pkgdesc` that mentions sudo is not a
command. Commands are then split with `shlex` (quotes removed, so `"$pkgdir"/usr`
reads as one word) for the write rules; the other rules are patterns over the masked
text at command positions. False positives are the failure that makes people skip
reviews, so each rule matches commands, never words in prose.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from dataclasses import dataclass

HIGH, MEDIUM, LOW = "high", "medium", "low"


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    rule: str
    severity: str
    message: str
    text: str  # the (first) source line, stripped

    def to_json(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "rule": self.rule,
                "severity": self.severity, "message": self.message, "text": self.text}

    def short(self) -> str:
        return f"{self.file}:{self.line} {self.rule}"


# --- scanning ----------------------------------------------------------------------

_CODE, _QUOTED, _COMMENT = "c", "q", "#"
#: What opens a nested context inside one: code again in double quotes, array data.
_OPENERS = {"dq": ("$(", "subst"), "code": ("=(", "array"), "subst": ("=(", "array")}


def _scan(text: str) -> str:
    """One class letter per character of `text` (code, quoted, comment)."""
    cls = [_CODE] * len(text)
    # code | dq | sq | subst (a $( ) inside double quotes) | array (the data of `x=( )`)
    stack: list[str] = ["code"]
    heredocs: list[tuple[str, bool]] = []
    i, n = 0, len(text)
    while i < n:
        ch, top = text[i], stack[-1]
        if top in ("sq", "array"):  # data up to its closer; an array may hold quotes
            cls[i] = _QUOTED
            if ch == ("'" if top == "sq" else ")"):
                stack.pop()
            elif top == "array" and ch in "'\"":
                stack.append("sq" if ch == "'" else "dq")
            i += 1
            continue
        opener, inner = _OPENERS.get(top, ("", ""))
        if opener and text.startswith(opener, i):
            stack.append(inner)
            i += 2
            continue
        if top == "dq":
            if ch == "\\":
                cls[i:i + 2] = [_QUOTED] * len(cls[i:i + 2])
                i += 2
                continue
            cls[i] = _QUOTED
            if ch == '"':
                stack.pop()
            i += 1
            continue
        # code or subst
        if ch == "\\":
            i += 2
            continue
        if ch == "'":
            cls[i] = _QUOTED
            stack.append("sq")
        elif ch == '"':
            cls[i] = _QUOTED
            stack.append("dq")
        elif ch == ")" and top == "subst":
            stack.pop()
        elif ch == "#" and (i == 0 or text[i - 1] in " \t\n;&|()"):
            end = text.find("\n", i)
            end = n if end < 0 else end
            cls[i:end] = [_COMMENT] * (end - i)
            i = end
            continue
        elif text.startswith("<<", i) and not text.startswith("<<<", i):
            m = re.compile(r"<<(-?)\s*(['\"]?)([A-Za-z_][\w]*)\2").match(text, i)
            if m:
                heredocs.append((m.group(3), m.group(1) == "-"))
                i = m.end()
                continue
        elif ch == "\n" and heredocs:
            i = _skip_heredocs(text, i + 1, heredocs, cls)
            heredocs = []
            continue
        i += 1
    return "".join(cls)


def _skip_heredocs(text: str, i: int, docs: list[tuple[str, bool]], cls: list[str]) -> int:
    """Mark here-document bodies (from i, the line after their `<<`) as quoted; return
    the index of the newline that ends the last one (a code newline: the command ends)."""
    for word, tabs in docs:
        while i < len(text):
            end = text.find("\n", i)
            end = len(text) if end < 0 else end
            line = text[i:end]
            cls[i:end] = [_QUOTED] * (end - i)
            i = end + 1
            if (line.lstrip("\t") if tabs else line) == word:
                break
            if end < len(text):
                cls[end] = _QUOTED
    return i - 1


@dataclass
class _Line:
    number: int  # of its first physical line
    code: str  # comments blanked
    masked: str  # quoted text blanked too
    first: str  # the first physical line, for the finding's text


def _logical_lines(text: str, cls: str) -> list[_Line]:
    """Split at newlines that are code and not escaped: a command with its
    continuations and multi-line strings is one line."""
    out: list[_Line] = []
    start, number = 0, 1
    for i, ch in enumerate(text):
        if ch != "\n" or cls[i] != _CODE or (i > 0 and text[i - 1] == "\\"):
            continue
        out.append(_make_line(text, cls, start, i, number))
        number += text.count("\n", start, i) + 1
        start = i + 1
    if start < len(text):
        out.append(_make_line(text, cls, start, len(text), number))
    return out


def _make_line(text: str, cls: str, start: int, end: int, number: int) -> _Line:
    chars, masked = [], []
    for j in range(start, end):
        c, k = text[j], cls[j]
        chars.append(" " if k == _COMMENT and c != "\n" else c)
        masked.append(c if k == _CODE or c in "\n\"'" else " ")
    first = text[start:end].split("\n", 1)[0].strip()
    return _Line(number, "".join(chars), "".join(masked), first)


# --- rules ----------------------------------------------------------------------

_CMD = r"(?:^|[;&|{`]|(?<!=)\(|\bthen\b|\bdo\b|\belse\b|\bexec\b)\s*"
_SHELL = r"(?:sudo\s+)?(?:env\s+)?(?:/usr)?(?:/bin/)?(?:ba|z|da|k|fi|c|tc)?sh\b"
_FETCH = r"\b(?:curl|wget|aria2c)(?![\w.-])"
_PATTERNS: list[tuple[str, str, re.Pattern[str], str]] = [
    ("pipe-to-shell", HIGH, re.compile(_FETCH + r"[^|;&\n]*\|\s*" + _SHELL),
     "a download piped to a shell runs code no checksum covers"),
    ("pipe-to-shell", HIGH,
     re.compile(_FETCH + r"[^|;&\n]*\|\s*(?:sudo\s+)?(?:python[\d.]*|perl|ruby|node)\b"),
     "a download piped to an interpreter runs code no checksum covers"),
    ("eval-fetched", HIGH,
     re.compile(r"(?:\beval\b|\b(?:ba)?sh\s+-c\b|\bsource\b|(?:^|[\s;&|(])\.)\s+[^;\n]*"
                r"(?:\$\(|`|<\()\s*" + _FETCH),
     "runs the content of a download"),
    ("eval-fetched", HIGH, re.compile(r"\b(?:ba)?sh\s+<\(\s*" + _FETCH),
     "runs the content of a download"),
    ("base64-exec", HIGH,
     re.compile(r"\bbase64\s+(?:-\w*d\w*|--decode)\b[^;\n]*\|\s*" + _SHELL),
     "runs base64-decoded code, which the review cannot read"),
    ("base64-exec", HIGH,
     re.compile(r"(?:\beval\b|\b(?:ba)?sh\s+-c\b)[^;\n]*\bbase64\b[^;\n]*(?:-\w*d\w*|--decode)"),
     "runs base64-decoded code, which the review cannot read"),
    ("privilege", HIGH, re.compile(_CMD + r"(?:sudo|su|pkexec|doas|run0)\b(?!-)"),
     "asks for root: makepkg never needs it"),
    ("setuid", HIGH,
     re.compile(r"\bchmod\s+(?:-\w+\s+)*(?:[ugoa]*[+=][rwxXt]*s[rwxXt]*\b|0*[2-7][0-7]{3}\b)"),
     "sets a setuid/setgid mode"),
    ("setuid", HIGH,
     re.compile(r"\binstall\b[^;|&\n]*?(?:\s-[A-Za-z]*m\s*|--mode[=\s]\s*)0*[2-7][0-7]{3}\b"),
     "installs a file with a setuid/setgid mode"),
]
_NETWORK = re.compile(_CMD + r"(?:command\s+)?" + _FETCH)
_BUILD_FUNCS = re.compile(r"^(?:prepare|build|check|package(?:_.+)?|pkgver)$")
_FUNC = re.compile(r"^\s*(?:function\s+)?([A-Za-z_][\w.-]*)\s*\(\s*\)")


def _pattern_findings(file: str, line: _Line, func: str | None) -> list[Finding]:
    found: list[Finding] = []
    seen: set[str] = set()
    for rule, severity, pattern, message in _PATTERNS:
        if rule not in seen and pattern.search(line.masked):
            seen.add(rule)
            found.append(Finding(file, line.number, rule, severity, message, line.first))
    if "pipe-to-shell" in seen or "eval-fetched" in seen or not _NETWORK.search(line.masked):
        return found
    if func is None:
        found.append(Finding(file, line.number, "network", HIGH,
                             "downloads when the file is read (even by makepkg "
                             "--printsrcinfo)", line.first))
    elif func.startswith(("pre_", "post_")):
        found.append(Finding(file, line.number, "network", HIGH,
                             f"downloads in {func}(), as root on the system", line.first))
    elif _BUILD_FUNCS.match(func):
        found.append(Finding(file, line.number, "network", MEDIUM,
                             f"downloads in {func}(): outside source=(), no checksum",
                             line.first))
    return found


# Writes: the targets of redirections and of the commands that write files.
_SAFE_ABS = ("/dev/null", "/dev/stdout", "/dev/stderr", "/dev/fd/", "/dev/tty", "/tmp/",
             "/proc/self/")
_DEST_LAST = {"cp", "mv", "install", "ln", "rsync"}
_DEST_ALL = {"tee", "mkdir", "touch", "rm", "rmdir", "chmod", "chown", "truncate"}
_SEPARATORS = {";", "&&", "||", "|", "&", "(", ")", "|&", ";;"}
_REDIRECTS = {">", ">>", ">|", "&>", "&>>"}


def _outside(word: str, home_moved: bool) -> str | None:
    """Why `word` as a write target is outside $srcdir/$pkgdir, or None. A PKGBUILD
    that sets HOME (usually to $srcdir, for npm or cargo) writes there knowingly."""
    home = word in ("~", "$HOME", "${HOME}") or word.startswith(("~/", "$HOME/", "${HOME}/"))
    if home and not home_moved:
        return "the home directory"
    if word.startswith("/") and word != "/" and not word.startswith(_SAFE_ABS) \
            and word != "/tmp":
        return word
    return None


def _commands(code: str) -> list[list[str]] | None:
    lex = shlex.shlex(code, posix=True, punctuation_chars=";&|()<>")
    lex.whitespace_split, lex.commenters = True, ""
    try:
        tokens = list(lex)
    except ValueError:
        return None
    out: list[list[str]] = [[]]
    for tok in tokens:
        if tok in _SEPARATORS or tok == "$":
            out.append([])
        else:
            out[-1].append(tok)
    return [c for c in out if c]


def _write_targets(cmd: list[str]) -> list[str]:
    targets = [cmd[i + 1] for i, t in enumerate(cmd[:-1]) if t in _REDIRECTS]
    words = [t for i, t in enumerate(cmd) if t not in _REDIRECTS
             and (i == 0 or cmd[i - 1] not in _REDIRECTS) and not t.isdigit()]
    while words and re.match(r"^[A-Za-z_]\w*=", words[0]):
        words = words[1:]
    if words and words[0] in ("sudo", "command", "env"):
        words = words[1:]
    if not words:
        return targets
    name, args = words[0].rsplit("/", 1)[-1], words[1:]
    plain = [a for a in args if not a.startswith("-")]
    if name in _DEST_LAST:
        tdir = [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-t", "--target-directory")]
        tdir += [a.split("=", 1)[1] for a in args if a.startswith("--target-directory=")]
        if tdir:
            targets += tdir
        elif name == "install" and any(re.match(r"^-[A-Za-z]*d", a) for a in args):
            targets += plain
        elif len(plain) >= 2:
            targets.append(plain[-1])
    elif name in _DEST_ALL:
        targets += plain[1:] if name in ("chmod", "chown") else plain
    elif name == "dd":
        targets += [a[3:] for a in args if a.startswith("of=")]
    elif name == "sed" and any(a.startswith("-i") or a == "--in-place" for a in args):
        targets += _sed_files(args)
    return targets


def _sed_files(args: list[str]) -> list[str]:
    """The files `sed -i` edits: its operands, less the script when no -e/-f gives it."""
    files: list[str] = []
    scripted = skip = False
    for a in args:
        if skip:
            skip = False
        elif a in ("-e", "-f", "--expression", "--file"):
            scripted = skip = True
        elif a.startswith(("-e", "-f", "--expression=", "--file=")):
            scripted = True
        elif not a.startswith("-"):
            files.append(a)
    return files if scripted else files[1:]


def _write_findings(file: str, line: _Line, home_moved: bool) -> list[Finding]:
    cmds = _commands(line.code)
    found: list[Finding] = []
    for cmd in cmds or []:
        for target in _write_targets(cmd):
            where = _outside(target, home_moved)
            if where is not None:
                found.append(Finding(file, line.number, "write-outside", HIGH if
                                     where.startswith("/") else MEDIUM,
                                     f"writes to {where}, outside $srcdir and $pkgdir",
                                     line.first))
                return found
    return found


# --- the check -------------------------------------------------------------------

def syntax(text: str, file: str = "PKGBUILD") -> Finding | None:
    """`bash -n` (parse only): a PKGBUILD bash cannot parse is a finding, not a crash."""
    proc = subprocess.run(["bash", "--norc", "--noprofile", "-n"], input=text.encode(),
                          capture_output=True, check=False)
    if proc.returncode == 0:
        return None
    msg = proc.stderr.decode(errors="replace").strip().splitlines() or ["syntax error"]
    m = re.search(r"line (\d+): (.*)", msg[0])
    line = int(m.group(1)) if m else 1
    lines = text.splitlines()
    return Finding(file, line, "syntax", MEDIUM, m.group(2) if m else msg[0],
                   lines[line - 1].strip() if 0 < line <= len(lines) else "")


def check(text: str, file: str = "PKGBUILD", *, install_script: bool = False
          ) -> list[Finding]:
    """Findings in `text`, in line order. An install script runs as root on the
    system by design, so writes outside $pkgdir are not findings there."""
    cls = _scan(text)
    found: list[Finding] = []
    bad = syntax(text, file)
    if bad is not None:
        found.append(bad)
    func: str | None = None
    depth = 0
    home_moved = re.search(r"(?:^|[\s;])(?:export\s+)?HOME=", text, re.M) is not None
    for line in _logical_lines(text, cls):
        m = _FUNC.match(line.masked)
        if m and depth == 0:
            func = m.group(1)
        found += _pattern_findings(file, line, func)
        if not install_script:
            found += _write_findings(file, line, home_moved)
        depth += _braces(line.masked)
        if depth <= 0 and func is not None and "}" in line.masked:
            func, depth = None, 0
    return sorted(found, key=lambda f: (f.line, f.rule))


def _braces(masked: str) -> int:
    """Net `{` minus `}` that open and close groups (not `${...}`)."""
    net = 0
    for i, ch in enumerate(masked):
        if ch == "{" and (i == 0 or masked[i - 1] != "$"):
            net += 1
        elif ch == "}":
            net -= 1
    # a ${...} closes with a `}` counted above: add it back
    return net + masked.count("${")

"""Which files `docker build` sends as the build context: .dockerignore read with Docker's own
rules, ported from moby/patternmatcher (`New`, `compile`, `MatchesOrParentMatches`).

Written by hand because no package here implements Docker's flavour: pathspec and friends follow
.gitignore, where `*.db` matches at any depth — in .dockerignore it matches only at the root
(`**/*.db` reaches down), so a gitignore matcher would pass a file that Docker sends.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Pattern:
    text: str
    exclusion: bool
    regex: re.Pattern[str]


def _compile(pattern: str) -> re.Pattern[str]:
    """patternmatcher's compile(): `**` any number of folders, `*` and `?` within one name."""
    out = "^"
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            if pattern[i + 1 : i + 2] == "*":
                i += 1
                if pattern[i + 1 : i + 2] == "/":
                    i += 1
                out += ".*" if i + 1 >= len(pattern) else "(.*/)?"
            else:
                out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif ch in ".+()|{}$":
            out += "\\" + ch
        elif ch == "\\":
            if i + 1 < len(pattern):
                i += 1
                out += "\\" + pattern[i]
            else:
                out += "\\\\"
        else:
            out += ch
        i += 1
    return re.compile(out + "$")


def read_patterns(lines: Iterable[str]) -> list[Pattern]:
    """ignorefile.ReadAll + patternmatcher.New: comments and blanks dropped, each pattern
    cleaned like a path, a leading `/` ignored, `!` marks an exception."""
    patterns = []
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
        line = posixpath.normpath(line)
        if len(line) > 1 and line.startswith("/"):
            line = line[1:]
        patterns.append(Pattern(line, exclusion, _compile(line)))
    return patterns


def ignored(path: str, patterns: list[Pattern]) -> bool:
    """MatchesOrParentMatches: the last pattern that matches the path or one of its parent
    folders decides; an exception (`!`) lets it back in."""
    matched = False
    parents = posixpath.dirname(path).split("/") if "/" in path else []
    for pattern in patterns:
        if pattern.exclusion != matched:
            continue
        match = bool(pattern.regex.match(path))
        if not match:
            match = any(
                pattern.regex.match("/".join(parents[: i + 1])) for i in range(len(parents))
            )
        if match:
            matched = not pattern.exclusion
    return matched


def context_files(root: Path, extra: Iterable[str] = ()) -> list[str]:
    """Every file under `root` (and the `extra` relative paths, real or not) that the build
    context would hold, as slash-separated paths relative to `root`."""
    dockerignore = root / ".dockerignore"
    patterns = read_patterns(dockerignore.read_text().splitlines()) if dockerignore.exists() else []
    found = set(extra)
    for folder, dirs, files in os.walk(root):
        relative = Path(folder).relative_to(root).as_posix()
        prefix = "" if relative == "." else f"{relative}/"
        # Like Docker's walker: skip a folder that is left out and that no exception can reach
        # into (.venv, .git and var hold most of the files).
        dirs[:] = [d for d in dirs if not _left_out_whole(prefix + d, patterns)]
        found.update(prefix + name for name in files)
    return sorted(path for path in found if not ignored(path, patterns))


def _left_out_whole(folder: str, patterns: list[Pattern]) -> bool:
    if not ignored(folder, patterns):
        return False
    for pattern in patterns:
        if pattern.exclusion:
            literal = re.split(r"[*?\[\\]", pattern.text, maxsplit=1)[0]
            if not literal or literal.startswith(folder + "/") or folder.startswith(literal):
                return False
    return True

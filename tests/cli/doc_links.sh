#!/usr/bin/env bash
# Every relative link of README.md and docs/*.md resolves: the target of [text](target) and of
# an image ![alt](target) is a file or folder of the repository, and a #anchor names a heading
# of the target file (GitHub's anchors: lower case, punctuation dropped, spaces to hyphens).
# Links with a scheme (https:, mailto:) are not checked; code blocks and `code` are skipped.
# Arguments (the program, mpiexec, its flags) are those of every CLI test and are not used.
# BILEARN_DOC_ROOT: check that directory instead of this repository (the test of the test).
set -euo pipefail
root=${BILEARN_DOC_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}

python3 - "$root" <<'PY'
import os, re, sys

root = sys.argv[1]
link = re.compile(r'!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)')


def prose(text):
    """The text without fenced code blocks and inline code spans."""
    out, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            out.append(re.sub(r"`[^`]*`", "", line))
    return "\n".join(out)


def anchors(path):
    found, seen = set(), {}
    for line in prose(open(path, encoding="utf-8").read()).splitlines():
        m = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        found.add(slug if n == 0 else "%s-%d" % (slug, n))
    return found


files = [os.path.join(root, "README.md")]
docs = os.path.join(root, "docs")
files += sorted(os.path.join(docs, f) for f in os.listdir(docs) if f.endswith(".md"))
bad, count = [], 0
for md in files:
    text = prose(open(md, encoding="utf-8").read())
    for target in link.findall(text):
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):
            continue  # https:, mailto:
        count += 1
        path, _, anchor = target.partition("#")
        resolved = os.path.normpath(os.path.join(os.path.dirname(md), path)) if path else md
        where = "%s: (%s)" % (os.path.relpath(md, root), target)
        if not os.path.exists(resolved):
            bad.append(where + " names a missing file")
        elif not os.path.realpath(resolved).startswith(os.path.realpath(root) + os.sep):
            bad.append(where + " leaves the repository")
        elif anchor and resolved.endswith(".md") and anchor not in anchors(resolved):
            bad.append(where + " names a missing heading")
for b in bad:
    print("FAIL: " + b, file=sys.stderr)
if bad:
    sys.exit(1)
if count == 0:
    print("FAIL: no relative link found: the checker is broken", file=sys.stderr)
    sys.exit(1)
print("doc links: %d relative links in %d files resolve" % (count, len(files)))
PY

# The checker itself: a broken file link and a broken anchor must fail.
if [ -z "${BILEARN_DOC_ROOT:-}" ]; then
  fake=$(mktemp -d)
  trap 'rm -rf "$fake"' EXIT
  mkdir -p "$fake/docs"
  printf '# T\n\n## A heading\n\n[ok](docs/a.md#a-heading) [ok](#t)\n' >"$fake/README.md"
  printf '# A heading\n\n[back](../README.md#a-heading) `[not a link](nowhere.md)`\n' >"$fake/docs/a.md"
  BILEARN_DOC_ROOT=$fake bash "$0" >/dev/null || { echo "FAIL: the checker rejects good links" >&2; exit 1; }
  printf '[missing](docs/nowhere.md)\n' >>"$fake/README.md"
  if BILEARN_DOC_ROOT=$fake bash "$0" 2>/dev/null; then echo "FAIL: the checker accepts a missing file" >&2; exit 1; fi
  printf '# T\n\n[bad anchor](docs/a.md#no-such-heading)\n' >"$fake/README.md"
  if BILEARN_DOC_ROOT=$fake bash "$0" 2>/dev/null; then echo "FAIL: the checker accepts a missing anchor" >&2; exit 1; fi
  echo "doc links: ok"
fi

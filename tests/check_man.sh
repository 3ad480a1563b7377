#!/bin/sh
# SPDX-License-Identifier: MIT
# Every public function and descriptor has a man page (a page of its own or
# a .so link to its family's), every link points at a real page, and the
# real pages, and the programs' section-1 pages, are mandoc -Tlint clean,
# cross-references included.
set -eu
srcdir=${srcdir:-.}
man=$srcdir/man
hdr=$srcdir/include/pgtable/pgtable.h
mdb=$srcdir/include/pgtable/mdb.h

# Names declared with PGT_API: functions and the extern descriptors.
# The shipped descriptors are declared through pgtable/formats.h's list.
names=$({
	grep -h '^PGT_API' "$hdr" "$mdb" | grep -o 'pgt_[a-z0-9_]*[[:space:]]*[(;]' | tr -d ' (;'
	grep -o '^PGT_FORMAT(pgt_[a-z0-9_]*' "$srcdir/include/pgtable/formats.h" | sed 's/^PGT_FORMAT(//'
} | sort -u)
[ -n "$names" ] || { echo "FAIL: no public names found in $hdr"; exit 1; }
missing=
for n in $names; do
	[ -f "$man/$n.3" ] || missing="$missing $n"
done
[ -z "$missing" ] || { echo "FAIL: no man page for:$missing"; exit 1; }

# A link is one line, .so man3/TARGET.3, and TARGET is a real page.
for f in "$man"/*.3; do
	first=$(sed -n 1p "$f")
	case $first in
	.so\ *)
		[ "$(wc -l <"$f")" -eq 1 ] || { echo "FAIL: $f: a link page holds one line"; exit 1; }
		target=$man/$(basename "${first#.so man3/}")
		[ -f "$target" ] && ! grep -q '^\.so' "$target" ||
			{ echo "FAIL: $f links to ${first#.so }, not a page"; exit 1; }
		;;
	esac
done

MANDOC=${MANDOC:-$(command -v mandoc || true)}
[ -n "$MANDOC" ] || { echo "SKIP: mandoc is not installed (names and links checked)"; exit 77; }

# Cross-references resolve against a manpath holding just our pages.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/man3" "$tmp/man1" && cp "$man"/*.3 "$tmp/man3/" && cp "$man"/*.1 "$tmp/man1/"
makewhatis=$(command -v makewhatis || echo /usr/sbin/makewhatis)
[ -x "$makewhatis" ] || { echo "SKIP: makewhatis is missing, cross-references cannot be checked"; exit 77; }
"$makewhatis" "$tmp"
pages=0
for f in "$man"/*.3 "$man"/*.1; do
	grep -q '^\.so' "$f" && continue
	if ! out=$(MANPATH=$tmp "$MANDOC" -Tlint -Wstyle "$f" 2>&1) || [ -n "$out" ]; then
		echo "FAIL: mandoc -Tlint:"; echo "$out"; exit 1
	fi
	pages=$((pages + 1))
done
echo "PASS: $pages pages lint clean, $(echo "$names" | wc -l) public names covered"

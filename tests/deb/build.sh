#!/bin/bash
# tests/deb/build.sh - make deb: build the Debian packages secretd and
# secret-client with dpkg-buildpackage (debian/), and run lintian on them,
# failing on any error or warning (debian/*lintian-overrides give the
# reason for each tag overridden).
#
# Builds in a copy of the source tree under build/deb/ (the files git
# tracks plus new ones it does not ignore), so dpkg-buildpackage writes
# its results there and not beside the work tree.  Results:
# build/deb/secretd_VERSION_ARCH.deb, build/deb/secret-client_VERSION_ARCH.deb.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
start=$(date +%s)

tests/deps.sh deb

[ -f VERSION ] || { echo "deb: no VERSION file" >&2; exit 1; }
version=$(cat VERSION)
changelog=$(dpkg-parsechangelog -S Version)
if [ "$changelog" != "$version" ]; then
	echo "deb: debian/changelog is at $changelog but VERSION says $version:" >&2
	echo "     add a debian/changelog entry (dch -v $version)" >&2
	exit 1
fi

OUT=$ROOT/build/deb
SRC=$OUT/secretd-$version
rm -rf "$OUT"
mkdir -p "$SRC"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -z -co --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf - | tar -xf - -C "$SRC"
else
	tar --exclude=./build --exclude=./bin --exclude=./.dev -cf - . | tar -xf - -C "$SRC"
fi

echo "== dpkg-buildpackage in $SRC"
(cd "$SRC" && dpkg-buildpackage -us -uc -j2) >"$OUT/build.log" 2>&1 || {
	tail -40 "$OUT/build.log"
	echo "deb: dpkg-buildpackage failed; the whole log: $OUT/build.log" >&2
	exit 1
}
changes=$(ls "$OUT"/secretd_"$version"_*.changes)

echo "== lintian $changes"
lintian --fail-on error,warning --display-info --show-overrides "$changes" | tee "$OUT/lintian.log" || {
	echo "deb: lintian found errors or warnings (above; $OUT/lintian.log)" >&2
	exit 1
}
echo "== lintian: no error, no warning"
ls -l "$OUT"/*.deb
echo "== make deb took $(($(date +%s) - start)) s"

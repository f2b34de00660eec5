#!/usr/bin/env bash
# dist/build-deb.sh OUTDIR - the Debian package (debian/), built with
# `dpkg-buildpackage -b -us -uc` from a copy of the source tree (the build
# cleans its tree: the working tree's build/ is left alone), into OUTDIR.
# Prints the .deb's path as its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mkdir -p "$1" && cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/mxguard"
if git rev-parse --is-inside-work-tree > /dev/null 2>&1; then
	# the files git knows or would add, as they are in the working tree
	git ls-files -z --cached --others --exclude-standard | xargs -0 tar -cf - | tar -xf - -C "$work/mxguard"
else
	tar -cf - --exclude=./build --exclude=./.git --exclude=./mxguard --exclude=./bench/data . | tar -xf - -C "$work/mxguard"
fi
(cd "$work/mxguard" && dpkg-buildpackage -b -us -uc -j"$(nproc)" > "$work/build.log" 2>&1) || {
	tail -40 "$work/build.log" >&2
	echo "build-deb: dpkg-buildpackage failed (the end of its log is above)" >&2
	exit 1
}
deb=$(ls "$work"/mxguard_*.deb)
cp "$deb" "$out/"
echo "$out/$(basename "$deb")"

#!/bin/sh
# The dashboard's charting library, pinned in web/package.json and
# web/package-lock.json, fetched with `npm ci` from the npm registry.
#   scripts/vendor-web.sh          copy the files the exporter embeds into web/vendor/
#   scripts/vendor-web.sh --check  fetch into a scratch directory and check that the
#                                  committed web/vendor/ files are exactly the pinned ones
# `make` needs neither: it embeds the committed web/vendor/ files.
set -eu
cd "$(dirname "$0")/.."
mode=${1:-}
files="dist/uPlot.iife.min.js dist/uPlot.min.css LICENSE"

command -v npm >/dev/null 2>&1 || { echo "vendor-web: npm is not installed" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp web/package.json web/package-lock.json "$work/"
# --ignore-scripts: nothing from the registry runs here.
(cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >&2
src="$work/node_modules/uplot"
version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$src/package.json")
rc=0
for f in $files; do
	dest="web/vendor/uplot/$(basename "$f")"
	if [ "$mode" = --check ]; then
		if cmp -s "$src/$f" "$dest"; then
			echo "ok - $dest is uplot $version's $f"
		else
			echo "not ok - $dest differs from uplot $version's $f (run scripts/vendor-web.sh)"
			rc=1
		fi
	else
		mkdir -p web/vendor/uplot
		cp "$src/$f" "$dest"
		echo "vendor-web: $dest from uplot $version"
	fi
done
exit $rc

#!/bin/sh
# Installs the Vega, Vega-Lite and vega-embed browser builds into the package, from the npm
# registry, at install time: the web app serves them itself, so charts work offline.
set -eu
dest=${1:-src/obeya/web/static/vendor}
mkdir -p "$dest"
if [ -s "$dest/vega.min.js" ] && [ -s "$dest/vega-lite.min.js" ] && [ -s "$dest/vega-embed.min.js" ]; then
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent vega@6.3.0 vega-lite@6.4.0 vega-embed@7.3.0 >/dev/null)
for pkg in vega-6.3.0 vega-lite-6.4.0 vega-embed-7.3.0; do
  mkdir -p "$work/$pkg"
  tar -xzf "$work/$pkg.tgz" -C "$work/$pkg"
done
cp "$work/vega-6.3.0/package/build/vega.min.js" "$dest/vega.min.js"
cp "$work/vega-lite-6.4.0/package/build/vega-lite.min.js" "$dest/vega-lite.min.js"
cp "$work/vega-embed-7.3.0/package/build/vega-embed.min.js" "$dest/vega-embed.min.js"
for pkg in vega-6.3.0 vega-lite-6.4.0 vega-embed-7.3.0; do
  cp "$work/$pkg/package/LICENSE" "$dest/LICENSE.${pkg%-*}" 2>/dev/null || true
done

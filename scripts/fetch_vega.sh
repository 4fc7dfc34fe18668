#!/bin/sh
# Installs the browser builds the web app needs into the package, from the npm registry, at
# install time: Vega, Vega-Lite and vega-embed (charts) and htmx (the dashboard's filter form
# swaps the dashboard in place) and swagger-ui-dist (the API reference at /docs).
# The web app serves them itself, so it works offline.
#
# Versions are pinned. vega-lite matches the schema version Altair writes into the specs
# (vega-embed warns when a spec is newer than the library), and vega the Vega major that
# vega-lite compiles to: vega-embed warns when they differ ("The compiled spec uses Vega v6,
# but current version is v5.33.1": vega 6.3.0's build says it is 5.33.1, so 6.4.0).
# tests/web/test_vendored_versions.py checks the three agree. A VERSIONS file records what is
# installed; when a pin changes, the next `make install` fetches again.
set -eu
dest=${1:-src/obeya/web/static/vendor}
pins="vega@6.4.0 vega-lite@6.4.1 vega-embed@7.3.0 htmx.org@2.0.11 swagger-ui-dist@5.32.0"
mkdir -p "$dest"
if [ -s "$dest/VERSIONS" ] && [ "$(cat "$dest/VERSIONS")" = "$pins" ] \
  && [ -s "$dest/vega.min.js" ] && [ -s "$dest/vega-lite.min.js" ] \
  && [ -s "$dest/vega-embed.min.js" ] && [ -s "$dest/htmx.min.js" ] \
  && [ -s "$dest/swagger-ui-bundle.js" ]; then
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck disable=SC2086 # the pins are meant to split into words
(cd "$work" && npm pack --silent $pins >/dev/null)
for pin in $pins; do
  name=${pin%@*}
  version=${pin##*@}
  mkdir -p "$work/$name"
  tar -xzf "$work/$name-$version.tgz" -C "$work/$name"
done
cp "$work/vega/package/build/vega.min.js" "$dest/vega.min.js"
cp "$work/vega-lite/package/build/vega-lite.min.js" "$dest/vega-lite.min.js"
cp "$work/vega-embed/package/build/vega-embed.min.js" "$dest/vega-embed.min.js"
cp "$work/htmx.org/package/dist/htmx.min.js" "$dest/htmx.min.js"
cp "$work/swagger-ui-dist/package/swagger-ui-bundle.js" "$dest/swagger-ui-bundle.js"
cp "$work/swagger-ui-dist/package/swagger-ui.css" "$dest/swagger-ui.css"
for name in vega vega-lite vega-embed htmx.org swagger-ui-dist; do
  cp "$work/$name/package/LICENSE" "$dest/LICENSE.$name" 2>/dev/null || true
done
printf '%s\n' "$pins" >"$dest/VERSIONS"

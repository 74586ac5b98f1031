#!/usr/bin/env bash
# Fetch the map's JavaScript/CSS from the npm registry (`npm pack`) and keep only the dist files in
# geoes/web/static/vendor/, so every asset is served by the app itself (no CDN). Versions are pinned
# here and recorded with their licences in geoes/web/static/vendor/README.md. Re-run to update.
set -euo pipefail
cd "$(dirname "$0")/.."
VENDOR=geoes/web/static/vendor
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# name@version  target-dir  files (paths inside the package, relative to package/)
PACKAGES=(
  "leaflet@1.9.4|leaflet|dist/leaflet.js dist/leaflet.css dist/images/layers.png dist/images/layers-2x.png dist/images/marker-icon.png dist/images/marker-icon-2x.png dist/images/marker-shadow.png LICENSE"
  # Only the cluster icons' stylesheets: the entities are clustered by supercluster (below) or the server.
  "leaflet.markercluster@1.5.3|markercluster|dist/MarkerCluster.css dist/MarkerCluster.Default.css MIT-LICENCE.txt"
  # The UMD build bundles its one dependency, kdbush 4 (ISC, © Vladimir Agafonkin).
  "supercluster@8.0.1|supercluster|dist/supercluster.min.js LICENSE"
  "leaflet.fullscreen@3.0.2|fullscreen|Control.FullScreen.js Control.FullScreen.css icon-fullscreen.svg LICENSE"
  "leaflet.locatecontrol@0.90.1|locatecontrol|dist/L.Control.Locate.min.js dist/L.Control.Locate.min.css LICENSE.md"
  "leaflet-gesture-handling@1.2.2|gesture-handling|dist/leaflet-gesture-handling.min.js dist/leaflet-gesture-handling.min.css LICENSE"
  # Only the SVGs of the icons the pages use (entity types in geoes/reference/entity_types.csv and the
  # share, nearby, filter and close buttons): geoes.web.assets builds the inline sprite from them; the icon font is not served.
  "@fortawesome/fontawesome-free@6.7.2|fontawesome|svgs/solid/users.svg svgs/solid/graduation-cap.svg svgs/solid/comments.svg svgs/solid/paintbrush.svg svgs/solid/industry.svg svgs/solid/handshake-angle.svg svgs/solid/briefcase.svg svgs/solid/wheelchair.svg svgs/solid/building.svg svgs/solid/leaf.svg svgs/solid/life-ring.svg svgs/solid/circle.svg svgs/solid/share-nodes.svg svgs/solid/location-crosshairs.svg svgs/solid/sliders.svg svgs/solid/xmark.svg LICENSE.txt"
)

for spec in "${PACKAGES[@]}"; do
  IFS='|' read -r pkg dir files <<<"$spec"
  echo "vendor: $pkg -> $VENDOR/$dir"
  (cd "$WORK" && npm pack --silent "$pkg" >pack.txt 2>/dev/null)
  tarball="$WORK/$(tail -1 "$WORK/pack.txt")"
  rm -rf "$WORK/package" && tar -xzf "$tarball" -C "$WORK"
  rm -rf "${VENDOR:?}/$dir" && mkdir -p "$VENDOR/$dir"
  for f in $files; do
    src="$WORK/package/$f"
    if [ ! -f "$src" ]; then echo "missing $f in $pkg" >&2; exit 1; fi
    # Keep the package's own layout under the target dir so relative url(...) references still work.
    rel=${f#dist/}
    mkdir -p "$VENDOR/$dir/$(dirname "$rel")"
    cp "$src" "$VENDOR/$dir/$rel"
  done
  rm -f "$tarball"
done
echo "done: $(du -sh "$VENDOR" | cut -f1) in $VENDOR"

"""Folium map shells for the pages: self-hosted assets, no data inline.

Folium builds the Leaflet map, the OSM tile layer, the controls (layers, fullscreen, locate, zoom with
Polish titles and a metric-only scale), the empty entity layer (EntityClusters) and empty feature groups for the boundary,
choropleth and white-spot overlays. `static/js/map.js` fills them with data fetched from the GeoJSON API,
so the HTML stays small whatever the number of entities. A small registry element publishes the layers'
JavaScript names as `window.GEOES_MAP` for map.js.

Folium's own asset links (CDN copies of Leaflet, jQuery, Bootstrap, plugin files) are dropped from every
element: the pages load the vendored libraries as two bundles (geoes.web.assets: js/map-vendor.js and
css/map.css), deferred. The only text folium itself puts into JavaScript here is the entity page marker's
escaped tooltip and title (`escape.text`, folium's escaped JSON), everything else is our own labels.

Folium emits one inline script (the map set-up). `MapParts.script` is that code wrapped in a function,
`window.geoesMapSetup`, which map.js calls once the deferred libraries have run; the template puts it in
`<script nonce=...>`, so a strict CSP allows it by nonce.
"""
from __future__ import annotations

from dataclasses import dataclass
import folium
from branca.element import MacroElement
from folium import plugins
from folium.template import Template

from geoes.common.reference import attribution, entity_types
from geoes.publish import escape
from geoes.web.assets import icon as sprite_icon

GESTURE_TEXT = {"touch": "Przesuń mapę dwoma palcami", "scroll": "Naciśnij Ctrl i przewiń, by przybliżyć mapę",
                "scrollMac": "Naciśnij ⌘ i przewiń, by przybliżyć mapę"}


# The overlays a map may have, in the layer control's order, with the names it shows.
OVERLAY_NAMES = {
    "ch_powiat": "Podmioty na 10 tys. mieszk. – powiaty",
    "ch_gmina": "Podmioty na 10 tys. mieszk. – gminy",
    "ch_need": "Bezrobotni zarejestrowani na 10 tys. mieszk. – gminy (GUS BDL)",
    "white": "Białe plamy (gminy bez podmiotu w rejestrze)",
    "gminy": "Granice gmin",
    "powiaty": "Granice powiatów",
    "units": "Jednostki",              # always shown where a map has it
}


def _self_host(element):
    """No asset links from folium (instance attributes: folium's classes stay as they are)."""
    element.default_js, element.default_css = [], []
    return element


class PolishZoom(MacroElement):
    """Zoom buttons with Polish names (folium's own are English)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            L.control.zoom({"position": "topleft", "zoomInTitle": "Przybliż", "zoomOutTitle": "Oddal"})
                .addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self):
        super().__init__()
        self._name = "PolishZoom"


class MetricScale(MacroElement):
    """Leaflet's scale bar in kilometres only (folium's `control_scale` adds miles too)."""
    _template = Template("""
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false, metric: true}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)


class EntityClusters(folium.FeatureGroup):
    """The entities' layer ("Podmioty" in the layer control): an empty Leaflet feature group that map.js
    fills with the clusters and markers of the current view — clustered in the browser by supercluster
    (vendored, `vendor/supercluster`) over the light payload `/api/points.json`, or, above
    GEOES_MAP_SERVER_CLUSTERS placed entities, as the server clusters them (`/api/clusters`). Only what
    the view shows is ever on the map, so the page stays light at any number of entities."""

    def __init__(self, show: bool = True):
        super().__init__(name="Podmioty", overlay=True, control=True, show=show)
        self._name = "EntityClusters"
        self._id = "entities"


class Registry(MacroElement):
    """Publishes the map and its layers to map.js: `window.GEOES_MAP = {map, layers, control}`."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            window.GEOES_MAP = {
                map: {{ this._parent.get_name() }},
                control: {{ this.control.get_name() }},
                layers: {
                {%- for key, layer in this.layers.items() %}
                    {{ key|tojson }}: {{ layer.get_name() }},
                {%- endfor %}
                }
            };
        {% endmacro %}
    """)

    def __init__(self, layers: dict, control):
        super().__init__()
        self._name = "Registry"
        self.layers = layers
        self.control = control


@dataclass
class MapParts:
    """What a template needs of a folium map: the map div and the set-up script (a function's body)."""
    html: str
    script: str
    map_id: str


def split(m: folium.Map) -> MapParts:
    root = m.get_root()
    root.render()
    # Run by map.js after the deferred libraries (Leaflet…) have loaded: the page's scripts never block.
    # Folium indents generously; its strings are one-line JSON, so dropping indentation changes nothing.
    code = "\n".join(line.strip() for line in root.script.render().splitlines() if line.strip())
    script = "window.geoesMapSetup = function () {\n" + code + "\n};"
    return MapParts(html=root.html.render(), script=script, map_id=m.get_name())


def swatch(code: str) -> str:
    t = entity_types()[code]
    return (f'<span class="geoes-swatch geoes-type-{code}" aria-hidden="true">{sprite_icon(t.icon)}</span> '
            f'{escape.text(t.short_pl)}')


def base_map(bounds, *, types: list[str] | None = None, gestures: bool = False,
             overlays: tuple[str, ...] = ("powiaty", "gminy", "ch_powiat", "ch_gmina", "ch_need", "white"),
             show: tuple[str, ...] = ("entities", "powiaty"), zoom_control: bool = True,
             with_cluster: bool = True, locate: bool = True) -> tuple[folium.Map, dict]:
    """A map fitted to `bounds` ([[south, west], [north, east]]) with the standard empty layers.

    Returns the map and the dict of named layers (registered later by `finish`).
    """
    a = attribution()
    # Embedded in another page, the map needs two fingers (or Ctrl + wheel) to move: the page scrolls.
    # The hints are Polish whatever the visitor's browser language (the plugin would follow it).
    options = {"gestureHandling": True, "gestureHandlingOptions": {"text": GESTURE_TEXT}} if gestures else {}
    m = folium.Map(location=[(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2],
                   zoom_start=8, tiles=None, control_scale=False, zoom_control=False,
                   zoom_snap=0.25, **options)
    m._id = "geoes"
    # A regional map: fewer zoom levels also means less clustering work (100k markers in ~2 s).
    m.options["minZoom"], m.options["maxZoom"] = 7, 18
    _self_host(m)
    if zoom_control:
        m.add_child(PolishZoom())
    data_attr = escape.text(a["data"])
    tiles = folium.TileLayer(a["tiles"]["url"], attr=f'{a["tiles"]["attribution"]} | {data_attr}',
                             name="OpenStreetMap", max_zoom=18, max_native_zoom=19)
    tiles._id = "osm"
    tiles.add_to(m)
    # A base layer without tiles: the map stays readable when tiles fail or on a closed network.
    no_tiles = folium.FeatureGroup(name="Bez podkładu", overlay=False, show=False)
    no_tiles._id = "none"
    no_tiles.add_to(m)
    layers: dict = {"base:osm": tiles, "base:none": no_tiles}

    def group(key, name, shown):
        g = folium.FeatureGroup(name=name, show=shown)
        g._id = key
        g.add_to(m)
        layers[key] = g

    for key, name in OVERLAY_NAMES.items():
        if key in overlays:
            group(key, name, key == "units" or key in show)
    if with_cluster:
        cluster = EntityClusters(show="entities" in show)
        cluster.add_to(m)
        layers["entities"] = cluster
    for code in types or []:
        # Placeholders: toggling one in the layer control filters the cluster by type (map.js).
        g = folium.FeatureGroup(name=swatch(code), show=True)
        g._id = "type_" + code
        g.add_to(m)
        layers["type:" + code] = g
    _self_host(plugins.Fullscreen(position="topleft", title="Pełny ekran", title_cancel="Zamknij pełny ekran")).add_to(m)
    if locate:
        _self_host(plugins.LocateControl(
            position="topleft", flyTo=True, showPopup=False, keepCurrentZoomLevel=False,
            strings={"title": "Pokaż moje położenie", "metersUnit": "m",
                     "popup": "Jesteś w promieniu {distance} {unit} od tego punktu",
                     "outsideMapBoundsMsg": "Twoje położenie jest poza obszarem mapy"})).add_to(m)
    MetricScale().add_to(m)
    m.fit_bounds(bounds)
    return m, layers


def finish(m: folium.Map, layers: dict, collapsed: bool = True) -> MapParts:
    control = folium.LayerControl(position="topright", collapsed=collapsed)
    control.add_to(m)
    Registry(layers, control).add_to(m)
    return split(m)


def entity_map(lat: float, lon: float, name: str, type_code: str | None) -> MapParts:
    """Small map of one entity: the marker is built here by folium, its tooltip escaped. The marker is a
    button to assistive technology: map.js names it after the entity (from the page's configuration, not
    from this script)."""
    pad = 0.02
    m, layers = base_map([[lat - pad, lon - pad], [lat + pad, lon + pad]],
                         overlays=("gminy",), show=("gminy",), with_cluster=False)
    icon_code = type_code if type_code in entity_types() else "inne"
    t = entity_types()[icon_code]
    icon = folium.DivIcon(html=str(sprite_icon(t.icon)), icon_size=(44, 44), icon_anchor=(22, 22),
                          class_name=f"geoes-marker geoes-type-{icon_code}")
    marker = folium.Marker([lat, lon], icon=icon, tooltip=folium.Tooltip(escape.text(name), sticky=False))
    marker._id = "entity"
    marker.add_to(m)
    layers["entity"] = marker
    m.options["zoom"] = 13
    # fit_bounds was added by base_map; a fixed zoom around the point is better here.
    for key, child in list(m._children.items()):
        if type(child).__name__ == "FitBounds":
            del m._children[key]
    return finish(m, layers)


def bounds_of(frame) -> list[list[float]]:
    minx, miny, maxx, maxy = (float(v) for v in frame.total_bounds)
    return [[round(miny, 5), round(minx, 5)], [round(maxy, 5), round(maxx, 5)]]

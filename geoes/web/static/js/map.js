/*
 * geoes map pages: fills the folium-built Leaflet map with data fetched from the GeoJSON API.
 *
 * The page carries a JSON config (<script type="application/json" id="geoes-config">; its shape is
 * written down in geoes/web/pages/mapconfig.py) and folium's set-up script publishes the map and its
 * (empty) layers as window.GEOES_MAP. The colour of every unit and the figures its tooltip shows come
 * from the unit layers' map view (`view=map`, fetched when a layer shows them; the config carries no
 * unit, so the page does not grow with their number): the class rule and the Polish number format
 * live on the server only. Entity text is only ever inserted with textContent or as DOM text nodes,
 * never as HTML; links are http(s) only.
 * Modes: public (/), embed (/embed), unit (county/gmina profile), compare, entity (detail page).
 * On the public map, `W pobliżu` asks the device for its place (or takes a typed one, found by the API's
 * /api/places) and lists the nearest entities under the active filters as /api/nearest gives them
 * (distances and directions are the server's words); on a phone the filters and that list are sheets
 * over the lower part of the map.
 */
(function () {
  'use strict';

  // This file and the libraries are deferred: they run after the page is parsed, so the page's inline
  // folium set-up (under the CSP nonce) is a function, window.geoesMapSetup, run here first.
  var cfgEl = document.getElementById('geoes-config');
  if (!cfgEl || !window.L || typeof window.geoesMapSetup !== 'function') { return; }
  window.geoesMapSetup();
  var G = window.GEOES_MAP;
  if (!G) { return; }
  var cfg = JSON.parse(cfgEl.textContent);
  var L = window.L;
  var map = G.map;
  var layers = G.layers;
  var mode = cfg.mode;
  var interactiveFilters = mode === 'public' || mode === 'embed';

  // ------------------------------------------------------------------ small helpers

  function el(tag, className, text) {
    var e = document.createElement(tag);
    if (className) { e.className = className; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  // An icon of the SVG sprite (cfg.icons, a same-origin file cached for a year); decorative.
  var spriteUrl = String(cfg.icons || '').replace(/["<>&]/g, '');
  function iconHtml(glyph) {
    return '<svg class="icon" aria-hidden="true" focusable="false"><use href="' + spriteUrl + '#i-' + glyph +
      '"></use></svg>';
  }

  function fold(s) {
    return String(s || '').toLowerCase().replace(/ł/g, 'l')
      .normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  }

  function safeUrl(u) {
    if (typeof u !== 'string' || !u || /[\s\u0000-\u001f\u007f"'<>`\\]/.test(u)) { return null; }
    try {
      var parsed = new URL(u);
      if ((parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.hostname &&
          !parsed.username && !parsed.password) { return parsed.href; }
    } catch (e) { /* not a URL */ }
    return null;
  }

  // A whole number from an entity's properties (the employees in a popup). The map layer carries raw
  // values for up to 100k entities, so there is no server-formatted text to show here; note that
  // pl-PL groups thousands only from 10 000 (1234, 12 345) where the server writes 1 234.
  function wholeNumber(x) {
    if (x === null || x === undefined || x === '' || isNaN(Number(x))) { return '–'; }
    return Number(x).toLocaleString('pl-PL', { maximumFractionDigits: 0 });
  }

  function setStatus(text) {
    var s = document.getElementById('map-status');
    if (s) { s.textContent = text; }
  }

  function page(kind, key) {
    var tmpl = cfg.pages[kind];
    return tmpl.replace(kind === 'entity' ? '__ID__' : '__TERYT__', encodeURIComponent(key));
  }

  function getJSON(url) {
    return fetch(url, { headers: { Accept: 'application/geo+json, application/json' }, credentials: 'same-origin' })
      .then(function (r) {
        if (!r.ok) { throw new Error('HTTP ' + r.status); }
        return r.json();
      });
  }

  function query(params) {
    var q = new URLSearchParams();
    Object.keys(params).forEach(function (k) {
      var v = params[k];
      if (Array.isArray(v)) { if (v.length) { q.set(k, v.join(',')); } } else if (v) { q.set(k, v); }
    });
    var s = q.toString();
    return s ? '?' + s : '';
  }

  // ------------------------------------------------------------------ markers

  // A marker's icon is 44×44 px, what a finger hits; the disc drawn inside it is 28 px (geoes.css).
  var iconCache = {};
  function iconFor(code, inactive, hit) {
    var key = code + (inactive ? ':x' : '') + (hit ? ':hit' : '');
    if (!iconCache[key]) {
      var t = cfg.types[code] || cfg.types.inne || { icon: 'circle' };
      var glyph = /^[a-z0-9-]+$/.test(t.icon) ? t.icon : 'circle';
      var safeCode = /^[a-z_]+$/.test(code) ? code : 'inne';
      iconCache[key] = L.divIcon({
        className: 'geoes-marker geoes-type-' + safeCode + (inactive ? ' inactive' : '') + (hit ? ' nearby-hit' : ''),
        html: iconHtml(glyph),
        iconSize: [44, 44], iconAnchor: [22, 22], popupAnchor: [0, -14], tooltipAnchor: [16, 0]
      });
    }
    return iconCache[key];
  }

  function markerIcon(m, hit) {
    return iconFor(m.geoes.types[0] || 'inne', m.geoes.inactive || m.geoes.props.status === 'inactive', hit);
  }

  function typeCodes(p) {
    return String(p.types || '').split(';').map(function (s) { return s.trim(); }).filter(Boolean);
  }

  function typeLabels(codes) {
    return codes.map(function (c) { return cfg.types[c] ? cfg.types[c].label : c; }).join(', ');
  }

  function tooltipContent(layer) {
    var p = layer.geoes.props;
    var box = el('div', 'geoes-tip');
    box.appendChild(el('strong', null, p.name));
    box.appendChild(el('div', null, typeLabels(layer.geoes.types)));
    return box;
  }

  function popupContent(layer) {
    var p = layer.geoes.props;
    var box = el('div', 'geoes-popup');
    var h = el('h3');
    var a = el('a', null, p.name);
    a.href = page('entity', String(p.id));
    h.appendChild(a);
    box.appendChild(h);
    var dl = el('dl');
    function row(label, value, node) {
      if ((value === null || value === undefined || value === '') && !node) { return; }
      dl.appendChild(el('dt', null, label));
      var dd = el('dd', null, node ? null : value);
      if (node) { dd.appendChild(node); }
      dl.appendChild(dd);
    }
    row('Typ', typeLabels(layer.geoes.types));
    var address = [p.street, [p.postal_code, p.locality].filter(Boolean).join(' ')].filter(Boolean).join(', ');
    row('Adres', address);
    row('Gmina', [p.gmina_name, p.powiat_name ? 'pow. ' + p.powiat_name : ''].filter(Boolean).join(', '));
    row('Zatrudnieni', p.employees === null || p.employees === undefined ? '' : wholeNumber(p.employees));
    if (p.status && p.status !== 'active') { row('Status', (cfg.status || {})[p.status] || p.status); }
    var web = safeUrl(p.website);
    if (web) {
      var link = el('a', null, p.website);
      link.href = web;
      link.rel = 'noopener noreferrer nofollow';
      link.target = '_blank';
      row('Strona', null, link);
    } else if (p.website) {
      row('Strona', p.website);
    }
    box.appendChild(dl);
    var more = el('a', 'more', 'Wszystkie informacje i źródła ›');
    more.href = page('entity', String(p.id));
    box.appendChild(more);
    return box;
  }

  // ------------------------------------------------------------------ entities: points, clusters, details

  // The entities come as the light payload (api.points: id, point, type and precision of each placed
  // entity — one compact array per dataset version and filter, geoes/dataset/mappoints.py) clustered here
  // by supercluster, or — above GEOES_MAP_SERVER_CLUSTERS placed entities (cfg.points.server) — as the
  // server clusters each view (api.clusters). Either way the first view is drawn from api.clusters (a few
  // kB), so the map shows its entities at once whatever the register's size; the payload follows and the
  // browser clusters from then on. Only the view's clusters and markers are on the map (layers.entities).
  // An entity's details (name, address… for the marker's name, the tooltip and the popup) are fetched
  // from the API when needed and kept: the markers in a view with few entities are named all at once.
  var RADIUS = 60;          // supercluster's cluster radius in map pixels (the server's grid cell is 80 px)
  var NAME_MAX = 300;       // at most this many entities in view: their names are fetched for the markers
  var ent = {
    client: null,           // supercluster index of the payload in hand; null: the server's clusters
    pts: null,              // the payload, decoded
    count: 0,               // entities the filters select with a point on the map
    unplaced: 0,            // … and without one, in the register (on the list only)
    closed: 0,              // … of those with a point, the closed ones (faded; outside "w rejestrze")
    known: false,           // count and unplaced are known
    drawn: {},              // key → marker on the layer now
    seq: 0,                 // the latest view asked for (a newer one drops an older answer)
    loadSeq: 0,             // the latest payload asked for
    hits: {}                // W pobliżu: the listed entities' ids (their markers are highlighted)
  };
  var details = {};         // id → properties (the API's map view or OGC item)
  var places = {};          // id → [lat, lon] of the entities whose details came with their point

  // Polish numbers as the server writes them (1 234, a no-break space) and the plural of "podmiot".
  function fmtCount(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, '\u00a0'); }
  function plural(n) {
    var f = cfg.plural.podmiot;
    if (n === 1) { return f[0]; }
    return n % 10 >= 2 && n % 10 <= 4 && (n % 100 < 12 || n % 100 > 14) ? f[1] : f[2];
  }

  function noneSelected() { return state.types.indexOf('__none__') >= 0; }

  // The filters of the entities on this map: the reader's (public, embed) or the page's unit.
  function entityParams() {
    return interactiveFilters ? filterParams() : Object.assign({}, cfg.entityFilter || {});
  }

  function codesOf(types, t, also) {
    var codes = [types[t] || 'inne'];
    for (var b = 0; b < types.length; b++) { if (b !== t && (also >> b) & 1) { codes.push(types[b]); } }
    return codes;
  }

  function decodePoints(doc) {
    var n = doc.count;
    var lon = new Float64Array(n);
    var lat = new Float64Array(n);
    var x = 0;
    var y = 0;
    for (var i = 0; i < n; i++) {
      x += doc.lon[i];
      y += doc.lat[i];
      lon[i] = x / doc.scale;
      lat[i] = y / doc.scale;
    }
    return { n: n, id: doc.id, lon: lon, lat: lat, type: doc.type, also: doc.also, status: doc.status,
      types: doc.types, statuses: doc.statuses };
  }

  function buildIndex(pts) {
    var feats = new Array(pts.n);
    for (var i = 0; i < pts.n; i++) {
      feats[i] = { type: 'Feature', properties: { i: i }, geometry: { type: 'Point', coordinates: [pts.lon[i], pts.lat[i]] } };
    }
    // Clusters up to the last zoom: entities a few metres apart (or at one address) stay one group there,
    // which lists them.
    return new window.Supercluster({ radius: RADIUS, extent: 256, minZoom: Math.max(0, map.getMinZoom()),
      maxZoom: map.getMaxZoom() }).load(feats);
  }

  function pointItem(id, lon, lat, codes, inactive) {
    return { key: 'p' + id, id: String(id), lat: lat, lon: lon, types: codes, inactive: inactive };
  }

  function clientItems(box, zoom) {
    var pts = ent.pts;
    return ent.client.getClusters(box, zoom).map(function (f) {
      var c = f.geometry.coordinates;
      if (f.properties.cluster) {
        return { key: 'c' + f.properties.cluster_id, lat: c[1], lon: c[0], n: f.properties.point_count,
          cid: f.properties.cluster_id };
      }
      var i = f.properties.i;
      return pointItem(pts.id[i], pts.lon[i], pts.lat[i], codesOf(pts.types, pts.type[i], pts.also[i]),
        pts.statuses[pts.status[i]] === 'inactive');
    });
  }

  function serverItems(doc) {
    var items = doc.clusters.map(function (c) {
      return { key: 's' + doc.zoom + ':' + c[0] + ',' + c[1] + ':' + c[2], lon: c[0], lat: c[1], n: c[2],
        bounds: [[c[4], c[3]], [c[6], c[5]]] };
    });
    doc.points.forEach(function (p) {
      items.push(pointItem(p[0], p[1], p[2], codesOf(doc.types, p[3], p[4]), doc.statuses[p[6]] === 'inactive'));
    });
    return items;
  }

  function markerName(m) {
    var p = details[m.geoes.id];
    return p && p.name ? String(p.name) : typeLabels(m.geoes.types.slice(0, 1));
  }

  // A marker is named after its entity once the details are known (until then after its type).
  function nameMarker(m) {
    var p = details[m.geoes.id];
    if (p) {
      m.geoes.props = p;
      m.geoes.types = typeCodes(p).length ? typeCodes(p) : m.geoes.types;
    }
    var name = markerName(m);
    m.options.title = name;
    m.options.alt = name;
    if (m._icon) { m._icon.title = name; m._icon.setAttribute('aria-label', name); }
  }

  function pointMarker(it) {
    var m = L.marker([it.lat, it.lon], { keyboard: true, riseOnHover: true });
    m.geoes = { id: it.id, types: it.types, props: { id: it.id }, inactive: it.inactive };
    m.setIcon(markerIcon(m, !!ent.hits[it.id]));
    nameMarker(m);
    m.on('add', function () { nameMarker(m); });
    return m;
  }

  // A cluster is a button named "Skupisko: 120 podmiotów", at least 44 px across (what a finger hits).
  function clusterMarker(it) {
    var size = it.n < 10 ? 44 : it.n < 100 ? 48 : it.n < 1000 ? 52 : 56;
    var label = 'Skupisko: ' + fmtCount(it.n) + '\u00a0' + plural(it.n);
    var m = L.marker([it.lat, it.lon], {
      keyboard: true, title: label,
      icon: L.divIcon({
        html: '<div><span>' + fmtCount(it.n) + '</span></div>',
        className: 'marker-cluster marker-cluster-' + (it.n < 10 ? 'small' : it.n < 100 ? 'medium' : 'large'),
        iconSize: L.point(size, size)
      })
    });
    m.geoes = { cluster: it };
    m.on('add', function () { if (m._icon) { m._icon.setAttribute('aria-label', label); } });
    return m;
  }

  // The view's clusters and markers on the layer: what stays is kept, the rest replaced.
  function draw(items) {
    var next = {};
    items.forEach(function (it) { next[it.key] = it; });
    Object.keys(ent.drawn).forEach(function (k) {
      if (!next[k]) { cluster.removeLayer(ent.drawn[k]); delete ent.drawn[k]; }
    });
    Object.keys(next).forEach(function (k) {
      if (ent.drawn[k]) { return; }
      var m = next[k].id !== undefined ? pointMarker(next[k]) : clusterMarker(next[k]);
      ent.drawn[k] = m;
      cluster.addLayer(m);
    });
  }

  function drawnPoints() {
    return Object.keys(ent.drawn).map(function (k) { return ent.drawn[k]; }).filter(function (m) { return m.geoes.id; });
  }

  // The view with a margin, within what the API takes.
  function viewBox() {
    var b = map.getBounds().pad(0.25);
    return [Math.max(-180, b.getWest()), Math.max(-85, b.getSouth()), Math.min(180, b.getEast()),
      Math.min(85, b.getNorth())];
  }

  function boxParam(box) { return box.map(function (v) { return v.toFixed(5); }).join(','); }

  function keep(list) {
    (list || []).forEach(function (f) {
      var p = f.properties || {};
      if (p.id === undefined || p.id === null) { p.id = f.id; }
      details[String(p.id)] = p;
      var g = f.geometry;
      if (g && g.type === 'Point') { places[String(p.id)] = [g.coordinates[1], g.coordinates[0]]; }
    });
  }

  // The details of the entities in an area (the API's map view under the map's filters): their ids.
  function fetchArea(box) {
    var params = Object.assign({ view: 'map', bbox: box.map(function (v) { return v.toFixed(6); }).join(',') },
      entityParams());
    return getJSON(cfg.api.entities + query(params)).then(function (fc) {
      keep(fc.features);
      return (fc.features || []).map(function (f) { return String(f.properties.id); });
    });
  }

  // One entity's details (the OGC API item).
  function fetchItem(id) {
    if (details[id]) { return Promise.resolve(details[id]); }
    return getJSON(cfg.api.item.replace('__ID__', encodeURIComponent(id)) + '?f=json').then(function (f) {
      keep([f]);
      return details[id];
    });
  }

  // Few entities in view: the markers get their entities' names (one request for the view).
  var naming = {};  // the areas whose names are on their way (one request each)
  function nameView(total) {
    var unnamed = drawnPoints().filter(function (m) { return !details[m.geoes.id]; });
    if (!unnamed.length || total > NAME_MAX) { return Promise.resolve(); }
    var b = map.getBounds();
    var box = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
    var key = boxParam(box) + query(entityParams());
    if (!naming[key]) {
      naming[key] = fetchArea(box).then(function () {
        delete naming[key];
        drawnPoints().forEach(nameMarker);
      }, function () { delete naming[key]; /* the markers keep their type's name; a click fetches the entity */ });
    }
    return naming[key];
  }

  // The view's clusters and markers: from the index in hand, or asked from the server.
  function refresh() {
    if (!cluster) { return Promise.resolve(); }
    var seq = ++ent.seq;
    var zoom = Math.floor(map.getZoom());
    var box = viewBox();
    if (noneSelected()) {
      draw([]);
      return Promise.resolve();
    }
    if (ent.client) {
      var items = clientItems(box, zoom);
      draw(items);
      var b = map.getBounds();
      var total = items.reduce(function (a, it) { return a + (b.contains([it.lat, it.lon]) ? it.n || 1 : 0); }, 0);
      map.getContainer().setAttribute('data-clusters', 'browser');
      return nameView(total);
    }
    return getJSON(cfg.api.clusters + query(Object.assign({ bbox: boxParam(box), zoom: String(zoom) }, entityParams())))
      .then(function (doc) {
        if (seq !== ent.seq) { return; }
        if (!ent.client) {
          ent.count = doc.count;
          ent.unplaced = doc.unplaced;
          ent.closed = doc.closed || 0;
          ent.known = true;
          showStatus();
        }
        draw(serverItems(doc));
        map.getContainer().setAttribute('data-clusters', 'server');
        return nameView(doc.total);
      });
  }

  // The payload of what the filters select, then supercluster's index of it (below the threshold).
  function loadPoints() {
    var seq = ++ent.loadSeq;
    if (noneSelected()) {
      ent.client = null;
      ent.count = 0;
      ent.unplaced = 0;
      ent.closed = 0;
      ent.known = true;
      return Promise.resolve();
    }
    var params = Object.assign({ v: cfg.points.version }, entityParams());
    return getJSON(cfg.api.points + query(params)).then(function (doc) {
      if (seq !== ent.loadSeq) { return; }
      var t = performance.now();
      var pts = decodePoints(doc);
      var index = buildIndex(pts);
      if (G.timing) { G.timing.indexed_ms = performance.now() - t; }
      ent.pts = pts;
      ent.client = index;
      ent.count = doc.count;
      ent.unplaced = doc.unplaced;
      ent.closed = doc.closed || 0;
      ent.known = true;
    });
  }

  // ------------------------------------------------------------------ filters and URL state

  var state = {
    types: (cfg.state && cfg.state.types) || [],
    powiat: (cfg.state && cfg.state.powiat) || '',
    gmina: (cfg.state && cfg.state.gmina) || '',
    q: (cfg.state && cfg.state.q) || ''
  };

  var cluster = layers.entities;

  // ------------------------------------------------------------------ popups and tooltips

  // The area the map's controls take in a corner (the corner element itself has no size: its controls float).
  function cornerSize(name) {
    var corner = map.getContainer().querySelector('.leaflet-' + name.replace('top', 'top.leaflet-')
      .replace('bottom', 'bottom.leaflet-'));
    var box = map.getContainer().getBoundingClientRect();
    var w = 0;
    var h = 0;
    if (corner) {
      Array.prototype.forEach.call(corner.children, function (c) {
        var r = c.getBoundingClientRect();
        if (!r.width) { return; }
        w = Math.max(w, name.indexOf('left') >= 0 ? r.right - box.left : box.right - r.left);
        h = Math.max(h, name.indexOf('top') >= 0 ? r.bottom - box.top : box.bottom - r.top);
      });
    }
    return { w: w, h: h };
  }

  // Popups open clear of the controls: the map pans so that a popup's title is never under a button,
  // and a popup is never wider or taller than the map leaves room for (an embed is 320 px wide).
  function popupOptions() {
    var size = map.getSize();
    var tl = cornerSize('topleft');
    var tr = cornerSize('topright');
    var bottom = Math.max(cornerSize('bottomleft').h, cornerSize('bottomright').h);
    var top = Math.max(tl.h, tr.h) + 8;
    return {
      // Leaflet's maxWidth is the content's: the frame and the close button take ~50 px more.
      maxWidth: Math.max(160, Math.min(320, size.x - tl.w - 70)),
      minWidth: Math.min(160, size.x - tl.w - 70),
      maxHeight: Math.max(120, size.y - top - bottom - 40),
      autoPanPaddingTopLeft: L.point(tl.w + 8, top),
      autoPanPaddingBottomRight: L.point(8, bottom + 8),
      offset: L.point(0, -8)
    };
  }

  // One popup for everything (entities, groups, units): options fresh for the map's size each time.
  var popup = null;
  var popupSource = null;
  function openPopup(latlng, content, source, byKeyboard) {
    if (popup) { map.closePopup(popup); }
    popup = L.popup(popupOptions()).setLatLng(latlng).setContent(content);
    popupSource = source || null;
    map.openPopup(popup);
    var elPopup = popup.getElement();
    var close = elPopup && elPopup.querySelector('.leaflet-popup-close-button');
    if (close) { close.setAttribute('aria-label', 'Zamknij'); close.title = 'Zamknij'; }
    if (byKeyboard && elPopup) {
      var first = elPopup.querySelector('.leaflet-popup-content a, .leaflet-popup-content button');
      if (first) { first.focus(); }
    }
  }

  function returnFocus() {
    var icon = popupSource && popupSource.getElement && popupSource.getElement();
    if (icon && icon.focus && document.activeElement && popup && popup.getElement() &&
        popup.getElement().contains(document.activeElement)) { icon.focus(); }
  }

  // At most one tooltip at a time, and none beside an open popup (the popup says more).
  var openTip = null;
  var popupOpen = false;
  map.on('popupopen', function () {
    popupOpen = true;
    if (openTip) { map.closeTooltip(openTip); openTip = null; }
  });
  map.on('popupclose', function (ev) {
    if (ev.popup === popup) { returnFocus(); popupSource = null; }
    popupOpen = false;
  });
  map.on('tooltipopen', function (ev) {
    if (popupOpen) { map.closeTooltip(ev.tooltip); return; }
    if (openTip && openTip !== ev.tooltip) { map.closeTooltip(openTip); }
    openTip = ev.tooltip;
  });
  map.on('tooltipclose', function (ev) { if (openTip === ev.tooltip) { openTip = null; } });
  map.getContainer().addEventListener('keydown', function (ev) {
    if (ev.key === 'Escape' && popup && map.hasLayer(popup)) { map.closePopup(popup); }
  });

  // Entities that share one point (ten in the centre of Kielce), or lie a few metres apart at the last
  // zoom, are listed in one popup, each linked.
  function listContent(ids, samePlace) {
    var box = el('div', 'geoes-popup geoes-list');
    box.appendChild(el('h3', null, 'Podmioty w tym miejscu: ' + ids.length));
    box.appendChild(el('p', 'hint', samePlace
      ? 'Mają to samo położenie na mapie (np. ten sam adres lub środek miejscowości).'
      : 'Leżą tak blisko siebie, że na mapie ich punkty się pokrywają.'));
    var ul = el('ul');
    ids.map(function (id) { return details[id] || { id: id, name: id }; }).sort(function (a, b) {
      return String(a.name).localeCompare(String(b.name), 'pl');
    }).forEach(function (p) {
      var li = el('li');
      var a = el('a', null, p.name);
      a.href = page('entity', String(p.id));
      li.appendChild(a);
      li.appendChild(el('span', 'muted', ' – ' + typeLabels(typeCodes(p))));
      ul.appendChild(li);
    });
    box.appendChild(ul);
    return box;
  }

  function isEnter(ev) {
    return !!(ev.originalEvent && (ev.originalEvent.keyCode === 13 || ev.originalEvent.key === 'Enter'));
  }

  // A marker's popup, once its entity's details are known.
  function openEntity(m, keyboard) {
    return fetchItem(m.geoes.id).then(function () {
      nameMarker(m);
      if (m.getTooltip()) { m.closeTooltip(); }
      openPopup(m.getLatLng(), popupContent(m), m, keyboard);
    }, function (err) {
      openPopup(m.getLatLng(), el('p', null, 'Nie udało się pobrać danych podmiotu (' + err.message + ').'), m, keyboard);
    });
  }

  // The entities of a group that cannot be taken apart on the map, in one popup.
  // `ids`: the group's entities when known (the browser's index), else those in `box` are asked for.
  function openList(m, ids, box, keyboard, samePlace) {
    var missing = ids.filter(function (id) { return !details[id]; });
    var job = !ids.length ? fetchArea(box)
      : !missing.length ? Promise.resolve(ids)
        : missing.length <= 3 ? Promise.all(missing.map(fetchItem)).then(function () { return ids; })
          : fetchArea(box).then(function () { return ids; });
    return job.then(function (list) {
      openPopup(m.getLatLng(), listContent(list, samePlace), m, keyboard);
    });
  }

  // A click (or Enter) on a cluster zooms in to where it comes apart; one that cannot come apart (at the
  // last zoom, or its entities at one place) lists its entities.
  function openCluster(m, keyboard) {
    var it = m.geoes.cluster;
    var max = map.getMaxZoom();
    if (it.cid !== undefined && ent.client) {
      var z = ent.client.getClusterExpansionZoom(it.cid);
      if (z <= max && map.getZoom() < max) { map.setView(m.getLatLng(), z); return Promise.resolve(); }
      var leaves = ent.client.getLeaves(it.cid, Infinity).map(function (f) { return f.properties.i; });
      var lons = leaves.map(function (i) { return ent.pts.lon[i]; });
      var lats = leaves.map(function (i) { return ent.pts.lat[i]; });
      var box = [Math.min.apply(null, lons), Math.min.apply(null, lats), Math.max.apply(null, lons), Math.max.apply(null, lats)];
      return openList(m, leaves.map(function (i) { return String(ent.pts.id[i]); }),
        [box[0] - 1e-6, box[1] - 1e-6, box[2] + 1e-6, box[3] + 1e-6], keyboard, box[0] === box[2] && box[1] === box[3]);
    }
    var b = it.bounds;
    var onePlace = b && b[0][0] === b[1][0] && b[0][1] === b[1][1];
    if (b && !onePlace && map.getZoom() < max) {
      map.fitBounds(L.latLngBounds(b), { padding: [40, 40], maxZoom: max });
      return Promise.resolve();
    }
    var area = [b[0][1] - 1e-6, b[0][0] - 1e-6, b[1][1] + 1e-6, b[1][0] + 1e-6];
    return openList(m, [], area, keyboard, onePlace);
  }

  // One listener on the layer for every marker and cluster (not two objects per marker); popups and
  // tooltips are made on first use. Enter on a focused marker or cluster is a click too (Leaflet's).
  if (cluster) {
    cluster.on('click keypress', function (ev) {
      var m = ev.propagatedFrom || ev.layer;
      if (!m || !m.geoes) { return; }
      if (ev.type === 'keypress' && !isEnter(ev)) { return; }
      var keyboard = ev.type === 'keypress';
      if (m.geoes.cluster) { openCluster(m, keyboard); } else { openEntity(m, keyboard); }
    });
    cluster.on('mouseover', function (ev) {
      var m = ev.propagatedFrom || ev.layer;
      if (!m || !m.geoes || !m.geoes.id || m.getTooltip() || popupOpen) { return; }
      fetchItem(m.geoes.id).then(function () {
        nameMarker(m);
        if (m.getTooltip() || popupOpen || !map.hasLayer(m)) { return; }
        m.bindTooltip(tooltipContent, { direction: 'right' });
        m.openTooltip();
      }, function () {});
    });
  }

  function filtered() {
    return interactiveFilters && !!(state.types.length || state.powiat || state.q.trim() || state.gmina);
  }

  // What the filters select, in words: "WTZ, ZAZ; powiat jędrzejowski; nazwa: „dom”".
  function filterWords() {
    var parts = [];
    var types = state.types.filter(function (t) { return cfg.types[t]; });
    if (types.length) { parts.push(types.map(function (t) { return cfg.types[t].short; }).join(', ')); }
    var option = state.powiat && document.querySelector('#f-powiat option[value="' + state.powiat + '"]');
    if (state.powiat) { parts.push(option ? option.textContent.trim() : 'powiat ' + state.powiat); }
    var g = state.gmina && document.querySelector('#filters input[name=gmina]');
    if (state.gmina) { parts.push(g && g.getAttribute('data-label') || 'gmina ' + state.gmina); }
    if (state.q.trim()) { parts.push('nazwa lub miejscowość: „' + state.q.trim() + '”'); }
    return parts.join('; ');
  }

  function activeFilterCount() {
    return (state.types.length ? 1 : 0) + (state.powiat ? 1 : 0) + (state.gmina ? 1 : 0) + (state.q.trim() ? 1 : 0);
  }

  // The status line counts only what the filters select: the markers shown and, apart, those of them
  // that have no point (they are on the list). Worded so that no count needs a plural form (the figures
  // are not formatted on the server here).
  // The filters changed (or the page opened): what they select, clustered again — the payload of the new
  // selection (from the browser's cache when asked for before) or the server's clusters — no reload.
  function rebuild() {
    if (!cluster) { return Promise.resolve(); }
    updateLinks();
    var first = refresh();
    if (cfg.points.server) { return first; }
    return loadPoints().then(function () {
      showStatus();
      return refresh();
    });
  }

  function showStatus() {
    if (!ent.known) { return; }
    // The subset the map shows is named as such ("na mapie: 68 z 82 w rejestrze; 14 bez punktu"), counted
    // under the filters; closed entities (faded markers) are outside "w rejestrze".
    var noPoint = ent.unplaced;
    var onMap = ent.count - ent.closed;
    var text = 'Na mapie: ' + onMap + ' z ' + (onMap + noPoint) + ' w rejestrze';
    if (filtered()) { text += ' (filtr: ' + filterWords() + ')'; }
    if (noPoint) { text += '; ' + noPoint + ' bez punktu – są na liście'; }
    if (ent.closed) { text += '; zamknięte (szare znaczniki, poza liczbą w rejestrze): ' + ent.closed; }
    setStatus(text + '.');
    var badge = document.getElementById('filters-badge');
    if (badge) {
      var n = interactiveFilters ? activeFilterCount() : 0;
      badge.textContent = String(n);
      badge.hidden = !n;
    }
    updateLinks();
  }

  function filterParams() {
    return { type: state.types, powiat: state.powiat, gmina: state.gmina, q: state.q.trim() };
  }

  function updateLinks() {
    var qs = query(filterParams());
    var list = document.getElementById('link-list');
    if (list) { list.href = cfg.pages.list + qs; }
    var csv = document.getElementById('link-csv');
    if (csv) { csv.href = cfg.api.entities + query(Object.assign(filterParams(), { format: 'csv' })); }
    var xlsx = document.getElementById('link-xlsx');
    if (xlsx) { xlsx.href = cfg.api.entities + query(Object.assign(filterParams(), { format: 'xlsx' })); }
    var excel = document.getElementById('link-excel');
    if (excel) {
      excel.href = cfg.api.entities + query(Object.assign(filterParams(), { format: 'csv', dialect: 'excel-pl' }));
    }
    var gj = document.getElementById('link-geojson');
    if (gj) { gj.href = cfg.api.entities + qs; }
  }

  var OVERLAY_KEYS = ['entities', 'powiaty', 'gminy', 'ch_powiat', 'ch_gmina', 'ch_need', 'white'];

  function writeHash() {
    if (!interactiveFilters) { return; }
    var c = map.getCenter();
    var h = new URLSearchParams();
    h.set('z', String(map.getZoom()));
    h.set('c', c.lat.toFixed(4) + ',' + c.lng.toFixed(4));
    if (state.types.length) { h.set('t', state.types.join(',')); }
    if (state.powiat) { h.set('p', state.powiat); }
    if (state.gmina) { h.set('g', state.gmina); }
    if (state.q.trim()) { h.set('q', state.q.trim()); }
    var on = OVERLAY_KEYS.filter(function (k) { return layers[k] && map.hasLayer(layers[k]); });
    h.set('l', on.join(','));
    updateLegend();
    if (layers['base:none'] && map.hasLayer(layers['base:none'])) { h.set('b', 'none'); }
    var hash = '#' + h.toString();
    if (window.location.hash !== hash) { history.replaceState(null, '', hash); }
    var full = document.getElementById('link-full');
    if (full) { full.href = full.href.split('#')[0] + hash; }
  }

  var syncing = false;

  function readHash() {
    if (!interactiveFilters || window.location.hash.length < 2) { return false; }
    var h = new URLSearchParams(window.location.hash.slice(1));
    if (h.has('t')) {
      state.types = h.get('t').split(',').filter(function (t) { return cfg.types[t]; });
    }
    // A powiat the powiat layer does not have is dropped when the layer arrives (showPowiat).
    if (h.has('p')) { state.powiat = /^\d{4}$/.test(h.get('p')) ? h.get('p') : ''; }
    if (h.has('g')) { state.gmina = /^\d{7}$/.test(h.get('g')) ? h.get('g') : ''; }
    if (h.has('q')) { state.q = h.get('q').slice(0, 200); }
    if (h.has('l')) {
      var on = h.get('l').split(',');
      syncing = true;
      OVERLAY_KEYS.forEach(function (k) {
        if (!layers[k]) { return; }
        if (on.indexOf(k) >= 0) { map.addLayer(layers[k]); } else { map.removeLayer(layers[k]); }
      });
      syncing = false;
    }
    if (h.get('b') === 'none' && layers['base:none'] && layers['base:osm']) {
      map.removeLayer(layers['base:osm']);
      map.addLayer(layers['base:none']);
    }
    var z = parseFloat(h.get('z'));
    var c = (h.get('c') || '').split(',').map(Number);
    if (isFinite(z) && c.length === 2 && isFinite(c[0]) && isFinite(c[1])) {
      var target = Math.max(1, Math.min(19, z));
      var view = function () { map.setView([c[0], c[1]], target, { animate: false }); };
      view();
      // The opening fit to the region animates its zoom from the next frame on, and Leaflet ends that
      // animation at the fitted view, over this one: the permalink's view is set again when it ends.
      var until = performance.now() + 1500;
      map.once('zoomend', function () {
        if (performance.now() < until && Math.abs(map.getZoom() - target) > 0.01) { view(); }
      });
      return true;
    }
    return false;
  }

  // Type layers in the layer control mirror the type checkboxes: one state, two ways to set it.
  function typeLayerKeys() {
    return Object.keys(layers).filter(function (k) { return k.indexOf('type:') === 0; });
  }

  function syncTypeLayers() {
    syncing = true;
    typeLayerKeys().forEach(function (k) {
      var code = k.slice(5);
      var on = !state.types.length || state.types.indexOf(code) >= 0;
      if (on && !map.hasLayer(layers[k])) { map.addLayer(layers[k]); }
      if (!on && map.hasLayer(layers[k])) { map.removeLayer(layers[k]); }
    });
    syncing = false;
  }

  function syncForm() {
    var form = document.getElementById('filters');
    if (!form) { return; }
    Array.prototype.forEach.call(form.querySelectorAll('input[name=type]'), function (box) {
      box.checked = state.types.indexOf(box.value) >= 0;
    });
    var sel = form.querySelector('select[name=powiat]');
    if (sel) { sel.value = state.powiat || ''; }
    var q = form.querySelector('input[name=q]');
    if (q && q.value !== state.q) { q.value = state.q; }
  }

  function applyState(opts) {
    syncTypeLayers();
    rebuild();
    refreshNearby();
    if (opts && opts.zoom) {
      if (state.powiat) {
        showPowiat(state.powiat, true, opts.resetView).catch(function () {});  // a failed layer says so itself
      } else if (opts.resetView && G.initialBounds) {
        map.fitBounds(G.initialBounds);
      }
    }
    writeHash();
  }

  function wireForm() {
    var form = document.getElementById('filters');
    if (!form) { return; }
    var timer = null;
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      readForm();
      applyState({ zoom: true });
    });
    form.addEventListener('change', function (ev) {
      if (ev.target.name === 'q') { return; }
      var zoom = ev.target.name === 'powiat';
      readForm();
      applyState({ zoom: zoom, resetView: zoom });
    });
    var q = form.querySelector('input[name=q]');
    if (q) {
      q.addEventListener('input', function () {
        clearTimeout(timer);
        timer = setTimeout(function () { readForm(); applyState(); }, 250);
      });
    }
    var reset = document.getElementById('f-reset');
    if (reset) {
      reset.addEventListener('click', function (ev) {
        ev.preventDefault();
        state.types = []; state.powiat = ''; state.gmina = ''; state.q = '';
        syncForm();
        applyState({ zoom: true, resetView: true });
      });
    }
  }

  function readForm() {
    var form = document.getElementById('filters');
    state.types = Array.prototype.filter.call(form.querySelectorAll('input[name=type]'), function (b) {
      return b.checked;
    }).map(function (b) { return b.value; });
    var sel = form.querySelector('select[name=powiat]');
    state.powiat = sel ? sel.value : '';
    var q = form.querySelector('input[name=q]');
    state.q = q ? q.value : '';
  }

  function onOverlayChange(ev) {
    if (syncing) { return; }
    var key = Object.keys(layers).filter(function (k) { return layers[k] === ev.layer; })[0];
    if (key && key.indexOf('type:') === 0) {
      var on = typeLayerKeys().filter(function (k) { return map.hasLayer(layers[k]); }).map(function (k) {
        return k.slice(5);
      });
      state.types = on.length === typeLayerKeys().length ? [] : on;
      if (!on.length) { state.types = ['__none__']; }
      syncForm();
      rebuild();
    }
    if (key && (key === 'ch_powiat' || key === 'ch_gmina' || key === 'ch_need' || key === 'white') && ev.type === 'overlayadd') {
      ev.layer.bringToBack();
    }
    writeHash();
  }

  // ------------------------------------------------------------------ polygons

  // A unit as the server describes it: the properties of its feature in the unit layers' map view
  // (`view=map`: label, class colours, figures as shown, white spot; geoes.publish.unitmap).
  function unitInfo(f) {
    return f.properties || {};
  }

  function unitColor(f) {
    return unitInfo(f).color || cfg.classes.zero;
  }

  function unitTooltip(f, level) {
    var info = unitInfo(f);
    var box = el('div', 'geoes-tip');
    box.appendChild(el('strong', null, info.label || ((level === 'powiat' ? 'powiat ' : 'gmina ') + info.name)));
    box.appendChild(el('div', null, 'Podmioty: ' + (info.entities || '–') + ' · na 10 tys. mieszk.: ' + (info.per_10k || '–')));
    box.appendChild(el('div', null, 'Ludność: ' + (info.population || '–')));
    if (info.unemployed && info.unemployed !== '–') {
      box.appendChild(el('div', null, 'Bezrobotni zarejestrowani (' + info.need_year + ', GUS BDL): ' +
        info.unemployed + ' · na 10 tys. mieszk.: ' + (info.unemployed_per_10k || '–')));
    }
    return box;
  }

  function unitPopup(f, level) {
    var box = unitTooltip(f, level);
    var a = el('a', 'more', level === 'powiat' ? 'Profil powiatu ›' : 'Profil gminy ›');
    a.href = page(level === 'powiat' ? 'powiat' : 'gmina', f.properties.teryt);
    box.appendChild(a);
    return box;
  }

  function addUnits(group, fc, opts) {
    if (!group) { return; }
    group.clearLayers();
    var features = (fc.features || []).filter(opts.filter || function () { return true; });
    var gj = L.geoJSON({ type: 'FeatureCollection', features: features }, {
      style: opts.style,
      interactive: !!opts.level,
      onEachFeature: function (f, layer) {
        if (!opts.level) { return; }
        f.properties = f.properties || {};
        if (f.properties.teryt === undefined) { f.properties.teryt = f.id; }
        layer.bindTooltip(function () { return unitTooltip(f, opts.level); }, { sticky: true });
        layer.on('click', function (ev) { openPopup(ev.latlng, unitPopup(f, opts.level), layer, false); });
      }
    });
    group.addLayer(gj);
  }

  // How each boundary layer is drawn from its level's features. A layer is drawn when it is first shown
  // (most start hidden), each in its own task: no long task while the page becomes usable.
  var STYLES = {
    powiaty: { color: '#333333', weight: 2, fill: false, opacity: 0.9 },
    gminy: { color: '#777777', weight: 1, fill: false, dashArray: '3 3', opacity: 0.9 },
    white: { color: '#b2182b', weight: 1.5, dashArray: '4 3', fillColor: '#b2182b', fillOpacity: 0.18 }
  };

  function inUnit(f) {
    var u = cfg.unit;
    var p = f.properties || {};
    return u.level === 'powiat' ? p.powiat_teryt === u.teryt : (p.teryt || f.id) === u.teryt;
  }

  function unitStyle(f) {
    var on = !unitInfo(f).white_spot;
    return {
      color: on ? '#333333' : '#b2182b', weight: 1.5, dashArray: on ? null : '4 3',
      fillOpacity: 0.55, fillColor: unitColor(f)
    };
  }

  var DRAWERS = {
    powiaty: function (fc) { addUnits(layers.powiaty, fc, { style: STYLES.powiaty }); },
    ch_powiat: function (fc) {
      addUnits(layers.ch_powiat, fc, {
        level: 'powiat',
        style: function (f) { return { color: '#555555', weight: 1, fillOpacity: 0.7, fillColor: unitColor(f) }; }
      });
    },
    gminy: function (fc) { addUnits(layers.gminy, fc, { style: STYLES.gminy }); },
    ch_gmina: function (fc) {
      addUnits(layers.ch_gmina, fc, {
        level: 'gmina',
        style: function (f) { return { color: '#777777', weight: 0.7, fillOpacity: 0.7, fillColor: unitColor(f) }; }
      });
    },
    ch_need: function (fc) {
      addUnits(layers.ch_need, fc, {
        level: 'gmina',
        style: function (f) {
          return { color: '#777777', weight: 0.7, fillOpacity: 0.7, fillColor: unitInfo(f).need_color || cfg.classes.zero };
        }
      });
    },
    white: function (fc) {
      addUnits(layers.white, fc, {
        level: 'gmina', style: STYLES.white, filter: function (f) { return unitInfo(f).white_spot === true; }
      });
    },
    units: function (fc) {
      if (mode === 'unit') {
        addUnits(layers.units, fc, { level: 'gmina', filter: inUnit, style: unitStyle });
      } else if (mode === 'compare') {
        var wanted = cfg.highlight || [];
        addUnits(layers.units, fc, {
          level: cfg.unit.level,
          filter: function (f) { return wanted.indexOf((f.properties || {}).teryt || f.id) >= 0; },
          style: { color: cfg.classes.highlight, weight: 3, fillColor: cfg.classes.highlight, fillOpacity: 0.15 }
        });
      }
    }
  };

  // ------------------------------------------------------------------ start

  function tilesFallback() {
    var t = layers['base:osm'];
    if (!t || !t.on) { return; }
    var shownNote = false;
    t.on('tileerror', function () {
      if (shownNote) { return; }
      shownNote = true;
      var note = document.getElementById('tile-note');
      if (note) { note.hidden = false; }
      map.getContainer().classList.add('no-tiles');
    });
  }

  // ------------------------------------------------------------------ share (public map)

  function attr(value) {
    return String(value).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  }

  // The permalink is the page's own address (the hash carries filters, view and layers); the embed code
  // points /embed at the same filters and view.
  function shareTexts() {
    var link = window.location.href;
    var src = window.location.origin + cfg.pages.embed + query(filterParams()) + window.location.hash;
    var code = '<iframe src="' + attr(src) + '" title="Mapa podmiotów ekonomii społecznej" width="100%" ' +
      'height="480" style="border:0" loading="lazy" allow="geolocation; fullscreen"></iframe>';
    return { link: link, code: code };
  }

  function copyText(field, done) {
    var status = document.getElementById('share-status');
    function say(text) { if (status) { status.textContent = text; } }
    function fallback() {
      field.focus();
      field.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      say(ok ? done : 'Nie udało się skopiować: tekst jest zaznaczony, naciśnij Ctrl+C.');
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () { say(done); }, fallback);
    } else {
      fallback();
    }
  }

  function openShare() {
    var dialog = document.getElementById('share-dialog');
    var texts = shareTexts();
    var link = document.getElementById('share-link');
    var code = document.getElementById('share-code');
    link.value = texts.link;
    code.value = texts.code;
    dialog.showModal();
    copyText(link, 'Link do mapy z bieżącymi filtrami skopiowano do schowka.');
  }

  function wireShare() {
    var dialog = document.getElementById('share-dialog');
    if (mode !== 'public' || !dialog || typeof dialog.showModal !== 'function') { return; }
    Array.prototype.forEach.call(dialog.querySelectorAll('[data-copy]'), function (btn) {
      btn.addEventListener('click', function () {
        copyText(document.getElementById(btn.getAttribute('data-copy')), btn.getAttribute('data-done'));
      });
    });
    var close = dialog.querySelector('[data-close]');
    if (close) { close.addEventListener('click', function () { dialog.close(); }); }
    var pageButton = document.getElementById('share-page-button');
    if (pageButton) { pageButton.addEventListener('click', openShare); }
    var Share = L.Control.extend({
      options: { position: 'topright' },
      onAdd: function () {
        var box = L.DomUtil.create('div', 'leaflet-bar leaflet-control geoes-share');
        var btn = L.DomUtil.create('button', 'geoes-share-button', box);
        btn.type = 'button';
        btn.id = 'share-button';
        btn.setAttribute('aria-haspopup', 'dialog');
        btn.innerHTML = iconHtml('share-nodes') + '<span>Osadź / Udostępnij</span>';
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.on(btn, 'click', openShare);
        return box;
      }
    });
    new Share().addTo(map);
  }

  // ------------------------------------------------------------------ sheets (phone) and panels

  var PHONE = window.matchMedia ? window.matchMedia('(max-width: 48rem)') : { matches: false };
  var openers = {};  // panel id → the button that opens it (focus returns there)

  // A panel opens in place beside the map on a wide screen and as a sheet over the lower part of the map
  // on a phone (one sheet at a time). The map stays visible and usable: nothing is modal.
  function setPanel(id, open) {
    var panel = document.getElementById(id);
    if (!panel) { return; }
    if (open) {
      Object.keys(openers).forEach(function (other) { if (other !== id) { setPanel(other, false); } });
      panel.hidden = false;
      panel.classList.add('open');
      if (PHONE.matches) {
        // The toolbar at the top of the screen: the sheet covers less of the map.
        var bar = document.querySelector('.map-toolbar');
        if (bar) { window.scrollTo(0, bar.getBoundingClientRect().top + window.pageYOffset); }
      }
      var title = panel.querySelector('h2');
      if (title) { title.focus(); }
    } else {
      var hadFocus = panel.contains(document.activeElement);
      panel.classList.remove('open');
      if (id === 'nearby') { panel.hidden = true; }
      if (hadFocus && openers[id]) { openers[id].focus(); }
    }
    if (openers[id]) { openers[id].setAttribute('aria-expanded', String(open)); }
  }

  function panelOpen(id) {
    var panel = document.getElementById(id);
    return !!panel && !panel.hidden && (panel.classList.contains('open') || !PHONE.matches);
  }

  // The part of the map a sheet covers (px from the map's bottom): fitted views leave it out.
  function coveredBottom() {
    var sheet = document.querySelector('.sheet.open');
    if (!sheet || !PHONE.matches) { return 0; }
    var m = map.getContainer().getBoundingClientRect();
    var s = sheet.getBoundingClientRect();
    return Math.max(0, Math.min(m.bottom, window.innerHeight) - s.top);
  }

  function wireSheets() {
    if (mode !== 'public') { return; }
    var filtersButton = document.getElementById('filters-button');
    if (filtersButton) {
      openers['panel-filters'] = filtersButton;
      filtersButton.addEventListener('click', function () {
        setPanel('panel-filters', !document.getElementById('panel-filters').classList.contains('open'));
      });
    }
    Array.prototype.forEach.call(document.querySelectorAll('[data-close-sheet]'), function (btn) {
      btn.addEventListener('click', function () { setPanel(btn.getAttribute('data-close-sheet'), false); });
    });
    document.addEventListener('keydown', function (ev) {
      if (ev.key !== 'Escape' || (popup && map.hasLayer(popup))) { return; }
      var open = document.querySelector('.sheet.open');
      if (open && (PHONE.matches || open.id === 'nearby') && open.contains(document.activeElement)) {
        setPanel(open.id, false);
      }
    });
  }

  // ------------------------------------------------------------------ W pobliżu (public map)

  var near = { origin: null, label: '', items: [], here: null, hits: [], seq: 0 };

  function nearbySay(text) {
    var s = document.getElementById('nearby-status');
    if (s) { s.textContent = text; }
  }

  // The listed entities' markers are highlighted, now and whenever they are drawn.
  function paintHits() {
    drawnPoints().forEach(function (m) { m.setIcon(markerIcon(m, !!ent.hits[m.geoes.id])); nameMarker(m); });
  }

  function clearHits() {
    ent.hits = {};
    paintHits();
  }

  function markHits(items) {
    ent.hits = {};
    items.forEach(function (it) { ent.hits[String(it.id)] = true; });
    paintHits();
  }

  function showHere(lat, lon, label) {
    if (near.here) { map.removeLayer(near.here); }
    near.here = L.marker([lat, lon], {
      icon: L.divIcon({ className: 'geoes-here', iconSize: [18, 18], iconAnchor: [9, 9] }),
      interactive: false, keyboard: false, title: label, alt: label, zIndexOffset: 1000
    }).addTo(map);
  }

  // The map fits the place and the first few entities, clear of the sheet over its lower part.
  function fitNearby(items) {
    var pts = [[near.origin.lat, near.origin.lon]];
    items.slice(0, 3).forEach(function (it) { pts.push([it.lat, it.lon]); });
    map.fitBounds(L.latLngBounds(pts), {
      paddingTopLeft: L.point(30, 30), paddingBottomRight: L.point(30, 30 + coveredBottom()), maxZoom: 14
    });
  }

  function showOnMap(it) {
    if (!cluster) { return Promise.resolve(); }
    if (PHONE.matches) { setPanel('nearby', false); }
    return showEntity(String(it.id), it.lat, it.lon);
  }

  // The map at an entity, at the last zoom, and its popup open: its marker's, or at its place when it
  // shares the place with others (its group stays one there).
  function showEntity(id, lat, lon) {
    map.setView([lat, lon], map.getMaxZoom(), { animate: false });
    return refresh().then(function () {
      var m = drawnPoints().filter(function (x) { return x.geoes.id === id; })[0];
      if (m) { return openEntity(m, true); }
      return fetchItem(id).then(function (p) {
        var stub = { geoes: { id: id, props: p, types: typeCodes(p) } };
        openPopup(L.latLng(lat, lon), popupContent(stub), null, true);
      });
    });
  }

  // Where an entity is: from the payload in hand, or its OGC item.
  function whereIs(id) {
    if (places[id]) { return Promise.resolve(places[id]); }
    var pts = ent.pts;
    if (pts) {
      for (var i = 0; i < pts.n; i++) { if (String(pts.id[i]) === id) { return Promise.resolve([pts.lat[i], pts.lon[i]]); } }
    }
    return getJSON(cfg.api.item.replace('__ID__', encodeURIComponent(id)) + '?f=json').then(function (f) {
      keep([f]);
      return places[id] || null;
    });
  }

  function nearbyItem(it) {
    var li = el('li');
    li.setAttribute('data-id', String(it.id));
    var text = el('div');
    var a = el('a', null, it.name);
    a.href = it.url;
    text.appendChild(a);
    var meta = el('span', 'meta');
    meta.appendChild(el('span', 'dist', it.distance + (it.direction ? ' ' + it.direction : '')));
    var rest = [it.type_label, it.locality].filter(Boolean).join(' · ');
    meta.appendChild(document.createTextNode(' · ' + rest + (it.approximate ? ' (' + it.approximate + ')' : '')));
    text.appendChild(meta);
    li.appendChild(text);
    if (isFinite(it.lat) && isFinite(it.lon)) {
      var b = el('button', 'icon-button');
      b.type = 'button';
      b.setAttribute('aria-label', 'Pokaż na mapie: ' + it.name);
      b.title = 'Pokaż na mapie';
      b.innerHTML = iconHtml('location-crosshairs');
      b.addEventListener('click', function () { showOnMap(it); });
      li.appendChild(b);
    }
    return li;
  }

  function renderNearby(doc) {
    var list = document.getElementById('nearby-list');
    var method = document.getElementById('nearby-method');
    list.textContent = '';
    near.items = doc.items || [];
    near.items.forEach(function (it) { list.appendChild(nearbyItem(it)); });
    list.hidden = !near.items.length;
    if (method) { method.hidden = !near.items.length; }
    markHits(near.items);
    var f = filtered() ? ' (filtr: ' + filterWords() + ')' : '';
    if (!near.items.length) {
      nearbySay('Żaden podmiot z punktem na mapie nie spełnia filtrów' + f + '.');
      return;
    }
    var first = near.items[0];
    nearbySay(doc.count_text + ' najbliżej ' + near.label + f + '. Najbliżej jest ' + first.name + ' – ' +
      first.distance + (first.direction ? ' ' + first.direction : '') + '.');
  }

  // The nearest entities to the place under the active filters, from the server (/api/nearest).
  function loadNearby(fit) {
    if (!near.origin) { return Promise.resolve(); }
    var seq = ++near.seq;
    var params = Object.assign({ lat: near.origin.lat.toFixed(6), lon: near.origin.lon.toFixed(6), limit: '10' },
      filterParams());
    return getJSON(cfg.api.nearest + query(params)).then(function (doc) {
      if (seq !== near.seq) { return; }  // a newer question was asked meanwhile
      renderNearby(doc);
      if (fit) { fitNearby(near.items); }
      map.getContainer().setAttribute('data-nearby', String(near.items.length));
    }, function (err) {
      if (seq === near.seq) { nearbySay('Nie udało się pobrać listy (' + err.message + '). Spróbuj ponownie.'); }
    });
  }

  function refreshNearby() {
    if (near.origin && mode === 'public') { loadNearby(false); }
  }

  // `label`: the place as the marker names it; `phrase`: as the status says it ("najbliżej <phrase>").
  function nearbyFrom(lat, lon, label, phrase) {
    near.origin = { lat: lat, lon: lon };
    near.label = phrase;
    showHere(lat, lon, label);
    nearbySay('Szukanie podmiotów najbliżej ' + phrase + '…');
    return loadNearby(true);
  }

  function askForPlace(why) {
    nearbySay(why + ' Wpisz miejscowość lub adres.');
    var field = document.getElementById('nearby-place');
    if (field) { field.focus(); }
  }

  function locate() {
    if (!navigator.geolocation || !window.isSecureContext) {
      askForPlace('Ta przeglądarka nie podaje położenia.');
      return;
    }
    nearbySay('Ustalanie Twojego położenia…');
    navigator.geolocation.getCurrentPosition(function (pos) {
      nearbyFrom(pos.coords.latitude, pos.coords.longitude, 'Twoje położenie', 'Twojego położenia');
    }, function (err) {
      askForPlace(err.code === 1 ? 'Brak zgody na użycie położenia.' : err.code === 3
        ? 'Nie udało się ustalić położenia na czas.' : 'Położenie jest niedostępne.');
    }, { enableHighAccuracy: false, timeout: 15000, maximumAge: 300000 });
  }

  function placeChoices(doc) {
    var box = document.getElementById('nearby-places');
    box.textContent = '';
    var others = (doc.places || []).filter(function (p, i) { return i !== doc.chosen; });
    others.forEach(function (p) {
      var li = el('li');
      var b = el('button', 'secondary', p.label);
      b.type = 'button';
      b.addEventListener('click', function () {
        box.hidden = true;
        nearbyFrom(p.lat, p.lon, p.label, 'miejsca: ' + p.label);
      });
      li.appendChild(b);
      box.appendChild(li);
    });
    box.hidden = !others.length;
  }

  function findPlace(text) {
    nearbySay('Szukanie miejsca „' + text + '”…');
    return getJSON(cfg.api.places + query({ q: text })).then(function (doc) {
      placeChoices(doc);
      var chosen = doc.chosen === null || doc.chosen === undefined ? null : doc.places[doc.chosen];
      if (!chosen) {
        clearHits();
        document.getElementById('nearby-list').hidden = true;
        nearbySay(doc.note || 'Nie znaleziono tego miejsca.');
        return;
      }
      return nearbyFrom(chosen.lat, chosen.lon, chosen.label, 'miejsca: ' + chosen.label).then(function () {
        if (doc.note) { nearbySay(document.getElementById('nearby-status').textContent + ' ' + doc.note); }
      });
    }, function (err) {
      nearbySay('Nie udało się wyszukać miejsca (' + err.message + ').');
    });
  }

  function wireNearby() {
    var button = document.getElementById('nearby-button');
    var panel = document.getElementById('nearby');
    if (mode !== 'public' || !button || !panel) { return; }
    openers.nearby = button;
    var asked = false;
    button.addEventListener('click', function () {
      if (panelOpen('nearby') && PHONE.matches) { setPanel('nearby', false); return; }
      setPanel('nearby', true);
      if (!asked) { asked = true; locate(); }  // later: the list found before, and the field to ask again
    });
    var again = document.getElementById('nearby-locate');
    if (again) { again.addEventListener('click', locate); }
    var form = document.getElementById('nearby-form');
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var text = document.getElementById('nearby-place').value.trim();
      if (text) { findPlace(text); }
    });
  }

  // ------------------------------------------------------------------ legend of the choropleths (public map)

  var CHOROPLETHS = ['ch_powiat', 'ch_gmina', 'ch_need', 'white'];
  var legendBox = null;
  var legendBody = null;

  // The server renders each legend into the page (#map-legends); the map shows those of the layers on,
  // in a box that folds to its title ("Legenda"): folded at first in a map narrower than a phone (an embed).
  function addLegend() {
    var source = document.getElementById('map-legends');
    if (!source || !interactiveFilters) { return; }
    var Legend = L.Control.extend({
      options: { position: 'bottomright' },
      onAdd: function () {
        legendBox = L.DomUtil.create('details', 'leaflet-control map-legend-box');
        legendBox.open = map.getSize().x >= 360;
        L.DomUtil.create('summary', 'map-legend-summary', legendBox).textContent = 'Legenda';
        legendBody = L.DomUtil.create('div', 'map-legend-body', legendBox);
        L.DomEvent.disableClickPropagation(legendBox);
        L.DomEvent.disableScrollPropagation(legendBox);
        return legendBox;
      }
    });
    new Legend().addTo(map);
    updateLegend();
  }

  function updateLegend() {
    var source = document.getElementById('map-legends');
    if (!legendBody || !source) { return; }
    legendBody.textContent = '';
    CHOROPLETHS.forEach(function (key) {
      var part = source.querySelector('.map-legend[data-layer="' + key + '"]');
      if (part && layers[key] && map.hasLayer(layers[key])) { legendBody.appendChild(part.cloneNode(true)); }
    });
    legendBox.hidden = !legendBody.childNodes.length;
  }

  // In an embed the link to the full map is a control on the map: the map keeps the whole frame.
  function embedBar() {
    var bar = document.getElementById('embed-bar');
    if (mode !== 'embed' || !bar) { return; }
    var Bar = L.Control.extend({ options: { position: 'bottomleft' }, onAdd: function () { return bar; } });
    new Bar().addTo(map);
  }

  // The entity page's marker is a button to assistive technology: it is named after the entity.
  function nameEntityMarker() {
    var icon = mode === 'entity' && cfg.entity && layers.entity && layers.entity.getElement &&
      layers.entity.getElement();
    if (icon) { icon.title = String(cfg.entity.name); icon.setAttribute('aria-label', String(cfg.entity.name)); }
  }

  // Leaflet's own English names of its controls, in Polish.
  function polishControls() {
    var toggle = map.getContainer().querySelector('.leaflet-control-layers-toggle');
    if (toggle) { toggle.title = 'Warstwy mapy'; toggle.setAttribute('aria-label', 'Warstwy mapy'); }
    if (map.attributionControl) { map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>'); }
  }

  // ------------------------------------------------------------------ start

  // Boundary layers are fetched when a layer that shows them is on (the public map starts with the
  // powiaty only: the gminy's 61 kB gzipped wait until a gmina layer is switched on), and drawn when
  // shown. Their map view carries each unit's colours and figures (see unitInfo).
  var LEVEL_OF = { powiaty: 'powiat', ch_powiat: 'powiat', gminy: 'gmina', ch_gmina: 'gmina', ch_need: 'gmina',
    white: 'gmina' };
  var levelJobs = {};
  var drawn = {};
  function levelOf(key) {
    if (key === 'units') { return mode === 'compare' ? cfg.unit.level : 'gmina'; }
    return LEVEL_OF[key];
  }
  function nextTask() { return new Promise(function (resolve) { setTimeout(resolve, 0); }); }
  function ensureLevel(level) {
    if (!levelJobs[level]) {
      levelJobs[level] = getJSON((level === 'powiat' ? cfg.api.powiaty : cfg.api.gminy) + query({ view: 'map' }));
    }
    return levelJobs[level];
  }
  // A gmina filter from the address that the gmina layer does not have is dropped.
  function checkGmina() {
    if (!interactiveFilters || !state.gmina) { return Promise.resolve(); }
    return ensureLevel('gmina').then(function (fc) {
      var known = (fc.features || []).some(function (f) { return String((f.properties || {}).teryt || f.id) === state.gmina; });
      if (!known) { state.gmina = ''; syncForm(); }
    });
  }

  // A powiat's feature in the powiat layer's map view (the page carries no list of units), or null.
  function powiatFeature(teryt) {
    return ensureLevel('powiat').then(function (fc) {
      return (fc.features || []).filter(function (f) {
        return String((f.properties || {}).teryt || f.id) === teryt;
      })[0] || null;
    });
  }

  // Leaflet drops a view set while a zoom animation runs (the map's own opening zoom to the region may
  // still be running when the powiat layer arrives): wait for it to end. `_animatingZoom` is Leaflet's.
  function zoomSettled() {
    return new Promise(function (resolve) {
      if (map._animatingZoom) { map.once('zoomend', function () { resolve(); }); } else { resolve(); }
    });
  }

  // The powiat filter once the powiat layer is known: zoom to the powiat (`zoom`; `instant` as the page
  // opens, animated when the reader picks a powiat), or drop a code the layer does not have (a
  // hand-edited address) and show everything again.
  function showPowiat(teryt, zoom, resetView, instant) {
    return powiatFeature(teryt).then(function (f) {
      if (state.powiat !== teryt) { return; }  // the filter changed meanwhile
      if (f) {
        if (!zoom) { return; }
        return zoomSettled().then(function () {
          if (state.powiat === teryt) { map.fitBounds(L.geoJSON(f).getBounds(), instant ? { animate: false } : {}); }
        });
      }
      state.powiat = '';
      syncForm();
      applyState({ zoom: zoom, resetView: resetView });
    });
  }

  function showLayer(key) {
    if (drawn[key] || !layers[key] || !DRAWERS[key]) { return Promise.resolve(); }
    drawn[key] = true;
    return ensureLevel(levelOf(key)).then(function (fc) {
      return nextTask().then(function () {
        DRAWERS[key](fc);
        if (['ch_powiat', 'ch_gmina', 'ch_need', 'white'].indexOf(key) >= 0) { layers[key].bringToBack(); }
      });
    });
  }
  function visibleKeys() {
    return Object.keys(DRAWERS).filter(function (k) { return layers[k] && map.hasLayer(layers[k]); });
  }
  map.on('overlayadd', function (ev) {
    var key = Object.keys(layers).filter(function (k) { return layers[k] === ev.layer; })[0];
    if (key && DRAWERS[key]) { showLayer(key); }
  });

  G.initialBounds = map.getBounds();
  tilesFallback();
  map.on('overlayadd overlayremove', onOverlayChange);
  map.on('baselayerchange', writeHash);
  var hadView = readHash();
  syncForm();
  wireForm();
  var fitting = Promise.resolve();
  if (interactiveFilters && state.powiat) {
    fitting = showPowiat(state.powiat, !hadView, false, true);
  } else if (!hadView && interactiveFilters && cfg.state && cfg.state.bbox) {
    var bb = cfg.state.bbox;
    map.fitBounds([[bb[1], bb[0]], [bb[3], bb[2]]]);
  }
  syncTypeLayers();
  map.on('moveend', writeHash);

  polishControls();
  nameEntityMarker();
  wireShare();
  wireSheets();
  wireNearby();
  addLegend();
  embedBar();
  // Each visible layer in turn, one task each (a chain, not all at once when the data arrive).
  var chain = Promise.resolve();
  var keys = visibleKeys();
  keys.forEach(function (k) { ensureLevel(levelOf(k)); });
  keys.forEach(function (k) { chain = chain.then(function () { return showLayer(k); }); });
  var jobs = [chain, fitting];
  if (cluster) {
    var t0 = performance.now();
    G.timing = {};
    // The first view from the server's clusters (a few kB, drawn at once), then — below the threshold —
    // the payload and the browser's own clustering; a moved map is clustered again.
    // A powiat or gmina from the address is checked against its layer first (showPowiat, checkGmina):
    // an unknown code is dropped rather than sent.
    var checked = Promise.all([interactiveFilters && state.powiat ? fitting : null, checkGmina()]);
    var firstView = checked.then(refresh).then(function () { G.timing.first_view_ms = performance.now() - t0; });
    // The payload is asked for once the first view is on screen and the page is idle: parsing and
    // indexing it is a long task (~0.6 s at 100k) that must not hold the first view up; until it is
    // indexed, a moved map asks the server.
    var painted = firstView.then(function () {
      return new Promise(function (resolve) {
        requestAnimationFrame(function () {
          if (window.requestIdleCallback) { window.requestIdleCallback(resolve, { timeout: 1500 }); } else { setTimeout(resolve, 200); }
        });
      });
    });
    var whole = cfg.points.server ? firstView : painted.then(loadPoints).then(function () {
      G.timing.points_ms = performance.now() - t0;
      return refresh();
    });
    // A moved map is clustered again — once the filters from the address are checked.
    checked.then(function () { map.on('moveend', function () { refresh(); }); });
    jobs.push(Promise.all([firstView, whole]).then(function () {
      showStatus();
      writeHash();
      map.getContainer().setAttribute('data-entities-loaded', String(ent.count));
    }));
  }
  // For the tests and for anyone scripting the map: the entities as the map has them.
  G.entities = {
    count: function () { return ent.count; },
    unplaced: function () { return ent.unplaced; },
    clustering: function () { return ent.client ? 'browser' : 'server'; },
    markers: drawnPoints,
    clusters: function () {
      return Object.keys(ent.drawn).map(function (k) { return ent.drawn[k]; }).filter(function (m) { return m.geoes.cluster; });
    },
    details: details,
    ids: function () { return ent.pts ? Array.prototype.slice.call(ent.pts.id) : []; },
    hits: function () { return Object.keys(ent.hits); },
    show: function (id) {
      return whereIs(String(id)).then(function (at) { return at ? showEntity(String(id), at[0], at[1]) : null; });
    },
    refresh: refresh
  };
  Promise.all(jobs).then(function () {
    map.getContainer().setAttribute('data-ready', 'true');
  }, function (err) {
    setStatus('Nie udało się wczytać danych mapy (' + err.message + '). Spróbuj odświeżyć stronę albo skorzystaj z listy podmiotów.');
    map.getContainer().setAttribute('data-ready', 'error');
  });
}());

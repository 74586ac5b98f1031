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
    return iconFor(m.geoes.types[0] || 'inne', m.geoes.props.status === 'inactive', hit);
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

  var allMarkers = [];
  var markerById = {};
  var unplacedItems = [];  // entities without a point: counted under the filters, listed on /entities

  function entityData(p) {
    var codes = typeCodes(p);
    return {
      props: p, types: codes, powiat: p.powiat_teryt_computed || '', gmina: p.gmina_teryt_computed || '',
      hay: fold([p.name, p.locality, p.operator].filter(Boolean).join(' '))
    };
  }

  function buildMarkers(fc) {
    allMarkers = [];
    markerById = {};
    unplacedItems = [];
    (fc.features || []).forEach(function (f) {
      var p = f.properties || {};
      var g = f.geometry;
      if (p.id === undefined || p.id === null) { p.id = f.id; }
      var lon = g && g.type === 'Point' && Array.isArray(g.coordinates) ? Number(g.coordinates[0]) : NaN;
      var lat = g && g.type === 'Point' && Array.isArray(g.coordinates) ? Number(g.coordinates[1]) : NaN;
      if (!isFinite(lat) || !isFinite(lon)) { unplacedItems.push({ geoes: entityData(p) }); return; }
      var name = String(p.name || '');
      var m = L.marker([lat, lon], { title: name, alt: name, keyboard: true, riseOnHover: true });
      m.geoes = entityData(p);
      m.setIcon(markerIcon(m, false));
      allMarkers.push(m);
      markerById[String(p.id)] = m;
    });
  }

  // ------------------------------------------------------------------ filters and URL state

  var state = {
    types: (cfg.state && cfg.state.types) || [],
    powiat: (cfg.state && cfg.state.powiat) || '',
    gmina: (cfg.state && cfg.state.gmina) || '',
    q: (cfg.state && cfg.state.q) || ''
  };

  function matches(m) {
    var d = m.geoes;
    if (state.types.length && !d.types.some(function (t) { return state.types.indexOf(t) >= 0; })) { return false; }
    if (state.powiat && d.powiat !== state.powiat) { return false; }
    if (state.gmina && d.gmina !== state.gmina) { return false; }
    if (state.q && d.hay.indexOf(fold(state.q.trim())) < 0) { return false; }
    return true;
  }

  var cluster = layers.entities;
  var shown = 0;

  // ------------------------------------------------------------------ popups and tooltips

  function isEnter(ev) {
    return !!(ev.originalEvent && (ev.originalEvent.keyCode === 13 || ev.originalEvent.key === 'Enter'));
  }

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

  function samePoint(markers) {
    var first = markers[0].getLatLng();
    return markers.every(function (m) { return m.getLatLng().equals(first, 1e-7); });
  }

  // Entities that share one point (ten in the centre of Kielce) are listed in one popup, each linked.
  function listContent(markers) {
    var box = el('div', 'geoes-popup geoes-list');
    box.appendChild(el('h3', null, 'Podmioty w tym miejscu: ' + markers.length));
    box.appendChild(el('p', 'hint', 'Mają to samo położenie na mapie (np. ten sam adres lub środek miejscowości).'));
    var ul = el('ul');
    markers.slice().sort(function (a, b) {
      return String(a.geoes.props.name).localeCompare(String(b.geoes.props.name), 'pl');
    }).forEach(function (m) {
      var li = el('li');
      var a = el('a', null, m.geoes.props.name);
      a.href = page('entity', String(m.geoes.props.id));
      li.appendChild(a);
      li.appendChild(el('span', 'muted', ' – ' + typeLabels(m.geoes.types)));
      ul.appendChild(li);
    });
    box.appendChild(ul);
    return box;
  }

  // Popups and tooltips are made on first use (one listener on the cluster, not two objects per
  // marker): the map stays fast with 100k entities. Enter on a focused marker is a click too.
  if (cluster) {
    cluster.options.iconCreateFunction = function (group) {
      var n = group.getChildCount();
      return L.divIcon({
        html: '<div><span>' + n + '<span class="sr-only"> – grupa podmiotów, rozwiń</span></span></div>',
        className: 'marker-cluster marker-cluster-' + (n < 10 ? 'small' : n < 100 ? 'medium' : 'large'),
        iconSize: L.point(44, 44)
      });
    };
    cluster.on('click keypress', function (ev) {
      var m = ev.layer;
      if (!m || !m.geoes) { return; }
      if (ev.type === 'keypress' && !isEnter(ev)) { return; }
      if (m.getTooltip()) { m.closeTooltip(); }
      openPopup(m.getLatLng(), popupContent(m), m, ev.type === 'keypress');
    });
    cluster.on('clusterclick clusterkeypress', function (ev) {
      if (ev.type === 'clusterkeypress' && !isEnter(ev)) { return; }
      var group = ev.layer;
      var children = group.getAllChildMarkers();
      if (children.length && samePoint(children)) {
        openPopup(group.getLatLng(), listContent(children), group, ev.type === 'clusterkeypress');
      } else if (map.getZoom() >= map.getMaxZoom()) {
        group.spiderfy();
      } else {
        group.zoomToBounds({ padding: [30, 30] });
      }
    });
    cluster.on('mouseover', function (ev) {
      var m = ev.layer;
      if (!m || !m.geoes || m.getTooltip() || popupOpen) { return; }
      m.bindTooltip(tooltipContent, { direction: 'right' });
      m.openTooltip();
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
  function rebuild() {
    if (!cluster) { return; }
    var list = interactiveFilters ? allMarkers.filter(matches) : allMarkers;
    var noPoint = interactiveFilters ? unplacedItems.filter(matches).length : unplacedItems.length;
    shown = list.length;
    cluster.clearLayers();
    cluster.addLayers(list);
    var text = 'Podmioty na mapie: ' + shown;
    if (filtered()) { text += ' (filtr: ' + filterWords() + ')'; }
    if (noPoint) { text += '. Bez punktu na mapie, tylko na liście: ' + noPoint; }
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
      map.setView([c[0], c[1]], Math.max(1, Math.min(19, z)), { animate: false });
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

  function clearHits() {
    near.hits.forEach(function (m) { m.setIcon(markerIcon(m, false)); });
    near.hits = [];
  }

  function markHits(items) {
    clearHits();
    items.forEach(function (it) {
      var m = markerById[String(it.id)];
      if (m) { m.setIcon(markerIcon(m, true)); near.hits.push(m); }
    });
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
    var m = markerById[String(it.id)];
    if (!m || !cluster) { return; }
    if (PHONE.matches) { setPanel('nearby', false); }
    cluster.zoomToShowLayer(m, function () { openPopup(m.getLatLng(), popupContent(m), m, true); });
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
    if (markerById[String(it.id)]) {
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

  // The server renders each legend into the page (#map-legends); the map shows those of the layers on.
  function addLegend() {
    var source = document.getElementById('map-legends');
    if (!source || !interactiveFilters) { return; }
    var Legend = L.Control.extend({
      options: { position: 'bottomright' },
      onAdd: function () {
        legendBox = L.DomUtil.create('div', 'leaflet-control map-legend-box');
        legendBox.setAttribute('role', 'group');
        legendBox.setAttribute('aria-label', 'Legenda mapy');
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
    if (!legendBox || !source) { return; }
    legendBox.textContent = '';
    CHOROPLETHS.forEach(function (key) {
      var part = source.querySelector('.map-legend[data-layer="' + key + '"]');
      if (part && layers[key] && map.hasLayer(layers[key])) { legendBox.appendChild(part.cloneNode(true)); }
    });
    legendBox.hidden = !legendBox.childNodes.length;
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
    // The map view carries only what popups show; the entity page has the rest.
    var filter = Object.assign({ view: 'map' }, cfg.entityFilter || {});
    var url = cfg.api.entities + query(filter);
    var t0 = performance.now();
    G.timing = {};
    jobs.push(getJSON(url).then(function (fc) {
      G.timing.fetched = performance.now() - t0;
      buildMarkers(fc);
      G.timing.built = performance.now() - t0;
      return nextTask();  // building and clustering in two tasks: the page answers input in between
    }).then(function () {
      rebuild();
      G.timing.clustered = performance.now() - t0;
      writeHash();
      map.getContainer().setAttribute('data-entities-loaded', String(allMarkers.length));
    }));
  }
  Promise.all(jobs).then(function () {
    map.getContainer().setAttribute('data-ready', 'true');
  }, function (err) {
    setStatus('Nie udało się wczytać danych mapy (' + err.message + '). Spróbuj odświeżyć stronę albo skorzystaj z listy podmiotów.');
    map.getContainer().setAttribute('data-ready', 'error');
  });
}());

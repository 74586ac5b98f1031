/*
 * geoes map pages: fills the folium-built Leaflet map with data fetched from the GeoJSON API.
 *
 * The page carries a JSON config (<script type="application/json" id="geoes-config">; its shape is
 * written down in geoes/web/pages/mapconfig.py) and folium's set-up script publishes the map and its
 * (empty) layers as window.GEOES_MAP. The colour of every unit and the figures its tooltip shows come
 * from that config: the class rule and the Polish number format live on the server only. Entity text is
 * only ever inserted with textContent or as DOM text nodes, never as HTML; links are http(s) only.
 * Modes: public (/), embed (/embed), unit (county/gmina profile), compare, entity (detail page).
 */
(function () {
  'use strict';

  var cfgEl = document.getElementById('geoes-config');
  var G = window.GEOES_MAP;
  if (!cfgEl || !G || !window.L) { return; }
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

  var iconCache = {};
  function iconFor(code, inactive) {
    var key = code + (inactive ? ':x' : '');
    if (!iconCache[key]) {
      var t = cfg.types[code] || cfg.types.inne || { icon: 'circle' };
      var glyph = /^[a-z0-9-]+$/.test(t.icon) ? t.icon : 'circle';
      var safeCode = /^[a-z_]+$/.test(code) ? code : 'inne';
      iconCache[key] = L.divIcon({
        className: 'geoes-marker geoes-type-' + safeCode + (inactive ? ' inactive' : ''),
        html: '<i class="fa-solid fa-' + glyph + '" aria-hidden="true"></i>',
        iconSize: [28, 28], iconAnchor: [14, 14], popupAnchor: [0, -12], tooltipAnchor: [14, 0]
      });
    }
    return iconCache[key];
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
  var unplaced = 0;

  function buildMarkers(fc) {
    allMarkers = [];
    unplaced = 0;
    (fc.features || []).forEach(function (f) {
      var p = f.properties || {};
      var g = f.geometry;
      if (!g || g.type !== 'Point' || !Array.isArray(g.coordinates)) { unplaced += 1; return; }
      var lon = Number(g.coordinates[0]);
      var lat = Number(g.coordinates[1]);
      if (!isFinite(lat) || !isFinite(lon)) { unplaced += 1; return; }
      if (p.id === undefined || p.id === null) { p.id = f.id; }
      var codes = typeCodes(p);
      var name = String(p.name || '');
      var m = L.marker([lat, lon], {
        icon: iconFor(codes[0] || 'inne', p.status === 'inactive'),
        title: name, alt: name, keyboard: true, riseOnHover: true
      });
      m.geoes = {
        props: p, types: codes, powiat: p.powiat_teryt_computed || '', gmina: p.gmina_teryt_computed || '',
        hay: fold([p.name, p.locality, p.operator].filter(Boolean).join(' '))
      };
      allMarkers.push(m);
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

  // Popups and tooltips are bound on first use (one listener on the cluster, not two objects per
  // marker): the map stays fast with 100k entities. Enter on a focused marker is a click too.
  if (cluster) {
    cluster.on('click keypress', function (ev) {
      var m = ev.layer;
      if (!m || !m.geoes || m.getPopup()) { return; }  // once bound, the marker handles it itself
      if (ev.type === 'keypress' && !(ev.originalEvent && ev.originalEvent.keyCode === 13)) { return; }
      m.bindPopup(popupContent, { maxWidth: 320, autoPanPadding: [20, 20] });
      m.openPopup();
    });
    cluster.on('mouseover', function (ev) {
      var m = ev.layer;
      if (!m || !m.geoes || m.getTooltip()) { return; }
      m.bindTooltip(tooltipContent, { direction: 'right' });
      m.openTooltip();
    });
  }

  function rebuild() {
    if (!cluster) { return; }
    var list = interactiveFilters ? allMarkers.filter(matches) : allMarkers;
    shown = list.length;
    cluster.clearLayers();
    cluster.addLayers(list);
    var total = allMarkers.length + unplaced;
    // Worded so that no count needs a plural form (the figures are not formatted on the server here).
    var text = 'Podmioty na mapie: ' + shown + ' (z punktem: ' + allMarkers.length + ')';
    if (interactiveFilters && (state.types.length || state.powiat || state.q || state.gmina)) { text += ' (filtr włączony)'; }
    if (unplaced) { text += '; bez punktu na mapie: ' + unplaced + ' z ' + total + ' – są na liście'; }
    setStatus(text + '.');
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
    if (h.has('p')) { state.powiat = cfg.powiaty[h.get('p')] ? h.get('p') : ''; }
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
    if (opts && opts.zoom) {
      var b = state.powiat && cfg.powiaty[state.powiat] ? cfg.powiaty[state.powiat].bounds : null;
      if (b) { map.fitBounds(b); } else if (opts.resetView && G.initialBounds) { map.fitBounds(G.initialBounds); }
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

  // A unit as the server describes it (cfg.units): label, class colour, figures as shown.
  function unitInfo(level, f) {
    var p = f.properties || {};
    var key = String(p.teryt !== undefined && p.teryt !== null ? p.teryt : f.id);
    return (cfg.units[level] || {})[key] || null;
  }

  function unitColor(level, f) {
    var info = unitInfo(level, f);
    return info ? info.color : cfg.classes.zero;
  }

  function unitTooltip(f, level) {
    var p = f.properties || {};
    var info = unitInfo(level, f) || {};
    var box = el('div', 'geoes-tip');
    box.appendChild(el('strong', null, info.label || ((level === 'powiat' ? 'powiat ' : 'gmina ') + p.name)));
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
        layer.bindPopup(function () { return unitPopup(f, opts.level); });
      }
    });
    group.addLayer(gj);
  }

  function drawPowiaty(fc) {
    addUnits(layers.powiaty, fc, { style: { color: '#333333', weight: 2, fill: false, opacity: 0.9 } });
    addUnits(layers.ch_powiat, fc, {
      level: 'powiat',
      style: function (f) {
        return { color: '#555555', weight: 1, fillOpacity: 0.7, fillColor: unitColor('powiat', f) };
      }
    });
    if (mode === 'compare' && cfg.unit.level === 'powiat') { drawHighlight(fc, 'powiat'); }
  }

  function drawGminy(fc) {
    addUnits(layers.gminy, fc, { style: { color: '#777777', weight: 1, fill: false, dashArray: '3 3', opacity: 0.9 } });
    addUnits(layers.ch_gmina, fc, {
      level: 'gmina',
      style: function (f) {
        return { color: '#777777', weight: 0.7, fillOpacity: 0.7, fillColor: unitColor('gmina', f) };
      }
    });
    addUnits(layers.ch_need, fc, {
      level: 'gmina',
      style: function (f) {
        var info = unitInfo('gmina', f);
        return { color: '#777777', weight: 0.7, fillOpacity: 0.7, fillColor: info ? info.need_color : cfg.classes.zero };
      }
    });
    addUnits(layers.white, fc, {
      level: 'gmina',
      filter: function (f) { return !Number(f.properties.entities); },
      style: { color: '#b2182b', weight: 1.5, dashArray: '4 3', fillColor: '#b2182b', fillOpacity: 0.18 }
    });
    if (mode === 'unit') {
      var u = cfg.unit;
      addUnits(layers.units, fc, {
        level: 'gmina',
        filter: function (f) {
          var p = f.properties || {};
          return u.level === 'powiat' ? p.powiat_teryt === u.teryt : (p.teryt || f.id) === u.teryt;
        },
        style: function (f) {
          return {
            color: Number(f.properties.entities) ? '#333333' : '#b2182b', weight: 1.5,
            dashArray: Number(f.properties.entities) ? null : '4 3',
            fillOpacity: 0.55, fillColor: unitColor('gmina', f)
          };
        }
      });
    }
    if (mode === 'compare' && cfg.unit.level === 'gmina') { drawHighlight(fc, 'gmina'); }
  }

  function drawHighlight(fc, level) {
    var wanted = cfg.highlight || [];
    addUnits(layers.units, fc, {
      level: level,
      filter: function (f) { return wanted.indexOf((f.properties || {}).teryt || f.id) >= 0; },
      style: { color: cfg.classes.highlight, weight: 3, fillColor: cfg.classes.highlight, fillOpacity: 0.15 }
    });
  }

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

  G.initialBounds = map.getBounds();
  tilesFallback();
  map.on('overlayadd overlayremove', onOverlayChange);
  map.on('baselayerchange', writeHash);
  var hadView = readHash();
  syncForm();
  wireForm();
  if (!hadView && interactiveFilters && state.powiat && cfg.powiaty[state.powiat]) {
    map.fitBounds(cfg.powiaty[state.powiat].bounds);
  } else if (!hadView && interactiveFilters && cfg.state && cfg.state.bbox) {
    var bb = cfg.state.bbox;
    map.fitBounds([[bb[1], bb[0]], [bb[3], bb[2]]]);
  }
  syncTypeLayers();
  map.on('moveend', writeHash);

  var jobs = [];
  if (layers.powiaty || layers.ch_powiat) {
    jobs.push(getJSON(cfg.api.powiaty).then(drawPowiaty));
  }
  if (layers.gminy || layers.ch_gmina || layers.ch_need || layers.white || layers.units) {
    jobs.push(getJSON(cfg.api.gminy).then(drawGminy));
  }
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

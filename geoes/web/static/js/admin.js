/* Operator console: place a point by clicking a small map (vendored Leaflet, no CDN).
   The latitude/longitude fields stay the accessible way to give a point; the map fills them in.
   Candidate localities (homonyms) are drawn as circles with plain-text tooltips (never HTML). */
(function () {
  "use strict";
  var el = document.getElementById("point-map");
  if (!el || !window.L) { return; }
  var latInput = document.getElementById("f-lat");
  var lonInput = document.getElementById("f-lon");
  var status = document.getElementById("point-status");
  var map = L.map(el, { scrollWheelZoom: false, keyboard: true });
  L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
    maxZoom: 19, attribution: "&copy; autorzy OpenStreetMap"
  }).addTo(map);
  map.setView([52.0, 19.3], 6);
  var marker = null;

  function num(value) {
    var x = parseFloat(String(value || "").replace(",", "."));
    return isFinite(x) ? x : null;
  }

  function place(lat, lon, pan) {
    if (lat === null || lon === null) { return; }
    if (marker) { marker.setLatLng([lat, lon]); }
    else { marker = L.marker([lat, lon], { title: "Wskazany punkt", keyboard: false }).addTo(map); }
    if (pan) { map.setView([lat, lon], Math.max(map.getZoom(), 11)); }
  }

  function textTip(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }

  var start = [num(el.dataset.lat), num(el.dataset.lon)];
  if (start[0] !== null && start[1] !== null) { place(start[0], start[1], true); }

  var candidates = [];
  try { candidates = JSON.parse(el.dataset.candidates || "[]"); } catch (e) { candidates = []; }
  var group = L.featureGroup().addTo(map);
  candidates.forEach(function (c) {
    L.circleMarker([c.lat, c.lon], { radius: 7, color: "#b2182b", weight: 2, fillOpacity: 0.3 })
      .bindTooltip(textTip(c.label)).addTo(group);
  });

  fetch(el.dataset.boundaries, { headers: { Accept: "application/geo+json" } })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (gj) {
      if (gj) {
        var layer = L.geoJSON(gj, { interactive: false, style: { color: "#073763", weight: 1, fill: false } }).addTo(map);
        if (!marker && !candidates.length) { map.fitBounds(layer.getBounds()); }
      }
    })
    .catch(function () { /* the fields still work without the outlines */ })
    .then(function () { el.setAttribute("data-ready", "true"); });
  if (candidates.length && !marker) { map.fitBounds(group.getBounds().pad(0.3)); }

  map.on("click", function (e) {
    latInput.value = e.latlng.lat.toFixed(6);
    lonInput.value = e.latlng.lng.toFixed(6);
    place(e.latlng.lat, e.latlng.lng, false);
    if (status) { status.textContent = "Wskazano punkt: " + latInput.value + ", " + lonInput.value; }
  });
  function fromFields() { place(num(latInput.value), num(lonInput.value), true); }
  latInput.addEventListener("change", fromFields);
  lonInput.addEventListener("change", fromFields);
}());

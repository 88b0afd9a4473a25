/* Open incidents on a Leaflet map. Markers are SVG circles: they render even when
   the tile server is unreachable (a call center's uplink is not guaranteed). */
(function () {
  var el = document.getElementById("map");
  if (!el || typeof L === "undefined") return;
  var map = L.map(el, { zoomControl: true }).setView([-2.5, 118], 5);
  // Tiles are optional (SIAGA112_MAP_TILES_URL empty = none): positions still show.
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: "&copy; OpenStreetMap" }).addTo(map);
  }
  var layer = L.layerGroup().addTo(map);
  // The caller's handset position (AML) with its uncertainty: the operator sees at a
  // glance which open incidents are near this caller (a second report of the same fire?).
  var caller = null;
  if (el.dataset.callerLat) {
    var at = [parseFloat(el.dataset.callerLat), parseFloat(el.dataset.callerLng)];
    var radius = Math.max(parseFloat(el.dataset.callerRadius) || 0, 10);
    caller = L.circle(at, { radius: radius, color: "#0d6efd", weight: 2, fillOpacity: 0.15 }).addTo(map);
    L.circleMarker(at, { radius: 5, color: "#0d6efd", fillColor: "#0d6efd", fillOpacity: 1 })
      .bindTooltip(el.dataset.callerLabel || "AML").addTo(map);
    map.fitBounds(caller.getBounds().pad(1.5), { maxZoom: 16 });
    el.dataset.caller = "shown";
  }
  var colours = { 1: "#dc3545", 2: "#fd7e14", 3: "#0dcaf0", 4: "#6c757d" };
  var fitted = false;
  var etag = "";
  function refresh() {
    var headers = { Accept: "application/json" };
    if (etag) { headers["If-None-Match"] = etag; }  /* 304: the markers stay */
    fetch(el.dataset.points, { headers: headers, credentials: "same-origin" })
      .then(function (r) {
        if (r.status === 304) { return null; }
        etag = r.ok ? (r.headers.get("ETag") || "") : "";
        return r.json();
      })
      .then(function (data) {
        if (!data) return;
        layer.clearLayers();
        var bounds = [];
        data.incidents.forEach(function (i) {
          var m = L.circleMarker([i.lat, i.lng], { radius: 9, color: "#000", weight: 1,
            fillColor: colours[i.priority] || "#6c757d", fillOpacity: 0.9 });
          var a = document.createElement("a");
          a.href = "/incidents/" + i.id + "/";
          a.textContent = i.reference + " · " + i.category;
          m.bindPopup(a);
          m.addTo(layer);
          bounds.push([i.lat, i.lng]);
        });
        if (!fitted && bounds.length && !caller) { map.fitBounds(bounds, { maxZoom: 14, padding: [20, 20] }); fitted = true; }
        el.dataset.markers = String(bounds.length);
      })
      .catch(function () {});
  }
  refresh();
  setInterval(refresh, 5000);
})();

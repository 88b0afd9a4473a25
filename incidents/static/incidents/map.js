/* Open incidents on a Leaflet map. Markers are SVG circles: they render even when
   the tile server is unreachable (a call center's uplink is not guaranteed). */
(function () {
  var el = document.getElementById("map");
  if (!el || typeof L === "undefined") return;
  var map = L.map(el, { zoomControl: true }).setView([-2.5, 118], 5);
  L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: "&copy; OpenStreetMap" }).addTo(map);
  var layer = L.layerGroup().addTo(map);
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
        if (!fitted && bounds.length) { map.fitBounds(bounds, { maxZoom: 14, padding: [20, 20] }); fitted = true; }
        el.dataset.markers = String(bounds.length);
      })
      .catch(function () {});
  }
  refresh();
  setInterval(refresh, 5000);
})();

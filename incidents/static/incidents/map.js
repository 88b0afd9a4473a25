/* Open incidents on a Leaflet map. Markers are SVG circles: they render even when
   the tile server is unreachable (a call center's uplink is not guaranteed). */
(function () {
  var el = document.getElementById("map");
  if (!el || typeof L === "undefined") return;
  // Quarter zoom steps, so a Pemda's outline fills the map.
  var map = L.map(el, { zoomControl: true, zoomSnap: 0.25 }).setView([-2.5, 118], 5);
  // Tiles are optional (SIAGA112_MAP_TILES_URL empty = none): positions still show.
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: "&copy; OpenStreetMap" }).addTo(map);
  }
  // The Pemda's own outline (kabupaten/kota and kecamatan, served by the platform) is
  // the base layer that needs no internet: in a pane under the markers, so a click on
  // an incident never lands on a kecamatan.
  map.createPane("outlines");
  map.getPane("outlines").style.zIndex = 350;
  var outlineFitted = false;
  if (el.dataset.outlines) {
    fetch(el.dataset.outlines, { headers: { Accept: "application/geo+json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || !data.features || !data.features.length) { el.dataset.outline = "none"; return; }
        var outline = L.geoJSON(data, {
          pane: "outlines",
          interactive: false,
          style: function (f) {
            var pemda = f.properties.kind !== "kecamatan";
            // The Pemda's area lighter than what lies outside it; kecamatan as dashed lines.
            return { color: pemda ? "#343a40" : "#6c757d", weight: pemda ? 3 : 1.2,
                     fillColor: "#ffffff", fillOpacity: pemda ? 0.65 : 0, dashArray: pemda ? null : "4 3" };
          },
          onEachFeature: function (f, lyr) {
            if (f.properties.kind === "kecamatan" && f.properties.name) {
              lyr.bindTooltip(f.properties.name, { permanent: true, direction: "center",
                className: "outline-label", interactive: false });
            }
          }
        }).addTo(map);
        // With no caller and no incidents placed yet, frame the Pemda rather than Indonesia.
        if (!caller) { map.fitBounds(outline.getBounds(), { padding: [10, 10] }); outlineFitted = true; }
        if (caller) { nameCallersKecamatan(data.features); }
        el.dataset.outline = String(data.features.length);
      })
      .catch(function () { el.dataset.outline = "failed"; });
  }
  // Zoomed in on the caller the kecamatan labels are off screen: the caller's own
  // kecamatan goes on the caller's label instead (ray casting on the served rings).
  function inRing(x, y, ring) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) { inside = !inside; }
    }
    return inside;
  }
  function nameCallersKecamatan(features) {
    var x = parseFloat(el.dataset.callerLng), y = parseFloat(el.dataset.callerLat);
    features.forEach(function (f) {
      if (f.properties.kind !== "kecamatan" || el.dataset.callerKecamatan) return;
      var polygons = f.geometry.type === "Polygon" ? [f.geometry.coordinates] : f.geometry.coordinates;
      var hit = polygons.some(function (rings) {
        return inRing(x, y, rings[0]) && !rings.slice(1).some(function (hole) { return inRing(x, y, hole); });
      });
      if (hit) {
        el.dataset.callerKecamatan = f.properties.name;
        callerDot.unbindTooltip().bindTooltip((el.dataset.callerLabel || "AML") + " · Kec. " + f.properties.name,
          { permanent: true, direction: "left", className: "caller-label" });
      }
    });
  }
  var layer = L.layerGroup().addTo(map);
  // The caller's handset position (AML) with its uncertainty: the operator sees at a
  // glance which open incidents are near this caller (a second report of the same fire?).
  var caller = null;
  if (el.dataset.callerLat) {
    var at = [parseFloat(el.dataset.callerLat), parseFloat(el.dataset.callerLng)];
    var radius = Math.max(parseFloat(el.dataset.callerRadius) || 0, 10);
    caller = L.circle(at, { radius: radius, color: "#0d6efd", weight: 2, fillOpacity: 0.15 }).addTo(map);
    var callerDot = L.circleMarker(at, { radius: 5, color: "#0d6efd", fillColor: "#0d6efd", fillOpacity: 1 })
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
    var url = el.dataset.points;
    if (caller) { url += "?near=" + el.dataset.callerLat + "," + el.dataset.callerLng; }
    fetch(url, { headers: headers, credentials: "same-origin" })
      .then(function (r) {
        if (r.status === 304) { return null; }
        etag = r.ok ? (r.headers.get("ETag") || "") : "";
        return r.json();
      })
      .then(function (data) {
        if (!data) return;
        layer.clearLayers();
        var bounds = [];
        var nearBounds = [];
        data.incidents.forEach(function (i) {
          var isNear = typeof i.distance_m === "number";
          // Near the caller: a thick ring, and the distance always shown.
          var m = L.circleMarker([i.lat, i.lng], { radius: isNear ? 11 : 9, color: isNear ? "#0d6efd" : "#000",
            weight: isNear ? 3 : 1, fillColor: colours[i.priority] || "#6c757d", fillOpacity: 0.9 });
          var a = document.createElement("a");
          a.href = "/incidents/" + i.id + "/";
          a.textContent = i.reference + " · " + i.category;
          m.bindPopup(a);
          if (isNear) {
            var km = i.distance_m >= 1000 ? (i.distance_m / 1000).toFixed(1) + " km" : i.distance_m + " m";
            m.bindTooltip(i.reference + " · " + km + " " + (el.dataset.nearLabel || ""),
              { permanent: true, direction: "right", className: "near-label" });
            nearBounds.push([i.lat, i.lng]);
          }
          m.addTo(layer);
          bounds.push([i.lat, i.lng]);
        });
        if (!fitted && caller && nearBounds.length) {
          // The caller and the open incidents around it, in one view.
          map.fitBounds(caller.getBounds().extend(L.latLngBounds(nearBounds)).pad(0.3), { maxZoom: 16 });
          fitted = true;
        }
        if (!fitted && !outlineFitted && bounds.length && !caller) { map.fitBounds(bounds, { maxZoom: 14, padding: [20, 20] }); fitted = true; }
        el.dataset.markers = String(bounds.length);
        el.dataset.near = String((data.near || []).length);
      })
      .catch(function () {});
  }
  refresh();
  setInterval(refresh, 5000);
})();

/* lifecircle interactive map: draws the shared store LC_STORE (written by spatial/mapstore.py)
 * on the folium map. Every text in the store is HTML escaped in Python; this code only
 * concatenates those pieces with numbers. Coverage is recomputed offline from the reach sets. */
document.addEventListener("DOMContentLoaded", function () {
  var D = window.LC_STORE, map = window[D.map];
  var ctrl = L.control.layers(null, null, {collapsed: true}).addTo(map);
  D.overlays.forEach(function (o) { if (window[o.ref]) ctrl.addOverlay(window[o.ref], o.name); });
  var S = 1e5, ox = D.origin[0], oy = D.origin[1];
  var layers = {};
  var pop = L.popup({maxWidth: 420, minWidth: 280});  // one shared popup: one container, reused
  function show(latlng, html) { pop.setLatLng(latlng).setContent(html).openOn(map); }

  function ring(a) {
    var x = 0, y = 0, out = [];
    for (var i = 0; i < a.length; i += 2) {
      if (i === 0) { x = ox + a[0]; y = oy + a[1]; } else { x += a[i]; y += a[i + 1]; }
      out.push([y / S, x / S]);
    }
    return out;
  }
  function shape(g) { return g.map(function (part) { return part.map(ring); }); }
  function lines(gs) {
    var out = [];
    gs.forEach(function (g) { g.forEach(function (p) { p.forEach(function (l) { out.push(ring(l)); }); }); });
    return out;
  }
  function pct(x) { return (Math.floor(Math.round(x * 1e4) / 1e4 * 1000 + 0.5) / 10).toFixed(1) + "%"; }

  // ---- service areas (spatial/outputs/html/areas.py): each category's reached streets stroked 2·B metres
  // wide with round ends, one stroke per category (the union of the pieces' buffers, painted
  // once), drawn by the browser at the zoom the reader is at; without a network, polygons
  map.createPane("lc-areas").style.zIndex = 350;  // under the streets and communities
  map.getPane("lc-areas").style.pointerEvents = "none";
  var areaCanvas = L.canvas({padding: 0.5, pane: "lc-areas"}), table = null, areasOn = L.layerGroup();
  layers.areas = areasOn;
  function streetTable() {  // decoded once, when first drawn
    if (table) return table;
    var T = D.streetTable, nodes = [], x = ox, y = oy, i, e, a = 0;
    for (i = 0; i < T.nodes.length; i += 2) { x += T.nodes[i]; y += T.nodes[i + 1]; nodes.push(L.latLng(y / S, x / S)); }
    var edges = [];
    for (e = 0; e < T.a.length; e++) { a += T.a[e]; edges.push([nodes[a], nodes[a + T.b[e]]]); }
    var k = 0, at = 0, bx = ox, by = oy;
    T.bendEdge.forEach(function (d, j) {
      at += d;
      var line = edges[at], mid = [];
      for (var m = 0; m < T.bendN[j]; m++, k += 2) { bx += T.bendXY[k]; by += T.bendXY[k + 1]; mid.push(L.latLng(by / S, bx / S)); }
      edges[at] = [line[0]].concat(mid, [line[1]]);
    });
    table = edges;
    return table;
  }
  function along(line, f) {  // the first fraction f of a line (by length, locally flat)
    var c = Math.cos(line[0].lat * Math.PI / 180), len = [0], total = 0, i;
    for (i = 1; i < line.length; i++) {
      total += Math.hypot((line[i].lng - line[i - 1].lng) * c, line[i].lat - line[i - 1].lat);
      len.push(total);
    }
    var goal = f * total, out = [line[0]];
    for (i = 1; i < line.length; i++) {
      if (len[i] >= goal) {
        var t = len[i] > len[i - 1] ? (goal - len[i - 1]) / (len[i] - len[i - 1]) : 0;
        out.push(L.latLng(line[i - 1].lat + t * (line[i].lat - line[i - 1].lat),
          line[i - 1].lng + t * (line[i].lng - line[i - 1].lng)));
        return out;
      }
      out.push(line[i]);
    }
    return out;
  }
  function reachedLines(R) {
    var edges = streetTable(), out = [], bits = atob(R.whole), e, p;
    for (e = 0; e < edges.length; e++) if ((bits.charCodeAt(e >> 3) >> (e & 7)) & 1) out.push(edges[e]);
    p = 0; R.fromA.forEach(function (d, j) { p += d; out.push(along(edges[p], R.fracA[j] / 1e4)); });
    p = 0; R.fromB.forEach(function (d, j) { p += d; out.push(along(edges[p].slice().reverse(), R.fracB[j] / 1e4)); });
    return out;
  }
  function metresToPixels(m) {  // at the map's centre, Web Mercator
    var lat = map.getCenter().lat * Math.PI / 180;
    return m * 256 * Math.pow(2, map.getZoom()) / (40075016.686 * Math.cos(lat));
  }
  var areaLayers = [];
  (D.areas || []).forEach(function (A, j) {
    var lyr;
    if (A.streets) {
      lyr = L.layerGroup();
      lyr.buffer = A.buffer;
      lyr.on("add", function () {
        if (!lyr.line) {
          lyr.line = L.polyline(reachedLines(A.streets), {color: A.colour, opacity: 0.3, lineCap: "round",
            lineJoin: "round", interactive: false, renderer: areaCanvas, smoothFactor: 0.5,
            weight: metresToPixels(2 * A.buffer)});
          lyr.addLayer(lyr.line);
        }
        lyr.line.setStyle({weight: metresToPixels(2 * A.buffer)});
      });
      areaLayers.push(lyr);
    } else {
      lyr = L.polygon(shape(A.geom[0]), {color: A.colour, weight: 2.5, dashArray: "6 4", fillColor: A.colour,
        fillOpacity: 0.15, renderer: areaCanvas, interactive: false});
    }
    layers["area" + j] = lyr;
    ctrl.addOverlay(lyr, A.name);
    if (A.show) lyr.addTo(map);
  });
  map.on("zoomend", function () {
    areaLayers.forEach(function (l) { if (l.line && map.hasLayer(l)) l.line.setStyle({weight: metresToPixels(2 * l.buffer)}); });
  });
  function areasShown() {
    var on = false;
    (D.areas || []).forEach(function (A, j) { if (map.hasLayer(layers["area" + j]) && A.streets) on = true; });
    if (on && !map.hasLayer(areasOn)) areasOn.addTo(map);
    if (!on && map.hasLayer(areasOn)) map.removeLayer(areasOn);
  }
  map.on("overlayadd overlayremove", areasShown);
  areasShown();

  // ---- basemap tiles: when none loads (offline, blocked), say so on the page, hide the tile
  // layers and remove their credit; the offline streets below stay
  var tiles = [], tilesLoaded = 0, tilesFailed = 0, tilesSaid = false;
  map.eachLayer(function (l) { if (l instanceof L.TileLayer) tiles.push(l); });
  function tilesCheck() {
    if (tilesSaid || tilesLoaded || !tilesFailed) return;
    tilesSaid = true;
    tiles.forEach(function (t) {  // hidden, not removed: its pending tiles still settle
      t.setOpacity(0);
      if (map.attributionControl && t.getAttribution()) map.attributionControl.removeAttribution(t.getAttribution());
    });
    var d = L.DomUtil.create("div", "lc-tiles-failed", map.getContainer());  // top centre
    d.style.cssText = "position:absolute;top:8px;left:50%;transform:translateX(-50%);z-index:1000;" +
      "background:#fff8e1;border:1px solid #b35806;padding:3px 8px;max-width:420px;font-size:12px";
    d.innerHTML = D.text.tiles_failed;
    L.DomEvent.disableClickPropagation(d);
  }
  tiles.forEach(function (t) {
    t.on("tileload", function () { tilesLoaded++; });
    t.on("tileerror", function () { tilesFailed++; });
    t.on("load", tilesCheck);  // every visible tile settled, loaded or failed
    Object.keys(t._tiles || {}).forEach(function (k) {  // settled before this script ran
      var img = t._tiles[k].el;
      if (img && img.complete) { if (img.naturalWidth) tilesLoaded++; else tilesFailed++; }
    });
  });
  if (tiles.length && !tiles.some(function (t) { return t.isLoading(); })) tilesCheck();
  if (tiles.length) setTimeout(function () { tilesCheck(); }, 6000);

  // ---- streets: one light line layer under everything
  // (from the street table when the service areas are drawn from it: the streets once)
  if (D.streets || D.streetTable) {
    var st = L.polyline(D.streetTable ? streetTable() : lines(D.streets), {color: D.streetColour, weight: 1, opacity: 0.9, interactive: false});
    layers.streets = st.addTo(map);
    ctrl.addOverlay(st, D.text.streets);
  }

  // ---- communities
  var C = D.comm, n = C.name.length, keys = D.keys, nk = keys.length;
  var keyMask = 0; keys.forEach(function (k) { keyMask |= (1 << k); });
  var total = 0; for (var i = 0; i < n; i++) total += C.hh[i];
  var cov = new Int32Array(n);
  function gapsOf(i) {
    var ok = C.ok[i] | cov[i], g = 0;
    keys.forEach(function (k) { if (!(ok & (1 << k))) g++; });
    return g;
  }
  function colourOf(i) {
    var g = gapsOf(i), idx = D.groupScale ? Math.ceil(g * 4 / nk) : Math.min(g, 4);
    return D.gapColours[idx];
  }
  function popupOf(i) {
    var ok = C.ok[i] | cov[i], rows = "";
    D.cats.forEach(function (c, k) {
      var d = C.dist[i][k], have = (C.ok[i] >> k) & 1, added = !have && ((cov[i] >> k) & 1);
      var reach = d < 0 ? D.text.none_reached : d + " " + D.text.unit + " / " + Math.round(d / (c.speed || D.speed)) + " " + D.text.minutes;
      rows += "<tr><td>" + c.label + "<td>" + reach + "<td class=" + (have ? "y" : "n") + ">" +
        (have ? "✓" : (added ? "✗→✓" : "✗"));
    });
    return "<b>" + C.name[i] + "</b>" + factsOf(i) + "<table class=lc-pop>" + rows + "</table>";
  }
  function factsOf(i) {  // the card's fact lines from the table of distinct values
    var F = C.facts, html = "";
    F.cols.forEach(function (col, c) { var v = col.i[i]; if (v >= 0) html += "<br>" + F.label[c] + ": " + col.v[v]; });
    return html;
  }
  var commLayer = L.featureGroup(), polys = [];
  for (var i = 0; i < n; i++) {
    var line = D.outlines[C.elig[i] === 1 ? 1 : 0];  // old / other (spatial.outputs.style)
    var p = L.polygon(shape(C.geom[i]), {
      fillColor: colourOf(i), fillOpacity: 0.7,
      color: C.gate.length && C.gate[i] === 1 ? D.gateColour : line.color,
      weight: line.weight, dashArray: line.dashArray});
    p.feature = {type: "Feature", properties: {label: C.name[i], popup: true, index: i}};
    polys.push(p); commLayer.addLayer(p);
  }
  // one tooltip and one set of handlers on the layer, not on each of a city's polygons
  function indexOf(e) { return e.layer.feature.properties.index; }
  commLayer.bindTooltip(function (l) { return C.name[l.feature.properties.index]; }, {sticky: true});
  commLayer.on("click", function (e) { show(e.latlng, popupOf(indexOf(e))); });
  commLayer.on("mouseover", function (e) { e.layer.setStyle({weight: 3}); });
  commLayer.on("mouseout", function (e) { e.layer.setStyle({weight: D.outlines[C.elig[indexOf(e)] === 1 ? 1 : 0].weight}); });
  layers.communities = commLayer.addTo(map);
  ctrl.addOverlay(commLayer, D.text.communities);
  function recolour() { for (var i = 0; i < n; i++) polys[i].setStyle({fillColor: colourOf(i)}); }

  // ---- capacity (2SFCA supply ratio per category): off by default, drawn from the community
  // outlines when first shown; the tooltip is the catalogue's text with the values put in
  (D.capacity || []).forEach(function (cap, c) {
    var g = L.featureGroup(), filled = false;
    function put(tip, mark, value) { return tip.split(mark).join(value); }
    g.on("add", function () {
      if (filled) return;
      filled = true;
      for (var i = 0; i < n; i++) {
        var values = put(put(cap.tip, "@@R@@", cap.ratio[i] < 0 ? "—" : cap.ratio[i] + "%"),
          "@@S@@", cap.short[i] < 0 ? "—" : cap.short[i].toLocaleString("en-US"));
        var tip = put(values, "@@N@@", C.name[i]);  // the name last: its text is never a mark
        g.addLayer(L.polygon(shape(C.geom[i]), {fillColor: cap.colours[cap.cls[i]], color: "#555",
          weight: 0.6, fillOpacity: 0.75}).bindTooltip(tip, {sticky: true}));
      }
    });
    layers["cap" + c] = g;
    ctrl.addOverlay(g, cap.name);
  });

  // ---- community names at closer zoom
  var names = L.layerGroup().addTo(map);
  var centres = C.centre.map(function (c) { return L.latLng((oy + c[1]) / S, (ox + c[0]) / S); });
  function drawNames() {
    names.clearLayers();
    if (map.getZoom() < D.labelZoom || !map.hasLayer(commLayer)) return;
    var b = map.getBounds(), shown = 0;
    for (var i = 0; i < n && shown < 400; i++) {
      if (!b.contains(centres[i])) continue;
      names.addLayer(L.marker(centres[i], {interactive: false, keyboard: false, icon: L.divIcon({
        className: "lc-name", html: C.name[i], iconSize: null})}));
      shown++;
    }
  }
  map.on("zoomend moveend overlayadd overlayremove", drawNames);

  // ---- bundles
  function inside(latlng, latlngs) {  // point in (multi)polygon, even-odd over all rings
    var x = latlng.lng, y = latlng.lat, c = false;
    latlngs.forEach(function (part) { part.forEach(function (r) {
      for (var i = 0, j = r.length - 1; i < r.length; j = i++) {
        var yi = r[i][0], xi = r[i][1], yj = r[j][0], xj = r[j][1];
        if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) c = !c;
      }
    }); });
    return c;
  }
  var B = D.bundles, thinItems = [], thinInto = [];  // bundle labels (thinned with the icons, below)
  function bundleCard(b) {  // the card from its columns (spatial/mapstore.py bundle_cards)
    var K = B.card, T = K.label, gaps = K.gaps.v[K.gaps.i[b]], desc = K.desc[b];
    if (typeof desc !== "string") desc = desc.join(gaps);
    return "<div class=lc-card>" + ["<b>" + T.bundle + " " + B.id[b] + "</b>",
      T.members + ": " + K.members[b] + " — " + K.names[b], T.households + ": " + K.households[b],
      T.shared_gaps + ": " + gaps, T.partner_parcels + ": " + K.partners.v[K.partners.i[b]],
      "<span class=lc-note>" + desc + "</span>"].join("<br>") + "</div>";
  }
  if (B.id.length) {
    var bl = L.featureGroup();
    // a bundle is a dashed line in its colour a few metres outside its members (the store's
    // outline is buffered, spatial/outputs/html/store.py), as on the print map: no fill, so
    // the gap colours inside keep their legend shades and the members' own outlines (old: solid
    // black, other: grey dashed) are not covered; the transparent fill takes the clicks
    B.id.forEach(function (id, b) {
      var pol = L.polygon(shape(B.geom[b]), {color: B.colour[b], fillColor: B.colour[b],
        fillOpacity: 0, weight: 2.5, dashArray: "8 5"});
      pol.feature = {type: "Feature", properties: {label: id, popup: true, bundle: b}};
      pol.bindTooltip(D.text.bundles + " " + id, {sticky: true});
      pol.on("click", function (e) {
        var html = bundleCard(b);
        B.members[b].forEach(function (i) {
          if (inside(e.latlng, shape(C.geom[i]))) html = popupOf(i) + "<hr>" + html;
        });
        show(e.latlng, html);
      });
      bl.addLayer(pol);
    });
    // labels: drawn with the facility icons, thinned by zoom (below)
    var tags = L.layerGroup();
    bl.addLayer(tags);
    thinInto.push(tags);
    B.centre.forEach(function (c, b) {
      thinItems.push({ll: L.latLng((oy + c[1]) / S, (ox + c[0]) / S), w: 40, h: 20, on: bl, into: tags,
        html: '<div class="lc-lbl" style="border:2px solid ' + B.colour[b] + '">' + B.id[b] + "</div>",
        tip: D.text.bundles + " " + B.id[b], tag: true, j: b, n: B.id.length, k: -1});
    });
    layers.bundles = bl.addTo(map);
    ctrl.addOverlay(bl, D.text.bundles);
  }

  // ---- facility icons (one layer per category) and bundle labels, thinned by zoom: at each zoom
  // the items are taken in priority order — the bundle labels in the bundles' order (what the
  // overview is about; the facilities' coverage is in the gap colours), then the facilities, each
  // category's first before any category's second, at one rank the rarer category first — and
  // each is drawn only where its box covers at most D.thin.overlap of the smaller box of one
  // already drawn; one that would cover more is counted in a badge (+n) on the drawn one it lies
  // under most, whose click zooms in to where they come apart, or at the last zoom lists them
  var F = D.facilities || [], thinLayers = [], facItems = [];
  F.forEach(function (f, k) {
    var g = L.layerGroup(), x = ox, y = oy;
    layers["fac" + k] = g.addTo(map);
    ctrl.addOverlay(g, f.name);
    thinLayers.push(g);
    thinInto.push(g);
    for (var a = 0, j = 0; a < f.xy.length; a += 2, j++) {
      x += f.xy[a]; y += f.xy[a + 1];
      facItems.push({ll: L.latLng(y / S, x / S), w: 18, h: 18, on: g, into: g, html: f.icon,
        tip: f.names[j] + " (" + f.label + ")", k: k, j: j, n: f.names.length});
    }
  });
  if (B.id.length) thinLayers.push(layers.bundles);
  var thinOrder = thinItems.concat(facItems), thinCache = {};
  thinOrder.sort(function (p, q) { return (q.tag ? 1 : 0) - (p.tag ? 1 : 0) || p.j - q.j || p.n - q.n || p.k - q.k; });
  thinOrder.forEach(function (it, i) { it.i = i; });
  var grouped = L.layerGroup();
  layers.grouped = grouped;
  function boxAt(it, p) { return [p.x - it.w / 2, p.y - it.h / 2, p.x + it.w / 2, p.y + it.h / 2]; }
  function cover(a, b) {  // the share of the smaller box the two have in common
    var w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]), h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
    if (w <= 0 || h <= 0) return 0;
    return w * h / Math.min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]));
  }
  function placement(z) {  // at zoom z, over the whole map (the same wherever the view is)
    var sig = z + ":" + thinLayers.map(function (l) { return map.hasLayer(l) ? 1 : 0; }).join("");
    if (thinCache[sig]) return thinCache[sig];
    var cells = {}, out = [], lim = D.thin.overlap;
    thinOrder.forEach(function (it) {
      if (!map.hasLayer(it.on)) return;
      var p = map.project(it.ll, z).round(), box = boxAt(it, p), best = null, most = lim;  // whole pixels, as drawn
      var cx = Math.floor(p.x / 40), cy = Math.floor(p.y / 40);  // boxes at most 40 px wide
      for (var dx = -1; dx <= 1; dx++) for (var dy = -1; dy <= 1; dy++) {
        (cells[(cx + dx) + "," + (cy + dy)] || []).forEach(function (q) {
          var o = cover(box, q.box);
          if (o > most) { most = o; best = q; }
        });
      }
      if (best) { best.hidden.push(it); return; }
      var q = {it: it, p: p, box: box, hidden: []};
      (cells[cx + "," + cy] = cells[cx + "," + cy] || []).push(q);
      out.push(q);
    });
    thinCache[sig] = out;
    return out;
  }
  function listOf(all) {  // the popup of items that stay over one another at the last zoom
    return "<b>" + D.text.grouped_here.replace("#", all.length) + "</b><div class=lc-list>" +
      all.map(function (it) { return "<div class=lc-row>" + (it.tag ? "" : it.html) + it.tip + "</div>"; }).join("") +
      "</div>";
  }
  function reveal(q) {  // zoom in to where the hidden items come off the drawn one (those that can)
    var z = map.getZoom(), top = map.getMaxZoom(), lim = D.thin.overlap;
    function apart(it, z2) { return cover(boxAt(q.it, map.project(q.it.ll, z2).round()), boxAt(it, map.project(it.ll, z2).round())) <= lim; }
    var parting = q.hidden.filter(function (it) { return apart(it, top); });
    if (z >= top || !parting.length) { show(q.it.ll, listOf([q.it].concat(q.hidden))); return; }
    for (var z2 = z + 1; z2 < top; z2++) if (parting.every(function (it) { return apart(it, z2); })) break;
    var b = L.latLngBounds([q.it.ll]);
    parting.forEach(function (it) { b.extend(it.ll); });
    map.setView(b.getCenter(), z2);
  }
  function markerOf(q) {
    var it = q.it, n = q.hidden.length, html = it.html;
    if (n) html = '<div class=lc-more data-more="+' + n + '">' + html + "</div>";
    var m = L.marker(it.ll, {keyboard: false, interactive: !it.tag || n > 0, icon: L.divIcon({className: "",
      html: html, iconSize: [it.w, it.h], iconAnchor: [it.w / 2, it.h / 2]})});
    if (!it.tag || n) m.bindTooltip(n ? it.tip + "<br>" + D.text.more_here.replace("#", n) : it.tip);
    if (n) m.on("click", function () { reveal(q); });
    m.feature = {type: "Feature", properties: {}};
    return m;
  }
  function drawThinned() {
    thinInto.forEach(function (l) { l.clearLayers(); });
    var v = map.getPixelBounds(), s = map.getSize(), dx = 40 + s.x / 5, dy = 20 + s.y / 5, hidden = 0;
    placement(map.getZoom()).forEach(function (q) {  // those in view and a margin (a pan's first steps)
      if (q.p.x < v.min.x - dx || q.p.x > v.max.x + dx || q.p.y < v.min.y - dy || q.p.y > v.max.y + dy) return;
      if (q.p.x >= v.min.x && q.p.x <= v.max.x && q.p.y >= v.min.y && q.p.y <= v.max.y) hidden += q.hidden.length;
      q.it.into.addLayer(markerOf(q));
    });
    if (hidden && !map.hasLayer(grouped)) grouped.addTo(map);
    if (!hidden && map.hasLayer(grouped)) map.removeLayer(grouped);
    legend();
  }
  map.on("moveend overlayadd overlayremove", drawThinned);

  // ---- parcels: recommended sites, candidates, partners
  var P = D.parcels, active = {}, mode = "today";
  function parcelStyle(j) {
    var kind = P.kind[j], on = active[j];
    if (kind === "site") return {color: D.siteColour, fillColor: D.siteColour, weight: 2.5, fillOpacity: on || mode !== "whatif" ? 0.6 : 0.08};
    if (kind === "candidate") return {color: D.candidateColour, fillColor: D.siteColour, weight: 1.5, dashArray: "4 3", fillOpacity: on ? 0.6 : 0.05};
    return {color: D.partnerColour, fillColor: D.partnerColour, weight: 2, fillOpacity: 0.3};
  }
  var groups = {site: L.featureGroup(), candidate: L.featureGroup(), partner: L.featureGroup()};
  var parcelLayers = [];
  P.kind.forEach(function (kind, j) {
    var pol = L.polygon(shape(P.geom[j]), parcelStyle(j));
    pol.feature = {type: "Feature", properties: {label: P.pid[j], popup: true, parcel: j}};
    pol.on("click", function (e) {
      if (mode === "whatif" && kind !== "partner") { toggle(j); return; }
      show(e.latlng, P.card[j]);
    });
    pol.bindTooltip(P.pid[j], {sticky: true});
    parcelLayers.push(pol); groups[kind].addLayer(pol);
  });
  if (P.kind.indexOf("site") >= 0) { layers.sites = groups.site.addTo(map); ctrl.addOverlay(groups.site, D.text.sites); }
  if (P.kind.indexOf("candidate") >= 0) { layers.candidates = groups.candidate; ctrl.addOverlay(groups.candidate, D.text.candidates); }
  if (P.kind.indexOf("partner") >= 0) { layers.partners = groups.partner; ctrl.addOverlay(groups.partner, D.text.partners); }

  // ---- coverage state and headline
  function eachReached(j, k, f) {  // the communities parcel j reaches with category k:
    var r = P.reach[j], last = P.radii.indexOf(D.cats[k].radius);  // classes 0…last
    for (var c = 0; c <= last && c < r.length; c++) {
      for (var t = 0, i = 0; t < r[c].length; t++) { i += r[c][t]; f(i); }
    }
  }
  function recompute() {
    cov.fill(0);
    for (var j in active) {
      if (!active[j]) continue;
      P.prog[j].forEach(function (k) { var bit = 1 << k; eachReached(j, k, function (i) { cov[i] |= bit; }); });
    }
    var hh = 0;
    for (var i = 0; i < n; i++) if (((C.ok[i] | cov[i]) & keyMask) === keyMask) hh += C.hh[i];
    var share = total ? hh / total : 0, count = 0;
    for (var j2 in active) if (active[j2]) count++;
    var label = mode === "today" ? D.text.view_today : mode === "after" ? D.text.view_after :
      D.text.whatif_count.replace("#", count);
    document.getElementById("lc-shown").textContent = pct(share);
    document.getElementById("lc-shown-label").innerHTML = label;
    recolour();
    parcelLayers.forEach(function (pl, j) { pl.setStyle(parcelStyle(j)); });
    return share;
  }
  function toggle(j) { active[j] = !active[j]; recompute(); }
  function setMode(m) {
    mode = m; active = {};
    if (m === "after") P.kind.forEach(function (k, j) { if (k === "site") active[j] = true; });
    if (m === "whatif") { if (!map.hasLayer(groups.candidate) && P.kind.indexOf("candidate") >= 0) map.addLayer(groups.candidate); }
    recompute();
  }
  window.lcSetMode = setMode;
  var view = L.control({position: "topright"});
  view.onAdd = function () {
    var div = L.DomUtil.create("div", "leaflet-bar lc-view");
    var html = "<b>" + D.text.view_label + "</b>";
    [["today", D.text.view_today], ["after", D.text.view_after], ["whatif", D.text.view_whatif]].forEach(function (o) {
      html += '<label><input type="radio" name="lc-view" value="' + o[0] + '"' + (o[0] === "today" ? " checked" : "") + "> " + o[1] + "</label>";
    });
    div.innerHTML = html;
    L.DomEvent.disableClickPropagation(div);
    div.addEventListener("change", function (e) { setMode(e.target.value); });
    return div;
  };
  if (P.kind.length) view.addTo(map);

  // ---- legend: one section per layer that is on
  function layerOf(ref) { return ref.indexOf("lc:") === 0 ? layers[ref.slice(3)] : window[ref]; }
  function legend() {
    var html = "";
    D.legend.forEach(function (e) { var l = layerOf(e.ref); if (l && map.hasLayer(l)) html += e.html; });
    document.getElementById("lc-legend").innerHTML = html;
  }
  map.on("overlayadd overlayremove", legend);
  drawThinned();  // and the legend

  // ---- search (vendored leaflet-search) and a metric scale
  if (L.Control.Search) {
    var records = C.name.map(function (nm, i) { return {title: nm, loc: centres[i], i: i}; });
    var search = new L.Control.Search({
      sourceData: function (text, cb) { cb(records); return {abort: function () {}}; },
      propertyName: "title", propertyLoc: "loc", initial: false, marker: false,
      textPlaceholder: D.text.search, position: "topleft", zoom: D.labelZoom + 1,
      moveToLocation: function (latlng, title, m) {
        m.setView(latlng, D.labelZoom + 1);
        for (var i = 0; i < n; i++) if (C.name[i] === title) { show(latlng, popupOf(i)); break; }
      }});
    map.addControl(search);
  }
  L.control.scale({imperial: false, metric: true}).addTo(map);
  window.lcState = {recompute: recompute, toggle: toggle, parcels: P, pct: pct, mode: function () { return mode; },
    facts: factsOf, bundleCard: bundleCard, placement: placement, thinItems: thinOrder, reached: function (j, k) { var out = []; eachReached(j, k, function (i) { out.push(i); }); return out; }};
});

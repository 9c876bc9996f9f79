/* Site Conversion Planner: page-side map code (layers, modes, measuring, Qt bridge).
 * Every string that arrives as HTML in `data` was escaped in Python (planner.webmap.escape);
 * strings composed here are numbers only or go through textContent. */
(function () {
  "use strict";

  var MODES = ["browse", "add", "move", "measure"];
  var COUNT_KEYS = {transmission: "lines"};

  function decode(flat, scale) {
    var out = new Array(flat.length / 2), x = 0, y = 0, j = 0;
    for (var i = 0; i < flat.length; i += 2) {
      x += flat[i]; y += flat[i + 1];
      out[j++] = [y / scale, x / scale];
    }
    return out;
  }

  // Value-coloured points (a screening grid of ~170,000 cells): one canvas of its own, redrawn on
  // move/zoom from pre-projected coordinates, cells as squares of cell_m (or dots of `radius` px).
  var EARTH_M_PER_PX_Z0 = 156543.03392804097;  // Web Mercator metres per pixel at zoom 0 on the equator
  var CellLayer = L.Layer.extend({
    initialize: function (cells, colours, noneColour, pane) {
      var n = cells.cls.length, s = Math.pow(10, cells.decimals), x = 0, y = 0, i;
      this._n = n;
      this._cls = cells.cls;
      this._colours = colours;
      this._none = noneColour;
      this._cellM = cells.cell_m;
      this._radius = cells.radius || 3;
      this._alpha = cells.opacity === undefined ? 0.75 : cells.opacity;
      this._pane = pane;
      this._px = new Float64Array(n);   // Web Mercator pixels at zoom 0
      this._py = new Float64Array(n);
      this._k = new Float64Array(n);    // 1 / cos(latitude): Mercator scale factor
      this._lat = new Float64Array(n);
      this._lon = new Float64Array(n);
      this.drawn = 0;
      var crs = L.CRS.EPSG3857;
      for (i = 0; i < n; i++) {
        x += cells.xy[2 * i]; y += cells.xy[2 * i + 1];
        var lat = y / s, lon = x / s, p = crs.latLngToPoint(L.latLng(lat, lon), 0);
        this._px[i] = p.x; this._py[i] = p.y; this._lat[i] = lat; this._lon[i] = lon;
        this._k[i] = 1 / Math.max(0.01, Math.cos(lat * Math.PI / 180));
      }
    },
    onAdd: function (map) {
      this._canvas = L.DomUtil.create("canvas", "pm-cells leaflet-zoom-hide");
      this._canvas.style.pointerEvents = "none";
      map.getPane(this._pane).appendChild(this._canvas);
      map.on("moveend zoomend resize viewreset", this._redraw, this);
      this._redraw();
    },
    onRemove: function (map) {
      map.off("moveend zoomend resize viewreset", this._redraw, this);
      L.DomUtil.remove(this._canvas);
      this._canvas = null;
      this.drawn = 0;
    },
    getBounds: function () {
      var b = L.latLngBounds([]);
      for (var i = 0; i < this._n; i++) { b.extend([this._lat[i], this._lon[i]]); }
      return b;
    },
    _redraw: function () {
      var map = this._map;
      if (!map || !this._canvas) { return; }
      var size = map.getSize(), pad = 0.2;
      var w = Math.round(size.x * (1 + 2 * pad)), h = Math.round(size.y * (1 + 2 * pad));
      var topLeft = map.containerPointToLayerPoint([-size.x * pad, -size.y * pad]).round();
      var dpr = window.devicePixelRatio || 1, c = this._canvas;
      c.width = Math.round(w * dpr); c.height = Math.round(h * dpr);
      c.style.width = w + "px"; c.style.height = h + "px";
      L.DomUtil.setPosition(c, topLeft);
      var ctx = c.getContext("2d");
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, w, h);
      c.style.opacity = this._alpha;  // opaque cells, translucent canvas: overlapping edges leave no seams
      var zs = Math.pow(2, map.getZoom());
      var origin = map.getPixelBounds().min.subtract([size.x * pad, size.y * pad]);
      var base = this._cellM ? this._cellM * zs / EARTH_M_PER_PX_Z0 : 0, r = this._radius;
      var drawn = 0, last = null, i, cls, sx, sy, side;
      for (i = 0; i < this._n; i++) {
        sx = this._px[i] * zs - origin.x; sy = this._py[i] * zs - origin.y;
        side = base ? Math.max(1.5, base * this._k[i]) : 2 * r;
        if (sx < -side || sy < -side || sx > w + side || sy > h + side) { continue; }
        cls = this._cls[i];
        var colour = cls >= 0 && cls < this._colours.length ? this._colours[cls] : this._none;
        if (colour !== last) { ctx.fillStyle = colour; last = colour; }
        if (base) {
          ctx.fillRect(sx - side / 2, sy - side / 2, side + 0.5, side + 0.5);  // +0.5: no seams between cells
        } else {
          ctx.beginPath(); ctx.arc(sx, sy, r, 0, 2 * Math.PI); ctx.fill();
        }
        drawn += 1;
      }
      this.drawn = drawn;
    }
  });

  function extend(a, b) {
    var o = {}, k;
    for (k in a) { if (Object.prototype.hasOwnProperty.call(a, k)) { o[k] = a[k]; } }
    for (k in b) { if (Object.prototype.hasOwnProperty.call(b, k)) { o[k] = b[k]; } }
    return o;
  }

  function init(map, data) {
    var api = {map: map, ready: false, mode: "browse", selected: null, bridge: null, errors: [], events: []};
    var scale = Math.pow(10, data.decimals);
    var counts = {sites: 0, lines: 0, substations: 0, fibre: 0, pops: 0, flares: 0,
                  stranded: 0, basins: 0, countries: 0, states: 0, other: 0, graduated: 0};
    var cellLayers = {};
    var kindGroups = {};
    var renderers = {};
    var PANES = {countries: ["pm-basemap", 210], states: ["pm-basemap", 210],
                 stranded: ["pm-regions", 380], basins: ["pm-regions", 380],
                 transmission: ["pm-lines", 400], fibre: ["pm-lines", 400], other: ["pm-lines", 400],
                 substations: ["pm-points", 420], pops: ["pm-points", 420], flares: ["pm-points", 420],
                 cells: ["pm-cells", 390], top: ["pm-top", 430], sites: ["pm-sites", 610], measure: ["pm-measure", 620]};

    // folium passes zoom limits to the tile layer only; clustering needs them on the map
    map.setMinZoom(2);
    map.setMaxZoom(18);

    window.addEventListener("error", function (ev) { api.errors.push(String(ev.message)); });

    function paneFor(kind) {
      var p = PANES[kind] || PANES.other;
      if (!map.getPane(p[0])) { map.createPane(p[0]).style.zIndex = p[1]; }
      if (!renderers[p[0]]) { renderers[p[0]] = L.canvas({pane: p[0], padding: 0.3}); }
      return {pane: p[0], renderer: renderers[p[0]]};
    }

    function remember(kind, group) { (kindGroups[kind] = kindGroups[kind] || []).push(group); }

    function countKey(kind) {
      var k = COUNT_KEYS[kind] || kind;
      return Object.prototype.hasOwnProperty.call(counts, k) ? k : "other";
    }

    function emit(name, args) {
      api.events.push({name: name, args: args});
      if (api.events.length > 50) { api.events.shift(); }
      var b = api.bridge;
      if (b && typeof b[name] === "function") { b[name].apply(b, args); }
    }

    // ---- attribution, title, legend -------------------------------------------------
    map.attributionControl.setPrefix("Leaflet");
    (data.attributions_html || []).forEach(function (a) { map.attributionControl.addAttribution(a); });

    // the in-app map has no layer control of its own: the Layers panel is the one switch (exported pages keep it)
    var control = data.layer_control === false ? {addOverlay: function () {}}
      : L.control.layers(null, null, {collapsed: true, position: "topright"}).addTo(map);
    var nameGroups = {};  // layer name -> its group (the Layers panel switches layers by name)

    var titleBox = L.control({position: "topleft"});
    titleBox.onAdd = function () {
      var div = L.DomUtil.create("div", "pm-box pm-title");
      div.innerHTML = data.title_html;  // escaped in Python
      var bar = L.DomUtil.create("div", "pm-modebar", div);
      ["browse", "measure"].forEach(function (m) {
        var b = L.DomUtil.create("button", "pm-modebtn", bar);
        b.type = "button"; b.textContent = m === "browse" ? "Browse" : "Measure (km)";
        b.setAttribute("data-mode", m);
        L.DomEvent.on(b, "click", function (ev) { L.DomEvent.stop(ev); api.setMode(m); });
      });
      var out = L.DomUtil.create("div", "pm-measure-out", div);
      out.id = "pm-measure-out";
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    titleBox.addTo(map);

    var legend = L.control({position: "bottomright"});
    legend.onAdd = function () {
      var div = L.DomUtil.create("div", "pm-box pm-legend");
      var toggle = L.DomUtil.create("button", "pm-legend-toggle", div);
      toggle.type = "button";
      toggle.textContent = "Legend \u25BE";
      toggle.title = "Show or hide the legend";
      var body = L.DomUtil.create("div", "pm-legend-body", div);
      body.innerHTML = data.legend_html;  // escaped in Python
      L.DomEvent.on(toggle, "click", function () { api.setLegendCollapsed(!L.DomUtil.hasClass(div, "pm-collapsed")); });
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    legend.addTo(map);

    // ---- online tiles (only when enabled in Python) ------------------------------------
    var tiles = null;
    if (data.tiles) {
      tiles = L.tileLayer(data.tiles.url, extend(data.tiles.options, {attribution: data.tiles.attribution_html}));
      tiles.addTo(map);
    }

    // ---- vector layers -------------------------------------------------------------
    // layers too dense for a continental view (substations) sit in a pane of their own that is
    // shown, and takes clicks, only from their minimum zoom on; the layer itself stays "on"
    var minZoomPanes = {};
    function showMinZoomPanes() {
      Object.keys(minZoomPanes).forEach(function (p) {
        map.getPane(p).style.display = map.getZoom() >= minZoomPanes[p] ? "" : "none";
      });
    }
    map.on("zoomend", showMinZoomPanes);
    data.layers.forEach(function (layer) {
      var where = paneFor(layer.style.on_top ? "top" : layer.kind);
      if (layer.min_zoom > 0 && !layer.style.on_top) {
        var zp = "pm-points-z" + layer.min_zoom;
        if (!map.getPane(zp)) { map.createPane(zp).style.zIndex = 421; }
        if (!renderers[zp]) { renderers[zp] = L.canvas({pane: zp, padding: 0.3}); }
        minZoomPanes[zp] = layer.min_zoom;
        where = {pane: zp, renderer: renderers[zp]};
      }
      var style = extend(layer.style, {pane: where.pane, renderer: where.renderer});
      var group = (layer.cluster && L.markerClusterGroup)
        ? L.markerClusterGroup({chunkedLoading: true, maxClusterRadius: 40, showCoverageOnHover: false})
        : L.featureGroup();
      var key = countKey(layer.kind);
      var grad = layer.grad || null;
      function classColour(c) { return (c >= 0 && c < grad.colours.length) ? grad.colours[c] : grad.none; }
      (layer.polygons || []).forEach(function (f) {
        var latlngs = f[0].map(function (rings) { return rings.map(function (r) { return decode(r, scale); }); });
        var s = grad && f.length > 2 ? extend(style, {fillColor: classColour(f[2]), fill: true}) : style;
        var poly = L.polygon(latlngs, s);
        if (grad) { counts.graduated += 1; }
        if (f[1]) { poly.bindTooltip(f[1], {sticky: true}); }
        group.addLayer(poly); counts[key] += 1;
      });
      (layer.lines || []).forEach(function (f) {
        var s = style;
        if (f[0] && layer.group_colours && layer.group_colours[f[0]]) { s = extend(style, {color: layer.group_colours[f[0]]}); }
        var line = L.polyline(f[1].map(function (p) { return decode(p, scale); }), s);
        if (f[2]) { line.bindTooltip(f[2], {sticky: true}); }
        group.addLayer(line); counts[key] += 1;
      });
      var pts = layer.points || [];
      var markers = new Array(pts.length);
      pts.forEach(function (f, i) {
        var ps = extend(style, {radius: f[3] || style.radius || 4});
        if (grad && f.length > 4) { ps.fillColor = classColour(f[4]); ps.fillOpacity = style.fillOpacity; counts.graduated += 1; }
        var m = L.circleMarker([f[1] / scale, f[0] / scale], ps);
        if (f[2]) { m.bindTooltip(f[2]); }
        markers[i] = m; counts[key] += 1;
      });
      if (markers.length) {
        if (group.addLayers) { group.addLayers(markers); } else { markers.forEach(function (m) { group.addLayer(m); }); }
      }
      if (layer.cells && grad) {
        var cl = new CellLayer(layer.cells, grad.colours, grad.none, paneFor("cells").pane);
        group.addLayer(cl);
        cellLayers[layer.name] = cl;
        counts[key] += cl._n; counts.graduated += cl._n;
      }
      if (!layer.hidden) { group.addTo(map); }
      control.addOverlay(group, layer.title_html);
      remember(layer.kind, group);
      nameGroups[layer.name] = group;
    });

    showMinZoomPanes();

    // ---- sites -----------------------------------------------------------------------
    var siteWhere = paneFor("sites");
    var sitesGroup = L.featureGroup();
    var siteMarkers = {};
    var siteBase = {};
    var dragging = null;
    // one popup, always of the selected site: it opens when a site is selected (click or table)
    // and never shows another site than the selection
    var sitePopup = L.popup({maxWidth: 360, autoPan: true, autoPanPadding: [40, 40]});
    var pops = {};
    function addSiteMarker(s) {
      // s.o / s.w / s.d: outline colour, width and dashes (an undecided site's outline shows its lean)
      var base = {pane: siteWhere.pane, renderer: siteWhere.renderer, radius: s.r, color: s.o || "#222222",
                  weight: s.w || 1, dashArray: s.d ? "4 3" : null, fillColor: s.c, fillOpacity: 0.85,
                  bubblingMouseEvents: false};
      var m = L.circleMarker([s.lat, s.lon], base);
      m.bindTooltip(s.tip, {direction: "top"});
      pops[s.id] = s.pop;
      m.on("click", function (ev) { onSiteClick(s.id, ev); });
      m.on("mousedown", function (ev) {
        if (api.mode !== "move") { return; }
        dragging = s.id;
        map.dragging.disable();
        map.closePopup(); m.closeTooltip();
        L.DomEvent.stop(ev);
      });
      siteMarkers[s.id] = m; siteBase[s.id] = base;
      sitesGroup.addLayer(m); counts.sites += 1;
      return m;
    }
    data.sites.forEach(addSiteMarker);
    if (!data.sites_hidden) { sitesGroup.addTo(map); }
    control.addOverlay(sitesGroup, data.sites_title_html);
    remember("sites", sitesGroup);

    function onSiteClick(id, ev) {
      if (api.mode === "browse") {
        api.selectSite(id, false);
        emit("siteClicked", [id]);
      } else {
        map.closePopup();
        if (api.mode === "measure" && ev && ev.latlng) { addMeasurePoint(ev.latlng); }
      }
    }

    map.on("mousemove", function (ev) {
      if (dragging && siteMarkers[dragging]) { siteMarkers[dragging].setLatLng(ev.latlng); }
    });
    map.on("mouseup", function (ev) {
      if (!dragging) { return; }
      var id = dragging, ll = siteMarkers[id].getLatLng().wrap();
      dragging = null;
      map.dragging.enable();
      emit("siteMoved", [id, ll.lng, ll.lat]);
    });

    // ---- measuring -------------------------------------------------------------------
    var measureWhere = paneFor("measure");
    var measure = {points: [], line: null, done: false, km: 0};
    function measureText(km, done) {
      var out = document.getElementById("pm-measure-out");
      if (out) { out.textContent = km === null ? "" : ("Distance: " + km.toFixed(2) + " km" + (done ? "" : " (double-click to finish)")); }
    }
    function clearMeasure() {
      if (measure.line) { map.removeLayer(measure.line); }
      measure = {points: [], line: null, done: false, km: 0};
      measureText(null, false);
    }
    function addMeasurePoint(ll) {
      if (measure.done) { clearMeasure(); }
      measure.points.push(ll);
      if (!measure.line) {
        measure.line = L.polyline([], {pane: measureWhere.pane, renderer: measureWhere.renderer, color: "#111111",
                                        weight: 2, dashArray: "6 4", interactive: false}).addTo(map);
      }
      measure.line.setLatLngs(measure.points);
      var km = 0;
      for (var i = 1; i < measure.points.length; i++) { km += measure.points[i - 1].distanceTo(measure.points[i]) / 1000; }
      measure.km = km;
      measureText(km, false);
    }
    function finishMeasure() {
      if (measure.points.length < 2 || measure.done) { return; }
      measure.done = true;
      measureText(measure.km, true);
      emit("measureFinished", [measure.km]);
    }

    map.on("click", function (ev) {
      var ll = ev.latlng.wrap();
      if (api.mode === "add") { emit("mapClicked", [ll.lng, ll.lat]); }
      else if (api.mode === "measure") { addMeasurePoint(ev.latlng); }
    });
    map.on("dblclick", function () { if (api.mode === "measure") { finishMeasure(); } });

    // ---- API for Python ----------------------------------------------------------------
    function openSitePopup() {
      var m = api.selected ? siteMarkers[api.selected] : null;
      if (!m || api.mode !== "browse" || !map.hasLayer(sitesGroup)) { map.closePopup(sitePopup); return; }
      // on a laptop-sized map the popup scrolls instead of covering the whole view
      sitePopup.options.maxHeight = Math.max(140, Math.round(map.getSize().y * 0.5));
      sitePopup.setLatLng(m.getLatLng()).setContent(pops[api.selected] || "");
      if (!map.hasLayer(sitePopup)) { map.openPopup(sitePopup); }
    }
    // the popup is drawn in the map pane, below every control: a control box it overlaps (the title
    // box on a small map, the legend) steps aside while it is open, so the popup is always on top
    function uncoverPopup(ev) {
      var el = ev && ev.type === "popupclose" ? null : (map.hasLayer(sitePopup) ? sitePopup.getElement() : null);
      var pr = el ? el.getBoundingClientRect() : null;
      var boxes = map.getContainer().querySelectorAll(".leaflet-control");
      for (var i = 0; i < boxes.length; i++) {
        var r = boxes[i].getBoundingClientRect();
        var hit = !!pr && r.width > 0 && !(r.right <= pr.left || r.left >= pr.right || r.bottom <= pr.top || r.top >= pr.bottom);
        L.DomUtil[hit ? "addClass" : "removeClass"](boxes[i], "pm-under-popup");
      }
    }
    map.on("popupopen popupclose moveend zoomend resize", uncoverPopup);
    sitePopup.on("contentupdate", uncoverPopup);
    api.selectSite = function (id, pan) {
      if (api.selected && siteMarkers[api.selected]) {
        var was = siteBase[api.selected];
        siteMarkers[api.selected].setStyle({color: was.color, weight: was.weight, dashArray: was.dashArray});
      }
      var m = Object.prototype.hasOwnProperty.call(siteMarkers, id) ? siteMarkers[id] : null;
      api.selected = m ? id : null;
      if (!m) { map.closePopup(sitePopup); return false; }
      m.setStyle({color: "#00e5ff", weight: 4, dashArray: null});
      m.bringToFront();
      // from the table: bring the site into view; zoomed out (< 7) close enough to see its grid
      // context, zoomed in: keep the zoom and pan only when the site is off screen
      if (pan !== false) {
        var ll = m.getLatLng();
        if (map.getZoom() < 7) { map.setView(ll, 9, {animate: false}); }
        else if (!map.getBounds().pad(-0.1).contains(ll)) { map.panTo(ll, {animate: false}); }
      }
      openSitePopup();
      return true;
    };
    // sites changed in Python (edits, scores, moves, adds, deletes): markers, popups and legend are
    // updated in place; view, selection, legend state and layer visibility stay as they are
    api.updateSites = function (u) {
      var seen = {};
      u.sites.forEach(function (s) {
        seen[s.id] = true;
        var m = Object.prototype.hasOwnProperty.call(siteMarkers, s.id) ? siteMarkers[s.id] : null;
        if (!m) { addSiteMarker(s); return; }
        var b = siteBase[s.id];
        b.radius = s.r; b.fillColor = s.c; b.color = s.o || "#222222"; b.weight = s.w || 1; b.dashArray = s.d ? "4 3" : null;
        m.setLatLng([s.lat, s.lon]); m.setRadius(s.r);
        m.setStyle(api.selected === s.id ? {fillColor: s.c} : {fillColor: s.c, color: b.color, weight: b.weight, dashArray: b.dashArray});
        m.setTooltipContent(s.tip);
        pops[s.id] = s.pop;
      });
      Object.keys(siteMarkers).forEach(function (id) {
        if (seen[id]) { return; }
        sitesGroup.removeLayer(siteMarkers[id]);
        delete siteMarkers[id]; delete siteBase[id]; delete pops[id];
        counts.sites -= 1;
        if (api.selected === id) { api.selected = null; map.closePopup(sitePopup); }
      });
      var body = document.querySelector(".pm-legend-body");
      if (body && typeof u.legend_html === "string") { body.innerHTML = u.legend_html; }  // escaped in Python
      var sub = document.querySelector(".pm-title .pm-sub");
      if (sub && typeof u.subtitle === "string") { sub.textContent = u.subtitle; }
      markHiddenLayers();
      if (api.selected) {
        var autoPan = sitePopup.options.autoPan;
        sitePopup.options.autoPan = false;  // new content must not move the view
        api.selectSite(api.selected, false);
        sitePopup.options.autoPan = autoPan;
      }
      return counts.sites;
    };
    api.setLegendCollapsed = function (collapsed) {
      var div = document.querySelector(".pm-legend");
      if (!div) { return false; }
      if (collapsed) { L.DomUtil.addClass(div, "pm-collapsed"); } else { L.DomUtil.removeClass(div, "pm-collapsed"); }
      var t = div.querySelector(".pm-legend-toggle");
      if (t) { t.textContent = collapsed ? "Legend \u25B8" : "Legend \u25BE"; }
      return true;
    };
    api.legendCollapsed = function () {
      var div = document.querySelector(".pm-legend");
      return !!div && L.DomUtil.hasClass(div, "pm-collapsed");
    };
    // legend rows of hidden layers are greyed (the legend says what the map shows)
    function markHiddenLayers() {
      var rows = document.querySelectorAll(".pm-legend [data-layer]");
      for (var i = 0; i < rows.length; i++) {
        var g = nameGroups[rows[i].getAttribute("data-layer")];
        rows[i].classList.toggle("pm-off", !!g && !map.hasLayer(g));
      }
    }
    api.setLayerVisibleByName = function (name, on) {
      var g = Object.prototype.hasOwnProperty.call(nameGroups, name) ? nameGroups[name] : null;
      if (!g) { return false; }
      if (on) { g.addTo(map); } else { map.removeLayer(g); }
      markHiddenLayers();
      return true;
    };
    api.layerVisibleByName = function (name) {
      var g = Object.prototype.hasOwnProperty.call(nameGroups, name) ? nameGroups[name] : null;
      return !!g && map.hasLayer(g);
    };
    // first press: the sites without the outlying 10 % on each side (the rule of the opening view:
    // a US portfolio with three sites abroad is not shown at world scale); pressed again on that
    // view: every site. Top padding keeps the sites clear of the title box.
    var lastSitesFit = null;
    api.zoomToSites = function () {
      var ms = sitesGroup.getLayers();
      if (!ms.length) { return false; }
      var all = sitesGroup.getBounds(), b = all;
      var again = lastSitesFit && map.getZoom() === lastSitesFit.z && map.getCenter().equals(lastSitesFit.c, 1e-6);
      if (ms.length >= 10 && !again) {
        var lats = ms.map(function (m) { return m.getLatLng().lat; }).sort(function (a, c) { return a - c; });
        var lons = ms.map(function (m) { return m.getLatLng().lng; }).sort(function (a, c) { return a - c; });
        var k = Math.floor(ms.length * 0.1), hi = ms.length - 1 - k;
        b = L.latLngBounds([lats[k], lons[k]], [lats[hi], lons[hi]]);
      }
      var tb = document.querySelector(".pm-title");
      var top = tb ? tb.getBoundingClientRect().bottom - map.getContainer().getBoundingClientRect().top + 10 : 20;
      if (again) { map.fitBounds(b.pad(0.1), {maxZoom: 9, animate: false}); }  // the world: no room to spare
      else { map.fitBounds(b.pad(0.1), {maxZoom: 9, animate: false, paddingTopLeft: [20, top], paddingBottomRight: [20, 20]}); }
      lastSitesFit = again ? null : {z: map.getZoom(), c: map.getCenter()};
      return true;
    };
    api.setMode = function (mode) {
      if (MODES.indexOf(mode) < 0) { return false; }
      if (api.mode === "measure" && mode !== "measure") { clearMeasure(); }
      api.mode = mode;
      if (mode === "measure") { map.doubleClickZoom.disable(); } else { map.doubleClickZoom.enable(); }
      var c = map.getContainer();
      MODES.forEach(function (m) { L.DomUtil.removeClass(c, "pm-mode-" + m); });
      L.DomUtil.addClass(c, "pm-mode-" + mode);
      if (mode !== "browse") { map.closePopup(); }
      var btns = c.querySelectorAll(".pm-modebtn");
      for (var i = 0; i < btns.length; i++) {
        btns[i].classList.toggle("pm-active", btns[i].getAttribute("data-mode") === mode);
      }
      return true;
    };
    api.countFeatures = function () { return JSON.stringify(counts); };
    // cells of a value-coloured layer painted in the current view (0 when hidden or off screen)
    api.cellsDrawn = function (name) {
      var cl = Object.prototype.hasOwnProperty.call(cellLayers, name) ? cellLayers[name] : null;
      return cl && cl._map ? cl.drawn : 0;
    };
    api.setLayerVisible = function (kind, on) {
      var groups = kindGroups[kind] || [];
      groups.forEach(function (g) { if (on) { g.addTo(map); } else { map.removeLayer(g); } });
      markHiddenLayers();
      if (kind === "sites") { openSitePopup(); }
      return groups.length;
    };
    api.layerVisible = function (kind) {
      var groups = kindGroups[kind] || [];
      return groups.length > 0 && groups.every(function (g) { return map.hasLayer(g); });
    };
    api.getView = function () {
      var c = map.getCenter();
      return JSON.stringify({lat: c.lat, lon: c.lng, zoom: map.getZoom(), legend_collapsed: api.legendCollapsed(),
                             selected: api.selected});
    };
    api.setView = function (lat, lon, zoom) { map.setView([lat, lon], zoom, {animate: false}); };
    // a site's popup with more detail (the app adds the next fact of the selected site); escaped in Python
    api.setPopup = function (id, html) {
      if (!Object.prototype.hasOwnProperty.call(siteMarkers, id) || typeof html !== "string") { return false; }
      pops[id] = html;
      if (api.selected === id && map.hasLayer(sitePopup)) { sitePopup.setContent(html); }
      return true;
    };
    api.marker = function (id) { return Object.prototype.hasOwnProperty.call(siteMarkers, id) ? siteMarkers[id] : null; };
    api.invalidate = function () { map.invalidateSize({animate: false}); };
    api.measureKm = function () { return measure.km; };
    api.finishMeasure = finishMeasure;
    api.addMeasurePoint = function (lat, lon) { addMeasurePoint(L.latLng(lat, lon)); return measure.km; };

    // ---- initial view ------------------------------------------------------------------
    if (data.view) {
      map.setView([data.view.lat, data.view.lon], data.view.zoom, {animate: false});
    } else if (data.fit_bounds) {
      var fb = L.latLngBounds(data.fit_bounds);
      if (fb.getNorthEast().equals(fb.getSouthWest())) { map.setView(fb.getCenter(), 8, {animate: false}); }
      else { map.fitBounds(fb.pad(0.1), {maxZoom: 9, animate: false}); }
    } else if (sitesGroup.getLayers().length) {
      map.fitBounds(sitesGroup.getBounds().pad(0.15), {maxZoom: 9, animate: false});
    }
    api.setMode(data.mode || "browse");
    markHiddenLayers();
    // a small map (a laptop window with its docks) opens with the legend folded: the sites stay visible
    if (map.getSize().y < 560 || map.getSize().x < 760) { api.setLegendCollapsed(true); }

    // ---- Qt bridge (QWebChannel is injected by planner.ui.map_view) ----------------------
    if (typeof qt !== "undefined" && qt && qt.webChannelTransport && typeof QWebChannel !== "undefined") {
      new QWebChannel(qt.webChannelTransport, function (channel) {
        api.bridge = channel.objects.planner || null;
        api.bridgeReady = !!api.bridge;
      });
    }

    // ---- ready once vectors have drawn (and tiles, when online) ----------------------------
    function markReady() {
      if (api.ready) { return; }
      window.requestAnimationFrame(function () {
        api.ready = true;
        document.body.setAttribute("data-planner-ready", "1");
      });
    }
    if (tiles) {
      tiles.once("load", markReady);
      window.setTimeout(markReady, 8000);  // tiles may never come (offline): show the vectors anyway
    } else {
      markReady();
    }
    return api;
  }

  window.PlannerMap = {init: init, decode: decode};
})();

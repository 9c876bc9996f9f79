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

  // ---- vector tiles: grid layers drawn from the layer data ------------------------------
  // A national grid (13,800 merged lines, 10,500 substations, 3,150 fibre links, the basemap
  // polygons) drawn as Leaflet vectors re-clipped and re-stroked ~35,000 features on every view
  // change (median 370-440 ms a frame in software rendering). Here each layer is an L.GridLayer
  // whose 256 px canvas tiles are drawn straight from pre-projected coordinates: a pan draws only
  // the tiles it exposes, a zoom only the tiles in view (a spatial index picks their features),
  // tiles are kept in a small cache, and a tile strokes each colour class as one path.
  var WORLD_PX = 256;                    // Web Mercator pixels at zoom 0
  var TILE_PX = 512;                     // tile side (CSS px)
  var CLUSTER_PX = 48;                   // aggregation cell of clustered point layers (CSS px)
  var CLUSTER_BELOW_ZOOM = 9;            // clustered point layers (flares) show each point from zoom 9
  var MAX_LAT = 85.0511287798;
  var INDEX_Z = 7;                       // index cells are zoom-7 tiles (2 px at zoom 0, ~2.8 deg)
  var INDEX_N = 1 << INDEX_Z, INDEX_CELL = WORLD_PX / INDEX_N;
  var LEAFLET_PATH = {color: "#3388ff", weight: 3, opacity: 1, fillOpacity: 0.2, radius: 10};

  function mercX(lon) { return WORLD_PX * (lon + 180) / 360; }
  function mercY(lat) {
    var l = Math.max(-MAX_LAT, Math.min(MAX_LAT, lat)) * Math.PI / 180;
    return WORLD_PX * (0.5 - Math.log(Math.tan(Math.PI / 4 + l / 2)) / (2 * Math.PI));
  }

  // Boxes (minx, miny, maxx, maxy in zoom-0 px) bucketed on a grid of zoom-7 tiles; a box over
  // more than 64 cells is kept aside and tested on every query.
  function BoxIndex(box, n) {
    this.box = box; this.n = n; this.cells = new Map(); this.big = []; this.stamp = new Int32Array(n); this.q = 0;
    for (var i = 0; i < n; i++) {
      var x0 = Math.max(0, Math.floor(box[4 * i] / INDEX_CELL)), y0 = Math.max(0, Math.floor(box[4 * i + 1] / INDEX_CELL));
      var x1 = Math.min(INDEX_N - 1, Math.floor(box[4 * i + 2] / INDEX_CELL));
      var y1 = Math.min(INDEX_N - 1, Math.floor(box[4 * i + 3] / INDEX_CELL));
      if ((x1 - x0 + 1) * (y1 - y0 + 1) > 64) { this.big.push(i); continue; }
      for (var cy = y0; cy <= y1; cy++) {
        for (var cx = x0; cx <= x1; cx++) {
          var k = cy * INDEX_N + cx, a = this.cells.get(k);
          if (a) { a.push(i); } else { this.cells.set(k, [i]); }
        }
      }
    }
  }
  // ids of the boxes meeting the query box, ascending (= draw order)
  BoxIndex.prototype.query = function (x0, y0, x1, y1) {
    var b = this.box, out = [], i, j;
    var cx0 = Math.max(0, Math.floor(x0 / INDEX_CELL)), cy0 = Math.max(0, Math.floor(y0 / INDEX_CELL));
    var cx1 = Math.min(INDEX_N - 1, Math.floor(x1 / INDEX_CELL)), cy1 = Math.min(INDEX_N - 1, Math.floor(y1 / INDEX_CELL));
    function hit(k) { return b[4 * k] <= x1 && b[4 * k + 2] >= x0 && b[4 * k + 1] <= y1 && b[4 * k + 3] >= y0; }
    if ((cx1 - cx0 + 1) * (cy1 - cy0 + 1) > 256) {      // a low-zoom tile: scanning every box is cheaper
      for (i = 0; i < this.n; i++) { if (hit(i)) { out.push(i); } }
      return out;
    }
    var q = ++this.q, st = this.stamp;
    for (var cy = cy0; cy <= cy1; cy++) {
      for (var cx = cx0; cx <= cx1; cx++) {
        var a = this.cells.get(cy * INDEX_N + cx);
        if (!a) { continue; }
        for (j = 0; j < a.length; j++) {
          i = a[j];
          if (st[i] !== q) { st[i] = q; if (hit(i)) { out.push(i); } }
        }
      }
    }
    for (j = 0; j < this.big.length; j++) { i = this.big[j]; if (hit(i)) { out.push(i); } }
    out.sort(function (u, v) { return u - v; });
    return out;
  };

  // Shared LRU of drawn tiles (canvases) of every tiled layer: zooming back to a level or
  // panning back over a place reuses them. Bounded by pixels: 24 M pixels (96 MB of RGBA), i.e.
  // 96 tiles of 512 x 512 at a device pixel ratio of 1.
  var tileCache = {map: new Map(), px: 0, max: 24e6,
    get: function (k) { var c = this.map.get(k); if (c) { this.map.delete(k); this.map.set(k, c); } return c; },
    put: function (k, c) {
      this.map.set(k, c); this.px += c.width * c.height;
      while (this.px > this.max && this.map.size > 1) {
        var old = this.map.keys().next().value, oc = this.map.get(old);
        this.map.delete(old); this.px -= oc.width * oc.height;
      }
    }};
  var sourceSerial = 0;

  // One layer's lines, polygons and points in zoom-0 pixels with spatial indexes; drawn into the
  // tiles of a TileStack. src: the layer as encoded in Python; style: its Leaflet path options.
  var VectorSource = L.Class.extend({
    initialize: function (src, style, scale, grad, minZoom) {
      this.id = "s" + (sourceSerial++);
      this.minZoom = minZoom || 0;
      this._style = extend(LEAFLET_PATH, style);
      this._grad = grad;
      this._groupColours = src.group_colours || null;
      this._groupOrder = src.group_order || null;
      this._prepLines(src.lines || [], scale, src);
      this._prepPolygons(src.polygons || [], scale);
      this._prepPoints(src.points || [], scale);
    },
    // ---- data -> typed arrays in zoom-0 pixels -------------------------------------------
    _pushRing: function (flat, scale, xs, ys) {
      var x = 0, y = 0;
      for (var i = 0; i < flat.length; i += 2) {
        x += flat[i]; y += flat[i + 1];
        xs.push(mercX(x / scale)); ys.push(mercY(y / scale));
      }
    },
    _prepLines: function (lines, scale, src) {
      // parts sorted by colour class (draw order: the order of group_order, lower voltages first)
      var order = this._groupOrder, rank = {}, self = this;
      if (order) { order.forEach(function (g, i) { rank[g] = i; }); }
      var feats = lines.map(function (f, i) { return i; });
      if (order) { feats.sort(function (a, b) { return ((rank[lines[a][0]] || 0) - (rank[lines[b][0]] || 0)) || (a - b); }); }
      var xs = [], ys = [], start = [0], pf = [], colour = [], tips = [];
      feats.forEach(function (fi) {
        var f = lines[fi], c = self._style.color;
        if (f[0] !== null && f[0] !== undefined && self._groupColours && self._groupColours[f[0]]) { c = self._groupColours[f[0]]; }
        var gt = src.group_tips && f[0] !== null && f[0] !== undefined ? src.group_tips[f[0]] : null;
        tips.push(f[2] || gt || null); colour.push(c);
        f[1].forEach(function (p) { self._pushRing(p, scale, xs, ys); start.push(xs.length); pf.push(tips.length - 1); });
      });
      this._l = this._parts(xs, ys, start, pf);
      this._l.colour = colour; this._l.tips = tips;
    },
    _prepPolygons: function (polys, scale) {
      // one index entry per feature; its rings (all polygons of a multipolygon) drawn as one path
      var xs = [], ys = [], start = [0], rf = [], fill = [], tips = [], self = this, grad = this._grad;
      polys.forEach(function (f, fi) {
        f[0].forEach(function (rings) {
          rings.forEach(function (r) { self._pushRing(r, scale, xs, ys); start.push(xs.length); rf.push(fi); });
        });
        tips.push(f[1] || null);
        fill.push(grad && f.length > 2 ? ((f[2] >= 0 && f[2] < grad.colours.length) ? grad.colours[f[2]] : grad.none) : null);
      });
      var r = this._parts(xs, ys, start, rf), n = polys.length;
      // feature boxes and ring ranges (rings of one feature are consecutive)
      var box = new Float64Array(4 * n), first = new Int32Array(n + 1), k = 0;
      for (var fi = 0; fi < n; fi++) {
        first[fi] = k; box[4 * fi] = box[4 * fi + 1] = Infinity; box[4 * fi + 2] = box[4 * fi + 3] = -Infinity;
        while (k < r.n && r.feat[k] === fi) {
          box[4 * fi] = Math.min(box[4 * fi], r.box[4 * k]); box[4 * fi + 1] = Math.min(box[4 * fi + 1], r.box[4 * k + 1]);
          box[4 * fi + 2] = Math.max(box[4 * fi + 2], r.box[4 * k + 2]); box[4 * fi + 3] = Math.max(box[4 * fi + 3], r.box[4 * k + 3]);
          k++;
        }
      }
      first[n] = k;
      this._p = {x: r.x, y: r.y, start: r.start, first: first, n: n, fill: fill, tips: tips, index: new BoxIndex(box, n), box: box};
    },
    _parts: function (xs, ys, start, feat) {
      var n = start.length - 1, box = new Float64Array(4 * n), x = Float64Array.from(xs), y = Float64Array.from(ys);
      for (var p = 0; p < n; p++) {
        var a = Infinity, b = Infinity, c = -Infinity, d = -Infinity;
        for (var i = start[p]; i < start[p + 1]; i++) {
          if (x[i] < a) { a = x[i]; } if (x[i] > c) { c = x[i]; }
          if (y[i] < b) { b = y[i]; } if (y[i] > d) { d = y[i]; }
        }
        box[4 * p] = a; box[4 * p + 1] = b; box[4 * p + 2] = c; box[4 * p + 3] = d;
      }
      return {x: x, y: y, start: Int32Array.from(start), feat: Int32Array.from(feat), n: n, box: box, index: new BoxIndex(box, n)};
    },
    _prepPoints: function (pts, scale) {
      var n = pts.length, x = new Float64Array(n), y = new Float64Array(n), r = new Float32Array(n);
      var box = new Float64Array(4 * n), fill = [], tips = [], st = this._style, grad = this._grad, maxR = 0;
      for (var i = 0; i < n; i++) {
        var f = pts[i];
        x[i] = mercX(f[0] / scale); y[i] = mercY(f[1] / scale);
        r[i] = f[3] || st.radius; maxR = Math.max(maxR, r[i]);
        box[4 * i] = box[4 * i + 2] = x[i]; box[4 * i + 1] = box[4 * i + 3] = y[i];
        tips.push(f[2] || null);
        fill.push(grad && f.length > 4 ? ((f[4] >= 0 && f[4] < grad.colours.length) ? grad.colours[f[4]] : grad.none) : null);
      }
      this._pt = {x: x, y: y, r: r, n: n, fill: fill, tips: tips, maxR: maxR, index: new BoxIndex(box, n)};
    },
    count: function () { return this._l.tips.length + this._p.n + this._pt.n; },
    getBounds: function () {
      var b = L.latLngBounds([]), crs = L.CRS.EPSG3857, self = this;
      [this._l, this._p, this._pt].forEach(function (s) {
        if (!s.n) { return; }
        var bx = s.box || null, i;
        for (i = 0; i < s.n; i++) {
          var x0 = bx ? bx[4 * i] : s.x[i], y0 = bx ? bx[4 * i + 1] : s.y[i];
          var x1 = bx ? bx[4 * i + 2] : s.x[i], y1 = bx ? bx[4 * i + 3] : s.y[i];
          b.extend(crs.pointToLatLng(L.point(x0, y0), 0)); b.extend(crs.pointToLatLng(L.point(x1, y1), 0));
        }
      });
      return b;
    },
    // draws the features of tile `coords` (side T px) into ctx; false when none is there
    draw: function (ctx, coords, T) {
      if (coords.z < this.minZoom) { return false; }
      var s = Math.pow(2, coords.z), ox = coords.x * T, oy = coords.y * T, st = this._style;
      var pad = Math.max(st.weight || 0, 1) + 2 * (this._pt.maxR + (st.weight || 0)) + 2;  // px around the tile
      var x0 = (ox - pad) / s, y0 = (oy - pad) / s, x1 = (ox + T + pad) / s, y1 = (oy + T + pad) / s;
      var lineIds = this._l.n ? this._l.index.query(x0, y0, x1, y1) : [];
      var polyIds = this._p.n ? this._p.index.query(x0, y0, x1, y1) : [];
      var ptIds = this._pt.n ? this._pt.index.query(x0, y0, x1, y1) : [];
      if (!lineIds.length && !polyIds.length && !ptIds.length) { return false; }
      ctx.save();
      // round caps and joins where a line is many pixels long; below zoom 8 the parts of a national
      // grid are a few pixels each and their round caps cost more to rasterise than they show
      // (frames p95 250 -> 150 ms in an A/B run of the scripted pan/zoom, load 6)
      var round = coords.z >= 8;
      ctx.lineCap = round ? "round" : "butt"; ctx.lineJoin = round ? "round" : "bevel";
      if (st.dashArray) { ctx.setLineDash(String(st.dashArray).split(/[ ,]+/).map(Number).filter(function (v) { return v >= 0; })); }
      if (polyIds.length) { this._drawPolygons(ctx, polyIds, s, ox, oy); }
      if (lineIds.length) { this._drawLines(ctx, lineIds, s, ox, oy, T); }
      if (ptIds.length && this.clusterBelow && coords.z < this.clusterBelow) { this._drawClusters(ctx, coords, T); }
      else if (ptIds.length) { this._drawPoints(ctx, ptIds, s, ox, oy); }
      ctx.restore();
      return true;
    },
    // A part as a path in tile pixels. Vertices closer than 0.6 px to the last one drawn are
    // skipped (a continental view strokes what a pixel can show, not every vertex) and, for
    // lines (clip = the tile box with its margin), segments are clipped to the tile: a 2,000 km
    // fibre link is stroked, and dashed, only where the tile shows it.
    _path: function (ctx, x, y, a, b, s, ox, oy, clip) {
      var lx = x[a] * s - ox, ly = y[a] * s - oy, px, py, pen = false;
      if (!clip) { ctx.moveTo(lx, ly); pen = true; }
      for (var i = a + 1; i < b; i++) {
        px = x[i] * s - ox; py = y[i] * s - oy;
        if (i < b - 1 && Math.abs(px - lx) < 0.6 && Math.abs(py - ly) < 0.6) { continue; }
        if (!clip) { ctx.lineTo(px, py); }
        else { pen = clipSegment(ctx, lx, ly, px, py, clip, pen); }
        lx = px; ly = py;
      }
    },
    _drawLines: function (ctx, ids, s, ox, oy, T) {
      var L_ = this._l, st = this._style, colour = null, m = st.weight + 2;
      var clip = [-m, -m, T + m, T + m];
      ctx.lineWidth = st.weight; ctx.globalAlpha = st.opacity;
      for (var k = 0; k < ids.length; k++) {
        var p = ids[k], c = L_.colour[L_.feat[p]];
        if (c !== colour) {
          if (colour !== null) { ctx.strokeStyle = colour; ctx.stroke(); }
          ctx.beginPath(); colour = c;
        }
        this._path(ctx, L_.x, L_.y, L_.start[p], L_.start[p + 1], s, ox, oy, clip);
      }
      if (colour !== null) { ctx.strokeStyle = colour; ctx.stroke(); }
    },
    _drawPolygons: function (ctx, ids, s, ox, oy) {
      var P = this._p, st = this._style, fill = st.fill !== false, stroke = st.stroke !== false && st.weight > 0;
      ctx.lineWidth = st.weight;
      for (var k = 0; k < ids.length; k++) {
        var f = ids[k];
        ctx.beginPath();
        for (var r = P.first[f]; r < P.first[f + 1]; r++) {
          this._path(ctx, P.x, P.y, P.start[r], P.start[r + 1], s, ox, oy);
          ctx.closePath();
        }
        if (fill) { ctx.globalAlpha = st.fillOpacity; ctx.fillStyle = P.fill[f] || st.fillColor || st.color; ctx.fill("evenodd"); }
        if (stroke) { ctx.globalAlpha = st.opacity; ctx.strokeStyle = st.color; ctx.stroke(); }
      }
    },
    _drawPoints: function (ctx, ids, s, ox, oy) {
      var T = this._pt, st = this._style, stroke = st.stroke !== false && st.weight > 0;
      var byFill = {}, order = [];
      ids.forEach(function (i) {
        var f = T.fill[i] || st.fillColor || st.color;
        if (!byFill[f]) { byFill[f] = []; order.push(f); }
        byFill[f].push(i);
      });
      ctx.lineWidth = st.weight;
      order.forEach(function (f) {
        ctx.beginPath();
        byFill[f].forEach(function (i) {
          var px = T.x[i] * s - ox, py = T.y[i] * s - oy;
          ctx.moveTo(px + T.r[i], py); ctx.arc(px, py, T.r[i], 0, 2 * Math.PI);
        });
        if (st.fill !== false) { ctx.globalAlpha = st.fillOpacity; ctx.fillStyle = f; ctx.fill(); }
        if (stroke) { ctx.globalAlpha = st.opacity; ctx.strokeStyle = st.color; ctx.stroke(); }
      });
    },
    // ---- hover: the feature under a point (zoom-0 px) at zoom z, with its tooltip ---------------
    // ---- aggregation: below `clusterBelow`, points closer than a cell are drawn as one counted
    // circle (what Leaflet.markercluster did for the flares, drawn into the tiles instead of
    // thousands of markers re-laid out on every zoom). Cells are CLUSTER_PX squares of the
    // zoom's pixel grid, so every tile bins its points the same way.
    _bins: function (cx0, cy0, cx1, cy1, z) {
      var T = this._pt, s = Math.pow(2, z), C = CLUSTER_PX, bins = new Map();
      var ids = T.index.query(cx0 * C / s, cy0 * C / s, (cx1 + 1) * C / s, (cy1 + 1) * C / s);
      for (var k = 0; k < ids.length; k++) {
        var i = ids[k], px = T.x[i] * s, py = T.y[i] * s;
        var key = Math.floor(py / C) * 4194304 + Math.floor(px / C), b = bins.get(key);
        if (!b) { bins.set(key, {n: 1, sx: px, sy: py, first: i}); } else { b.n += 1; b.sx += px; b.sy += py; }
      }
      return bins;
    },
    _clusterRadius: function (n) { return Math.min(22, 9 + 2.5 * Math.log2(n)); },
    _drawClusters: function (ctx, coords, T) {
      var C = CLUSTER_PX, ox = coords.x * T, oy = coords.y * T, s = Math.pow(2, coords.z), st = this._style, self = this;
      var bins = this._bins(Math.floor(ox / C) - 1, Math.floor(oy / C) - 1, Math.floor((ox + T) / C) + 1,
                            Math.floor((oy + T) / C) + 1, coords.z);
      var singles = [], groups = [];
      bins.forEach(function (b) { if (b.n === 1) { singles.push(b.first); } else { groups.push(b); } });
      if (singles.length) { singles.sort(function (u, v) { return u - v; }); this._drawPoints(ctx, singles, s, ox, oy); }
      ctx.setLineDash([]);
      ctx.textAlign = "center"; ctx.textBaseline = "middle"; ctx.font = "bold 11px Arial, sans-serif";
      groups.forEach(function (b) {
        var x = b.sx / b.n - ox, y = b.sy / b.n - oy, r = self._clusterRadius(b.n);
        ctx.globalAlpha = 0.3; ctx.fillStyle = st.color;
        ctx.beginPath(); ctx.arc(x, y, r + 4, 0, 2 * Math.PI); ctx.fill();
        ctx.globalAlpha = 0.8;
        ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI); ctx.fill();
        ctx.globalAlpha = 1; ctx.fillStyle = "#ffffff";
        ctx.fillText(b.n >= 1000 ? (b.n / 1000).toFixed(1) + "k" : String(b.n), x, y);
      });
    },
    // the counted circle under a point, or {alone: ids of the points drawn one by one nearby}
    _hitCluster: function (zx, zy, tz) {
      var s = Math.pow(2, tz), C = CLUSTER_PX, cx = Math.floor(zx * s / C), cy = Math.floor(zy * s / C), hit = null, self = this;
      var alone = {};
      this._bins(cx - 1, cy - 1, cx + 1, cy + 1, tz).forEach(function (b) {
        if (b.n === 1) { alone[b.first] = true; }
        if (b.n < 2 || hit) { return; }
        var x = b.sx / b.n, y = b.sy / b.n;
        if (Math.hypot(x - zx * s, y - zy * s) <= self._clusterRadius(b.n) + 4) {
          hit = {tip: b.n.toLocaleString("en-US") + " " + self.clusterNoun + " here: click to zoom in",
                 x: x / s, y: y / s, r: self._clusterRadius(b.n) + 4, cluster: b.n};
        }
      });
      return hit || {alone: alone};
    },
    hit: function (zx, zy, z) {
      var tz = Math.round(z);  // the zoom of the tiles shown: what is drawn is what is hit
      if (tz < this.minZoom) { return null; }
      var alone = null;  // clustered zoom: only the points drawn on their own can be hit one by one
      if (this._pt.n && this.clusterBelow && tz < this.clusterBelow) {
        var c = this._hitCluster(zx, zy, tz);
        if (c.cluster) { return c; }
        alone = c.alone;
      }
      var s = Math.pow(2, z), st = this._style, tol = 3 / s, ids, k, i;
      var T = this._pt;
      if (T.n) {
        ids = T.index.query(zx - (T.maxR + 3) / s, zy - (T.maxR + 3) / s, zx + (T.maxR + 3) / s, zy + (T.maxR + 3) / s);
        var best = null, bd = Infinity;
        for (k = ids.length - 1; k >= 0; k--) {
          i = ids[k];
          if (alone && !alone[i]) { continue; }
          var d = Math.hypot(T.x[i] - zx, T.y[i] - zy) * s;
          if (d <= T.r[i] + st.weight / 2 + 2 && d < bd) { best = i; bd = d; }
        }
        if (best !== null) { return {tip: T.tips[best], lat: null, x: T.x[best], y: T.y[best], r: T.r[best]}; }
      }
      var Ln = this._l;
      if (Ln.n) {
        var w = (st.weight / 2 + 3) / s;
        ids = Ln.index.query(zx - w, zy - w, zx + w, zy + w);
        for (k = ids.length - 1; k >= 0; k--) {
          i = ids[k];
          for (var v = Ln.start[i]; v < Ln.start[i + 1] - 1; v++) {
            if (segDist(zx, zy, Ln.x[v], Ln.y[v], Ln.x[v + 1], Ln.y[v + 1]) <= w) { return {tip: Ln.tips[Ln.feat[i]]}; }
          }
        }
      }
      var P = this._p;
      if (P.n) {
        ids = P.index.query(zx - tol, zy - tol, zx + tol, zy + tol);
        for (k = ids.length - 1; k >= 0; k--) {
          i = ids[k];
          var inside = false;
          for (var r = P.first[i]; r < P.first[i + 1]; r++) {
            if (inRing(zx, zy, P.x, P.y, P.start[r], P.start[r + 1])) { inside = !inside; }
          }
          if (inside) { return {tip: P.tips[i]}; }
        }
      }
      return null;
    }
  });

  // The tiles of several sources, drawn in order into one canvas per tile (a national grid is 6
  // layers: one canvas each would be 6 canvases to allocate, draw and composite per tile).
  // Sources are switched on and off by their SourceHandle; tiles are cached per set of sources.
  var TileStack = L.GridLayer.extend({
    initialize: function (options) {
      L.GridLayer.prototype.initialize.call(this, extend({updateWhenZooming: false, keepBuffer: 2, tileSize: TILE_PX}, options));
      this.sources = [];      // in drawing order
      this.on = {};           // source id -> shown
      this.drawnTiles = 0;
      this.drawMs = 0;
    },
    _signature: function () {
      var self = this;
      return this.sources.filter(function (src) { return self.on[src.id]; }).map(function (src) { return src.id; }).join(",");
    },
    setShown: function (src, shown, map) {
      this.on[src.id] = shown;
      this._mapFor = map;
      if (this.hold) { return; }  // the page is being built: drawn once, after the first view is set
      var any = this._signature() !== "";
      if (!any) { if (this._map) { this._map.removeLayer(this); } return; }
      if (!this._map) { this.addTo(map); } else { this.redraw(); }
    },
    release: function () {
      this.hold = false;
      if (this._mapFor && this._signature() !== "") { this.addTo(this._mapFor); }
    },
    createTile: function (coords) {
      var dpr = window.devicePixelRatio || 1, T = this.getTileSize().x;
      var key = this._signature() + "/" + coords.z + "/" + coords.x + "/" + coords.y + "@" + dpr;
      var c = tileCache.get(key);
      if (!c) {
        var t0 = window.performance.now();
        c = document.createElement("canvas");
        c.width = T * dpr; c.height = T * dpr;
        var ctx = c.getContext("2d"), drew = false, self = this;
        ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
        this.sources.forEach(function (src) { if (self.on[src.id] && src.draw(ctx, coords, T)) { drew = true; } });
        if (!drew) { c.width = 0; c.height = 0; }  // nothing here: no pixels to keep or composite
        this.drawnTiles += 1;
        this.drawMs += window.performance.now() - t0;
        tileCache.put(key, c);
      }
      if (c.parentNode) {  // shown already: a world copy east or west of it (coords are wrapped) gets a copy
        var copy = document.createElement("canvas");
        copy.width = c.width; copy.height = c.height;
        if (c.width) { copy.getContext("2d").drawImage(c, 0, 0); }
        c = copy;
      }
      c.className = "";  // Leaflet adds leaflet-tile (hidden until loaded): drawn already, so loaded now
      L.DomUtil.addClass(c, "leaflet-tile-loaded");
      return c;
    },
    // the tile is complete when created: shown at once, without Leaflet's fade-in (a fading tile
    // would be half transparent in a report snapshot taken two frames later)
    _tileReady: function (coords, err, tile) {
      var m = this._map;
      if (!m) { return; }
      var fade = m._fadeAnimated;
      m._fadeAnimated = false;
      try { L.GridLayer.prototype._tileReady.call(this, coords, err, tile); } finally { m._fadeAnimated = fade; }
    },
    // the shown tile's pixel (RGBA 0-255) at a lat/lon in the current view; null where no tile is
    pixelAt: function (lat, lon) {
      var m = this._map;
      if (!m || this._tileZoom === undefined) { return null; }
      var T = this.getTileSize().x, z = this._tileZoom, p = m.project([lat, lon], z);
      var tx = Math.floor(p.x / T), ty = Math.floor(p.y / T), t = this._tiles[tx + ":" + ty + ":" + z];
      // shown = in the document at this tile's own place (a canvas appended twice moves, and
      // then sits at the other tile's place)
      if (!t || !t.el.isConnected || !L.DomUtil.getPosition(t.el).equals(this._getTilePos(t.coords))) { return null; }
      if (!t.el.width) { return [0, 0, 0, 0]; }
      var dpr = t.el.width / T, d = t.el.getContext("2d").getImageData(
        Math.floor((p.x - tx * T) * dpr), Math.floor((p.y - ty * T) * dpr), 1, 1).data;
      return [d[0], d[1], d[2], d[3]];
    }
  });

  // A source's place in a layer group: on the map = drawn in its stack's tiles
  var SourceHandle = L.Layer.extend({
    initialize: function (src, stack) { this.src = src; this.stack = stack; },
    onAdd: function (map) { this.stack.setShown(this.src, true, map); },
    onRemove: function (map) { this.stack.setShown(this.src, false, map); },
    getBounds: function () { return this.src.getBounds(); }
  });

  // Liang-Barsky: the part of segment a-b inside box [x0, y0, x1, y1] added to the path (moveTo
  // when the pen is up, i.e. the previous segment ended outside); returns whether the pen is down
  function clipSegment(ctx, ax, ay, bx, by, box, pen) {
    var dx = bx - ax, dy = by - ay, t = [0, 1];
    if (!clipEdge(-dx, ax - box[0], t) || !clipEdge(dx, box[2] - ax, t) ||
        !clipEdge(-dy, ay - box[1], t) || !clipEdge(dy, box[3] - ay, t)) { return false; }
    if (!pen || t[0] > 0) { ctx.moveTo(ax + t[0] * dx, ay + t[0] * dy); }
    ctx.lineTo(ax + t[1] * dx, ay + t[1] * dy);
    return t[1] >= 1;
  }
  function clipEdge(p, q, t) {
    if (p === 0) { return q >= 0; }
    var r = q / p;
    if (p < 0) { if (r > t[1]) { return false; } if (r > t[0]) { t[0] = r; } }
    else { if (r < t[0]) { return false; } if (r < t[1]) { t[1] = r; } }
    return true;
  }
  function segDist(px, py, ax, ay, bx, by) {
    var dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;
    var t = l2 ? Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / l2)) : 0;
    return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
  }
  function inRing(px, py, x, y, a, b) {
    var inside = false;
    for (var i = a, j = b - 1; i < b; j = i++) {
      if ((y[i] > py) !== (y[j] > py) && px < (x[j] - x[i]) * (py - y[i]) / (y[j] - y[i]) + x[i]) { inside = !inside; }
    }
    return inside;
  }

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
    // lines, polygons and points are drawn as vector tiles: each layer is a VectorSource drawn
    // into one of two TileStacks, the basemap and regions below a screening CellLayer, the grid
    // (lines, points, on-top layers) above it. Clustered point layers (flares) are counted
    // circles below zoom 9 (CLUSTER_BELOW_ZOOM). A layer too dense for a continental view
    // (substations) is not drawn below its minimum zoom: the layer stays "on", the legend says so.
    var stacks = {
      base: new TileStack({pane: paneFor("stranded").pane, zIndex: 1}),
      grid: new TileStack({pane: paneFor("transmission").pane, zIndex: 1})
    };
    stacks.base.hold = stacks.grid.hold = true;
    var tiled = [];  // {src, handle, group, name, z (pane z-index), order}
    data.layers.forEach(function (layer, order) {
      var kindPane = layer.style.on_top ? "top" : layer.kind;
      var group = L.featureGroup();
      var key = countKey(layer.kind);
      var grad = layer.grad || null;
      if (grad) {
        (layer.polygons || []).forEach(function (f) { if (f.length > 2) { counts.graduated += 1; } });
        (layer.points || []).forEach(function (f) { if (f.length > 4) { counts.graduated += 1; } });
      }
      if ((layer.lines || []).length || (layer.polygons || []).length || (layer.points || []).length) {
        var z = (PANES[kindPane] || PANES.other)[1];
        var stack = z < PANES.cells[1] ? stacks.base : stacks.grid;
        var src = new VectorSource(layer, layer.style, scale, grad, layer.min_zoom > 0 ? layer.min_zoom : 0);
        src.z = z; src.order = order;
        if (layer.cluster) { src.clusterBelow = CLUSTER_BELOW_ZOOM; src.clusterNoun = layer.kind; }
        stack.sources.push(src);
        stack.sources.sort(function (a, b) { return (a.z - b.z) || (a.order - b.order); });
        var handle = new SourceHandle(src, stack);
        group.addLayer(handle);
        counts[key] += src.count();
        tiled.push({src: src, handle: handle, stack: stack, group: group, name: layer.name, z: z, order: order});
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
    // topmost first: the pane order of the page, then the layer order within a pane
    tiled.sort(function (a, b) { return (b.z - a.z) || (b.order - a.order); });

    // hover: the tooltip of the topmost grid feature under the pointer (one tooltip for all
    // tiled layers; the tiles themselves take no pointer events)
    function featureAt(latlng, zoom) {
      var zx = mercX(L.Util.wrapNum(latlng.lng, [-180, 180], true)), zy = mercY(latlng.lat);
      for (var i = 0; i < tiled.length; i++) {
        var t = tiled[i];
        if (!map.hasLayer(t.group) || !map.hasLayer(t.handle)) { continue; }
        var h = t.src.hit(zx, zy, zoom);
        if (h) { h.name = t.name; return h; }
      }
      return null;
    }
    var hoverTip = L.tooltip({direction: "auto", opacity: 0.9});
    var hoverEv = null, hoverFrame = null;
    function closeHover() { if (map.hasLayer(hoverTip)) { map.closeTooltip(hoverTip); } }
    function doHover() {
      hoverFrame = null;
      var ev = hoverEv, sr = renderers[siteWhere.pane];
      var target = ev && ev.originalEvent ? ev.originalEvent.target : null;
      if (!ev || dragging || (sr && sr._hoveredLayer) || (map.dragging && map.dragging.moving()) ||
          (target && target.closest && target.closest(".leaflet-popup, .leaflet-control"))) { closeHover(); return; }
      var h = featureAt(ev.latlng, map.getZoom());
      if (!h || !h.tip) { closeHover(); return; }
      var at = h.x !== undefined ? map.unproject([h.x, h.y], 0) : ev.latlng;
      hoverTip.options.offset = h.r ? [h.r, 0] : [8, 0];
      hoverTip.setLatLng(at);
      if (hoverTip.getContent() !== h.tip) { hoverTip.setContent(h.tip); }  // escaped in Python
      if (!map.hasLayer(hoverTip)) { map.openTooltip(hoverTip); }
    }
    map.on("mousemove", function (ev) {
      hoverEv = ev;
      if (!hoverFrame) { hoverFrame = window.requestAnimationFrame(doHover); }
    });
    map.on("mouseout movestart zoomstart", function () { hoverEv = null; closeHover(); });

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
    // the measured line is drawn on a canvas over the sites' pane: that canvas stays once a line was
    // drawn, and took every click meant for a site marker (after one measurement, sites could no longer
    // be selected on the map); the line is not interactive, so its pane lets pointer events through
    map.getPane(measureWhere.pane).style.pointerEvents = "none";
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
      var h = api.mode === "browse" ? featureAt(ev.latlng, map.getZoom()) : null;
      if (h && h.cluster) {  // a counted circle: zoom in on it (as markercluster did)
        map.setView(map.unproject([h.x, h.y], 0), Math.min(map.getZoom() + 2, CLUSTER_BELOW_ZOOM), {animate: false});
        return;
      }
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
    // The pixel (RGBA 0-255) the map shows of its tiled layers at a lat/lon in the current view:
    // stack "grid" (lines, points) or "base" (basemap, regions); null where no tile is shown.
    api.tilePixel = function (stackName, lat, lon) {
      var st = Object.prototype.hasOwnProperty.call(stacks, stackName) ? stacks[stackName] : null;
      var px = st ? st.pixelAt(lat, lon) : null;
      return px ? JSON.stringify(px) : null;
    };
    // What layer `name` alone draws at a lat/lon at the current tile zoom (its tile drawn on a
    // scratch canvas with the same code and zoom rules): RGBA, alpha 0 when nothing, when the
    // layer is hidden or below its minimum zoom
    api.layerPixel = function (name, lat, lon) {
      var t = null, i;
      for (i = 0; i < tiled.length; i++) { if (tiled[i].name === name) { t = tiled[i]; } }
      var z = t ? t.stack._tileZoom : undefined;
      if (!t || z === undefined || !map.hasLayer(t.group) || !map.hasLayer(t.handle)) { return JSON.stringify([0, 0, 0, 0]); }
      var T = t.stack.getTileSize().x, p = map.project([lat, lon], z);
      var coords = {x: Math.floor(p.x / T), y: Math.floor(p.y / T), z: z};
      var c = document.createElement("canvas");
      c.width = T; c.height = T;
      var ctx = c.getContext("2d");
      t.src.draw(ctx, coords, T);
      var d = ctx.getImageData(Math.floor(p.x - coords.x * T), Math.floor(p.y - coords.y * T), 1, 1).data;
      return JSON.stringify([d[0], d[1], d[2], d[3]]);
    };
    // the tooltip hovering at lat/lon shows (escaped HTML; null: none) and the layer it belongs to
    api.featureAt = function (lat, lon) {
      var h = featureAt(L.latLng(lat, lon), map.getZoom());
      var at = h && h.x !== undefined ? map.unproject([h.x, h.y], 0) : null;  // a point's or cluster's centre
      return h ? JSON.stringify({name: h.name, tip: h.tip, cluster: h.cluster || 0,
                                 lat: at ? at.lat : null, lon: at ? at.lng : null}) : null;
    };
    api.tilesDrawn = function () {
      return JSON.stringify({base: {tiles: stacks.base.drawnTiles, ms: Math.round(stacks.base.drawMs)},
                             grid: {tiles: stacks.grid.drawnTiles, ms: Math.round(stacks.grid.drawMs)}});
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
    var fitting = false, legendHeight = 0;
    function initialView(following) {
      fitting = true;
      try {
        if (data.view) {
          map.setView([data.view.lat, data.view.lon], data.view.zoom, {animate: false});
        } else if (data.fit_bounds) {
          var fb = L.latLngBounds(data.fit_bounds);
          if (fb.getNorthEast().equals(fb.getSouthWest())) { map.setView(fb.getCenter(), 8, {animate: false}); }
          else { map.fitBounds(fb.pad(0.1), {maxZoom: 9, animate: false}); }
        } else if (sitesGroup.getLayers().length) {
          map.fitBounds(sitesGroup.getBounds().pad(0.15), {maxZoom: 9, animate: false});
        }
      } finally {
        fitting = false;
      }
      stacks.base.release(); stacks.grid.release();  // the tiles of the first view
      // a small map (a laptop window with its docks), or a legend taller than 45 % of the map (an exported
      // page on a laptop screen: it covered ~40 % of the map, QA), opens with the legend folded
      var body = document.querySelector(".pm-legend-body");
      if (body && body.offsetHeight > 0) { legendHeight = body.offsetHeight; }  // measured while shown: a
      var tall = legendHeight > map.getSize().y * 0.45;  // folded legend's 0 px must not unfold it at the next size
      var small = map.getSize().y < 560 || map.getSize().x < 760 || tall;
      if (small || following) { api.setLegendCollapsed(small); }
    }
    function hasSize(minX, minY) { var size = map.getSize(); return size.x > minX && size.y > minY; }
    var viewSet = hasSize(0, 0), readyWaits = false;
    if (viewSet) {
      initialView(false);
    } else {
      // The app loads a kept page into its map while the window is still being built: the page has
      // no size yet, then a few while the window lays out (Qt's 100 x 30 px first). The first view
      // follows the sizes of a real map (above 200 x 150 px) until anything else moves the map (the
      // analyst, a selection), so the sites open fitted, not at zoom 0; the page is ready after it.
      var follow = function () {
        if (!hasSize(200, 150)) { return; }
        initialView(true);
        if (!viewSet) { viewSet = true; if (readyWaits) { markReady(); } }
      };
      var stopFollowing = function () {
        if (!fitting) { map.off("resize", follow); map.off("movestart zoomstart", stopFollowing); }
      };
      map.on("resize", follow);
      map.on("movestart zoomstart", stopFollowing);
    }
    api.setMode(data.mode || "browse");
    markHiddenLayers();

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
      if (!viewSet) { readyWaits = true; return; }  // drawn once the first view is set (a page without a size yet)
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

  window.PlannerMap = {init: init, decode: decode, tileCache: tileCache};
})();

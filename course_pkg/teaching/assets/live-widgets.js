// Live explorers on the course website: no kernel, no library, no request.
// Each <div class="course-live"> holds its description and inputs as JSON (course_pkg/live.py):
// this script builds the controls of the description, recomputes the course's reference
// implementation (or looks up what the build precomputed) and redraws an SVG figure whenever a
// control moves. The numbers it computes are kept on the element (el.courseLive.state) and on
// each drawn cell (data-v), so the tests compare them with course_pkg.
(function () {
  "use strict";
  if (window.CourseLive) { window.CourseLive.scan(); return; }
  var SVGNS = "http://www.w3.org/2000/svg";
  var counter = 0;

  // --- text: Python str.format for {name}, {name:.3g}, {name:.2f} ---------------------------
  function pyNumber(x, spec) {
    var m = /^\.(\d+)([fg])$/.exec(spec || "");
    if (!m) return String(x);
    var n = +m[1];
    if (m[2] === "f") return x.toFixed(n);
    if (x === 0) return "0";
    var e = Math.floor(Math.log10(Math.abs(x)));
    var p = Math.max(n, 1);
    var s = e < -4 || e >= p ? x.toExponential(p - 1) : x.toPrecision(p);
    if (s.indexOf("e") >= 0) {
      var parts = s.split("e"), mant = parts[0], ex = +parts[1];
      if (mant.indexOf(".") >= 0) mant = mant.replace(/0+$/, "").replace(/\.$/, "");
      return mant + "e" + (ex < 0 ? "-" : "+") + (Math.abs(ex) < 10 ? "0" : "") + Math.abs(ex);
    }
    if (s.indexOf(".") >= 0) s = s.replace(/0+$/, "").replace(/\.$/, "");
    return s;
  }
  function pyValue(v, spec) {
    if (Array.isArray(v)) return "(" + v.join(", ") + (v.length === 1 ? ",)" : ")");
    if (typeof v === "number") return spec ? pyNumber(v, spec) : String(v);
    return String(v);
  }
  function fmt(template, values) {
    return template.replace(/\{(\w+)(?::([^}]*))?\}/g, function (all, key, spec) {
      return key in values ? pyValue(values[key], spec) : all;
    });
  }

  // --- DOM and SVG helpers ------------------------------------------------------------------
  function h(tag, attrs, children) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) if (attrs[k] !== undefined) e.setAttribute(k, attrs[k]);
    (children || []).forEach(function (c) { e.append(c); });
    return e;
  }
  function s(tag, attrs, parent) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs || {}) if (attrs[k] !== undefined) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function text(parent, x, y, str, attrs) {
    var t = s("text", Object.assign({ x: x, y: y, "font-size": 11, fill: "currentColor" }, attrs || {}), parent);
    t.textContent = str;
    return t;
  }
  function panel(fig, title, width, height) {
    var box = h("div", { "class": "cl-panel" });
    var svg = s("svg", { viewBox: "0 0 " + width + " " + height, width: width, height: height,
                         "aria-hidden": "true", focusable: "false" });
    text(svg, width / 2, 14, title, { "text-anchor": "middle", "font-size": 12 });
    box.appendChild(svg);
    fig.appendChild(box);
    return svg;
  }

  // --- colour maps (matplotlib's, sampled at 9 stops, interpolated) ---------------------------
  var MAPS = {
    viridis: ["#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962", "#addc30", "#fde725"],
    magma: ["#000004", "#1c1044", "#4f127b", "#812581", "#b5367a", "#e55064", "#fb8761", "#fec287", "#fcfdbf"],
    RdBu: ["#67001f", "#b2182b", "#d6604d", "#f4a582", "#f7f7f7", "#92c5de", "#4393c3", "#2166ac", "#053061"],
    gray: ["#000000", "#ffffff"]
  };
  var TAB10 = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  function rgb(hex) { return [1, 3, 5].map(function (i) { return parseInt(hex.substr(i, 2), 16); }); }
  var LUTS = {};
  function lut(name) {  // 256 interpolated [r, g, b] of a colour map
    if (LUTS[name]) return LUTS[name];
    var stops = MAPS[name].map(rgb), out = [];
    for (var k = 0; k < 256; k++) {
      var x = k / 255 * (stops.length - 1), i = Math.min(Math.floor(x), stops.length - 2), f = x - i;
      out.push([0, 1, 2].map(function (j) { return Math.round(stops[i][j] + f * (stops[i + 1][j] - stops[i][j])); }));
    }
    return (LUTS[name] = out);
  }
  function rgb01(name, t) {
    return lut(name)[Math.round(Math.min(Math.max(isFinite(t) ? t : 0, 0), 1) * 255)];
  }
  function colour(name, t) { return "rgb(" + rgb01(name, t).join(",") + ")"; }

  // A heatmap of matrix m (rows x cols) in the box (x, y, w, h). Small ones are SVG cells, each
  // keeping its value (data-v); large ones one image, keeping the matrix (data-values).
  function heatmap(svg, m, x, y, w, hgt, map, vmin, vmax) {
    var rows = m.length, cols = m[0].length, cw = w / cols, ch = hgt / rows;
    var g = s("g", { "class": "cl-heatmap", "data-rows": rows, "data-cols": cols }, svg);
    if (rows * cols > 400) {
      pixels(g, m.map(function (row) {
        return row.map(function (v) { return rgb01(map, (v - vmin) / (vmax - vmin)).map(function (c) { return c / 255; }); });
      }), x, y, w, hgt);
      g.setAttribute("data-values", JSON.stringify(m));
      return g;
    }
    for (var r = 0; r < rows; r++) for (var c = 0; c < cols; c++) {
      s("rect", { x: x + c * cw, y: y + r * ch, width: cw + 0.3, height: ch + 0.3,
                  fill: colour(map, (m[r][c] - vmin) / (vmax - vmin)), "data-v": m[r][c] }, g);
    }
    return g;
  }
  // Bars of values v over slots 0..n-1 in (x, y, w, h), y from lo to hi.
  function bars(svg, v, x, y, w, hgt, lo, hi, fill, labels) {
    var n = v.length, bw = w / n, zero = y + hgt * (hi / (hi - lo));
    var g = s("g", { "class": "cl-bars" }, svg);
    s("line", { x1: x, x2: x + w, y1: zero, y2: zero, stroke: "#555" }, svg);
    s("line", { x1: x, x2: x, y1: y, y2: y + hgt, stroke: "#555" }, svg);
    v.forEach(function (val, i) {
      var top = y + hgt * ((hi - Math.max(val, 0)) / (hi - lo));
      var bottom = y + hgt * ((hi - Math.min(val, 0)) / (hi - lo));
      s("rect", { x: x + i * bw + bw * 0.15, y: top, width: bw * 0.7, height: Math.max(bottom - top, 0),
                  fill: fill, "data-v": val }, g);
      if (labels) text(svg, x + (i + 0.5) * bw, y + hgt + 12, labels[i], { "text-anchor": "end",
        "font-size": 10, transform: "rotate(-50 " + (x + (i + 0.5) * bw) + " " + (y + hgt + 12) + ")" });
    });
    text(svg, x - 3, y + 4, pyNumber(hi, ".2g"), { "text-anchor": "end", "font-size": 9 });
    text(svg, x - 3, y + hgt, pyNumber(lo, ".2g"), { "text-anchor": "end", "font-size": 9 });
    return g;
  }
  // A line through (i, v[i]) in (x, y, w, h), y from lo to hi.
  function line(svg, v, x, y, w, hgt, lo, hi, stroke, width) {
    var n = v.length;
    var pts = v.map(function (val, i) {
      return (x + w * i / Math.max(n - 1, 1)).toFixed(2) + "," + (y + hgt * (hi - val) / (hi - lo)).toFixed(2);
    });
    s("rect", { x: x, y: y, width: w, height: hgt, fill: "none", stroke: "#999" }, svg);
    var p = s("polyline", { points: pts.join(" "), fill: "none", stroke: stroke, "stroke-width": width || 1.5,
                            "class": "cl-line", "data-v": JSON.stringify(v) }, svg);
    text(svg, x - 3, y + 8, pyNumber(hi, ".3g"), { "text-anchor": "end", "font-size": 9 });
    text(svg, x - 3, y + hgt, pyNumber(lo, ".3g"), { "text-anchor": "end", "font-size": 9 });
    return p;
  }
  function outline(svg, x, y, w, hgt, stroke, width, dash) {
    return s("rect", { x: x, y: y, width: w, height: hgt, fill: "none", stroke: stroke,
                       "stroke-width": width || 2, "stroke-dasharray": dash }, svg);
  }
  // Pixels (rows of [r, g, b] in 0..1 or of grey values) drawn through a canvas as one <image>.
  function pixels(svg, rowsOfPixels, x, y, w, hgt) {
    var rows = rowsOfPixels.length, cols = rowsOfPixels[0].length;
    var canvas = document.createElement("canvas");
    canvas.width = cols; canvas.height = rows;
    var ctx = canvas.getContext("2d"), img = ctx.createImageData(cols, rows);
    for (var r = 0; r < rows; r++) for (var c = 0; c < cols; c++) {
      var p = rowsOfPixels[r][c], o = 4 * (r * cols + c);
      var v = typeof p === "number" ? [p, p, p] : p;
      for (var j = 0; j < 3; j++) img.data[o + j] = Math.round(Math.min(Math.max(v[j], 0), 1) * 255);
      img.data[o + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    return s("image", { href: canvas.toDataURL(), x: x, y: y, width: w, height: hgt,
                        preserveAspectRatio: "none", style: "image-rendering: pixelated" }, svg);
  }

  // --- data helpers -------------------------------------------------------------------------
  function fround(m) { return m.map(function (row) { return row.map(Math.fround); }); }
  function decodeImage(uri) {  // -> Promise of {width, height, rgb: [rows][cols][3] in 0..1}
    return new Promise(function (resolve, reject) {
      var img = new Image();
      img.onload = function () {
        var c = document.createElement("canvas");
        c.width = img.naturalWidth; c.height = img.naturalHeight;
        var ctx = c.getContext("2d");
        ctx.drawImage(img, 0, 0);
        var d = ctx.getImageData(0, 0, c.width, c.height).data, out = [];
        for (var r = 0; r < c.height; r++) {
          var row = [];
          for (var col = 0; col < c.width; col++) {
            var o = 4 * (r * c.width + col);
            row.push([d[o] / 255, d[o + 1] / 255, d[o + 2] / 255]);
          }
          out.push(row);
        }
        resolve({ width: c.width, height: c.height, rgb: out });
      };
      img.onerror = reject;
      img.src = uri;
    });
  }
  function unpack(b64) {  // deflated little-endian float32 (course_pkg.teaching.live.packed) -> Float32Array
    var bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Response(stream).arrayBuffer().then(function (buf) { return new Float32Array(buf); });
  }
  function softmaxRows(scores) {
    return scores.map(function (row) {
      var m = Math.max.apply(null, row);
      if (m === -Infinity) return row.map(function () { return 0; });  // every key masked: zeros
      var e = row.map(function (x) { return Math.exp(x - m); }), sum = e.reduce(function (a, b) { return a + b; }, 0);
      return e.map(function (x) { return x / sum; });
    });
  }
  function matmul(a, b) {
    return a.map(function (row) {
      return b[0].map(function (_, j) {
        var acc = 0;
        for (var k = 0; k < row.length; k++) acc += row[k] * b[k][j];
        return acc;
      });
    });
  }
  function transpose(m) { return m[0].map(function (_, j) { return m.map(function (row) { return row[j]; }); }); }

  // --- the explorers ------------------------------------------------------------------------
  // Each: prepare(data) -> Promise of the prepared inputs; compute(inputs, values) -> state;
  // draw(fig, state, T) draws panels; readouts(state, T) -> lines; alt(state, T) -> values for
  // the description's alt text.
  var WIDGETS = {};

  WIDGETS.attention = {
    prepare: function (data) {
      ["sentence", "image"].forEach(function (k) {
        if (data[k].k === "q") data[k].k = data[k].q;  // the same matrix, sent once
        ["q", "k", "v"].forEach(function (m) { data[k][m] = fround(data[k][m]); });
      });
      return Promise.resolve(data);
    },
    // Vaswani et al. 2017, eq. (1): softmax(Q K^T / sqrt(d_k)) V, with the explorer's factor c / sqrt(d_k)
    // on the scores (c = 1/T with the division by sqrt(d_k), c = sqrt(d_k)/T without).
    compute: function (data, v) {
      var src = data[v.source], n = src.tokens.length, dk = src.q[0].length;
      var c = (v.scale ? 1 : Math.sqrt(dk)) / v.temperature, factor = c / Math.sqrt(dk);
      var scores = matmul(src.q, transpose(src.k)).map(function (row, i) {
        return row.map(function (x, j) {
          var allowed = v.mask === "causal" ? j <= i : v.mask === "padding" ? j < src.n_real : true;
          return allowed ? x * factor : -Infinity;
        });
      });
      var weights = softmaxRows(scores), output = matmul(weights, src.v);
      var query = Math.min(v.query, n - 1);
      return { source: v.source, tokens: src.tokens, weights: weights, output: output, query: query,
               factor: factor, c: c, dk: dk, scaled: v.scale, temperature: v.temperature, mask: v.mask,
               row_sums: weights.map(function (r) { return r.reduce(function (a, b) { return a + b; }, 0); }),
               photo: src.photo, grid: src.grid };
    },
    draw: function (fig, st, T) {
      var n = st.tokens.length, tok = st.tokens[st.query];
      var p1 = panel(fig, T("weights_title"), 300, 300), x0 = 70, y0 = 24, size = 200, cell = size / n;
      heatmap(p1, st.weights, x0, y0, size, size, "viridis", 0, 1);
      outline(p1, x0, y0 + st.query * cell, size, cell, "red", 2);
      var step = st.source === "sentence" ? 1 : 4;
      for (var i = 0; i < n; i += step) {
        var label = st.source === "sentence" ? st.tokens[i] : String(i);
        text(p1, x0 - 4, y0 + (i + 0.65) * cell, label, { "text-anchor": "end", "font-size": 10 });
        var tx = x0 + (i + 0.5) * cell, ty = y0 + size + 10;
        text(p1, tx, ty, label, { "text-anchor": "end", "font-size": 10, transform: "rotate(-60 " + tx + " " + ty + ")" });
      }
      text(p1, x0 + size / 2, 298, T("key"), { "text-anchor": "middle" });
      text(p1, 10, y0 + size / 2, T("query"), { "text-anchor": "middle", transform: "rotate(-90 10 " + (y0 + size / 2) + ")" });

      var p2 = panel(fig, fmt(T("row_title"), { tok: tok }), 300, 300);
      if (st.source === "image") {
        s("image", { href: st.photo, x: 50, y: 30, width: 200, height: 200 }, p2);
        var row = st.weights[st.query], peak = Math.max(Math.max.apply(null, row), 1e-6), g = st.grid;
        var grid = [];
        for (var r = 0; r < g; r++) grid.push(row.slice(r * g, r * g + g));
        var hm = heatmap(p2, grid, 50, 30, 200, 200, "magma", 0, peak);
        hm.setAttribute("opacity", "0.55");
        outline(p2, 50 + (st.query % g) * 200 / g, 30 + Math.floor(st.query / g) * 200 / g, 200 / g, 200 / g, "cyan", 3);
      } else {
        bars(p2, st.weights[st.query], 40, 30, 250, 200, 0, 1, "#4c72b0", st.tokens);
      }
      var out = st.output[st.query], lim = Math.max.apply(null, out.map(Math.abs).concat([1e-6]));
      var p3 = panel(fig, fmt(T("output_title"), { tok: tok }), 300, 300);
      bars(p3, out, 40, 30, 250, 220, -lim, lim, "#dd8452");
      text(p3, 165, 290, T("channel"), { "text-anchor": "middle" });
    },
    readouts: function (st, T) {
      return [fmt(T("row_sums_page"), { sums: st.row_sums.map(function (x) { return x.toFixed(2); }).join(", ") }),
              fmt(T("scores_page"), { factor: st.factor, scaled: T(st.scaled ? "yes" : "no"), t: st.temperature, dk: st.dk })];
    },
    alt: function (st, T) {
      return { i: st.query, tok: st.tokens[st.query], scaled: T(st.scaled ? "yes" : "no"), t: st.temperature,
               mask: T("mask_" + st.mask), source: T(st.source) };
    }
  };

  WIDGETS.heads = {
    prepare: function (data) { return Promise.resolve(data); },
    // x[0, n, d] = n * D + d, so each value of a split tells the token and channel it came from.
    compute: function (data, v) {
      var D = v.dim, H = v.heads, N = data.tokens, Dh = D / H, flat = data.split[D + "," + H];
      var receiver = [], blocks = [], wrong = [];
      for (var n = 0; n < N; n++) receiver.push(new Array(D).fill(-1));
      for (var hh = 0; hh < H; hh++) {
        var block = [];
        for (n = 0; n < N; n++) {
          var row = [];
          for (var c = 0; c < Dh; c++) {
            var val = flat[(hh * N + n) * Dh + c], sn = Math.floor(val / D), sd = val % D;
            receiver[sn][sd] = hh;
            row.push(sd);
            if (sn !== n || sd !== hh * Dh + c) wrong.push([hh, n, c, sn, sd, Math.floor(sd / Dh)]);
          }
          block.push(row);
        }
        blocks.push(block);
      }
      var merge = data.merge ? data.merge[D + "," + H] : null;
      return { dim: D, heads: H, tokens: N, dh: Dh, blocks: blocks, receiver: receiver, wrong: wrong,
               mixed: wrong.length > 0, merge: merge, has_merge: !!data.merge };
    },
    draw: function (fig, st, T) {
      var N = st.tokens, D = st.dim, cw = 260 / D, ch = 22;
      var p1 = panel(fig, T("input_title"), 300, 60 + N * ch);
      var g = s("g", { "class": "cl-cells" }, p1);
      for (var n = 0; n < N; n++) for (var d = 0; d < D; d++) {
        var hd = st.receiver[n][d];
        s("rect", { x: 30 + d * cw, y: 24 + n * ch, width: cw, height: ch, stroke: "#fff",
                    fill: hd >= 0 ? TAB10[hd % 10] : "#fff", "data-v": hd }, g);
      }
      for (n = 0; n < N; n++) text(p1, 24, 24 + (n + 0.7) * ch, String(n), { "text-anchor": "end", "font-size": 10 });
      text(p1, 30 + 130, 24 + N * ch + 14, T("channel"), { "text-anchor": "middle" });
      text(p1, 8, 24 + N * ch / 2, T("token"), { "text-anchor": "middle", transform: "rotate(-90 8 " + (24 + N * ch / 2) + ")" });
      var gap = 6, bw = (340 - gap * (st.heads - 1)) / st.heads, p2 = panel(fig, T("heads_title").replace(/\s*[\{（(].*$/, ""), 340, 60 + N * ch);
      st.blocks.forEach(function (block, hh) {
        var x0 = hh * (bw + gap), cell = bw / st.dh;
        if (st.heads <= 12) text(p2, x0 + bw / 2, 30, fmt(T("heads_title"), { h: hh }).split(/[（(]/)[0], { "text-anchor": "middle", "font-size": 10, fill: TAB10[hh % 10] });
        var gb = s("g", { "class": "cl-cells" }, p2);
        block.forEach(function (row, n) {
          row.forEach(function (sd, c) {
            s("rect", { x: x0 + c * cell, y: 36 + n * ch, width: cell, height: ch, stroke: "#fff",
                        fill: TAB10[Math.floor(sd / st.dh) % 10], "data-v": sd }, gb);
            if (st.dh * st.heads <= 24) text(p2, x0 + (c + 0.5) * cell, 36 + (n + 0.7) * ch, String(sd), { "text-anchor": "middle", "font-size": 10, fill: "#fff" });
          });
        });
      });
    },
    readouts: function (st, T) {
      var lines = [], w = st.wrong[0];
      lines.push(st.mixed ? fmt(T("mixed"), { n: st.wrong.length, h: w[0], tok: w[1], c: w[2], src_tok: w[3], src_d: w[4], src_h: w[5] })
                          : T("match"));
      if (st.has_merge) lines.push(T(st.merge ? "merge_ok" : "merge_bad"));
      var shape = [1, st.heads, st.tokens, st.dh];
      lines.push(fmt(T("shapes"), { x: [1, st.tokens, st.dim], v: [1, st.tokens, st.heads, st.dh], t: shape, s: shape,
                                    m: st.has_merge ? [1, st.tokens, st.dim] : "—" }));
      return lines;
    },
    alt: function (st, T) {
      return { D: st.dim, H: st.heads, dh: st.dh, status: this.readouts(st, T)[0] };
    }
  };

  function bit(hex, i) {  // bit i of a hexadecimal number (course_pkg.teaching.widgets._bits)
    var k = hex.length - 1 - Math.floor(i / 4);
    return k < 0 ? 0 : (parseInt(hex[k], 16) >> (i % 4)) & 1;
  }

  WIDGETS.masking = {
    prepare: function (data) {
      if (!data.recon) return Promise.resolve(data);
      return unpack(data.recon).then(function (values) { data.reconValues = values; return data; });
    },
    compute: function (data, v) {
      var key = v.mask_ratio.toFixed(2) + "," + v.seed, N = data.tokens, hex = data.photo_masks[key], mask = [];
      for (var i = 0; i < N; i++) mask.push(bit(hex, i));
      var removed = mask.reduce(function (a, b) { return a + b; }, 0);
      var st = { mask_ratio: v.mask_ratio, seed: v.seed, image: v.image, mask: mask, kept: N - removed, n: N,
                 expected_kept: Math.floor(N * (1 - v.mask_ratio)), photo: data.photos[v.image], grid: data.grid };
      if (data.reconValues) {
        var idx = data.digit_masks[key], dhex = data.digit_mask_bits[idx], dm = [];
        for (i = 0; i < data.digit_tokens; i++) dm.push(bit(dhex, i));
        var S = data.recon_shape[1], recon = [], off = idx * S * S;
        for (var r = 0; r < S; r++) recon.push(Array.from(data.reconValues.subarray(off + r * S, off + r * S + S)));
        var P = data.digit_patch, g = S / P, masked = data.digit.map(function (row, y) {
          return row.map(function (val, x) { return dm[Math.floor(y / P) * g + Math.floor(x / P)] ? 0.5 : val; });
        });
        Object.assign(st, { digit: data.digit, digit_mask: dm, digit_masked: masked, reconstruction: recon });
      }
      return st;
    },
    draw: function (fig, st, T) {
      var g = st.grid, cell = 150 / g;
      var p1 = panel(fig, T("original"), 170, 180);
      s("image", { href: st.photo, x: 10, y: 24, width: 150, height: 150 }, p1);
      var p2 = panel(fig, T("visible"), 170, 180);
      s("image", { href: st.photo, x: 10, y: 24, width: 150, height: 150 }, p2);
      var gm = s("g", { "class": "cl-mask" }, p2);
      st.mask.forEach(function (m, i) {
        if (m) s("rect", { x: 10 + (i % g) * cell, y: 24 + Math.floor(i / g) * cell, width: cell + 0.3, height: cell + 0.3,
                           fill: "rgb(128,128,128)", "data-v": i }, gm);
      });
      if (st.reconstruction) {
        heatmap(panel(fig, T("digit"), 170, 180), st.digit, 10, 24, 150, 150, "gray", 0, 1);
        heatmap(panel(fig, T("digit_masked"), 170, 180), st.digit_masked, 10, 24, 150, 150, "gray", 0, 1);
        heatmap(panel(fig, T("mae_recon"), 170, 180), st.reconstruction, 10, 24, 150, 150, "gray", 0, 1);
      }
    },
    readouts: function (st, T) {
      return [fmt(T("kept"), { kept: st.kept, n: st.n, want: st.expected_kept }), T("masking_ok")];
    },
    alt: function (st, T) {
      return { ratio: st.mask_ratio, seed: st.seed, image: st.image, kept: st.kept, n: st.n };
    }
  };

  WIDGETS.patches = {
    prepare: function (data) {
      var names = Object.keys(data.photos);
      return Promise.all(names.map(function (n) { return decodeImage(data.photos[n]); })).then(function (decoded) {
        data.decoded = {};
        names.forEach(function (n, k) { data.decoded[n] = decoded[k]; });
        return data;
      });
    },
    // patchify: (C, H, W) -> (N, P*P*C), patches in raster order, each row -> column -> channel.
    compute: function (data, v) {
      var P = v.patch_size, S = data.size, rgbRows = data.decoded[v.image].rgb, g = Math.floor(S / P);
      var st = { patch_size: P, size: S, grid: g, divides: S % P === 0, patch: Math.min(v.patch, g * g - 1),
                 image: v.image, photo: data.photos[v.image], patches: null };
      if (!st.divides) return st;
      var patches = [];
      for (var r = 0; r < g; r++) for (var c = 0; c < g; c++) {
        var vec = [];
        for (var y = 0; y < P; y++) for (var x = 0; x < P; x++) {
          var px = rgbRows[r * P + y][c * P + x];
          vec.push(px[0], px[1], px[2]);
        }
        patches.push(vec);
      }
      st.patches = patches;
      return st;
    },
    draw: function (fig, st, T) {
      var S = st.size, P = st.patch_size, g = st.grid, k = 200 / S;
      var title = st.divides ? fmt(T("grid_title"), { g: g, n: g * g, p: P }) : S + " % " + P + " = " + (S % P);
      var p1 = panel(fig, title, 220, 230);
      s("image", { href: st.photo, x: 10, y: 24, width: 200, height: 200 }, p1);
      for (var i = 1; i <= g; i++) {
        s("line", { x1: 10 + i * P * k, x2: 10 + i * P * k, y1: 24, y2: 224, stroke: "#fff", "stroke-width": 0.6 }, p1);
        s("line", { y1: 24 + i * P * k, y2: 24 + i * P * k, x1: 10, x2: 210, stroke: "#fff", "stroke-width": 0.6 }, p1);
      }
      if (!st.divides) {
        var rest = (S - g * P) * k;
        s("rect", { x: 10 + g * P * k, y: 24, width: rest, height: 200, fill: "red", opacity: 0.5 }, p1);
        s("rect", { x: 10, y: 24 + g * P * k, width: 200, height: rest, fill: "red", opacity: 0.5 }, p1);
        return;
      }
      var row = Math.floor(st.patch / g), col = st.patch % g;
      outline(p1, 10 + col * P * k, 24 + row * P * k, P * k, P * k, "red", 2);
      var N = g * g, shape = [N, P * P * 3];
      var p2 = panel(fig, fmt(T("vectors_title"), { shape: shape }), 260, 250);
      pixels(p2, st.patches, 30, 24, 220, 200);
      s("line", { x1: 30, x2: 250, y1: 24 + (st.patch + 0.5) * 200 / N, y2: 24 + (st.patch + 0.5) * 200 / N, stroke: "red" }, p2);
      text(p2, 140, 240, "P·P·C", { "text-anchor": "middle" });
      text(p2, 20, 124, "N", { "text-anchor": "middle" });
      var p3 = panel(fig, fmt(T("one_vector"), { i: st.patch, k: P * P * 3 }), 320, 110);
      var vec = st.patches[st.patch], colours = [];
      for (i = 0; i < P * P; i++) colours.push([vec[3 * i], vec[3 * i + 1], vec[3 * i + 2]]);
      pixels(p3, [colours], 10, 30, 300, 40);
      text(p3, 160, 92, fmt(T("pixel_index"), { n: P * P }), { "text-anchor": "middle", "font-size": 10 });
    },
    readouts: function (st, T) {
      if (!st.divides) {
        var q = Math.floor(st.size / st.patch_size), r = st.size % st.patch_size;
        return [fmt(T("not_divisible"), { p: st.patch_size, s: st.size, q: q, r: r, lo: q * st.patch_size, hi: (q + 1) * st.patch_size })];
      }
      return [fmt(T("vectors_title"), { shape: [st.grid * st.grid, st.patch_size * st.patch_size * 3] })];
    },
    alt: function (st, T) {
      return { image: st.image, p: st.patch_size, s: st.size, g: st.grid, n: st.grid * st.grid, i: st.patch,
               verdict: st.divides ? fmt(T("alt_patches_ok"), { g: st.grid, n: st.grid * st.grid, i: st.patch })
                                   : fmt(T("alt_patches_bad"), { p: st.patch_size, s: st.size }) };
    }
  };

  WIDGETS.positional = {
    prepare: function (data) { return Promise.resolve(data); },
    // Vaswani et al. 2017, section 3.5: PE[t, 2i] = sin(t w_i), PE[t, 2i+1] = cos(t w_i),
    // w_i = 1 / 10000^(2i / d), in float64 and then rounded to float32 (course_pkg.models.positional.sincos_1d).
    compute: function (data, v) {
      var n = data.positions, d = v.dim, pe = [];
      for (var t = 0; t < n; t++) {
        var row = [];
        for (var j = 0; j < d; j++) {
          var angle = t * (1 / Math.pow(10000, (j - j % 2) / d));
          row.push(Math.fround(j % 2 === 0 ? Math.sin(angle) : Math.cos(angle)));
        }
        pe.push(row);
      }
      var sim = matmul(pe, transpose(pe)), col = Math.min(v.column, d - 1);
      return { dim: d, column: col, position: v.position, positions: n, pe: pe, similarity: sim,
               kind: col % 2 === 0 ? "sin" : "cos", wavelength: 2 * Math.PI * Math.pow(10000, (col - col % 2) / d) };
    },
    draw: function (fig, st, T) {
      var n = st.positions, d = st.dim;
      var p1 = panel(fig, T("pe_title"), 260, 250);
      heatmap(p1, st.pe, 30, 24, 210, 200, "RdBu", -1, 1);
      s("line", { x1: 30 + (st.column + 0.5) * 210 / d, x2: 30 + (st.column + 0.5) * 210 / d, y1: 24, y2: 224, stroke: "#000" }, p1);
      s("line", { x1: 30, x2: 240, y1: 24 + (st.position + 0.5) * 200 / n, y2: 24 + (st.position + 0.5) * 200 / n, stroke: "#000", "stroke-dasharray": "3 2" }, p1);
      text(p1, 135, 242, T("dim_index"), { "text-anchor": "middle" });
      text(p1, 12, 124, T("position"), { "text-anchor": "middle", transform: "rotate(-90 12 124)" });
      var p2 = panel(fig, fmt(T("column_title"), { c: st.column, kind: st.kind, wl: st.wavelength }), 260, 250);
      line(p2, st.pe.map(function (r) { return r[st.column]; }), 40, 30, 210, 190, -1.1, 1.1, "#1f77b4");
      text(p2, 145, 242, T("position"), { "text-anchor": "middle" });
      var sim = st.similarity, lo = Math.min.apply(null, sim.map(function (r) { return Math.min.apply(null, r); }));
      var hi = Math.max.apply(null, sim.map(function (r) { return Math.max.apply(null, r); }));
      var p3 = panel(fig, T("simmat_title").replace("$^T$", "ᵀ"), 260, 250);
      heatmap(p3, sim, 30, 24, 200, 200, "viridis", lo, hi);
      text(p3, 130, 242, T("position"), { "text-anchor": "middle" });
      var p4 = panel(fig, fmt(T("sim_title"), { p: st.position }), 260, 250);
      var rowv = sim[st.position], rlo = Math.min.apply(null, rowv), rhi = Math.max.apply(null, rowv);
      line(p4, rowv, 40, 30, 210, 190, rlo, rhi, "#2ca02c");
      var xp = 40 + 210 * st.position / (n - 1);
      s("line", { x1: xp, x2: xp, y1: 30, y2: 220, stroke: "#000", "stroke-dasharray": "3 2" }, p4);
      text(p4, 145, 242, T("position"), { "text-anchor": "middle" });
    },
    readouts: function (st, T) {
      return [fmt(T("pe_shape"), { shape: [st.positions, st.dim] })];
    },
    alt: function (st, T) {
      return { n: st.positions, d: st.dim, c: st.column, kind: st.kind, wl: st.wavelength, p: st.position };
    }
  };

  // --- building a widget from its description -----------------------------------------------
  function optionLabel(c, value) {
    var o = (c.options || []).filter(function (p) { return p[1] === value; })[0];
    return o ? o[0] : String(value);
  }
  function logValue(c, k) { return Math.pow(c.base, c.min + k * c.step); }

  // One control: {node, get(), follow(other value)}. Sliders move over indices, so float steps
  // never drift (0.05 * 3 is 0.15000000000000002 in JavaScript but 0.15 in the notebook).
  function control(c, uid, changed) {
    var id = uid + "-" + c.name, node, input, out, get, options = c.options;
    if (c.kind === "toggle") {
      node = h("fieldset", { "class": "cl-ctl cl-toggle" }, [h("legend", {}, [c.label])]);
      options.forEach(function (o, k) {
        var rid = id + "-" + k, r = h("input", { type: "radio", name: id, id: rid, value: k });
        r.checked = o[1] === c.value;
        r.addEventListener("change", changed);
        node.append(h("span", { "class": "cl-choice" }, [r, h("label", { "for": rid }, [o[0]])]));
      });
      get = function () {
        var k = +node.querySelector("input:checked").value;
        return options[k][1];
      };
    } else if (c.kind === "check") {
      input = h("input", { type: "checkbox", id: id });
      input.checked = !!c.value;
      input.addEventListener("change", changed);
      node = h("div", { "class": "cl-ctl cl-check" }, [input, h("label", { "for": id }, [c.label])]);
      get = function () { return input.checked; };
    } else if (c.kind === "choice") {
      input = h("select", { id: id });
      options.forEach(function (o, k) {
        var opt = h("option", { value: k }, [o[0]]);
        opt.selected = o[1] === c.value;
        input.append(opt);
      });
      input.addEventListener("change", changed);
      node = h("div", { "class": "cl-ctl" }, [h("label", { "for": id }, [c.label]), input]);
      get = function () { return options[+input.value][1]; };
    } else {  // int, float, log, steps: a range input over indices 0..count-1
      var count, valueAt, start;
      var setup = function () {
        if (c.kind === "steps") {
          count = options.length;
          valueAt = function (k) { return options[k][1]; };
        } else {
          count = Math.round((c.max - c.min) / c.step) + 1;
          valueAt = c.kind === "log" ? function (k) { return logValue(c, k); }
                  : c.kind === "int" ? function (k) { return c.min + k * c.step; }
                  : function (k) { return +(c.min + k * c.step).toFixed(10); };
        }
      };
      setup();
      start = 0;
      for (var k = 0; k < count; k++) if (Math.abs(valueAt(k) - c.value) < 1e-9 * Math.max(1, Math.abs(c.value))) start = k;
      input = h("input", { type: "range", id: id, min: 0, max: count - 1, step: 1, value: start });
      out = h("output", { "for": id, "aria-hidden": "true" });
      var show = function () {
        var v = valueAt(+input.value);
        var label = c.kind === "log" ? pyNumber(v, ".2f") : c.kind === "float" ? v.toFixed(2) : String(v);
        out.textContent = label;
        input.setAttribute("aria-valuetext", label);
      };
      input.addEventListener("input", function () { show(); changed(); });
      node = h("div", { "class": "cl-ctl cl-slider" }, [h("label", { "for": id }, [c.label]), input, out]);
      get = function () { return valueAt(+input.value); };
      show();
      return { node: node, get: get, spec: c, valueAt: function (k) { return valueAt(k); }, follow: function (other) {
        var dep = c.depends, old = get();
        if (dep.max) {
          c.max = dep.max[String(other)];
          setup();
          input.max = count - 1;
          input.value = Math.min(+input.value, count - 1);
        } else {
          options = dep.options[String(other)];
          setup();
          input.max = count - 1;
          var keep = options.map(function (o) { return o[1]; }).indexOf(old);
          input.value = keep >= 0 ? keep : Math.floor(options.length / 2);
        }
        show();
      } };
    }
    return { node: node, get: get, spec: c, follow: function () {} };
  }

  function mount(root) {
    if (root.courseLive) return;
    var bundle = JSON.parse(root.querySelector("script.course-live-data").textContent);
    var impl = WIDGETS[bundle.widget];
    if (!impl) return;
    var T = function (key) { return key in bundle.text ? bundle.text[key] : key; };
    var uid = "cl" + (++counter), controls = {}, byName = {};
    var fig = h("div", { "class": "cl-figure", role: "img" });
    var status = h("div", { "class": "cl-status", "aria-live": "polite" });
    var live = { bundle: bundle, controls: controls, state: null, redraws: 0, lastMs: 0 };
    root.courseLive = live;
    var inputs = null;
    function values() {
      var v = {};
      for (var k in controls) v[k] = controls[k].get();
      return v;
    }
    function redraw() {
      if (!inputs) return;
      var t0 = performance.now();
      var st = impl.compute(inputs, values());
      fig.textContent = "";
      impl.draw(fig, st, T);
      status.textContent = "";
      impl.readouts(st, T).forEach(function (l) { status.append(h("div", {}, [l])); });
      fig.setAttribute("aria-label", fmt(T(bundle.alt), impl.alt(st, T)));
      live.state = st;
      live.redraws += 1;
      live.lastMs = performance.now() - t0;
      root.setAttribute("data-redraws", live.redraws);
    }
    var form = h("div", { "class": "cl-controls" });
    bundle.controls.forEach(function (c) {
      byName[c.name] = c;
      controls[c.name] = control(c, uid, function () {
        bundle.controls.forEach(function (d) {
          if (d.depends && d.depends.on === c.name) controls[d.name].follow(controls[c.name].get());
        });
        redraw();
      });
    });
    bundle.rows.forEach(function (row) {
      form.append(h("div", { "class": "cl-row" }, row.map(function (n) { return controls[n].node; })));
    });
    var note = h("p", { "class": "cl-note" }, [T(bundle.note)]);
    var link = h("a", { href: downloadUrl() || "#", download: "" }, [T("live_download")]);
    note.append(link, "。".indexOf(T(bundle.note).slice(-1)) >= 0 ? "" : (bundle.lang === "en" ? "." : "。"));
    root.append(form, status, fig, note);
    // Move a control as a reader would (the tests use this): the input changes, then its event.
    live.set = function (name, value) {
      var c = controls[name], node = c.node, k;
      if (c.spec.kind === "toggle") {
        k = c.spec.options.map(function (o) { return o[1]; }).indexOf(value);
        node.querySelectorAll("input")[k].click();
        return;
      }
      var input = node.querySelector("input, select");
      if (c.spec.kind === "check") { if (input.checked !== !!value) input.click(); return; }
      if (c.spec.kind === "choice") {
        k = c.spec.options.map(function (o) { return o[1]; }).indexOf(value);
        input.value = String(k);
        input.dispatchEvent(new Event("change"));
        return;
      }
      for (k = 0; k <= +input.max; k++) if (Math.abs(c.valueAt(k) - value) <= 1e-9 * Math.max(1, Math.abs(value))) break;
      if (k > +input.max) throw new Error(name + ": no position for value " + value);
      input.value = String(k);
      input.dispatchEvent(new Event("input"));
    };
    live.values = values;
    impl.prepare(bundle.data).then(function (prepared) { inputs = prepared; redraw(); root.setAttribute("data-ready", "1"); },
      function (err) { status.textContent = String(err); root.setAttribute("data-ready", "error"); });
  }

  // The page's own notebook, as Sphinx copies it next to the page sources (_sources/<page>.ipynb).
  function downloadUrl() {
    var rootAttr = document.documentElement.getAttribute("data-content_root");
    if (rootAttr === null) return null;
    var base = new URL(rootAttr, location.href).href, here = location.href.split(/[?#]/)[0];
    if (here.indexOf(base) !== 0) return null;
    return base + "_sources/" + here.slice(base.length).replace(/\.html$/, ".ipynb");
  }

  var CSS = ".course-live{margin:1rem 0;max-width:100%}" +
    ".course-live .cl-row{display:flex;flex-wrap:wrap;gap:.4rem 1.5rem;align-items:center;margin:.3rem 0}" +
    ".course-live .cl-ctl{display:flex;align-items:center;gap:.4rem;flex:0 1 auto;min-width:0;margin:0;padding:0;border:0}" +
    ".course-live .cl-slider{flex:1 1 16rem;max-width:100%}" +
    ".course-live .cl-slider input{flex:1 1 8rem;min-width:8rem}" +
    ".course-live .cl-slider output{min-width:3.5em;font-variant-numeric:tabular-nums}" +
    ".course-live fieldset.cl-toggle{display:flex;flex-wrap:wrap;gap:.3rem}" +
    ".course-live fieldset legend{float:left;width:auto;margin:0 .4rem 0 0;padding:0;font-size:1em;font-weight:inherit;line-height:inherit}" +
    ".course-live .cl-choice input{position:absolute;opacity:0;width:1px;height:1px}" +
    ".course-live .cl-choice label{display:inline-block;padding:.25rem .7rem;border:1px solid #888;border-radius:.3rem;cursor:pointer}" +
    ".course-live .cl-choice input:checked+label{background:#1f5fa8;color:#fff;border-color:#1f5fa8}" +
    ".course-live .cl-choice input:focus-visible+label{outline:3px solid #f5a623;outline-offset:2px}" +
    ".course-live select{padding:.2rem}" +
    ".course-live .cl-figure{display:flex;flex-wrap:wrap;gap:.5rem;justify-content:flex-start}" +
    ".course-live .cl-panel{flex:1 1 15rem;max-width:22rem;min-width:0}" +
    ".course-live[data-widget=masking] .cl-panel{flex:1 1 9rem;max-width:13rem}" +
    ".course-live .cl-panel svg{width:100%;height:auto;display:block;font-family:inherit}" +
    ".course-live .cl-status{font-size:.9em;margin:.4rem 0;overflow-wrap:anywhere}" +
    ".course-live .cl-note{font-size:.9em;color:#444;margin:.3rem 0}";

  function scan() {
    if (!document.getElementById("course-live-css")) {
      document.head.append(h("style", { id: "course-live-css" }, [CSS]));
    }
    Array.prototype.forEach.call(document.querySelectorAll(".course-live"), mount);
  }
  window.CourseLive = { scan: scan, fmt: fmt, pyNumber: pyNumber, WIDGETS: WIDGETS };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", scan);
  else scan();
})();

"use strict";
(function () {
  const dataEl = document.getElementById("run-data");
  const D = JSON.parse(dataEl.textContent);
  const N = +dataEl.dataset.arrows;
  const lanes = D.lanes, texts = D.texts;
  const END = D.end;

  // ----- the arrows, decoded from base64 varints -----
  const S = new Float64Array(N), E = new Float64Array(N);
  const SRC = new Uint32Array(N), DST = new Uint32Array(N), TY = new Uint32Array(N);
  const OUT = new Uint8Array(N), FL = new Uint8Array(N), LEN = new Uint32Array(N);
  {
    const raw = atob(D.msgs);
    let p = 0;
    const v = () => {
      let x = 0, m = 1, b;
      do { b = raw.charCodeAt(p++); x += (b & 127) * m; m *= 128; } while (b & 128);
      return x;
    };
    let t = 0;
    for (let i = 0; i < N; i++) {
      t += v(); S[i] = t; E[i] = t + v();
      SRC[i] = v(); DST[i] = v(); TY[i] = v();
      const o = v(); OUT[i] = o & 15; FL[i] = o >> 4; LEN[i] = v();
    }
  }
  {
    // The marks: [time, lane, kind, text] from base64 varints too.
    const raw = atob(D.marks), count = +dataEl.dataset.marks, marks = new Array(count);
    let p = 0, t = 0;
    const v = () => {
      let x = 0, m = 1, b;
      do { b = raw.charCodeAt(p++); x += (b & 127) * m; m *= 128; } while (b & 128);
      return x;
    };
    for (let i = 0; i < count; i++) { t += v(); marks[i] = [t, v(), v(), v()]; }
    D.marks = marks;
  }
  let maxDur = 0;
  for (let i = 0; i < N; i++) maxDur = Math.max(maxDur, E[i] - S[i]);
  const markT = D.marks.map(m => m[0]);

  // ----- the time axis: px per microsecond, quiet stretches compressed -----
  const CAP = 40, TOP = 24;
  let scale = 0.001, compress = true;
  let T = new Float64Array(0), Y = new Float64Array(0);
  {
    const all = [0, END];
    for (let i = 0; i < N; i++) { all.push(S[i]); if (OUT[i] !== 1) all.push(E[i]); }
    for (const m of D.marks) all.push(m[0]);
    for (const f of D.faults) { all.push(f[1]); if (f[2] >= 0) all.push(f[2]); }
    for (const o of D.ops) { all.push(o[1]); if (o[2] >= 0) all.push(o[2]); }
    for (const iv of D.intervals) { all.push(iv[1]); all.push(iv[2]); }
    if (D.failure) all.push(D.failure[0]);
    const sorted = Float64Array.from(all).sort();
    let k = 0;
    for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[k++] = sorted[i];
    T = sorted.slice(0, k);
    Y = new Float64Array(k);
  }
  function layoutTime() {
    Y[0] = TOP;
    for (let i = 1; i < T.length; i++) {
      const d = (T[i] - T[i - 1]) * scale;
      Y[i] = Y[i - 1] + (compress ? Math.min(d, CAP) : d);
    }
  }
  function search(arr, x) { // last index with arr[i] <= x, or -1
    let lo = 0, hi = arr.length - 1, r = -1;
    while (lo <= hi) { const mid = (lo + hi) >> 1; if (arr[mid] <= x) { r = mid; lo = mid + 1; } else hi = mid - 1; }
    return r;
  }
  function y(t) {
    const i = search(T, t);
    if (i < 0) return TOP;
    if (i >= T.length - 1) return Y[T.length - 1] + (t - T[T.length - 1]) * scale;
    const span = T[i + 1] - T[i];
    return Y[i] + (span > 0 ? (t - T[i]) / span * (Y[i + 1] - Y[i]) : 0);
  }
  function tAt(py) {
    const i = search(Y, py);
    if (i < 0) return 0;
    if (i >= Y.length - 1) return T[T.length - 1] + (py - Y[Y.length - 1]) / scale;
    const h = Y[i + 1] - Y[i];
    return T[i] + (h > 0 ? (py - Y[i]) / h * (T[i + 1] - T[i]) : 0);
  }
  const fmt = t => (t / 1e6).toFixed(6) + "s";
  function dur(d) {
    if (d < 1000) return d + " µs";
    if (d < 1e6) return (d / 1000).toFixed(3).replace(/\.?0+$/, "") + " ms";
    return (d / 1e6).toFixed(6).replace(/\.?0+$/, "") + " s";
  }
  const esc = s => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

  // ----- filters -----
  const hiddenLanes = new Set(), hiddenKinds = new Set(), hiddenCats = new Set();
  const CATS = ["delivered", "dropped", "copies and corruption", "node events", "logs", "disk", "faults", "history", "other"];
  function markCat(kind) {
    if (kind <= 6 || kind === 13) return "node events";
    if (kind <= 9) return "logs";
    if (kind <= 12) return "disk";
    return "other";
  }
  function buildFilters() {
    const box = document.getElementById("filter-lists");
    const group = (title, items, set, key) => {
      let h = "<fieldset><legend>" + esc(title) + "</legend>";
      items.forEach((name, i) => {
        const k = key(name, i);
        h += "<label><input type=\"checkbox\" data-set=\"" + title + "\" data-key=\"" + esc(k) + "\" checked> " + esc(name) + "</label> ";
      });
      return h + "</fieldset>";
    };
    box.innerHTML = group("nodes", lanes, hiddenLanes, (n, i) => i) +
      group("message types", D.kinds, hiddenKinds, (n, i) => i) +
      group("event kinds", CATS, hiddenCats, n => n);
    box.addEventListener("change", e => {
      const el = e.target, set = { "nodes": hiddenLanes, "message types": hiddenKinds, "event kinds": hiddenCats }[el.dataset.set];
      const key = el.dataset.set === "event kinds" ? el.dataset.key : +el.dataset.key;
      if (el.checked) set.delete(key); else set.add(key);
      layoutLanes(); draw();
    });
  }

  // ----- lanes and the fault gutter -----
  const scroller = document.getElementById("scroller");
  const spacer = document.getElementById("spacer");
  const svg = document.getElementById("view");
  const LEFT = 92;
  let laneX = [], laneW = 100, gutterX = 0;
  const faultCol = [];
  {
    const ends = [];
    D.faults.forEach((f, i) => {
      let c = ends.findIndex(e => e <= f[1]);
      if (c < 0) { c = ends.length; ends.push(0); }
      ends[c] = f[2] >= 0 ? f[2] : Infinity;
      faultCol[i] = c;
    });
  }
  const faultCols = Math.min(12, faultCol.reduce((a, c) => Math.max(a, c + 1), 0));
  function layoutLanes() {
    const width = scroller.clientWidth;
    const gutter = faultCols * 12 + 16;
    const shown = lanes.map((_, i) => i).filter(i => !hiddenLanes.has(i));
    laneW = Math.max(60, (width - LEFT - gutter - 10) / Math.max(1, shown.length));
    laneX = [];
    shown.forEach((lane, k) => { laneX[lane] = LEFT + (k + 0.5) * laneW; });
    gutterX = LEFT + shown.length * laneW + 8;
    document.querySelectorAll(".lane-name").forEach(el => {
      const lane = +el.dataset.lane;
      if (laneX[lane] === undefined) { el.style.display = "none"; return; }
      el.style.display = "";
      el.style.left = (laneX[lane] - laneW / 2) + "px";
      el.style.width = laneW + "px";
    });
  }

  // ----- operations and the messages they caused -----
  // Hovering an operation (and, always, an operation the failure names)
  // highlights the messages its node sent or received while it ran.
  let hovered = -1;
  const focus = [];
  D.ops.forEach((o, i) => { if (o[7]) focus.push(i); });
  function linkedTo(k, i) {
    const o = D.ops[k], end = o[2] >= 0 ? o[2] : END;
    return (SRC[i] === o[0] || DST[i] === o[0]) && S[i] >= o[1] && (OUT[i] === 1 ? END : E[i]) <= end;
  }
  function linked(i) {
    if (hovered >= 0 && linkedTo(hovered, i)) return true;
    for (const k of focus) if (linkedTo(k, i)) return true;
    return false;
  }
  svg.addEventListener("mouseover", e => {
    const g = e.target.closest("g.op");
    const k = g ? +g.dataset.op : -1;
    if (k !== hovered) { hovered = k; draw(); }
  });

  // ----- drawing what is on screen -----
  const MAX_ARROWS = 5000;
  const OUTCOME = ["delivered", "in flight"];
  function total() { return y(END) + 40; }
  function draw() {
    const top = scroller.scrollTop, h = scroller.clientHeight, w = scroller.clientWidth;
    svg.style.top = top + "px";
    svg.setAttribute("width", w);
    svg.setAttribute("height", h);
    const t0 = tAt(top - 20), t1 = tAt(top + h + 20);
    const Y0 = top;
    const yy = t => (y(t) - Y0).toFixed(1);
    const out = [];
    out.push("<defs><marker id=\"ah\" viewBox=\"0 0 8 8\" refX=\"7\" refY=\"4\" markerUnits=\"userSpaceOnUse\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\" fill=\"context-stroke\"/></marker></defs>");
    // Time ticks.
    for (let py = Math.ceil(top / 100) * 100; py < Math.min(top + h, y(END) + 1); py += 100) {
      out.push("<line class=\"grid\" x1=\"" + LEFT + "\" x2=\"" + w + "\" y1=\"" + (py - Y0) + "\" y2=\"" + (py - Y0) + "\"/>");
      out.push("<text class=\"tick\" x=\"4\" y=\"" + (py - Y0 + 4) + "\">" + fmt(tAt(py)) + "</text>");
    }
    // Compressed stretches.
    if (compress) {
      const i0 = Math.max(0, search(T, t0)), i1 = Math.min(T.length - 1, search(T, t1) + 1);
      for (let i = i0; i < i1; i++) {
        const full = (T[i + 1] - T[i]) * scale, shown = Y[i + 1] - Y[i];
        if (full > shown * 1.5 && shown >= CAP - 0.5) {
          const a = Y[i] - Y0, b = Y[i + 1] - Y0;
          out.push("<rect class=\"quiet\" x=\"" + LEFT + "\" y=\"" + (a + 6) + "\" width=\"" + (w - LEFT) + "\" height=\"" + (b - a - 12) + "\"/>");
          out.push("<text class=\"quiet-text\" x=\"" + (LEFT + 6) + "\" y=\"" + ((a + b) / 2 + 4) + "\">⋯ " + dur(T[i + 1] - T[i]) + " without events ⋯</text>");
        }
      }
    }
    // Fault bands: a column each in the gutter, a faint tint over the lanes.
    if (!hiddenCats.has("faults")) {
      D.faults.forEach((f, i) => {
        const end = f[2] >= 0 ? f[2] : END;
        if (end < t0 || f[1] > t1 || faultCol[i] >= 12) return;
        const a = y(f[1]) - Y0, b = Math.max(y(end) - Y0, a + 3);
        const x = gutterX + faultCol[i] * 12;
        const title = "<title>plan entry #" + f[0] + ": " + esc(texts[f[3]]) + (f[2] >= 0 ? "\nundone at t=" + fmt(f[2]) : "") + "</title>";
        out.push("<rect class=\"band-tint\" x=\"" + LEFT + "\" y=\"" + a + "\" width=\"" + (gutterX - LEFT) + "\" height=\"" + (b - a) + "\"/>");
        out.push("<g class=\"band\">" + title + "<rect x=\"" + x + "\" y=\"" + a + "\" width=\"9\" height=\"" + (b - a) + "\"/>" +
          "<text x=\"" + (x + 1) + "\" y=\"" + (Math.max(a, 0) + 10) + "\">" + f[0] + "</text></g>");
      });
    }
    // Messages left out of the page (outside the detail window), counted.
    if (D.elided.length) {
      const most = Math.max(...D.elided);
      const b0 = Math.max(0, Math.floor(t0 / D.bucket)), b1 = Math.min(D.elided.length - 1, Math.floor(t1 / D.bucket));
      for (let b = b0; b <= b1; b++) {
        const n = D.elided[b];
        if (!n) continue;
        const a = y(b * D.bucket) - Y0, e = Math.max(y((b + 1) * D.bucket) - Y0, a + 1);
        out.push("<rect class=\"elided\" x=\"" + (LEFT - 12) + "\" y=\"" + a.toFixed(1) + "\" width=\"8\" height=\"" + (e - a).toFixed(1) +
          "\" style=\"opacity:" + (0.15 + 0.85 * n / most).toFixed(2) + "\"><title>" + n + " messages between t=" + fmt(b * D.bucket) + " and t=" + fmt((b + 1) * D.bucket) +
          " are left out (the page draws every message from t=" + fmt(D.detail[0]) + " to t=" + fmt(D.detail[1]) + "); trace-view --from " + (b * D.bucket / 1e6).toFixed(3) + " --to " + ((b + 1) * D.bucket / 1e6).toFixed(3) + " draws them</title></rect>");
      }
    }
    // Lanes, with down and paused stretches.
    lanes.forEach((_, lane) => {
      if (laneX[lane] === undefined) return;
      out.push("<line class=\"lane\" x1=\"" + laneX[lane] + "\" x2=\"" + laneX[lane] + "\" y1=\"0\" y2=\"" + h + "\"/>");
    });
    for (const iv of D.intervals) {
      const x = laneX[iv[0]];
      if (x === undefined || iv[2] < t0 || iv[1] > t1) continue;
      const a = y(iv[1]) - Y0, b = Math.max(y(iv[2]) - Y0, a + 2);
      out.push("<rect class=\"" + (iv[3] ? "paused" : "down") + "\" x=\"" + (x - 7) + "\" y=\"" + a + "\" width=\"14\" height=\"" + (b - a) + "\"><title>" +
        lanes[iv[0]] + (iv[3] ? " paused" : " down") + " from t=" + fmt(iv[1]) + " to t=" + fmt(iv[2]) + "</title></rect>");
    }
    // Messages.
    let drawn = 0, inView = 0;
    const showOk = !hiddenCats.has("delivered"), showDrop = !hiddenCats.has("dropped"), showCopies = !hiddenCats.has("copies and corruption");
    const first = Math.max(0, search(S, t0 - maxDur - 1));
    const visible = i => {
      if (E[i] < t0 && OUT[i] !== 1) return false;
      if (laneX[SRC[i]] === undefined || laneX[DST[i]] === undefined || hiddenKinds.has(TY[i])) return false;
      if (OUT[i] >= 2 ? !showDrop : !showOk) return false;
      return !(FL[i] & 7 && !showCopies);
    };
    for (let i = first; i < N && S[i] <= t1; i++) if (visible(i)) inView++;
    // Too many to draw one by one: an even sample, with every drop, copy and highlighted message.
    const stride = Math.ceil(inView / MAX_ARROWS);
    let seen = 0;
    for (let i = first; i < N && S[i] <= t1; i++) {
      if (!visible(i)) continue;
      if (seen++ % stride !== 0 && OUT[i] < 2 && !FL[i] && !linked(i)) continue;
      const xs = laneX[SRC[i]], xd = laneX[DST[i]];
      const dropped = OUT[i] >= 2;
      drawn++;
      let cls = "m " + (dropped ? "drop" : OUT[i] === 1 ? "flight" : "ok");
      if (FL[i] & 1) cls += " dup";
      if (FL[i] & 2) cls += " bad";
      if (FL[i] & 4) cls += " replay";
      if (FL[i] & 8) cls += " held";
      if (FL[i] & 16) cls += " re";
      if (linked(i)) cls += " linked";
      const y1 = y(S[i]) - Y0;
      let y2 = (OUT[i] === 1 ? y(END) : y(E[i])) - Y0, x2 = xd;
      const what = dropped ? "dropped (" + D.dropReasons[OUT[i] - 2] + ")" : OUTCOME[OUT[i]];
      let title = D.kinds[TY[i]] + ", " + LEN[i] + " B: " + esc(lanes[SRC[i]]) + " → " + esc(lanes[DST[i]]) +
        "\nsent t=" + fmt(S[i]) + (OUT[i] === 1 ? ", still in flight at the end" : ", " + what + " at t=" + fmt(E[i]) + " (after " + dur(E[i] - S[i]) + ")");
      if (FL[i] & 1) title += "\na duplicate made by the link";
      if (FL[i] & 2) title += "\ncorrupted by a Byzantine link";
      if (FL[i] & 4) title += "\nan old datagram replayed by a Byzantine link";
      if (FL[i] & 8) title += "\nheld by a clog";
      if (FL[i] & 16) title += "\na retransmission";
      let shape;
      if (SRC[i] === DST[i]) {
        const bend = Math.min(laneW * 0.35, 30);
        shape = "<path d=\"M" + xs + "," + y1 + " C" + (xs + bend) + "," + y1 + " " + (xs + bend) + "," + y2 + " " + xs + "," + y2 + "\" marker-end=\"url(#ah)\"/>";
      } else {
        if (dropped && y2 - y1 < 6) { // lost at once: a short stub toward the target
          x2 = xs + (xd - xs) * 0.3; y2 = y1 + 6;
        }
        shape = "<line x1=\"" + xs + "\" y1=\"" + y1.toFixed(1) + "\" x2=\"" + x2.toFixed(1) + "\" y2=\"" + y2.toFixed(1) + "\"" + (dropped ? "" : " marker-end=\"url(#ah)\"") + "/>";
      }
      if (dropped) shape += "<text class=\"x\" x=\"" + x2.toFixed(1) + "\" y=\"" + (y2 + 4).toFixed(1) + "\">✕</text>";
      out.push("<g class=\"" + cls + "\"><title>" + title + "</title>" + shape + "</g>");
    }
    // Marks on the lanes.
    for (let i = Math.max(0, search(markT, t0)); i < D.marks.length && D.marks[i][0] <= t1; i++) {
      const m = D.marks[i], x = laneX[m[1]];
      if (x === undefined || m[0] < t0 || hiddenCats.has(markCat(m[2]))) continue;
      const my = yy(m[0]), kind = D.markKinds[m[2]];
      const title = "<title>t=" + fmt(m[0]) + " " + esc(lanes[m[1]]) + ": " + esc(kind) + (texts[m[3]] ? "\n" + esc(texts[m[3]]) : "") + "</title>";
      let g;
      switch (m[2]) {
        case 0: g = "<text class=\"glyph crash\" x=\"" + x + "\" y=\"" + (+my + 6) + "\">✖</text>"; break;
        case 1: g = "<circle class=\"restart\" cx=\"" + x + "\" cy=\"" + my + "\" r=\"6\"/>"; break;
        case 2: case 3: g = "<rect class=\"pause\" x=\"" + (x - 6) + "\" y=\"" + (my - 3) + "\" width=\"12\" height=\"6\"/>"; break;
        case 4: g = "<path class=\"clock\" d=\"M" + x + "," + (my - 6) + " l6,6 l-6,6 l-6,-6 z\"/>"; break;
        case 5: g = "<text class=\"glyph panic\" x=\"" + x + "\" y=\"" + (+my + 6) + "\">⚠</text>"; break;
        case 10: g = "<path class=\"diskfault\" d=\"M" + (x - 5) + "," + my + " l5,-5 l5,5 l-5,5 z\"/>"; break;
        case 11: g = "<line class=\"sync\" x1=\"" + (x - 5) + "\" x2=\"" + (x + 5) + "\" y1=\"" + my + "\" y2=\"" + my + "\"/>"; break;
        case 12: g = "<rect class=\"diskcrash\" x=\"" + (x - 4) + "\" y=\"" + (my - 4) + "\" width=\"8\" height=\"8\"/>"; break;
        default: g = "<circle class=\"dot k" + m[2] + "\" cx=\"" + x + "\" cy=\"" + my + "\" r=\"3.5\"/>";
      }
      out.push("<g class=\"mark\">" + title + g + "</g>");
    }
    // Client operations, beside their node's lane.
    if (!hiddenCats.has("history")) {
      for (let i = 0; i < D.ops.length; i++) {
        const o = D.ops[i], x = laneX[o[0]];
        if (x === undefined) continue;
        const end = o[2] >= 0 ? o[2] : END;
        if (end < t0 || o[1] > t1) continue;
        const a = y(o[1]) - Y0, b = Math.max(y(end) - Y0, a + 3);
        const label = texts[o[4]];
        const cls = "op " + o[3] + (o[7] ? " culprit" : "");
        const title = "<title>op " + o[5] + " of client " + o[6] + ": " + esc(label) + "\ncalled at t=" + fmt(o[1]) +
          (o[2] >= 0 ? ", " + o[3] + " at t=" + fmt(o[2]) : ", never returned") + (o[7] ? "\nthe failure names it: it cannot be linearized" : "") + "</title>";
        let g = "<rect x=\"" + (x + 9) + "\" y=\"" + a.toFixed(1) + "\" width=\"7\" height=\"" + (b - a).toFixed(1) + "\" rx=\"2\"/>";
        if (o[7] || b - a > 14) g += "<text x=\"" + (x + 19) + "\" y=\"" + (Math.max(a, 0) + 11).toFixed(1) + "\">" + esc(label) + "</text>";
        out.push("<g class=\"" + cls + "\" data-op=\"" + i + "\">" + title + g + "</g>");
      }
    }
    // The failure.
    if (D.failure && D.failure[0] >= t0 && D.failure[0] <= t1) {
      const fy = yy(D.failure[0]);
      out.push("<g class=\"failure\"><title>" + esc(D.failure[2]) + "</title><line x1=\"" + LEFT + "\" x2=\"" + w + "\" y1=\"" + fy + "\" y2=\"" + fy + "\"/>" +
        "<text x=\"" + (LEFT + 4) + "\" y=\"" + (fy - 5) + "\">failed at t=" + fmt(D.failure[0]) + ": " + esc(D.failure[2].split("\n")[0].slice(0, 140)) + "</text></g>");
    }
    svg.innerHTML = out.join("");
    const pos = document.getElementById("position");
    pos.textContent = "t=" + fmt(Math.max(0, t0)) + " … " + fmt(Math.min(END, t1)) + (inView > drawn ? " — " + drawn + " of " + inView + " messages drawn (an even sample, every drop and copy): zoom in for all" : "");
  }

  // ----- zoom, pan, windows -----
  const SPACE_MAX = 3e7;
  function relayout() {
    layoutTime();
    spacer.style.height = total() + "px";
  }
  function zoomBy(f, anchor) {
    const t = tAt(scroller.scrollTop + anchor);
    scale = Math.min(scale * f, SPACE_MAX / Math.max(1, END));
    scale = Math.max(scale, 1e-9);
    relayout();
    scroller.scrollTop = y(t) - anchor;
    draw();
  }
  function show(a, b) {
    const h = scroller.clientHeight;
    scale = Math.min(Math.max(h * 0.9 / Math.max(1, b - a), 1e-9), SPACE_MAX / Math.max(1, END));
    relayout();
    scroller.scrollTop = y(a) - h * 0.05;
    draw();
  }
  document.getElementById("zoom-in").onclick = () => zoomBy(2, scroller.clientHeight / 2);
  document.getElementById("zoom-out").onclick = () => zoomBy(0.5, scroller.clientHeight / 2);
  document.getElementById("show-window").onclick = () => show(D.window[0], D.window[1]);
  document.getElementById("show-all").onclick = () => show(0, END);
  document.getElementById("compress").onchange = e => {
    const t = tAt(scroller.scrollTop);
    compress = e.target.checked; relayout(); scroller.scrollTop = y(t); draw();
  };
  scroller.addEventListener("wheel", e => {
    if (!e.ctrlKey) return;
    e.preventDefault();
    zoomBy(e.deltaY < 0 ? 1.25 : 0.8, e.clientY - scroller.getBoundingClientRect().top);
  }, { passive: false });
  let pending = false;
  scroller.addEventListener("scroll", () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; draw(); });
  });
  window.addEventListener("resize", () => { layoutLanes(); draw(); });

  if (!D.failure) {
    const b = document.getElementById("show-window");
    b.textContent = "first window";
    b.title = D.faults.length ? "a second from just before the first fault" : "the first second";
  }
  buildFilters();
  layoutLanes();
  // The address picks the first window: `#all`, or `#2.5-3.1` (seconds).
  const wanted = /^#(?:(all)|([\d.]+)-([\d.]+))$/.exec(location.hash);
  if (wanted && wanted[1]) show(0, END);
  else if (wanted) show(+wanted[2] * 1e6, +wanted[3] * 1e6);
  else show(D.window[0], D.window[1]);
  document.body.dataset.ready = "1";
  // When the first window was drawn, from the start of navigation (for measurements).
  document.body.dataset.drawnMs = String(Math.round(performance.now()));
})();

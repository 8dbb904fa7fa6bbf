/* The planner's workspace (GET /workspace): propose, edit and compare camera and garita plans
 * on the map. The "Tipo" switch chooses cameras (demand: the crime points) or garitas (demand
 * along the shore, drawn from /workspace/shore; coverage measured along it); switching starts a
 * new proposal.
 *
 * Every edit (add by click, drag, remove, lock, exclude a site or an area, retire an existing
 * camera) posts the proposal to /workspace/evaluate and redraws the panel with the exact
 * coverage. "Completar el plan" posts /workspace/complete and polls /jobs/{id}; scenarios are
 * saved, listed and compared through /workspace/scenarios. The API key typed in the page is
 * kept in sessionStorage and sent as X-API-Key. No CDN: Leaflet and Leaflet.draw (which draws
 * the excluded areas) come from /workspace/static/web, vendored from npm.
 */
(function () {
  "use strict";
  const params = new URLSearchParams(window.location.search);
  const lang = params.get("lang") === "en" ? "en" : "es";
  const level = params.get("level");
  const locale = lang === "en" ? "en-US" : "es-CO";
  const num = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
  const pct = new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 1 });
  let words = {};
  const t = (code) => (words[code] ? words[code][lang] : code);

  //: the radius each kind starts with (metres): a camera's useful range, a garita's reach along the shore
  const RADIUS = { cameras: 100, garitas: 500 };
  const state = { kind: "cameras", sites: [], retired: new Set(), excludeAreas: [], excludeSites: [], mode: "add", seq: 0 };
  const $ = (id) => document.getElementById(id);
  const keyInput = $("key");
  keyInput.value = sessionStorage.getItem("geoprio-key") || "";
  keyInput.addEventListener("change", () => {
    sessionStorage.setItem("geoprio-key", keyInput.value.trim());
    loadFacilities();
    refreshScenarios();
    evaluate();
  });

  const map = L.map("map", { doubleClickZoom: false });
  // the basemap is the only thing from the network, as in geoprio's maps
  L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", { maxZoom: 19, attribution: "&copy; OpenStreetMap" }).addTo(map);
  // the background layers take no clicks: a click anywhere on the map is an edit
  const zoneLayer = L.geoJSON(null, {
    interactive: false,
    style: (f) => ({ color: "#555", weight: 1, fillOpacity: 0.35, fillColor: color(f.properties.index) }),
  }).addTo(map);
  const hotLayer = L.geoJSON(null, { interactive: false, style: { color: "#d1242f", weight: 2, fill: false } }).addTo(map);
  const shoreLayer = L.geoJSON(null, { interactive: false, style: { color: "#1f78b4", weight: 5, opacity: 0.8 } });
  const existingLayer = L.layerGroup().addTo(map);
  const siteLayer = L.layerGroup().addTo(map);
  const excludedLayer = L.layerGroup().addTo(map);
  const areaStyle = { color: "#d1242f", dashArray: "4 4", fillOpacity: 0.15 };
  const drawer = new L.Draw.Polygon(map, { shapeOptions: areaStyle, allowIntersection: false, showArea: false });
  map.setView([4.6, -74.08], 12);

  function color(v) {
    if (v === null || v === undefined) return "#eee";
    const x = Math.max(0, Math.min(1, v / 100));
    return `rgb(255, ${Math.round(235 - 160 * x)}, ${Math.round(200 - 180 * x)})`;
  }

  function showError(msg) {
    $("error").textContent = msg ? `${t("error")}: ${msg}` : "";
  }

  async function api(method, path, body) {
    const headers = { "Content-Type": "application/json" };
    const key = sessionStorage.getItem("geoprio-key") || keyInput.value.trim();
    if (key) headers["X-API-Key"] = key;
    const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (e) {
      data = text;
    }
    if (!r.ok) {
      const d = data && data.detail !== undefined ? data.detail : data;
      throw new Error(typeof d === "string" ? d : JSON.stringify(d));
    }
    return data;
  }

  function lvl(path) {
    return level ? `${path}${path.includes("?") ? "&" : "?"}level=${encodeURIComponent(level)}` : path;
  }

  function proposal() {
    return {
      kind: state.kind,
      radius_m: Number($("radius").value) || RADIUS[state.kind],
      level: level,
      // each site carries its own lock (and cost, 1 unless given); defaults are left out, to keep the body small
      sites: state.sites.map((s) => Object.assign({ lon: s.lon, lat: s.lat }, s.locked ? { locked: true } : {}, s.cost ? { cost: s.cost } : {})),
      retired: Array.from(state.retired),
      exclude_areas: state.excludeAreas,
      exclude_sites: state.excludeSites,
    };
  }

  // ------------------------------------------------------------------ layers

  async function loadLayers() {
    try {
      const zones = await api("GET", lvl("/zones?format=geojson&page_size=500"));
      zoneLayer.addData(zones);
      if (zoneLayer.getLayers().length) map.fitBounds(zoneLayer.getBounds());
    } catch (e) {
      showError(e.message);
    }
    try {
      hotLayer.addData(await api("GET", "/hotspots?format=geojson&page_size=500"));
    } catch (e) {
      /* no hot spots served: the layer stays empty */
    }
    await loadFacilities();
    document.body.dataset.ready = "1";
  }

  async function loadFacilities() {
    existingLayer.clearLayers();
    let fc;
    try {
      fc = await api("GET", lvl(`/workspace/facilities?kind=${state.kind}`));
    } catch (e) {
      return;
    }
    for (const f of fc.features) {
      const [lon, lat] = f.geometry.coordinates;
      const id = f.properties.facility_id;
      const retired = state.retired.has(id);
      const m = L.circleMarker([lat, lon], {
        radius: 6,
        color: retired ? "#999" : "#1a7f37",
        fillOpacity: retired ? 0.1 : 0.8,
        bubblingMouseEvents: false,
      });
      const button = document.createElement("button");
      button.textContent = retired ? t("restore") : t("retire");
      button.className = "ws-retire";
      button.dataset.facility = id;
      button.onclick = () => {
        if (state.retired.has(id)) state.retired.delete(id);
        else state.retired.add(id);
        map.closePopup();
        loadFacilities();
        evaluate();
      };
      m.bindPopup(button);
      m.addTo(existingLayer);
    }
  }

  async function loadShore() {
    if (shoreLayer.getLayers().length) return;
    try {
      shoreLayer.addData(await api("GET", lvl("/workspace/shore")));
    } catch (e) {
      showError(e.message);
    }
  }

  // cameras or garitas: a new proposal of that kind (sites, retirements and exclusions cleared)
  $("kind").addEventListener("change", async () => {
    state.kind = $("kind").value;
    state.sites = [];
    state.retired = new Set();
    state.excludeAreas = [];
    state.excludeSites = [];
    $("radius").value = String(RADIUS[state.kind]);
    document.body.dataset.kind = state.kind;
    if (state.kind === "garitas") {
      await loadShore();
      shoreLayer.addTo(map);
      if (shoreLayer.getLayers().length) map.fitBounds(shoreLayer.getBounds(), { animate: false });
    } else {
      map.removeLayer(shoreLayer);
    }
    await loadFacilities();
    changed();
  });

  // ------------------------------------------------------------------ the proposal on the map

  function drawSites() {
    siteLayer.clearLayers();
    state.sites.forEach((s, i) => {
      const icon = L.divIcon({ className: "", html: `<div class="ws-site${s.locked ? " locked" : ""}" data-site="${i}"></div>`, iconSize: [14, 14] });
      const m = L.marker([s.lat, s.lon], { icon, draggable: !s.locked, title: `#${i + 1}` });
      m.on("dragend", () => {
        const p = m.getLatLng();
        s.lon = p.lng;
        s.lat = p.lat;
        evaluate();
      });
      const box = document.createElement("div");
      const remove = document.createElement("button");
      remove.textContent = t("remove");
      remove.className = "ws-remove";
      remove.onclick = () => {
        state.sites.splice(i, 1);
        map.closePopup();
        changed();
      };
      const lock = document.createElement("button");
      lock.textContent = s.locked ? t("unlock") : t("lock");
      lock.className = "ws-lock";
      lock.onclick = () => {
        s.locked = !s.locked;
        map.closePopup();
        changed();
      };
      box.append(remove, " ", lock);
      m.bindPopup(box);
      m.addTo(siteLayer);
    });
  }

  function drawExcluded() {
    excludedLayer.clearLayers();
    for (const [lon, lat] of state.excludeSites) {
      L.marker([lat, lon], { icon: L.divIcon({ className: "", html: '<div class="ws-excluded"></div>', iconSize: [12, 12] }), title: t("excluded") }).addTo(excludedLayer);
    }
    for (const g of state.excludeAreas) {
      L.geoJSON(g, { interactive: false, style: areaStyle }).addTo(excludedLayer);
    }
  }

  function changed() {
    drawSites();
    drawExcluded();
    evaluate();
  }

  map.on("click", (e) => {
    const lon = e.latlng.lng;
    const lat = e.latlng.lat;
    if (state.mode === "add") {
      state.sites.push({ lon, lat, locked: false });
      changed();
    } else if (state.mode === "exclude_site") {
      state.excludeSites.push([lon, lat]);
      drawExcluded();
    } // exclude_area: Leaflet.draw takes the clicks (vertices)
  });

  map.on(L.Draw.Event.CREATED, (e) => {
    state.excludeAreas.push(e.layer.toGeoJSON().geometry);
    drawExcluded();
    if (state.mode === "exclude_area") drawer.enable(); // ready for the next area
  });

  for (const b of document.querySelectorAll("#modes button[data-mode]")) {
    b.addEventListener("click", () => {
      state.mode = b.dataset.mode;
      for (const o of document.querySelectorAll("#modes button[data-mode]")) o.classList.toggle("active", o === b);
      $("finish-area").hidden = state.mode !== "exclude_area";
      if (state.mode === "exclude_area") drawer.enable();
      else drawer.disable();
    });
  }
  // closes the polygon being drawn (as clicking its first vertex does)
  $("finish-area").addEventListener("click", () => drawer.completeShape());

  // ------------------------------------------------------------------ the panel

  function setValue(id, value, text) {
    const el = $(id);
    el.dataset.value = value === null || value === undefined ? "" : String(value);
    el.textContent = text;
  }

  async function evaluate() {
    const seq = ++state.seq;
    if (!state.sites.length) {
      setValue("covered-weight", null, "—");
      setValue("covered-share", null, "—");
      setValue("existing-share", null, "—");
      setValue("cost", 0, num.format(0));
      $("sites").tBodies[0].innerHTML = "";
      drawCurve([]);
      document.body.dataset.evaluated = String(seq);
      return;
    }
    let ev;
    try {
      ev = await api("POST", "/workspace/evaluate", proposal());
      showError("");
    } catch (e) {
      if (seq === state.seq) showError(e.message);
      return;
    }
    if (seq !== state.seq) return; // a later edit is being evaluated
    const hidden = t("hidden");
    setValue("covered-weight", ev.covered_weight, ev.covered_weight === null ? hidden : num.format(ev.covered_weight));
    setValue("covered-share", ev.covered_share, pct.format(ev.covered_share));
    setValue("existing-share", ev.existing_share, pct.format(ev.existing_share));
    setValue("cost", ev.cost, num.format(ev.cost));
    const body = $("sites").tBodies[0];
    body.innerHTML = "";
    for (const s of ev.sites) {
      const tr = document.createElement("tr");
      const cells = [
        `${s.i + 1}${s.locked ? " (" + t("locked") + ")" : ""}`,
        s.gain_weight === null ? "—" : num.format(s.gain_weight),
        s.unique_weight === null ? "—" : num.format(s.unique_weight),
        s.gain_share === null ? "" : pct.format(s.gain_share),
      ];
      for (const c of cells) {
        const td = document.createElement("td");
        td.textContent = c;
        tr.append(td);
      }
      body.append(tr);
    }
    drawCurve(ev.curve);
    document.body.dataset.evaluated = String(seq);
  }

  function drawCurve(curve) {
    const svg = $("curve");
    svg.innerHTML = "";
    const ns = "http://www.w3.org/2000/svg";
    const axes = document.createElementNS(ns, "path");
    axes.setAttribute("d", "M30 10 V100 H290");
    axes.setAttribute("stroke", "#888");
    axes.setAttribute("fill", "none");
    svg.append(axes);
    if (curve.length < 1) return;
    const n = Math.max(1, curve.length - 1);
    const pts = curve.map((v, k) => `${(30 + (260 * k) / n).toFixed(1)},${(100 - 90 * v).toFixed(1)}`);
    const line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", pts.join(" "));
    line.setAttribute("stroke", "#1f6feb");
    line.setAttribute("stroke-width", "2");
    line.setAttribute("fill", "none");
    line.setAttribute("data-points", String(curve.length));
    svg.append(line);
    const label = document.createElementNS(ns, "text");
    label.setAttribute("x", "34");
    label.setAttribute("y", "16");
    label.setAttribute("font-size", "11");
    label.textContent = pct.format(curve[curve.length - 1]);
    svg.append(label);
  }

  // ------------------------------------------------------------------ complete the plan

  $("complete").addEventListener("click", async () => {
    const status = $("complete-status");
    status.dataset.status = "running";
    status.textContent = t("solving");
    try {
      const job = await api("POST", "/workspace/complete", { ...proposal(), p: Number($("p").value) || 1 });
      let info = job;
      while (!["done", "failed", "cancelled"].includes(info.status)) {
        await new Promise((r) => setTimeout(r, 500));
        info = await api("GET", `/jobs/${job.id}`);
      }
      if (info.status !== "done") throw new Error(info.error || info.status);
      const plan = await api("GET", `/plans/${job.id}`);
      const kept = state.sites.filter((s) => s.locked);
      const added = plan.sites.features
        .filter((f) => f.properties.estado === "nueva")
        .map((f) => ({ lon: f.geometry.coordinates[0], lat: f.geometry.coordinates[1], locked: false }));
      state.sites = [...kept, ...added];
      const s = plan.summary;
      status.dataset.status = "done";
      status.dataset.job = job.id;
      status.textContent = `${t("bound")}: ${s.bound === null ? "—" : num.format(s.bound)} · ${t("gap")}: ${s.gap === null ? "—" : pct.format(s.gap)}`;
      changed();
    } catch (e) {
      status.dataset.status = "failed";
      status.textContent = "";
      showError(e.message);
    }
  });

  // ------------------------------------------------------------------ scenarios

  async function refreshScenarios() {
    let list = [];
    try {
      list = await api("GET", "/workspace/scenarios");
    } catch (e) {
      return;
    }
    for (const id of ["scenario-a", "scenario-b"]) {
      const sel = $(id);
      sel.innerHTML = "";
      for (const sc of list) {
        const o = document.createElement("option");
        o.value = sc.id;
        o.textContent = sc.name;
        sel.append(o);
      }
    }
    if (list.length > 1) $("scenario-b").value = list[list.length - 1].id;
    document.body.dataset.scenarios = String(list.length);
  }

  $("save").addEventListener("click", async () => {
    const name = $("scenario-name").value.trim() || new Date().toISOString();
    try {
      await api("POST", "/workspace/scenarios", { name, proposal: { ...proposal(), level: level } });
      await refreshScenarios();
    } catch (e) {
      showError(e.message);
    }
  });

  $("compare").addEventListener("click", async () => {
    try {
      const c = await api("GET", `/workspace/scenarios/compare?a=${$("scenario-a").value}&b=${$("scenario-b").value}`);
      const out = $("comparison");
      out.innerHTML = "";
      const rows = [
        [c.a.name, pct.format(c.a.covered_share), `${t("cost")} ${num.format(c.a.cost)}`],
        [c.b.name, pct.format(c.b.covered_share), `${t("cost")} ${num.format(c.b.cost)}`],
        [t("added"), String(c.added.length), ""],
        [t("removed"), String(c.removed.length), ""],
      ];
      const table = document.createElement("table");
      for (const r of rows) {
        const tr = document.createElement("tr");
        for (const v of r) {
          const td = document.createElement("td");
          td.textContent = v;
          tr.append(td);
        }
        table.append(tr);
      }
      out.append(table);
      out.dataset.added = String(c.added.length);
      out.dataset.removed = String(c.removed.length);
      out.dataset.shareA = String(c.a.covered_share);
      out.dataset.shareB = String(c.b.covered_share);
    } catch (e) {
      showError(e.message);
    }
  });

  // ------------------------------------------------------------------ start

  async function start() {
    document.documentElement.lang = lang;
    try {
      words = await api("GET", "/workspace/static/labels.json");
    } catch (e) {
      words = {};
    }
    for (const el of document.querySelectorAll("[data-label]")) el.textContent = t(el.dataset.label);
    document.title = t("title");
    drawCurve([]);
    await loadLayers();
    await refreshScenarios();
  }

  window.workspace = { map, state, evaluate, changed };
  start();
})();

// ganimate studio: the page. Plain JavaScript, no build step; every edit is done by the server
// (the same library calls as the CLI), the page only sends slider values and shows results.
"use strict";

const $ = (id) => document.getElementById(id);
const round2 = (v) => Math.round(v * 100) / 100;
const COLOURS = ["#5aa9ff", "#ff8a5a", "#7ee07e", "#f2c84b", "#d78cff", "#4be0d0", "#ff6b9a",
  "#b0c4ff", "#c9e265", "#ffb3a7", "#8fd3ff", "#e0a84b"];
const studio = { aus: [], timings: [], busy: 0 };
window.studio = studio; // read by the browser tests: timings, busy

// --- talking to the server -------------------------------------------------------------------

function showError(message) {
  const box = $("error");
  box.textContent = message || "";
  box.hidden = !message;
}

// A tab's note of what the engine warned of (a stand-in model, AUs it leaves out), as the
// terminal shows it; hidden when the last answer had none.
function showWarnings(tab, warnings) {
  const note = $(`${tab}-warnings`);
  note.textContent = (warnings || []).join("\n");
  note.hidden = !note.textContent;
}

// Keys typed into a field that takes text are text; a slider, a box or a button takes none.
const TEXT_INPUTS = ["text", "number", "search", "email", "url", "tel", "password"];
function typing(el) {
  if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
  return el.tagName === "INPUT" && TEXT_INPUTS.includes(el.type);
}

// "working…" in the header while a request has been out for more than 0.3 s (an engine
// loading, a long clip's frame).
function busy(delta) {
  studio.busy += delta;
  clearTimeout(studio.busyTimer);
  if (studio.busy === 0) $("working").hidden = true;
  else studio.busyTimer = setTimeout(() => { $("working").hidden = studio.busy === 0; }, 300);
}

async function call(path, body, raw) {
  busy(1);
  try {
    // Every POST carries the page's header: the server refuses requests from other sites.
    const headers = { "X-Ganimate-Studio": "1" };
    const options = raw
      ? { method: "POST", body: raw, headers }
      : body === undefined
        ? { method: "GET" }
        : { method: "POST", body: JSON.stringify(body), headers: { ...headers, "Content-Type": "application/json" } };
    const response = await fetch(path, options);
    const data = await response.json();
    if (data.error) throw new Error(data.error);
    return data;
  } finally {
    busy(-1);
  }
}

// Calls fn with the newest state only: while one request is out, later changes wait, and only
// the last of them is sent when it returns (a dragged slider never queues a backlog). Every
// caller's promise settles once the newest state has been shown; a failed run shows its error
// (and calls onError) without dropping the changes that came after it.
function latest(fn, onError) {
  let running = null, again = false;
  return () => {
    if (running) { again = true; return running; }
    running = (async () => {
      try {
        do {
          again = false;
          try { await fn(); } catch (err) { showError(err.message); if (onError) onError(err); }
        } while (again);
      } finally {
        running = null;
      }
    })();
    return running;
  };
}

function download(url) {
  const a = document.createElement("a");
  a.href = url;
  a.download = url.split("/").pop();
  document.body.appendChild(a);
  a.click();
  a.remove();
}

async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch (err) {
    const area = document.createElement("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  const label = button.textContent;
  button.textContent = "Copied";
  setTimeout(() => { button.textContent = label; }, 1200);
}

function upload(path, file) {
  return call(`${path}?name=${encodeURIComponent(file.name)}`, undefined, file);
}

function dropTarget(stage, onFile) {
  stage.addEventListener("dragover", (e) => { e.preventDefault(); stage.classList.add("over"); });
  stage.addEventListener("dragleave", () => stage.classList.remove("over"));
  stage.addEventListener("drop", (e) => {
    e.preventDefault();
    stage.classList.remove("over");
    if (e.dataTransfer.files.length) onFile(e.dataTransfer.files[0]);
  });
}

// --- AU sliders, grouped as FACS groups them -------------------------------------------------

class Sliders {
  constructor(container, onInput) {
    this.inputs = {};
    this.touched = new Set();
    const groups = { upper: "Upper face", lower: "Lower face", extra: "More (the warp's scanned AUs)" };
    for (const [key, title] of Object.entries(groups)) {
      const set = document.createElement("fieldset");
      set.innerHTML = `<legend>${title}</legend>`;
      if (key === "extra") set.classList.add("extra");
      for (const au of studio.aus.filter((a) => (a.extra ? "extra" : a.group) === key)) {
        const row = document.createElement("label");
        row.className = "slider";
        row.innerHTML = `<span title="${au.name}: ${au.label}">${au.name} ${au.label}</span>` +
          `<input type="range" step="0.01" data-au="${au.name}"><output>0.00</output>`;
        const input = row.querySelector("input");
        input.addEventListener("input", () => {
          this.touched.add(au.name);
          this.show(au.name);
          onInput(au.name);
        });
        this.inputs[au.name] = input;
        set.appendChild(row);
      }
      container.appendChild(set);
    }
    this.range(0, 1);
  }
  range(min, max) {
    for (const input of Object.values(this.inputs)) { input.min = min; input.max = max; }
  }
  show(name) {
    const input = this.inputs[name];
    input.nextElementSibling.textContent = Number(input.value).toFixed(2);
    input.parentElement.classList.toggle("touched", this.touched.has(name));
  }
  value(name) { return round2(Number(this.inputs[name].value)); }
  // Sets the sliders from AU values by name (missing names: fill); clears the touched marks.
  set(values, fill = 0) {
    this.touched.clear();
    for (const name of Object.keys(this.inputs)) {
      this.inputs[name].value = values[name] ?? fill;
      this.show(name);
    }
  }
  // Shows values on the sliders not moved since the last set (they follow the edit's target).
  rest(values) {
    for (const name of Object.keys(this.inputs)) {
      if (this.touched.has(name) || !(name in values)) continue;
      this.inputs[name].value = values[name];
      this.show(name);
    }
  }
  // Greys out the sliders of AUs the engine lacks, back at their rest value (fill, or 0).
  only(names, fill) {
    for (const [name, input] of Object.entries(this.inputs)) {
      input.disabled = !names.includes(name);
      if (input.disabled && this.touched.delete(name)) {
        input.value = fill[name] ?? 0;
        this.show(name);
      }
    }
  }
  values(names) {
    const out = {};
    for (const name of names) out[name] = this.value(name);
    return out;
  }
}

const byName = (names, values) => Object.fromEntries(names.map((n, i) => [n, values[i]]));

function fillSelect(select, items, keepFirst = false) {
  if (!keepFirst) select.innerHTML = "";
  for (const item of items) select.add(new Option(item, item));
}

// --- the photo tab ---------------------------------------------------------------------------

// own: the face's AUs; target: what the edit sets them to (both of the first edited face).
const photo = { info: null, own: {}, target: {}, showBefore: false, editedImage: null };

function photoRequest() {
  const mode = absoluteMode() ? "absolute" : "relative";
  const face = $("photo-face").value;
  const aus = {};
  for (const [name, input] of Object.entries(photo.sliders.inputs)) {
    const v = photo.sliders.value(name);
    if (!input.disabled && (mode === "absolute" ? photo.sliders.touched.has(name) : v !== 0)) aus[name] = v;
  }
  return { engine: $("photo-engine").value, preset: $("photo-preset").value || null,
           strength: Number($("photo-strength").value), mode, aus,
           face: face === "" ? null : Number(face) };
}

const photoEdit = latest(async () => {
  if (!photo.info) return;
  const started = performance.now();
  const data = await call("/api/photo/edit", photoRequest());
  photo.editedImage = data.image;
  await showImage($("photo-img"), photo.showBefore ? photo.info.original : data.image);
  const roundTrip = performance.now() - started;
  studio.timings.push(roundTrip);
  $("photo-timing").textContent = `edit ${data.ms.toFixed(0)} ms, round trip ${roundTrip.toFixed(0)} ms`;
  showCommand("photo", data.command, "nothing to change yet: move a slider or pick a preset");
  photo.own = byName(data.au_names, data.own);
  photo.target = byName(data.au_names, data.target);
  // Absolute sliders show what the edit sets: with a preset, its values, not the face's own.
  if (absoluteMode()) photo.sliders.rest(photo.target);
  photo.sliders.only(data.au_names, absoluteMode() ? photo.target : {});
  drawFaces(data.edited);
  showWarnings("photo", data.warnings);
  showError("");
}, () => {
  showCommand("photo", "", "no command: the edit failed (see the error above)");
  showWarnings("photo", []);
});

const absoluteMode = () => document.querySelector("input[name=photo-mode]:checked").value === "absolute";

// The command box of a tab: the line, or why there is none (Copy and Download then do nothing).
function showCommand(tab, command, why) {
  const box = $(`${tab}-cmd`);
  box.textContent = command || why;
  box.classList.toggle("empty", !command);
  $(`${tab}-copy`).disabled = !command;
  if (tab === "photo") $("photo-download").disabled = !command;
}

function showImage(img, src) {
  return new Promise((resolve) => {
    if (img.src === src) { resolve(); return; }
    img.onload = () => resolve();
    img.onerror = () => resolve();
    img.src = src;
  });
}

function drawFaces(edited) {
  const svg = $("photo-faces");
  const { width, height, faces } = photo.info;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.innerHTML = "";
  faces.forEach(([x0, y0, x1, y1], i) => {
    const rect = document.createElementNS("http://www.w3.org/2000/svg", "rect");
    Object.entries({ x: x0, y: y0, width: x1 - x0, height: y1 - y0 }).forEach(([k, v]) => rect.setAttribute(k, v));
    rect.classList.toggle("chosen", $("photo-face").value !== "" && edited.includes(i));
    rect.addEventListener("click", (e) => { e.stopPropagation(); chooseFace(String(i)); });
    const label = document.createElementNS("http://www.w3.org/2000/svg", "text");
    label.setAttribute("x", x0 + 4);
    label.setAttribute("y", y0 - 6);
    label.setAttribute("font-size", Math.max(14, (y1 - y0) / 8));
    label.textContent = i;
    svg.append(rect, label);
  });
}

function chooseFace(value) {
  $("photo-face").value = value;
  if (absoluteMode()) photo.sliders.touched.clear();
  photoEdit().then(() => setAbsoluteSliders());
}

function setAbsoluteSliders() {
  if (absoluteMode()) photo.sliders.set(photo.target);
}

// The name beside a tab's file input: what the tab shows (the input itself is cleared after
// every upload, so it never names a file that did not open).
function showLoaded(tab, info) {
  $(`${tab}-name`).textContent = info ? info.title : "none yet";
}

function photoOpened(info) {
  photo.info = info;
  showLoaded("photo", info);
  $("photo-hint").hidden = true;
  const face = $("photo-face");
  face.innerHTML = '<option value="">all faces</option>';
  info.faces.forEach((_, i) => face.add(new Option(`face ${i}`, String(i))));
  photo.sliders.set({});
  return photoEdit().then(() => setAbsoluteSliders());
}

// A file from either tab's input or drop zone: the server says whether it is a photo or a clip,
// and the page shows it in its tab.
async function openFile(file) {
  for (const id of ["photo-file", "clip-file"]) $(id).value = "";
  try {
    const data = await upload("/api/open", file);
    showTab(data.kind === "photo" ? "photo" : "clip");
    await (data.kind === "photo" ? photoOpened(data.photo) : clipOpened(data.video));
  } catch (err) {
    // the tab goes on with what it had: say which file that is (edits apply to it)
    const shown = $("photo").hidden ? clip.info : photo.info;
    showError(shown ? `${err.message} (still showing ${shown.title})` : err.message);
  }
}

function setupPhoto() {
  photo.sliders = new Sliders($("photo-sliders"), () => photoEdit());
  photo.sliders.range(-1, 1);
  $("photo-file").addEventListener("change", (e) => e.target.files[0] && openFile(e.target.files[0]));
  dropTarget($("photo-stage"), openFile);
  for (const id of ["photo-engine", "photo-preset"]) $(id).addEventListener("change", () => photoEdit());
  $("photo-face").addEventListener("change", (e) => chooseFace(e.target.value));
  // A click beside every face box (on the overlay) edits every face again.
  $("photo-faces").addEventListener("click", () => { if (photo.info && $("photo-face").value !== "") chooseFace(""); });
  $("photo-strength").addEventListener("input", (e) => {
    $("photo-strength-out").textContent = Number(e.target.value).toFixed(2);
    if ($("photo-preset").value) photoEdit();
  });
  document.querySelectorAll("input[name=photo-mode]").forEach((radio) => radio.addEventListener("change", () => {
    const absolute = radio.value === "absolute";
    photo.sliders.range(absolute ? 0 : -1, 1);
    if (absolute) photo.sliders.set(photo.own); else photo.sliders.set({});
    photoEdit();
  }));
  $("photo-reset").addEventListener("click", () => {
    photo.sliders.set(absoluteMode() ? photo.own : {});
    $("photo-preset").value = "";
    photoEdit();
  });
  const toggleBefore = () => {
    if (!photo.info || !photo.editedImage) return;
    photo.showBefore = !photo.showBefore;
    $("photo-before").textContent = photo.showBefore ? "After" : "Before";
    $("photo-img").src = photo.showBefore ? photo.info.original : photo.editedImage;
  };
  $("photo-before").addEventListener("click", toggleBefore);
  document.addEventListener("keydown", (e) => {
    if (e.key === "b" && !$("photo").hidden && !typing(e.target) && !e.ctrlKey && !e.metaKey && !e.altKey) toggleBefore();
  });
  $("photo-download").addEventListener("click", async () => {
    try {
      const data = await call("/api/photo/download", photoRequest());
      $("photo-cmd").textContent = data.command;
      download(data.url);
    } catch (err) { showError(err.message); }
  });
  $("photo-copy").addEventListener("click", (e) => copyText($("photo-cmd").textContent, e.target));
}

// --- the clip tab ----------------------------------------------------------------------------

const clip = { info: null, keys: [], target: {} };

function clipTime() { return Number($("scrub").value) / clip.info.fps; }

function keyedNames() {
  const names = new Set();
  for (const key of clip.keys) Object.keys(key.aus).forEach((n) => names.add(n));
  return names;
}

function clipRequest(keys) {
  return { engine: $("clip-engine").value, keys: keys ?? clip.keys };
}

// What the sliders ask now, held over the whole clip (the preview of a keyframe not yet added).
function liveKey() {
  const names = new Set([...keyedNames(), ...clip.sliders.touched]);
  return { time: 0, alpha: Number($("clip-alpha").value), easing: "linear",
           aus: clip.sliders.values([...names]) };
}

const clipPreview = latest(async () => {
  if (!clip.info) return;
  const live = clip.sliders.touched.size > 0 || clip.alphaTouched;
  const started = performance.now();
  const data = await call("/api/video/preview",
    { ...clipRequest(live ? [liveKey()] : clip.keys), index: Number($("scrub").value) });
  await showImage($("clip-img"), data.image);
  $("clip-time").textContent = `${clipTime().toFixed(2)} s · frame ${$("scrub").value} (0-${clip.info.frames - 1})` +
    ` · ${(performance.now() - started).toFixed(0)} ms` + (data.own ? "" : " · no face in this frame");
  clip.sliders.only(data.au_names, clip.target);
  if (data.own) {
    clip.target = byName(data.au_names, data.target);
    if (!live) {
      clip.sliders.set(clip.target);
      if (clip.keys.length) setAlpha(data.alpha);
    }
  }
  drawPlayhead();
  showWarnings("clip", data.warnings);
  showError("");
});

function setAlpha(value) {
  $("clip-alpha").value = value;
  $("clip-alpha-out").textContent = Number(value).toFixed(2);
}

function clipOpened(info, keys = []) {
  clip.info = info;
  showLoaded("clip", info);
  clip.keys = keys;
  clip.sliders.touched.clear();
  clip.alphaTouched = false;
  $("clip-hint").hidden = true;
  $("scrub").max = info.frames - 1;
  $("scrub").value = 0;
  $("clip-out").hidden = true;
  $("clip-download").hidden = true;
  $("clip-status").textContent = "";
  $("clip-progress").value = 0;
  $("curves-range").textContent = `0 to ${info.duration.toFixed(2)} s`;
  keysChanged();
  return clipPreview();
}

function addKey() {
  if (!clip.info) return;
  const key = liveKey();
  key.time = clipTime();  // the frame's own time; the table shows it to the millisecond
  key.easing = $("clip-easing").value;
  if (!Object.keys(key.aus).length) {
    showError("error: move a slider first: a keyframe holds the AUs you set");
    return;
  }
  // A keyframe at the same time is replaced: the new one keeps the AUs it did not change.
  const old = clip.keys.find((k) => Math.abs(k.time - key.time) <= 0.0005);
  if (old) key.aus = { ...old.aus, ...key.aus };
  clip.keys = clip.keys.filter((k) => k !== old);
  clip.keys.push(key);
  // AUs new in this keyframe: the earlier and later keyframes hold them at this value too, so a
  // curve starts where the others do instead of jumping.
  for (const other of clip.keys) {
    for (const [name, value] of Object.entries(key.aus)) if (!(name in other.aus)) other.aus[name] = value;
  }
  clip.sliders.touched.clear();
  clip.alphaTouched = false;
  keysChanged();
  clipPreview();
}

// The keyframes changed: the server keeps them (a reload shows them again), samples the curves
// and names the command that renders them.
const refreshCurves = latest(async () => {
  if (!clip.info) return;
  const data = await call("/api/video/keys", clipRequest());
  clip.curves = data;
  drawCurves();
  showCommand("clip", data.command, "no keyframes yet: set the sliders at a time, then Add keyframe");
}, () => showCommand("clip", "", "no command: the keyframes have an error (see above)"));

function keysChanged() {
  clip.keys.sort((a, b) => a.time - b.time);
  const body = $("keys").querySelector("tbody");
  body.innerHTML = "";
  clip.keys.forEach((key, i) => {
    const row = body.insertRow();
    row.innerHTML = `<td><input type="number" min="0" step="0.001" value="${Number(key.time.toFixed(3))}"></td>` +
      `<td><input type="number" min="0" max="1" step="0.05" value="${key.alpha}"></td>` +
      `<td><select title="${i ? "easing of the segment that ends at this keyframe" : "the first keyframe ends no segment"}"></select></td>` +
      '<td class="aus"></td><td><button class="go" title="go to this keyframe">go</button> ' +
      '<button class="delete" title="delete this keyframe">✕</button></td>';
    const [time, alpha] = row.querySelectorAll("input");
    const easing = row.querySelector("select");
    fillSelect(easing, studio.easings);
    easing.value = key.easing;
    easing.disabled = i === 0;
    const last = (clip.info.frames - 1) / clip.info.fps;
    time.addEventListener("change", () => { key.time = Math.min(last, Math.max(0, Number(time.value))); keysChanged(); clipPreview(); });
    alpha.addEventListener("change", () => { key.alpha = Math.min(1, Math.max(0, Number(alpha.value))); keysChanged(); clipPreview(); });
    easing.addEventListener("change", () => { key.easing = easing.value; keysChanged(); clipPreview(); });
    auCells(row.querySelector(".aus"), key);
    // by class: the AU cells hold buttons of their own (unkey)
    row.querySelector("button.go").addEventListener("click", () => scrubTo(key.time));
    row.querySelector("button.delete").addEventListener("click", () => {
      clip.keys.splice(i, 1);
      keysChanged();
      clipPreview();
    });
  });
  refreshCurves();
}

// A keyframe's AU values, each editable, each removable (the AU is then unkeyed there).
function auCells(cell, key) {
  for (const [name, value] of Object.entries(key.aus)) {
    const item = document.createElement("span");
    item.className = "au-value";
    item.innerHTML = `${name} <input type="number" min="0" max="1" step="0.05" value="${value}" data-au="${name}">` +
      `<button title="unkey ${name} here">✕</button>`;
    item.querySelector("input").addEventListener("change", (e) => {
      key.aus[name] = round2(Math.min(1, Math.max(0, Number(e.target.value))));
      keysChanged();
      clipPreview();
    });
    item.querySelector("button").addEventListener("click", () => {
      delete key.aus[name];
      keysChanged();
      clipPreview();
    });
    cell.appendChild(item);
  }
}

function scrubTo(seconds) {
  $("scrub").value = Math.min(clip.info.frames - 1, Math.max(0, Math.round(seconds * clip.info.fps)));
  scrubbed();
}

// The playhead moved: the sliders and amount show the keyframes' values there (the preview's
// answer), on a keyframe the side panel shows its easing; unsaved slider moves are let go.
function scrubbed() {
  const key = clip.keys.find((k) => Math.round(k.time * clip.info.fps) === Number($("scrub").value));
  if (key) $("clip-easing").value = key.easing;
  clip.sliders.touched.clear();
  clip.alphaTouched = false;
  clipPreview();
}

const X = (t) => (clip.info.duration > 0 ? (t / clip.info.duration) * 1000 : 0);
const Y = (v) => 170 - v * 160;

function drawCurves() {
  const svg = $("curves");
  const legend = $("legend");
  svg.innerHTML = "";
  legend.innerHTML = "";
  const data = clip.curves;
  const svgEl = (tag, attrs) => {
    const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
    Object.entries(attrs).forEach(([k, v]) => el.setAttribute(k, v));
    svg.appendChild(el);
    return el;
  };
  for (const v of [0, 0.5, 1]) svgEl("line", { x1: 0, x2: 1000, y1: Y(v), y2: Y(v), stroke: "#2a2e37" });
  if (data && data.times.length) {
    const line = (values) => data.times.map((t, i) => `${X(t).toFixed(1)},${Y(values[i]).toFixed(1)}`).join(" ");
    svgEl("polyline", { points: line(data.alpha), fill: "none", stroke: "#9aa1ae", "stroke-dasharray": "6 4",
                        "stroke-width": 2, "vector-effect": "non-scaling-stroke", class: "curve-alpha" });
    legend.innerHTML = '<span><i style="background:#9aa1ae"></i>amount</span>';
    Object.entries(data.aus).forEach(([name, values], i) => {
      const colour = COLOURS[i % COLOURS.length];
      svgEl("polyline", { points: line(values), fill: "none", stroke: colour, "stroke-width": 2,
                          "vector-effect": "non-scaling-stroke", class: "curve-au", "data-au": name });
      legend.insertAdjacentHTML("beforeend", `<span><i style="background:${colour}"></i>${name}</span>`);
    });
  }
  for (const key of clip.keys) {
    svgEl("line", { x1: X(key.time), x2: X(key.time), y1: 0, y2: 180, stroke: "#f2c84b",
                    "stroke-width": 1, "vector-effect": "non-scaling-stroke", class: "key-mark" });
  }
  svgEl("line", { x1: 0, x2: 0, y1: 0, y2: 180, stroke: "#ffffff", "stroke-width": 1,
                  "vector-effect": "non-scaling-stroke", id: "playhead" });
  drawPlayhead();
}

function drawPlayhead() {
  const head = $("playhead");
  if (!head || !clip.info) return;
  const x = X(clipTime());
  head.setAttribute("x1", x);
  head.setAttribute("x2", x);
}

async function render() {
  const button = $("clip-render");
  button.disabled = true;
  try {
    $("clip-download").hidden = true;
    const data = await call("/api/video/render", clipRequest());
    $("clip-cmd").textContent = data.command;
    let progress = data;
    while (progress.state === "running") {
      showWarnings("clip", progress.warnings);
      $("clip-progress").value = progress.total ? progress.done / progress.total : 0;
      $("clip-status").textContent = `rendering: frame ${progress.done} of ${progress.total}`;
      await new Promise((r) => setTimeout(r, 250));
      progress = await call("/api/video/progress");
    }
    showWarnings("clip", progress.warnings);
    if (progress.state !== "done") throw new Error(progress.error || "error: the render stopped");
    $("clip-progress").value = 1;
    $("clip-status").textContent = `rendered ${progress.total} frames in ${progress.seconds} s`;
    const link = $("clip-download");
    link.href = progress.url;
    link.download = progress.url.split("/").pop();
    link.hidden = false;
    $("clip-out").src = `${progress.url}?v=${Date.now()}`;
    $("clip-out").hidden = false;
  } catch (err) {
    $("clip-status").textContent = "render failed";
    showError(err.message);
  } finally {
    button.disabled = false;
  }
}

function setupClip() {
  clip.sliders = new Sliders($("clip-sliders"), () => clipPreview());
  fillSelect($("clip-easing"), studio.easings);
  $("clip-file").addEventListener("change", (e) => e.target.files[0] && openFile(e.target.files[0]));
  dropTarget($("clip-stage"), openFile);
  $("scrub").addEventListener("input", scrubbed);
  $("clip-alpha").addEventListener("input", (e) => {
    $("clip-alpha-out").textContent = Number(e.target.value).toFixed(2);
    clip.alphaTouched = true;
    clipPreview();
  });
  $("clip-engine").addEventListener("change", () => { clipPreview(); refreshCurves(); });
  $("clip-preset").addEventListener("change", (e) => {
    // A preset sets the sliders of its AUs to its intensities (the others stay as they are).
    const preset = studio.presetValues[e.target.value];
    e.target.value = "";
    if (!preset || !clip.info) return;
    for (const [name, value] of Object.entries(preset)) {
      if (!clip.sliders.inputs[name]) continue;
      clip.sliders.inputs[name].value = value;
      clip.sliders.touched.add(name);
      clip.sliders.show(name);
    }
    clipPreview();
  });
  $("clip-add").addEventListener("click", addKey);
  $("clip-render").addEventListener("click", render);
  $("curves").addEventListener("click", (e) => {
    if (!clip.info) return;
    const box = e.currentTarget.getBoundingClientRect();
    scrubTo(((e.clientX - box.left) / box.width) * clip.info.duration);
  });
  for (const [id, format] of [["keys-csv", "csv"], ["keys-json", "json"]]) {
    $(id).addEventListener("click", async () => {
      try { download((await call("/api/keys/export", { ...clipRequest(), format })).url); } catch (err) { showError(err.message); }
    });
  }
  $("keys-file").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    e.target.value = "";
    if (!file) return;
    try {
      // the server checks the whole file first: on an error the page keeps its keyframes
      clip.keys = (await upload("/api/keys/import", file)).keys;
      keysChanged();
      clipPreview();
    } catch (err) { showError(err.message); }
  });
  $("clip-copy").addEventListener("click", (e) => copyText($("clip-cmd").textContent, e.target));
}

// --- start -----------------------------------------------------------------------------------

function showTab(name) {
  for (const tab of document.querySelectorAll(".tab")) tab.classList.toggle("active", tab.dataset.tab === name);
  $("photo").hidden = name !== "photo";
  $("clip").hidden = name !== "clip";
  if (name === "clip") drawCurves();
}

async function start() {
  const state = await call("/api/state");
  Object.assign(studio, { aus: state.aus, easings: state.easings, presetValues: state.preset_values });
  $("folder").textContent = state.folder;
  for (const note of document.querySelectorAll(".keep-note")) note.hidden = state.keep;
  for (const select of document.querySelectorAll(".engine")) {
    fillSelect(select, state.engines);
    select.value = state.engine;
  }
  fillSelect($("photo-preset"), state.presets, true);
  fillSelect($("clip-preset"), state.presets, true);
  setupPhoto();
  setupClip();
  showLoaded("photo", state.photo);
  showLoaded("clip", state.video);
  document.querySelectorAll(".tab").forEach((tab) => tab.addEventListener("click", () => showTab(tab.dataset.tab)));
  if (state.photo) await photoOpened(state.photo);
  if (state.video) {
    if (!state.photo) showTab("clip");
    await clipOpened(state.video, state.keys);
  }
  studio.ready = true;
}

start().catch((err) => showError(err.message));

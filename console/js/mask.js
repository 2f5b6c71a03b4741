// The Vary (Region) mask painter: paint (pointer) or add rectangles (keyboard) over the image; the mask sent to the
// API is a PNG of the image's size, black, with the area to repaint white.
import { $, showError } from "./dom.js";

let strokes = []; // {type: "line", points: [[x,y]...], size} | {type: "rect", x, y, w, h} in image pixels
let natural = { w: 1024, h: 1024 };

function canvas() {
  return $("#mask-canvas");
}

function draw(target, scale, fill, stroke) {
  const ctx = target.getContext("2d");
  ctx.clearRect(0, 0, target.width, target.height);
  if (fill) {
    ctx.fillStyle = fill;
    ctx.fillRect(0, 0, target.width, target.height);
  }
  ctx.fillStyle = stroke;
  ctx.strokeStyle = stroke;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  for (const s of strokes) {
    if (s.type === "rect") {
      ctx.fillRect(s.x * scale, s.y * scale, s.w * scale, s.h * scale);
      continue;
    }
    ctx.lineWidth = s.size * scale;
    ctx.beginPath();
    s.points.forEach(([x, y], i) => (i ? ctx.lineTo(x * scale, y * scale) : ctx.moveTo(x * scale, y * scale)));
    if (s.points.length === 1) ctx.lineTo(s.points[0][0] * scale + 0.1, s.points[0][1] * scale);
    ctx.stroke();
  }
}

function redraw() {
  if (strokes.length) showError($("#mask-error"), "");
  const c = canvas();
  draw(c, c.width / natural.w, null, "rgba(124, 92, 255, 0.55)");
}

function fit() {
  const img = $("#mask-image");
  const c = canvas();
  c.width = img.clientWidth || 512;
  c.height = img.clientHeight || 512;
  redraw();
}

export function maskDataUrl() {
  const out = document.createElement("canvas");
  out.width = natural.w;
  out.height = natural.h;
  draw(out, 1, "#000", "#fff");
  return out.toDataURL("image/png");
}

function toImage(event) {
  const rect = canvas().getBoundingClientRect();
  return [((event.clientX - rect.left) / rect.width) * natural.w, ((event.clientY - rect.top) / rect.height) * natural.h];
}

let wired = false;
function wire() {
  if (wired) return;
  wired = true;
  const c = canvas();
  let current = null;
  c.addEventListener("pointerdown", (e) => {
    c.setPointerCapture(e.pointerId);
    const size = (Number($("#brush").value) / c.width) * natural.w;
    current = { type: "line", points: [toImage(e)], size };
    strokes.push(current);
    redraw();
  });
  c.addEventListener("pointermove", (e) => {
    if (!current) return;
    current.points.push(toImage(e));
    redraw();
  });
  const end = () => (current = null);
  c.addEventListener("pointerup", end);
  c.addEventListener("pointercancel", end);
  $("#brush").addEventListener("input", () => ($("#brush-out").textContent = $("#brush").value));
  $("#mask-clear").addEventListener("click", () => {
    strokes = [];
    redraw();
  });
  $("#rect-add").addEventListener("click", () => {
    const pct = (id) => Math.min(100, Math.max(0, Number($(id).value) || 0)) / 100;
    strokes.push({
      type: "rect",
      x: pct("#rect-x") * natural.w,
      y: pct("#rect-y") * natural.h,
      w: pct("#rect-w") * natural.w,
      h: pct("#rect-h") * natural.h,
    });
    redraw();
  });
  window.addEventListener("resize", () => $("#mask-dialog").open && fit());
}

// Opens the painter on an image; resolves to {mask, prompt} or null when cancelled.
export function paintMask(url, prompt) {
  wire();
  strokes = [];
  const dialog = $("#mask-dialog");
  const img = $("#mask-image");
  $("#mask-prompt").value = prompt || "";
  showError($("#mask-error"), "");
  img.onload = () => {
    natural = { w: img.naturalWidth || 1024, h: img.naturalHeight || 1024 };
    fit();
  };
  img.src = url || "";
  dialog.returnValue = "";
  dialog.showModal();
  if (img.complete && img.naturalWidth) img.onload();
  return new Promise((resolve) => {
    const form = $("#mask-form");
    const guard = (e) => {
      if (e.submitter?.value === "ok" && !strokes.length) {
        e.preventDefault();
        showError($("#mask-error"), "Paint the area to redraw first (or add a rectangle).");
      }
    };
    form.addEventListener("submit", guard);
    dialog.addEventListener("close", () => {
      form.removeEventListener("submit", guard);
      resolve(dialog.returnValue === "ok" ? { mask: maskDataUrl(), prompt: $("#mask-prompt").value.trim() || null } : null);
    }, { once: true });
  });
}

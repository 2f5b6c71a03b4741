// Live jobs: one card per job, polled until it ends (progress, preview, then the result with its buttons).
import { api, auth } from "./api.js";
import { $, elapsed, h, showError, toast } from "./dom.js";
import { paintMask } from "./mask.js";

const FINISHED = new Set(["succeeded", "failed", "cancelled"]);
const POLL_MS = 1000;
const KIND_NAMES = { imagine: "Imagine", action: "Button", describe: "Describe", blend: "Blend", shorten: "Shorten" };
const ACTION_NAMES = { upsample: "Upscale", variation: "Variation", reroll: "Reroll", inpaint: "Vary (Region)" };
const KEYCAPS = ["1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣"];
// Buttons whose prompt the account's Remix mode would ask for: the console asks when "Remix" is ticked.
const REMIXABLE = /::(variation|low_variation|high_variation|reroll|pan_left|pan_right|pan_up|pan_down)::/;

const cards = new Map(); // job id -> {job, el, result}
let modes = {}; // channel id -> account mode
const asked = new Set(); // channels looked up already
let timer = 0;

// The mode of the account that runs a job that asked for none: the admin's account list names the channels (an API
// client's get_devices hides them, so then only a job's requested mode is shown).
async function refreshModes() {
  try {
    const devices = auth.admin ? await api.accounts() : await api.devices();
    modes = Object.fromEntries(devices.filter((d) => d.channelID).map((d) => [d.channelID, d.patternType]));
  } catch {
    modes = {};
  }
}

export function resetFeed() {
  cards.clear();
  $("#feed").replaceChildren();
  $("#feed-empty").hidden = false;
  clearTimeout(timer);
}

export function track(job, { focus = false } = {}) {
  if (!job || !job.id) return;
  let card = cards.get(job.id);
  if (!card) {
    card = { job, el: buildCard(job), result: null, loaded: false };
    cards.set(job.id, card);
    $("#feed").prepend(card.el);
    $("#feed-empty").hidden = true;
  }
  card.job = { ...card.job, ...job };
  render(card);
  if (focus) card.el.focus();
  schedule(0);
}

export async function open(jobId) {
  const job = await api.job(jobId);
  track(job, { focus: true });
}

function schedule(delay = POLL_MS) {
  clearTimeout(timer);
  timer = setTimeout(poll, delay);
}

async function poll() {
  const active = [...cards.values()].filter((c) => !FINISHED.has(c.job.status) || !c.loaded);
  await Promise.all(active.map(update));
  if ([...cards.values()].some((c) => !FINISHED.has(c.job.status))) schedule();
}

async function update(card) {
  try {
    const job = await api.job(card.job.id);
    if (job.client_id && !job.mode && !(job.client_id in modes) && !asked.has(job.client_id)) {
      asked.add(job.client_id);
      await refreshModes();
    }
    card.job = job;
    if (job.status === "succeeded" && (job.kind === "describe" || job.kind === "shorten")) {
      card.result = job.kind === "describe" ? await api.descjob(job.id) : await api.shortenjob(job.id);
    }
    card.loaded = true;
    render(card);
  } catch (err) {
    showError(card.el.querySelector(".job-error"), err);
  }
}

function buildCard(job) {
  const title = h("span", { class: "job-title" });
  const el = h("li", { class: "job", tabindex: "-1", dataset: { id: job.id }, "aria-label": `Job ${job.id}` },
    h("div", { class: "job-media" }),
    h("div", { class: "job-body" },
      h("div", { class: "job-head" },
        h("span", { class: "badge" }),
        title,
        h("span", { class: "job-meta muted small" }),
        h("button", { type: "button", class: "ghost small job-cancel", hidden: true, onclick: () => cancel(job.id) }, "Cancel")),
      h("p", { class: "job-prompt" }),
      h("div", { class: "job-progress" },
        h("progress", { max: 100, value: 0, "aria-label": "Progress" }),
        h("span", { class: "pct small" }, "0%")),
      h("p", { class: "job-error error", role: "alert" }),
      h("ol", { class: "job-prompts", hidden: true }),
      h("div", { class: "job-buttons", role: "group", "aria-label": "Buttons" })));
  return el;
}

function ownImage(job) {
  return (job.images || []).find((i) => i.job_id === job.id) || null;
}

function render(card) {
  const { job, el } = card;
  const status = job.status || "submitted";
  el.dataset.status = status;
  const badge = el.querySelector(".badge");
  badge.textContent = status;
  badge.className = `badge ${status}`;
  const kind = KIND_NAMES[job.kind] || job.kind || "Job";
  el.querySelector(".job-title").textContent = job.kind === "action" && job.action ? actionName(job) : kind;
  const mode = job.mode || modes[job.client_id] || "";
  el.querySelector(".job-meta").textContent = [mode, job.bot, elapsed(job), `#${job.id}`].filter(Boolean).join(" · ");
  el.querySelector(".job-prompt").textContent = job.prompt || (job.kind === "blend" ? "blend" : "");
  const pct = status === "succeeded" ? 100 : Number(job.progress || 0);
  const progress = el.querySelector("progress");
  progress.value = pct;
  progress.setAttribute("aria-valuetext", `${pct}% ${status}`);
  el.querySelector(".pct").textContent = `${pct}%`;
  el.querySelector(".job-progress").hidden = FINISHED.has(status) && status !== "succeeded";
  el.querySelector(".job-cancel").hidden = FINISHED.has(status);
  showError(el.querySelector(".job-error"), job.error ? `${job.error.code}: ${job.error.message}` : "");
  renderMedia(card);
  renderPrompts(card);
  renderButtons(card);
}

function actionName(job) {
  const name = ACTION_NAMES[job.action] || job.action.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
  if (job.action === "upsample" && job.index) return `${name} · U${job.index}`;
  if (job.action === "variation" && job.index) return `${name} · V${job.index}`;
  return name;
}

function renderMedia(card) {
  const { job, el } = card;
  const media = el.querySelector(".job-media");
  const textOnly = job.kind === "shorten"; // prompts in, prompts out: no picture to wait for
  el.classList.toggle("text-only", textOnly);
  media.hidden = textOnly;
  if (textOnly) return;
  const image = ownImage(job);
  const src = image?.url || (job.kind === "describe" ? card.result?.image_url : null) || job.preview_url;
  const video = image?.video_url;
  if (video) {
    if (media.querySelector("video")?.getAttribute("src") !== video) {
      media.replaceChildren(h("video", { src: video, controls: true, loop: true, muted: true, playsinline: true }));
    }
    return;
  }
  if (!src) {
    if (!media.querySelector(".placeholder")) media.replaceChildren(h("div", { class: "placeholder", "aria-hidden": "true" }));
    return;
  }
  let img = media.querySelector("img");
  if (!img) {
    img = h("img", { decoding: "async" });
    media.replaceChildren(h("a", { href: src, target: "_blank", rel: "noopener" }, img));
  }
  if (img.getAttribute("src") !== src) {
    img.src = src;
    media.querySelector("a").href = src;
  }
  const done = job.status === "succeeded" && image;
  img.alt = done
    ? `${image.upscaled ? "Upscaled image" : "Result"} of: ${job.prompt || job.kind}`
    : `Preview at ${job.progress || 0}%`;
  img.classList.toggle("preview", !done);
  img.classList.toggle("result", Boolean(done));
}

function prompts(card) {
  return card.result?.desc?.[0]?.prompts || card.result?.prompts || [];
}

function renderPrompts(card) {
  const list = card.el.querySelector(".job-prompts");
  const items = prompts(card);
  list.hidden = !items.length;
  if (list.childElementCount !== items.length) list.replaceChildren(...items.map((p) => h("li", {}, p)));
}

function buttonRows(card) {
  if (card.job.status !== "succeeded") return [];
  if (card.result?.desc) return card.result.desc[0]?.actions || [];
  if (card.result?.actions) return card.result.actions;
  return ownImage(card.job)?.actions || [];
}

function renderButtons(card) {
  const box = card.el.querySelector(".job-buttons");
  const rows = buttonRows(card);
  const key = JSON.stringify(rows);
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  box.replaceChildren(
    ...rows.map((row) =>
      h("div", { class: "button-row" },
        ...row.map((b) =>
          h("button", { type: "button", class: "mj-button", title: b.id, dataset: { customId: b.id },
            onclick: (e) => press(card, b, e.currentTarget) }, b.label || b.id)))));
}

async function press(card, button, el) {
  const { job } = card;
  const base = job.final_prompt || job.prompt || "";
  let prompt = null;
  let mask = null;
  const id = button.id || "";
  const keycap = KEYCAPS.indexOf(button.label);
  if (id.includes("MJ::Inpaint")) {
    const painted = await paintMask(ownImage(job)?.url, base);
    if (!painted) return;
    ({ mask, prompt } = painted);
  } else if (id.includes("MJ::CustomZoom")) {
    prompt = await askPrompt("Custom Zoom", "Zoom out by 1 to 2 with --zoom; the prompt can change too.",
      `${base.replace(/\s--zoom\s+\S+/g, "")} --zoom 2`);
    if (prompt === null) return;
  } else if (keycap >= 0 && prompts(card)[keycap]) {
    prompt = await askPrompt(`Imagine prompt ${keycap + 1}`, "Edit it if you like, then imagine it.", prompts(card)[keycap]);
    if (prompt === null) return;
  } else if ($("#remix").checked && REMIXABLE.test(id)) {
    prompt = await askPrompt(`Remix · ${button.label}`, "The new prompt for this variation.", base);
    if (prompt === null) return;
  }
  el.disabled = true;
  try {
    const made = await api.action({ job: job.id, action: id, prompt, mask });
    el.classList.add("pressed");
    track(made.action_job || { id: made.action_job_id, status: "submitted" }, { focus: false });
    toast(`${button.label || "Button"} pressed`);
  } catch (err) {
    showError(card.el.querySelector(".job-error"), err);
  } finally {
    el.disabled = false;
  }
}

async function cancel(id) {
  try {
    const job = await api.cancel(id);
    track(job);
  } catch (err) {
    toast(String(err));
  }
}

// The prompt dialog (remix, custom zoom, a described prompt): resolves to the text, or null when cancelled.
export function askPrompt(title, hint, value) {
  const dialog = $("#prompt-dialog");
  $("#prompt-dialog-title").textContent = title;
  $("#prompt-dialog-hint").textContent = hint;
  const text = $("#prompt-dialog-text");
  text.value = value;
  showError($("#prompt-dialog-error"), "");
  dialog.returnValue = "";
  dialog.showModal();
  text.focus();
  text.setSelectionRange(text.value.length, text.value.length);
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok" ? text.value.trim() : null), { once: true });
  });
}

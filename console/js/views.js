// History (pages through the caller's jobs), and for the admin key the accounts and token creation.
import { api, auth } from "./api.js";
import { $, h, showError, toast } from "./dom.js";
import { open } from "./jobs.js";

// -- history -------------------------------------------------------------------------------------------------------
const pages = [null]; // cursors of the pages seen: pages[i] opens page i
let page = 0;
let nextCursor = null;

export async function loadHistory(to = page) {
  const list = $("#history");
  showError($("#history-error"), "");
  list.setAttribute("aria-busy", "true");
  try {
    const result = await api.history(pages[to]);
    page = to;
    nextCursor = result.next_cursor || null;
    if (nextCursor) pages[page + 1] = nextCursor;
    list.replaceChildren(...result.data.map(historyItem));
    if (!result.data.length) list.append(h("li", { class: "muted empty" }, "No jobs yet."));
  } catch (err) {
    showError($("#history-error"), err);
  } finally {
    list.removeAttribute("aria-busy");
  }
  $("#history-newer").disabled = page === 0;
  $("#history-older").disabled = !nextCursor;
  $("#history-page").textContent = `page ${page + 1}`;
}

function historyItem(entry) {
  const thumb = entry.images_url?.[0];
  const label = `${entry.kind} ${entry.status}: ${entry.prompt || entry.job_id}`;
  return h("li", { class: "shot", dataset: { status: entry.status } },
    h("button", { type: "button", class: "shot-button", "aria-label": `Open ${label}`, onclick: () => openJob(entry.job_id) },
      thumb ? h("img", { src: thumb, alt: "", loading: "lazy", decoding: "async" }) : h("div", { class: "placeholder still", "aria-hidden": "true" }, entry.kind),
      h("span", { class: `badge ${entry.status}` }, entry.status),
      h("span", { class: "shot-prompt" }, entry.prompt || entry.kind),
      h("span", { class: "shot-meta muted small" }, `${entry.kind} · ${new Date(entry.created_at).toLocaleString()}`)));
}

async function openJob(id) {
  document.getElementById("tab-create").click();
  try {
    await open(id);
  } catch (err) {
    toast(String(err));
  }
}

export function setupHistory() {
  $("#history-older").addEventListener("click", () => loadHistory(page + 1));
  $("#history-newer").addEventListener("click", () => loadHistory(Math.max(0, page - 1)));
}

// -- accounts (admin) ------------------------------------------------------------------------------------------------
let accountsTimer = 0;

export async function loadAccounts() {
  clearTimeout(accountsTimer);
  showError($("#accounts-error"), "");
  try {
    const accounts = await api.accounts();
    $("#accounts tbody").replaceChildren(...accounts.map(accountRow));
  } catch (err) {
    showError($("#accounts-error"), err);
  }
  if (!$("#view-accounts").hidden) accountsTimer = setTimeout(loadAccounts, 5000);
}

function accountRow(a) {
  const healthy = a.health === "ok";
  const actions = h("td", { class: "row" });
  if (!a.enabled || !healthy) {
    actions.append(h("button", { type: "button", class: "ghost small", onclick: () => enable(a.device) }, "Enable"));
  }
  for (const mode of ["fast", "relax"]) {
    if (mode !== a.patternType) {
      actions.append(h("button", { type: "button", class: "ghost small", onclick: () => switchMode(a.device, mode),
        "aria-label": `Switch ${a.device} to ${mode}` }, `→ ${mode}`));
    }
  }
  return h("tr", {},
    h("th", { scope: "row" }, a.device),
    h("td", {}, h("span", { class: `pill ${a.patternType}` }, a.patternType)),
    h("td", {}, (a.bots || []).join(", ")),
    h("td", {}, h("span", { class: `badge ${healthy ? "succeeded" : "failed"}` }, a.health),
      a.health_reason ? h("span", { class: "muted small reason" }, ` ${a.health_reason}`) : null),
    h("td", {}, `${a.running} / ${a.concurrency}`),
    h("td", {}, String(a.queued)),
    h("td", {}, a.enabled ? "yes" : "no"),
    actions);
}

async function enable(id) {
  try {
    await api.enable(id);
    toast(`${id} enabled`);
  } catch (err) {
    showError($("#accounts-error"), err);
  }
  loadAccounts();
}

async function switchMode(id, mode) {
  try {
    const done = await api.switchMode(id, mode);
    toast(`${id} → ${mode}: ${done.status}`);
  } catch (err) {
    showError($("#accounts-error"), err);
  }
  loadAccounts();
}

// -- tokens (admin) ----------------------------------------------------------------------------------------------------
export function setupTokens(onUse) {
  $("#accounts-refresh").addEventListener("click", loadAccounts);
  $("#token-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    showError($("#token-error"), "");
    try {
      const made = await api.createToken($("#token-count").value, $("#token-days").value, $("#token-label").value.trim());
      $("#token-value").textContent = made.token;
      $("#token-made").hidden = false;
      $("#token-copy").focus();
    } catch (err) {
      showError($("#token-error"), err);
    }
  });
  $("#token-copy").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText($("#token-value").textContent);
      toast("Copied");
    } catch {
      toast("Select the token and copy it");
    }
  });
  $("#token-use").addEventListener("click", () => {
    auth.save($("#token-value").textContent, auth.admin);
    onUse();
  });
}

// The mjapi console: sign in, then the views. Everything goes through the public HTTP API of this deployment.
import { api, auth } from "./api.js";
import { $, $$, dropZone, h, hideToast, showError, tablist, toast } from "./dom.js";
import { resetFeed, track } from "./jobs.js";
import { setupPromptForm } from "./prompt.js";
import { loadAccounts, loadHistory, setupHistory, setupTokens } from "./views.js";

function showSignin(message = "") {
  $("#app").hidden = true;
  $("#signin").hidden = false;
  showError($("#signin-error"), message);
  $("#signin-token").focus();
}

function showApp() {
  $("#signin").hidden = true;
  $("#app").hidden = false;
  const admin = Boolean(auth.admin);
  for (const el of $$("[data-admin]")) el.hidden = !admin;
  const who = [auth.token ? "token" : null, admin ? "admin" : null].filter(Boolean).join(" + ");
  $("#who").textContent = `signed in with ${who}`;
  for (const id of ["#imagine-submit", "#describe-submit", "#blend-submit", "#shorten-submit"]) $(id).disabled = !auth.token;
  if (!auth.token) {
    views.select($("#tab-accounts"), false);
  } else {
    views.select($("#tab-create"), false);
    $("#prompt").focus();
  }
}

async function signIn(event) {
  event.preventDefault();
  const token = $("#signin-token").value.trim();
  const admin = $("#signin-admin-key").value.trim();
  const gatewayKey = $("#signin-api-key").value.trim();
  showError($("#signin-error"), "");
  if (!token && !admin) {
    showError($("#signin-error"), "Enter your API token.");
    return;
  }
  $("#signin-submit").disabled = true;
  try {
    auth.save("", "", gatewayKey); // the gateway key rides on the token check too
    if (token) await api.checkToken(token);
    auth.save(token, admin, gatewayKey);
    if (admin) await api.checkAdmin();
    $("#signin-form").reset();
    resetFeed();
    showApp();
  } catch (err) {
    auth.clear();
    showError($("#signin-error"), err);
  } finally {
    $("#signin-submit").disabled = false;
  }
}

let views;

function setup() {
  views = tablist($("#views"), (tab) => {
    hideToast();
    if (tab.id === "tab-history") loadHistory(0);
    if (tab.id === "tab-accounts") loadAccounts();
  });
  tablist($("#tools"));
  setupHistory();
  setupTokens(showApp);

  $("#signin-form").addEventListener("submit", signIn);
  $("#signout").addEventListener("click", () => {
    auth.clear();
    resetFeed();
    showSignin();
  });

  setupPromptForm(async (body) => {
    showError($("#prompt-error"), "");
    $("#imagine-submit").disabled = true;
    try {
      track(await api.imagine(body));
    } catch (err) {
      showError($("#prompt-error"), err);
      $("#prompt").focus();
    } finally {
      $("#imagine-submit").disabled = false;
    }
  });

  // Describe: a dropped or chosen file, or a link
  let describeFile = null;
  dropZone($("#describe-drop"), $("#describe-file"), ([file]) => {
    describeFile = file;
    const preview = $("#describe-preview");
    preview.src = URL.createObjectURL(file);
    preview.alt = `Chosen: ${file.name}`;
    preview.hidden = false;
    $("#describe-link").value = "";
  });
  $("#panel-describe").addEventListener("submit", async (e) => {
    e.preventDefault();
    showError($("#describe-error"), "");
    const link = $("#describe-link").value.trim();
    try {
      const job = link ? await api.describeLink(link) : describeFile ? await api.describeFile(describeFile) : null;
      if (!job) {
        showError($("#describe-error"), "Drop an image or give a link.");
        return;
      }
      track(job);
      toast("Describing…");
    } catch (err) {
      showError($("#describe-error"), err);
    }
  });

  // Blend: 2-5 dropped or chosen files
  let blendFiles = [];
  const renderBlend = () => {
    $("#blend-list").replaceChildren(
      ...blendFiles.map((file, n) =>
        h("li", {},
          h("img", { src: URL.createObjectURL(file), alt: file.name }),
          h("button", { type: "button", class: "ghost small", "aria-label": `Remove ${file.name}`,
            onclick: () => { blendFiles.splice(n, 1); renderBlend(); } }, "×"))));
  };
  dropZone($("#blend-drop"), $("#blend-files"), (files) => {
    blendFiles = [...blendFiles, ...files].slice(0, 5);
    renderBlend();
  });
  $("#panel-blend").addEventListener("submit", async (e) => {
    e.preventDefault();
    showError($("#blend-error"), "");
    try {
      track(await api.blend(blendFiles, $("#blend-dimensions").value));
      blendFiles = [];
      renderBlend();
    } catch (err) {
      showError($("#blend-error"), err);
    }
  });

  // Shorten: five shorter prompts, each a button that imagines it
  $("#panel-shorten").addEventListener("submit", async (e) => {
    e.preventDefault();
    showError($("#shorten-error"), "");
    const prompt = $("#shorten-prompt").value.trim();
    if (!prompt) {
      showError($("#shorten-error"), "Write the prompt to shorten.");
      return;
    }
    try {
      track(await api.shorten(prompt));
      toast("Shortening…");
    } catch (err) {
      showError($("#shorten-error"), err);
    }
  });

  if (auth.token || auth.admin) showApp();
  else showSignin();
}

setup();

// The Imagine form: helpers that append Midjourney parameters to the prompt; the API validates the result.
import { $, h } from "./dom.js";

const RATIOS = ["1:1", "3:2", "2:3", "16:9", "9:16", "4:3", "3:4", "21:9"];

function ratioIcon(ratio) {
  const [w, hgt] = ratio.split(":").map(Number);
  const scale = 14 / Math.max(w, hgt);
  const box = h("span", { class: "ratio-box", "aria-hidden": "true" });
  box.style.width = `${Math.round(w * scale)}px`;
  box.style.height = `${Math.round(hgt * scale)}px`;
  return box;
}

export function setupPromptForm(onSubmit) {
  const form = $("#panel-imagine");
  const chips = $("#ratios");
  let ratio = "1:1";
  for (const r of RATIOS) {
    const chip = h("button", { type: "button", class: "chip", "aria-pressed": String(r === ratio), dataset: { ratio: r } },
      ratioIcon(r), r);
    chip.addEventListener("click", () => {
      ratio = r;
      for (const c of chips.children) c.setAttribute("aria-pressed", String(c.dataset.ratio === r));
      update();
    });
    chips.append(chip);
  }

  const fields = ["prompt", "version", "quality", "stylize", "chaos", "seed", "no", "raw", "tile", "bot"].map((id) => $(`#${id}`));
  const params = () => {
    const out = [];
    const bot = $("#bot").value;
    if (ratio !== "1:1") out.push(`--ar ${ratio}`);
    const version = $("#version").value;
    if (version && bot === "mj") out.push(`--v ${version}`);
    const quality = $("#quality").value;
    if (quality) out.push(`--q ${quality}`);
    const stylize = Number($("#stylize").value);
    if (stylize >= 0) out.push(`--s ${stylize}`);
    const chaos = Number($("#chaos").value);
    if (chaos >= 0) out.push(`--c ${chaos}`);
    const seed = $("#seed").value.trim();
    if (seed) out.push(`--seed ${seed}`);
    const no = $("#no").value.trim();
    if (no) out.push(`--no ${no}`);
    if ($("#raw").checked) out.push("--style raw");
    if ($("#tile").checked) out.push("--tile");
    return out;
  };
  const finalPrompt = () => [$("#prompt").value.trim(), ...params()].filter(Boolean).join(" ");
  function update() {
    $("#final-prompt").textContent = finalPrompt() || "…";
    const s = Number($("#stylize").value);
    $("#stylize-out").textContent = s < 0 ? "default" : String(s);
    const c = Number($("#chaos").value);
    $("#chaos-out").textContent = c < 0 ? "default" : String(c);
    $("#version").disabled = $("#bot").value !== "mj";
  }
  for (const f of fields) f.addEventListener("input", update);
  update();

  $("#prompt").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    onSubmit({
      prompt: finalPrompt(),
      mode: $("#mode").value || null,
      bot: $("#bot").value,
      upscale: $("#upscale").checked,
    });
  });
}

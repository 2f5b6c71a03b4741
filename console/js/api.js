// The mjapi HTTP API, same origin. Credentials live in sessionStorage only: gone when the tab closes.
const TOKEN_KEY = "mjapi.token";
const ADMIN_KEY = "mjapi.admin";
const GATEWAY_KEY = "mjapi.apikey"; // API Gateway's usage-plan key, on deployments with ApiKeys=true

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
  toString() {
    return `${this.code}: ${this.message}`;
  }
}

export const auth = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY) || "";
  },
  get admin() {
    return sessionStorage.getItem(ADMIN_KEY) || "";
  },
  get gatewayKey() {
    return sessionStorage.getItem(GATEWAY_KEY) || "";
  },
  save(token, admin, gatewayKey = "") {
    for (const [key, value] of [[TOKEN_KEY, token], [ADMIN_KEY, admin], [GATEWAY_KEY, gatewayKey]]) {
      if (value) sessionStorage.setItem(key, value);
      else sessionStorage.removeItem(key);
    }
  },
  clear() {
    for (const key of [TOKEN_KEY, ADMIN_KEY, GATEWAY_KEY]) sessionStorage.removeItem(key);
  },
};

function headers(asAdmin, extra = {}) {
  const out = { ...extra };
  if (auth.gatewayKey) out["x-api-key"] = auth.gatewayKey;
  if (asAdmin && auth.admin) out["x-admin-key"] = auth.admin;
  else if (auth.token) out.authorization = `Bearer ${auth.token}`;
  else if (auth.admin) out["x-admin-key"] = auth.admin;
  return out;
}

async function call(method, path, { params, json, form, admin = false, token } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
  }
  const init = { method, headers: headers(admin), cache: "no-store", credentials: "omit" };
  if (token) init.headers = { ...headers(false), authorization: `Bearer ${token}` };
  if (json !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form) {
    init.body = form;
  }
  let resp;
  try {
    resp = await fetch(url, init);
  } catch (err) {
    throw new ApiError(0, "unreachable", `The API did not answer (${err.message}).`);
  }
  let body = null;
  try {
    body = await resp.json();
  } catch {
    body = null;
  }
  if (!resp.ok) {
    if (body && body.code) throw new ApiError(resp.status, body.code, body.message || "");
    throw new ApiError(resp.status, `http_${resp.status}`, resp.statusText || "request failed");
  }
  return body;
}

export const api = {
  checkToken: (token) => call("GET", "/midjourney/history", { params: { limit: 1 }, token }),
  checkAdmin: () => call("GET", "/admin/accounts", { admin: true }),
  imagine: (body) => call("POST", "/midjourney/imagine", { json: body }),
  job: (id) => call("GET", "/midjourney/job", { params: { id } }),
  descjob: (id) => call("GET", "/midjourney/descjob", { params: { id } }),
  shortenjob: (id) => call("GET", "/midjourney/shortenjob", { params: { id } }),
  action: (body) => call("POST", "/midjourney/action", { json: body }),
  cancel: (id) => call("POST", "/midjourney/cancel", { json: { id } }),
  describeFile: (file, bot = "mj") => {
    const form = new FormData();
    form.append("image", file, file.name || "image.png");
    form.append("bot", bot);
    return call("POST", "/midjourney/describe", { form });
  },
  describeLink: (link, bot = "mj") => call("POST", "/midjourney/describe_link", { json: { link, bot } }),
  blend: (files, dimensions) => {
    const form = new FormData();
    files.forEach((file, n) => form.append(`image${n + 1}`, file, file.name || `image${n + 1}.png`));
    form.append("dimensions", dimensions);
    return call("POST", "/midjourney/blend", { form });
  },
  shorten: (prompt) => call("POST", "/midjourney/shorten", { json: { prompt } }),
  history: (cursor, limit = 24) => call("GET", "/midjourney/history", { params: { limit, cursor } }),
  devices: () => call("GET", "/midjourney/get_devices"),
  accounts: () => call("GET", "/admin/accounts", { admin: true }),
  enable: (id) => call("POST", `/admin/accounts/${encodeURIComponent(id)}/enable`, { admin: true }),
  switchMode: (account, type) => call("GET", "/midjourney/switch", { params: { account, type }, admin: true }),
  createToken: (count, days, label) =>
    call("GET", "/midjourney/create_token", { params: { count, days, label }, admin: true }),
};

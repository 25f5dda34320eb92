// The schedule app's page: signs in against the token endpoints, shows and edits the week,
// refreshes the access token before it expires (and once on a 401), signs out by blacklisting.
//
// Tokens: the access token lives in this script's memory only; the refresh token is kept in
// sessionStorage (this tab only, gone when it closes) so that a reload stays signed in. The
// page's Content-Security-Policy allows scripts from this origin only, which is what keeps a
// stored token out of reach of injected script.
"use strict";

const DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const REFRESH_KEY = "schedule.refresh";

let access = null;
let refreshTimer = null;
let refreshing = null;

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------------

/** How long a JWT has left, in milliseconds, or null. Only for scheduling: the server checks
 *  the token. `exp - now` on this machine's clock; if that clock disagrees with the server's
 *  (more than the lifetime, or already past), `exp - iat` less a second (the claims are whole
 *  seconds). */
function remainingOf(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = JSON.parse(atob(part + "=".repeat((4 - (part.length % 4)) % 4)));
    if (typeof json.exp !== "number") return null;
    const remaining = json.exp * 1000 - Date.now();
    if (typeof json.iat !== "number") return remaining;
    const lifetime = (json.exp - json.iat) * 1000;
    return remaining > 0 && remaining <= lifetime ? remaining : lifetime - 1000;
  } catch {
    return null;
  }
}

/** Takes a new access token and schedules its refresh a little before it expires. */
function setAccess(token) {
  access = token;
  clearTimeout(refreshTimer);
  const remaining = remainingOf(token);
  if (remaining !== null) {
    // At 75 % of what is left, and at most 30 s before the end for long lifetimes; never in a
    // tight loop. A refusal signs out; a network error leaves it to the next call's 401.
    const delay = Math.max(250, remaining > 120000 ? remaining - 30000 : remaining * 0.75);
    refreshTimer = setTimeout(() => refresh().catch(() => {}), delay);
  }
}

/** Exchanges the stored refresh token for a new access token (one request at a time). */
function refresh() {
  if (refreshing) return refreshing;
  refreshing = (async () => {
    const token = sessionStorage.getItem(REFRESH_KEY);
    if (!token) throw new Error("signed out");
    const res = await fetch("/api/token/refresh/", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh: token }),
    });
    if (res.status === 400 || res.status === 401) {
      signedOut("Your session has ended; please sign in again.");
      throw new Error("refresh refused");
    }
    // Anything else (a busy or unavailable server) keeps the session for a later try.
    if (!res.ok) throw new Error("refresh failed (" + res.status + ")");
    const body = await res.json();
    if (body.refresh) sessionStorage.setItem(REFRESH_KEY, body.refresh); // with rotation
    setAccess(body.access);
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/** A call to the schedule API with the access token; on a 401, one refresh and one retry. */
async function api(method, body) {
  const send = () =>
    fetch("/api/weekly_schedule/", {
      method,
      headers: Object.assign(
        { Authorization: "Bearer " + access },
        body === undefined ? {} : { "Content-Type": "application/json" },
      ),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  let res = await send();
  if (res.status === 401) {
    await refresh();
    res = await send();
  }
  return res;
}

// ---------------------------------------------------------------------------------------------
// Signing in and out
// ---------------------------------------------------------------------------------------------

async function signIn(event) {
  event.preventDefault();
  $("sign-in-error").textContent = "";
  const res = await fetch("/api/token/", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: $("username").value, password: $("password").value }),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    $("sign-in-error").textContent = body.detail || firstMessage(body) || "Sign-in failed.";
    return;
  }
  $("password").value = "";
  sessionStorage.setItem(REFRESH_KEY, body.refresh);
  sessionStorage.setItem("schedule.username", $("username").value);
  setAccess(body.access);
  await showWeek();
}

async function signOut() {
  const token = sessionStorage.getItem(REFRESH_KEY);
  let message = "Signed out.";
  if (token) {
    // The blacklist endpoint revokes the refresh token; the access token expires by itself.
    // A token the server already refuses (401) is as good as revoked.
    const res = await fetch("/api/token/blacklist/", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh: token }),
    }).catch(() => null);
    if (res) await res.text().catch(() => "");
    if (!res || !(res.ok || res.status === 401)) {
      message = "Signed out in this tab, but the server could not end the session.";
    }
  }
  signedOut(message);
}

function signedOut(message) {
  access = null;
  clearTimeout(refreshTimer);
  sessionStorage.removeItem(REFRESH_KEY);
  sessionStorage.removeItem("schedule.username");
  $("week-section").hidden = true;
  $("sign-out").hidden = true;
  $("whoami").hidden = true;
  $("sign-in-section").hidden = false;
  $("sign-in-error").textContent = message;
  $("username").focus();
}

// ---------------------------------------------------------------------------------------------
// The week
// ---------------------------------------------------------------------------------------------

async function showWeek() {
  $("sign-in-section").hidden = true;
  $("week-section").hidden = false;
  $("sign-out").hidden = false;
  $("whoami").hidden = false;
  $("whoami").textContent = "Signed in as " + (sessionStorage.getItem("schedule.username") || "");
  const res = await api("GET");
  if (!res.ok) {
    $("week-error").textContent = "The schedule could not be loaded (" + res.status + ").";
    return;
  }
  render((await res.json()).schedule || {});
}

function render(schedule) {
  const grid = $("grid");
  grid.replaceChildren();
  for (const day of DAYS) {
    const column = document.createElement("section");
    column.className = "day";
    column.id = "day-" + day;
    column.setAttribute("aria-labelledby", "title-" + day);
    const title = document.createElement("h3");
    title.id = "title-" + day;
    title.textContent = day[0].toUpperCase() + day.slice(1);
    const slots = document.createElement("div");
    slots.className = "slots";
    const dayError = document.createElement("p");
    dayError.className = "error day-error";
    const add = document.createElement("button");
    add.type = "button";
    add.className = "add";
    add.textContent = "Add a slot";
    add.setAttribute("aria-label", "Add a slot on " + title.textContent);
    add.addEventListener("click", () => addSlot(day, {}).querySelector(".start").focus());
    column.append(title, dayError, slots, add);
    grid.append(column);
    for (const slot of schedule[day] || []) addSlot(day, slot);
  }
}

let slotCounter = 0;

function addSlot(day, slot) {
  const node = $("slot-template").content.firstElementChild.cloneNode(true);
  const n = ++slotCounter;
  for (const field of ["start", "stop", "ids"]) {
    const input = node.querySelector("." + field);
    input.id = "slot-" + n + "-" + field;
    input.name = field;
    node.querySelector("." + field + "-label").htmlFor = input.id;
    node.querySelector("." + field + "-error").id = input.id + "-error";
    input.setAttribute("aria-describedby", input.id + "-error");
  }
  node.querySelector(".start").value = slot.start || "";
  node.querySelector(".stop").value = slot.stop || "";
  node.querySelector(".ids").value = (slot.ids || []).join(", ");
  node.querySelector(".remove").addEventListener("click", () => {
    node.remove();
    renumber(day);
  });
  $("day-" + day).querySelector(".slots").append(node);
  renumber(day);
  return node;
}

function renumber(day) {
  const label = day[0].toUpperCase() + day.slice(1);
  $("day-" + day)
    .querySelectorAll(".slot")
    .forEach((node, i) => {
      node.querySelector("legend").textContent = label + ", slot " + (i + 1);
      node.querySelector(".remove").setAttribute("aria-label", "Remove " + label + " slot " + (i + 1));
    });
}

/** The grid as the API's body. Ids that are not whole numbers are sent as typed, so the API's
 *  own message says what is wrong with them. */
function collect() {
  const schedule = {};
  for (const day of DAYS) {
    schedule[day] = [...$("day-" + day).querySelectorAll(".slot")].map((node) => {
      const slot = {};
      const start = node.querySelector(".start").value.trim();
      const stop = node.querySelector(".stop").value.trim();
      if (start) slot.start = start;
      if (stop) slot.stop = stop;
      slot.ids = node
        .querySelector(".ids")
        .value.split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "")
        .map((s) => (/^-?\d+$/.test(s) ? Number(s) : s));
      return slot;
    });
  }
  return { schedule };
}

function clearErrors() {
  document.querySelectorAll("#week .error").forEach((e) => (e.textContent = ""));
  document.querySelectorAll("#week [aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
  $("status").textContent = "";
}

/** The first message of a DRF error value (a list of strings or nested objects). */
function firstMessage(value) {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(firstMessage).filter(Boolean).join(" ");
  if (value && typeof value === "object") return Object.values(value).map(firstMessage).join(" ");
  return "";
}

/** Puts the API's validation errors next to the fields they concern. */
function showErrors(errors) {
  const schedule = errors.schedule;
  if (!schedule || Array.isArray(schedule) || typeof schedule !== "object") {
    $("week-error").textContent = firstMessage(errors) || "The schedule was refused.";
    return;
  }
  let shown = false;
  for (const [day, dayErrors] of Object.entries(schedule)) {
    const column = $("day-" + day);
    if (!column || Array.isArray(dayErrors)) {
      (column ? column.querySelector(".day-error") : $("week-error")).textContent =
        firstMessage(dayErrors);
      shown = true;
      continue;
    }
    const slots = column.querySelectorAll(".slot");
    for (const [index, slotErrors] of Object.entries(dayErrors)) {
      const node = slots[Number(index)];
      if (!node) continue;
      for (const [field, messages] of Object.entries(slotErrors)) {
        const target = node.querySelector("." + field + "-error") || node.querySelector(".slot-error");
        target.textContent = firstMessage(messages);
        const input = node.querySelector("input." + field);
        if (input) input.setAttribute("aria-invalid", "true");
        shown = true;
      }
    }
  }
  if (!shown) $("week-error").textContent = firstMessage(errors);
  const first = document.querySelector('#week [aria-invalid="true"]');
  if (first) first.focus();
}

async function save(event) {
  event.preventDefault();
  clearErrors();
  const res = await api("POST", collect());
  const body = await res.json().catch(() => ({}));
  if (res.status === 201) {
    render(body.schedule || {});
    $("status").textContent = "Saved.";
  } else if (res.status === 400) {
    showErrors(body);
  } else {
    $("week-error").textContent = body.detail || "Saving failed (" + res.status + ").";
  }
}

async function clearWeek() {
  clearErrors();
  const res = await api("DELETE");
  if (res.status === 204) {
    render({});
    $("status").textContent = "The week is cleared.";
  } else {
    $("week-error").textContent = "Clearing failed (" + res.status + ").";
  }
}

// ---------------------------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------------------------

/** An event handler whose failure is shown, not lost: a refused refresh has already signed
 *  out (and said so); anything else is the network. */
function shown(handler) {
  return (event) =>
    handler(event).catch((e) => {
      if (e && (e.message === "refresh refused" || e.message === "signed out")) return;
      const where = $("week-section").hidden ? "sign-in-error" : "week-error";
      $(where).textContent = "The server is busy or cannot be reached; please try again.";
    });
}

document.addEventListener("DOMContentLoaded", () => {
  $("sign-in").addEventListener("submit", shown(signIn));
  $("week").addEventListener("submit", shown(save));
  $("clear").addEventListener("click", shown(clearWeek));
  $("sign-out").addEventListener("click", shown(signOut));
  if (sessionStorage.getItem(REFRESH_KEY)) {
    // A reload: the access token was in memory only; get a new one.
    refresh()
      .then(showWeek)
      .catch(() => {});
  } else {
    $("username").focus();
  }
});

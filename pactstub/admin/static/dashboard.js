// The dashboard's one script: the live journal, a request's details, the session picker,
// the admin token and the reset button. Every fragment it shows is HTML rendered (and
// escaped) by the stub; it only fetches fragments and puts them in place.
"use strict";

const TOKEN_KEY = "pactstub.adminToken";
const POLL_MS = 1000;
const ROWS_KEPT = 100;
const ARMED_MS = 4000;

const body = document.body;
const rows = document.getElementById("journal-rows");
let newest = Number(body.dataset.newest || 0);
let session = body.dataset.session || "default";
let selected = null;
let polling = false;
let armed = null;

function auth() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: "Bearer " + token } : {};
}

function say(text) {
  document.getElementById("status").textContent = text;
}

class Locked extends Error {}

async function get(path) {
  const response = await fetch(path, { headers: auth(), cache: "no-store" });
  if (response.status === 401) throw new Locked("the admin token is missing or wrong");
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response;
}

async function fill(id, path) {
  const response = await get(path);
  document.getElementById(id).innerHTML = await response.text();
}

function newestOf(response) {
  return Number(response.headers.get("X-Journal-Newest") || 0);
}

async function loadJournal() {
  const response = await get("dashboard/journal");
  rows.innerHTML = await response.text();
  newest = newestOf(response);
  markSelected();
}

function loadStore() {
  return fill("store", "dashboard/store?session=" + encodeURIComponent(session));
}

function markSelected() {
  for (const row of rows.querySelectorAll("tr.selected")) row.classList.remove("selected");
  const row = selected && rows.querySelector(`tr[data-sequence="${selected}"]`);
  if (row) row.classList.add("selected");
}

async function poll() {
  try {
    const response = await get("dashboard/journal?after=" + newest);
    const latest = newestOf(response);
    if (latest < newest) {
      await loadJournal(); // the journal was cleared since
      await loadStore();
    } else {
      const html = (await response.text()).trim();
      if (html) {
        rows.insertAdjacentHTML("afterbegin", html);
        while (rows.children.length > ROWS_KEPT) rows.lastElementChild.remove();
        newest = latest;
        await loadStore(); // a request may have changed records
      }
    }
    say("");
  } catch (error) {
    failed(error);
    if (error instanceof Locked) return;
  }
  setTimeout(poll, POLL_MS);
}

function failed(error) {
  if (error instanceof Locked) {
    document.getElementById("token-form").hidden = false;
    document.getElementById("live").hidden = true;
    polling = false;
  }
  say(error.message || String(error));
}

async function start() {
  try {
    if (body.dataset.shown !== "yes") {
      await loadJournal();
      await Promise.all([loadStore(), fill("interactions", "dashboard/interactions")]);
      body.dataset.shown = "yes";
    }
  } catch (error) {
    failed(error);
    return;
  }
  document.getElementById("live").hidden = false;
  say("");
  if (!polling) {
    polling = true;
    setTimeout(poll, POLL_MS);
  }
}

async function select(sequence) {
  selected = sequence;
  markSelected();
  try {
    await fill("detail", "dashboard/requests/" + sequence);
  } catch (error) {
    failed(error);
  }
}

async function reset(button) {
  if (armed === null) {
    button.textContent = "Click again to reset everything";
    armed = setTimeout(() => disarm(button), ARMED_MS);
    return;
  }
  disarm(button);
  try {
    const response = await fetch("reset", { method: "POST", headers: auth() });
    if (response.status === 401) throw new Locked("the admin token is missing or wrong");
    if (!response.ok) throw new Error("reset: HTTP " + response.status);
    rows.innerHTML = "";
    newest = 0;
    selected = null;
    document.getElementById("detail").innerHTML = "";
    await loadStore();
    say("The stub was reset.");
  } catch (error) {
    failed(error);
  }
}

function disarm(button) {
  clearTimeout(armed);
  armed = null;
  button.textContent = "Reset the stub";
}

rows.addEventListener("click", (event) => {
  const row = event.target.closest("tr[data-sequence]");
  if (row) select(row.dataset.sequence);
});
rows.addEventListener("keydown", (event) => {
  const row = event.target.closest("tr[data-sequence]");
  if (row && event.key === "Enter") select(row.dataset.sequence);
});
document.addEventListener("change", (event) => {
  if (event.target.id === "session") {
    session = event.target.value;
    loadStore().catch(failed);
  }
});
document.getElementById("reset").addEventListener("click", (event) => reset(event.currentTarget));
document.getElementById("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const field = document.getElementById("token");
  sessionStorage.setItem(TOKEN_KEY, field.value.trim());
  field.value = "";
  start();
});

if (body.dataset.shown === "yes" || sessionStorage.getItem(TOKEN_KEY)) start();

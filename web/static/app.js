// nmp's pages work without this script; it adds live logs, plots and
// checks that answer before the server does.
import { renderSummary } from "./plot.js";

document.documentElement.classList.add("js");

// The collab switcher and filters apply as soon as they change.
for (const sel of document.querySelectorAll("select[data-autosubmit]")) {
  sel.addEventListener("change", () => sel.form.submit());
}

// Forms that destroy something ask first.
for (const form of document.querySelectorAll("form[data-confirm]")) {
  form.addEventListener("submit", (e) => {
    if (!window.confirm(form.dataset.confirm)) e.preventDefault();
  });
}

// Character counters for fields with a limit (the server holds the same limits).
for (const el of document.querySelectorAll("textarea[data-count]")) {
  const help = document.getElementById(el.getAttribute("aria-describedby"));
  if (!help) continue;
  const max = Number(el.getAttribute("maxlength"));
  const base = help.textContent;
  const update = () => {
    const n = [...el.value].length;
    help.textContent = `${base} ${n} / ${max} characters.`;
  };
  el.addEventListener("input", update);
  update();
}

// Hardware config: a JSON object, checked before the form is sent.
for (const el of document.querySelectorAll("textarea[data-json]")) {
  const check = () => {
    const t = el.value.trim();
    let msg = "";
    if (t !== "") {
      try {
        const v = JSON.parse(t);
        if (v === null || typeof v !== "object" || Array.isArray(v)) msg = "Hardware config: write a JSON object, {…}.";
      } catch (err) {
        msg = "Hardware config: not valid JSON (" + err.message + ").";
      }
    }
    el.setCustomValidity(msg);
    el.setAttribute("aria-invalid", msg ? "true" : "false");
  };
  el.addEventListener("input", check);
  check();
}

// The log of a running job follows it live (server-sent events).
const LOG_KEEP = 2 << 20; // characters kept on the page; the whole log is a link away
const log = document.getElementById("log");
if (log && log.dataset.stream) {
  const state = document.getElementById("log-state");
  const status = document.getElementById("job-status");
  const atBottom = () => log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  log.scrollTop = log.scrollHeight;
  const es = new EventSource(log.dataset.stream);
  const append = (text, replace) => {
    const stick = atBottom();
    if (replace) log.textContent = text;
    else log.append(text);
    if (log.textContent.length > LOG_KEEP) log.textContent = log.textContent.slice(-LOG_KEEP);
    if (stick) log.scrollTop = log.scrollHeight;
  };
  es.addEventListener("log", (e) => append(JSON.parse(e.data).text, false));
  es.addEventListener("reset", (e) => append(JSON.parse(e.data).text, true));
  es.addEventListener("status", (e) => {
    const s = JSON.parse(e.data).status;
    if (status) {
      status.textContent = s;
      status.className = "label " + s;
    }
    if (state) state.textContent = `The job is ${s}; the log follows it live.`;
  });
  es.addEventListener("failure", (e) => {
    es.close();
    if (state) state.textContent = "The log stopped following: " + JSON.parse(e.data);
  });
  es.addEventListener("end", (e) => {
    es.close();
    const s = JSON.parse(e.data).status;
    if (status) {
      status.textContent = s;
      status.className = "label " + s;
    }
    if (state) state.textContent = `The job is ${s}; loading its results…`;
    // The page shows the output files and plots once the job has ended.
    setTimeout(() => window.location.reload(), 800);
  });
}

// Plots of the job's recorded data.
const plots = document.getElementById("plots");
if (plots && plots.dataset.summary) {
  fetch(plots.dataset.summary, { credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(r.status + " " + r.statusText))))
    .then((summary) => renderSummary(plots, summary))
    .catch((err) => {
      const p = document.createElement("p");
      p.className = "error";
      p.textContent = "The recorded data could not be plotted: " + err.message;
      plots.append(p);
    });
}

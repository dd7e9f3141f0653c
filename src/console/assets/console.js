// Roster console: the little behaviour the pages need, from this file only
// (the Content-Security-Policy allows no inline script).
"use strict";

document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.getAttribute("data-copy"));
  if (!field) return;
  field.select();
  if (navigator.clipboard) {
    navigator.clipboard.writeText(field.value).then(() => { button.textContent = "Copied"; });
  }
});

// The activity page: new requests arrive as server-sent events and are
// added at the top. Values are set as text, never parsed as HTML.
const live = document.getElementById("live-state");
const table = document.querySelector("#activity tbody");
if (live && table && window.EventSource) {
  const source = new EventSource(live.getAttribute("data-stream"));
  source.addEventListener("open", () => {
    live.textContent = "Live: new requests appear at the top.";
  });
  source.addEventListener("error", () => {
    live.textContent = "Live updates paused; reconnecting…";
  });
  source.addEventListener("activity", (event) => {
    const a = JSON.parse(event.data);
    const row = document.createElement("tr");
    row.dataset.seq = String(a.seq);
    const cell = (text, className) => {
      const td = document.createElement("td");
      if (className) td.className = className;
      td.textContent = text;
      row.appendChild(td);
      return td;
    };
    cell(a.time.replace("T", " ").slice(0, 19), "mono time");
    if (table.parentElement.hasAttribute("data-tenants")) cell(a.tenant);
    cell(String(a.status), "status-" + Math.floor(a.status / 100));
    cell(a.principal || "–");
    const request = cell("", "mono");
    const link = document.createElement("a");
    link.href = a.link;
    link.textContent = a.method + " " + a.path;
    request.appendChild(link);
    cell(a.summary);
    table.insertBefore(row, table.firstChild);
    while (table.rows.length > 200) table.deleteRow(-1);
    const empty = document.querySelector("p.empty");
    if (empty) empty.remove();
  });
}

// The desk page's small behaviours; every form works without them.
"use strict";

function setUpSedation() {
  const procedure = document.getElementById("procedure");
  const field = document.getElementById("sedation-field");
  if (!procedure || !field) return;
  const update = () => {
    const option = procedure.selectedOptions[0];
    const choice = option && option.dataset.sedationChoice === "yes";
    // A set whose sedation is fixed offers no choice: the field is hidden and not sent.
    field.hidden = !choice;
    field.disabled = !choice;
    const usual = field.querySelector(".sedation-default");
    if (usual) usual.textContent = choice ? "(" + option.dataset.sedationDefault + " sedation)" : "";
  };
  procedure.addEventListener("change", update);
  update();
}

function setUpSetOptions() {
  // Each set's own option boxes show (and are sent) only while that set is chosen.
  const procedure = document.getElementById("procedure");
  const groups = document.querySelectorAll("fieldset.set-options");
  if (!procedure || !groups.length) return;
  const update = () => {
    groups.forEach((group) => {
      const chosen = group.dataset.procedure === procedure.value;
      group.hidden = !chosen;
      group.disabled = !chosen;
    });
  };
  procedure.addEventListener("change", update);
  update();
}

function setUpMedicines() {
  const list = document.getElementById("medicines");
  const add = document.getElementById("add-medicine");
  if (!list || !add) return;
  const renumber = () => {
    const rows = list.querySelectorAll(".medicine");
    rows.forEach((row, i) => {
      const n = i + 1;
      row.querySelector("input").id = "medication-" + n;
      row.querySelector("label").htmlFor = "medication-" + n;
      row.querySelector("label").textContent = "Medicine " + n;
      const problem = row.querySelector(".unknown .error");
      if (problem) {
        problem.id = "medication-" + n + "-error";
        row.querySelector("input").setAttribute("aria-describedby", problem.id);
      }
      const remove = row.querySelector(".remove");
      remove.setAttribute("aria-label", "Remove medicine " + n);
      remove.hidden = rows.length === 1;
    });
  };
  list.addEventListener("click", (event) => {
    const use = event.target.closest(".use");
    if (use) {  // "Fix the spelling": the name the table knows goes into the box
      const row = use.closest(".medicine");
      const input = row.querySelector("input[type=text]");
      input.value = use.dataset.name;
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
      row.classList.remove("invalid");
      row.querySelector(".unknown").remove();
      input.focus();
      return;
    }
    const remove = event.target.closest(".remove");
    if (!remove) return;
    const row = remove.closest(".medicine");
    const next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    renumber();
    if (next) next.querySelector("input").focus();
  });
  add.addEventListener("click", () => {
    const rows = list.querySelectorAll(".medicine");
    const row = rows[rows.length - 1].cloneNode(true);
    row.querySelector("input").value = "";
    row.classList.remove("invalid");
    row.querySelectorAll(".unknown, .hint, input[type=hidden], input[type=checkbox]").forEach(e => e.remove());
    row.querySelector("input").removeAttribute("aria-invalid");
    row.querySelector("input").removeAttribute("aria-describedby");
    list.appendChild(row);
    renumber();
    row.querySelector("input").focus();
  });
  add.hidden = false;
  renumber();
}

function focusFirstError() {
  const form = document.querySelector("form[data-first-error]");
  if (!form || !form.dataset.firstError) return;
  const name = form.dataset.firstError === "medication" ? "medication-1" : form.dataset.firstError;
  const field = document.getElementById(name) || document.getElementById(name + "-field");
  if (field) (field.querySelector ? field.querySelector("input, select, textarea") || field : field).focus();
}

function setUpPrint() {
  const button = document.getElementById("print");
  const frame = document.getElementById("print-frame");
  if (!button || !frame) return;
  button.hidden = false;
  button.addEventListener("click", () => {
    frame.onload = () => frame.contentWindow.print();
    frame.src = button.dataset.pdf;
  });
}

function followProgress() {
  const box = document.getElementById("progress-box");
  if (!box) return;
  const bar = document.getElementById("progress");
  const label = document.getElementById("progress-label");
  const note = document.getElementById("progress-note");
  const poll = async () => {
    try {
      const response = await fetch(box.dataset.status, { cache: "no-store" });
      const status = await response.json();
      bar.value = status.done;
      label.textContent = status.state === "packing"
        ? "Putting the packet together…"
        : "Making handouts: " + status.done + " of " + status.total + " rows";
      if (status.state !== "running" && status.state !== "packing") {
        window.location.reload();
        return;
      }
    } catch (error) {
      note.textContent = "Waiting for the server…";
    }
    setTimeout(poll, 300);
  };
  setTimeout(poll, 200);
}

// What the nurse types in the handout form is kept in this tab's session storage (never on
// the server: these are patient values), so a form sent after a restart or a lost cookie
// comes back filled in once she has signed in again (the server sends it back with
// ?restore=1). It is kept for the signed-in user who typed it only, and forgotten when a
// handout is made, on "Done", on sign-out, and when another user signs in on this browser.
const TYPING = "pars-docs-typing";

function deskUser() {
  return document.body.dataset.deskUser || "";
}

function forgetTyping() {
  try { sessionStorage.removeItem(TYPING); } catch (error) { /* storage is off */ }
}

function readTyping() {
  try {
    const kept = JSON.parse(sessionStorage.getItem(TYPING) || "null");
    return kept && typeof kept === "object" ? kept : null;
  } catch (error) {
    return null;
  }
}

function formTyping(form) {
  const kept = {user: deskUser(), fields: {}, checks: {}, medications: []};
  for (const element of form.elements) {
    if (!element.name || element.name === "csrf" || element.name === "ask") continue;
    if (element.name === "medication") {
      kept.medications.push(element.value);
    } else if (element.type === "checkbox" || element.type === "radio") {
      kept.checks[element.name + "=" + element.value] = element.checked;
    } else if (element.id && element.type !== "hidden") {
      kept.fields[element.id] = element.value;
    }
  }
  return kept;
}

function restoreTyping(form, kept) {
  const procedure = document.getElementById("procedure");
  if (procedure && kept.fields.procedure !== undefined) {
    procedure.value = kept.fields.procedure;
    procedure.dispatchEvent(new Event("change"));
  }
  for (const [id, value] of Object.entries(kept.fields)) {
    const field = document.getElementById(id);
    if (field && form.contains(field) && id !== "procedure") field.value = value;
  }
  for (const element of form.elements) {
    const key = element.name + "=" + element.value;
    if ((element.type === "checkbox" || element.type === "radio") && key in kept.checks) {
      element.checked = kept.checks[key];
    }
  }
  const names = kept.medications.filter((name) => name.trim());
  const add = document.getElementById("add-medicine");
  const list = document.getElementById("medicines");
  if (list && add) {
    while (list.querySelectorAll(".medicine").length < names.length + 1) add.click();
    list.querySelectorAll(".medicine input[type=text]").forEach((input, i) => {
      input.value = names[i] || "";
    });
  }
  form.dispatchEvent(new Event("input"));
}

function hasTyping(kept) {
  return Object.entries(kept.fields).some(([id, value]) => id !== "paper" && value.trim())
    || kept.medications.some((name) => name.trim());
}

function keepTyping() {
  if (document.querySelector("[data-forget-typing]")) forgetTyping();  // a handout was made
  const signOut = document.getElementById("sign-out");
  if (signOut) signOut.addEventListener("submit", forgetTyping);
  const kept = readTyping();
  // Never given back to another user: a different name signed in on this browser forgets it.
  if (kept && !document.body.hasAttribute("data-signed-out") && kept.user !== deskUser()) {
    forgetTyping();
  }
  const form = document.getElementById("handout-form");
  if (!form) return;
  if (form.hasAttribute("data-restore")) {
    const mine = readTyping();
    const restored = mine && hasTyping(mine);
    if (restored) restoreTyping(form, mine);
    const note = document.getElementById(restored ? "kept-note" : "lost-note");
    if (note) {
      note.hidden = false;
      note.focus();
    }
    // The address no longer asks for it: a reload shows the form as it is now.
    history.replaceState(null, "", window.location.pathname);
  }
  const save = () => {
    try { sessionStorage.setItem(TYPING, JSON.stringify(formTyping(form))); } catch (error) { /* full or off */ }
  };
  save();  // a form shown afresh replaces what an earlier patient's left
  form.addEventListener("input", save);
  form.addEventListener("change", save);
  form.addEventListener("click", () => setTimeout(save, 0));  // Add, Remove, Fix the spelling
  form.addEventListener("submit", save);
}

document.addEventListener("DOMContentLoaded", () => {
  setUpSedation();
  setUpSetOptions();
  setUpMedicines();
  keepTyping();
  focusFirstError();
  setUpPrint();
  followProgress();
  setUpEditor();
  setUpHints();
  setUpChangeForm();
});

function setUpEditor() {
  // The clinic's set editor: the problems and a sample handout follow the typing.
  const form = document.getElementById("editor-form");
  const text = document.getElementById("text");
  if (!form || !text) return;
  const status = document.getElementById("status");
  const list = document.getElementById("problems");
  const image = document.getElementById("preview-image");
  const plain = document.getElementById("preview-text");
  const note = document.getElementById("preview-note");
  const sedation = document.getElementById("sedation");
  const goTo = (line) => {
    const lines = text.value.split("\n");
    const start = lines.slice(0, line - 1).join("\n").length + (line > 1 ? 1 : 0);
    text.focus();
    text.setSelectionRange(start, start + (lines[line - 1] || "").length);
    const height = text.scrollHeight / Math.max(lines.length, 1);
    text.scrollTop = Math.max(0, (line - 4) * height);
  };
  list.addEventListener("click", (event) => {
    const button = event.target.closest(".go-line");
    if (button) goTo(Number(button.dataset.line));
  });
  const show = (answer) => {
    list.replaceChildren();
    for (const problem of answer.problems) {
      const item = document.createElement("li");
      if (problem.line) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "link go-line";
        button.dataset.line = problem.line;
        button.textContent = "Line " + problem.line;
        const code = document.createElement("code");
        code.textContent = problem.source;
        item.append(button, " ", code, ": ");
      }
      item.append(problem.text);
      list.append(item);
    }
    if (!answer.problems.length) {
      const none = document.createElement("li");
      none.className = "none";
      none.textContent = "None.";
      list.append(none);
    }
    status.textContent = answer.ok ? "Passes check: " + answer.summary : "Does not pass check yet.";
    if (answer.ok) {
      note.textContent = answer.note || "";
      plain.textContent = answer.text || "";
      if (answer.image) {
        image.src = answer.image;
        image.hidden = false;
      } else {
        image.hidden = true;
      }
    } else {
      note.textContent = "The preview shows the last text that passed check.";
    }
  };
  let timer = null;
  let asked = 0;
  const ask = () => {
    const number = ++asked;
    const body = new FormData(form);
    fetch(form.dataset.preview, {method: "POST", body, credentials: "same-origin"})
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((answer) => { if (number === asked) show(answer); })
      .catch(() => { status.textContent = "The preview could not be made just now."; });
  };
  const soon = () => { clearTimeout(timer); timer = setTimeout(ask, 600); };
  text.addEventListener("input", soon);
  sedation.addEventListener("change", ask);
  ask();
}

// The set editor's hints: the path of YAML keys to the mapping the cursor is in, found from
// the lines above it by their indentation ("[]" for an entry of a list), and the keys the
// schema allows there (the server reads them from the schema: /clinic/schema-hints).
function yamlPath(lines, row, column) {
  const entry = /^(\s*)(- +)?(?:(["']?)([A-Za-z0-9_$-]+)\3\s*:(?:\s|$))?/;
  const here = lines[row] || "";
  const own = here.match(entry);
  const path = [];
  let indent;
  if (!here.trim() || here.trim().startsWith("#")) {
    indent = Math.min(column, here.length);
  } else {
    indent = own[1].length + (own[2] ? own[2].length : 0);
    if (own[2]) {  // a list entry: the keys of an entry of the list above
      path.unshift("[]");
      indent = own[1].length;
    }
  }
  let fromDash = Boolean(own && own[2] && here.trim());
  for (let i = row - 1; i >= 0 && indent >= 0; i--) {
    const line = lines[i];
    if (!line.trim() || line.trim().startsWith("#")) continue;
    const m = line.match(entry);
    const dash = m[1].length;
    const key = dash + (m[2] ? m[2].length : 0);
    if (key < indent || (fromDash && !m[2] && key === indent && m[4])) {
      if (m[4]) path.unshift(m[4]);
      if (m[2]) path.unshift("[]");
      fromDash = Boolean(m[2]);
      indent = dash;
      if (dash === 0 && !m[2]) break;
    } else if (m[2] && dash < indent) {  // the same entry of a list, from its first line
      path.unshift("[]");
      fromDash = true;
      indent = dash;
    }
  }
  return path.join(".");
}

function setUpHints() {
  const text = document.getElementById("text");
  const box = document.getElementById("hints");
  if (!text || !box) return;
  const said = document.getElementById("hints-said");
  let shown = "";
  let timer = null;
  const cursor = () => {
    const before = text.value.slice(0, text.selectionStart);
    const lines = before.split("\n");
    return {row: lines.length - 1, column: lines[lines.length - 1].length};
  };
  const update = () => {
    const {row, column} = cursor();
    const at = yamlPath(text.value.split("\n"), row, column);
    if (at === shown) return;
    shown = at;
    fetch(box.dataset.hints + "?at=" + encodeURIComponent(at), {credentials: "same-origin"})
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((answer) => {
        if (answer.at !== shown) return;
        box.innerHTML = answer.html;  // the server's template, escaped there
        const where = document.getElementById("hint-where");
        if (said && where && document.activeElement === text) said.textContent = where.textContent;
      })
      .catch(() => { shown = ""; });
  };
  const soon = () => { clearTimeout(timer); timer = setTimeout(update, 150); };
  for (const event of ["keyup", "click", "focus", "input"]) text.addEventListener(event, soon);
  box.addEventListener("click", (event) => {
    const button = event.target.closest(".insert-key");
    if (!button) return;
    // On a new line under the cursor's line, indented as the keys of that place are.
    const value = text.value;
    const at = text.selectionStart;
    const start = value.lastIndexOf("\n", at - 1) + 1;
    let end = value.indexOf("\n", at);
    if (end < 0) end = value.length;
    const line = value.slice(start, end);
    const lead = line.match(/^\s*/)[0];
    const listed = line.match(/^(\s*)- +/);
    const indent = !line.trim() ? line : listed ? " ".repeat(listed[0].length) : lead;
    const insert = button.dataset.key + ": ";
    let next;
    if (!line.trim()) {
      text.setRangeText(indent + insert, start, end, "end");
      next = start + indent.length + insert.length;
    } else {
      text.setRangeText("\n" + indent + insert, end, end, "end");
      next = end + 1 + indent.length + insert.length;
    }
    text.focus();
    text.setSelectionRange(next, next);
    text.dispatchEvent(new Event("input"));
  });
}

function setUpChangeForm() {
  // The form of common changes: only the chosen kind's fields are shown (and sent).
  const form = document.getElementById("change-form");
  if (!form) return;
  const parts = form.querySelectorAll("fieldset.change");
  const update = () => {
    const chosen = form.querySelector("input[name=kind]:checked");
    parts.forEach((part) => {
      const on = Boolean(chosen) && part.dataset.kind === chosen.value;
      part.hidden = !on;
      part.disabled = !on;
    });
  };
  form.addEventListener("change", (event) => { if (event.target.name === "kind") update(); });
  update();
}

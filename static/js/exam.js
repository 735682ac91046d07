/* The candidate's exam screen: countdown, autosave with an offline queue, navigation,
 * keyboard shortcuts and focus. Vanilla JS; htmx (from django-htmx) swaps the panels.
 *
 * Offline delivery (exams): once the attempt's payload has arrived (every item and option in
 * this attempt's order, the case records, the deadline; never a key), moving, answering,
 * flagging and the review list are done here with no request at all. Answers and flags are
 * kept in localStorage per attempt, the queue sends them in order when the network allows,
 * and a service worker (/exams/sw.js) reopens the page after a reload with no network. The
 * server stays the authority on time: every reply and a light heartbeat re-sync the clock.
 *
 * The page works without this file: every control is a real form submit or link.
 */
(function () {
  "use strict";

  var exam = document.getElementById("exam");
  if (!exam) return;

  var attemptId = exam.dataset.attempt;
  var QUEUE_KEY = "ccs-exam-queue-" + attemptId;
  var WARNED_KEY = "ccs-exam-warned-" + attemptId;
  var ANSWERS_KEY = "ccs-exam-answers-" + attemptId;
  var CLOCK_KEY = "ccs-exam-clock-" + attemptId;
  var PAGE_CACHE = "ccs-exam-pages-v1"; // shared with the service worker
  // A warning already this far behind when the page opens is not announced as if new.
  var STALE_WARNING_MS = 10000;
  var HEARTBEAT_MS = 60000;
  // The item shown last: moves are not written to the server, so resuming asks the browser.
  var PLACE_KEY = "ccs-exam-place-" + attemptId;
  var clock = {
    // Milliseconds to add to Date.now() to get the server's time.
    offset: Number(exam.dataset.serverNow || Date.now()) - Date.now(),
    deadline: exam.dataset.deadline ? Number(exam.dataset.deadline) : null,
    timeUpSent: false,
  };
  var warnings = (exam.dataset.warnings || "")
    .split(",")
    .map(Number)
    .filter(function (n) { return n > 0; })
    .sort(function (a, b) { return b - a; });
  var sender = { busy: false, delay: 1000, timer: null, closed: false, acked: 0 };
  var queue = loadQueue();
  var base = (exam.dataset.resultUrl || "").replace(/result\/$/, "");
  var client = { payload: null, on: false, position: null, review: null };
  var local = loadLocal();
  restoreClock();

  // --- helpers ---------------------------------------------------------------------------
  function $(id) { return document.getElementById(id); }

  function loadQueue() {
    try { return JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]"); } catch (e) { return []; }
  }

  function storeQueue() {
    try {
      if (queue.length) localStorage.setItem(QUEUE_KEY, JSON.stringify(queue));
      else localStorage.removeItem(QUEUE_KEY);
    } catch (e) { /* private mode: the in-memory queue still works */ }
  }

  function setStatus(state, text) {
    var el = $("save-status");
    if (!el) return;
    el.dataset.state = state;
    el.textContent = text;
  }

  function alertMessage(text) {
    var el = $("exam-alert");
    if (!el) return;
    el.hidden = !text;
    el.textContent = text || "";
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function syncClock(getHeader) {
    var now = getHeader("X-Server-Time");
    var deadline = getHeader("X-Exam-Deadline");
    if (now) {
      clock.offset = Number(now) - Date.now();
      try { localStorage.setItem(CLOCK_KEY, JSON.stringify({ offset: clock.offset, at: Number(now) })); } catch (e) { /* ignore */ }
    }
    if (deadline !== null && deadline !== undefined) clock.deadline = deadline ? Number(deadline) : null;
  }

  // A page from the service worker's copy carries the time it was made, not now: the last
  // offset learnt from the server is the better one when it is more recent than the page.
  function restoreClock() {
    var kept = null;
    try { kept = JSON.parse(localStorage.getItem(CLOCK_KEY) || "null"); } catch (e) { kept = null; }
    if (kept && typeof kept.offset === "number" && kept.at > Number(exam.dataset.serverNow || 0)) {
      clock.offset = kept.offset;
    }
  }

  // --- answers kept in this browser --------------------------------------------------------
  function loadLocal() {
    var kept;
    try { kept = JSON.parse(localStorage.getItem(ANSWERS_KEY) || "null"); } catch (e) { kept = null; }
    return kept && typeof kept.answers === "object" && kept.answers ? kept : { answers: {} };
  }

  function storeLocal() {
    try { localStorage.setItem(ANSWERS_KEY, JSON.stringify(local)); } catch (e) { /* kept for this page */ }
  }

  function answerOf(position) {
    return local.answers[String(position)] || { choices: [], flagged: false };
  }

  function recordAnswer(form) {
    var choices = [];
    form.querySelectorAll("input[name=choice]:checked").forEach(function (input) { choices.push(Number(input.value)); });
    var flag = form.querySelector("input[name=flagged]");
    local.answers[form.dataset.position] = { choices: choices, flagged: !!(flag && flag.checked) };
    storeLocal();
  }

  function pendingPositions() {
    var out = [];
    queue.forEach(function (entry) { if (entry.position && out.indexOf(entry.position) < 0) out.push(entry.position); });
    return out;
  }

  function waitingText() {
    var n = pendingPositions().length;
    return n + (n === 1 ? " answer waits" : " answers wait") + " to be sent";
  }

  // --- countdown ---------------------------------------------------------------------------
  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function format(ms) {
    var s = Math.ceil(ms / 1000);
    return pad(Math.floor(s / 3600)) + ":" + pad(Math.floor((s % 3600) / 60)) + ":" + pad(s % 60);
  }

  // Kept in localStorage: announced once per attempt, in whichever tab, across reloads.
  function warned() {
    try { return JSON.parse(localStorage.getItem(WARNED_KEY) || "[]"); } catch (e) { return []; }
  }

  function announce(minutes) {
    var text = minutes + " minute" + (minutes === 1 ? "" : "s") + " left.";
    var banner = $("time-warning");
    if (banner) { banner.hidden = false; banner.textContent = text; }
    var live = $("announcer");
    if (live) live.textContent = text;
  }

  var firstCheck = true;

  function checkWarnings(left) {
    // Each warning is announced at its own time, once per attempt (in any tab, across
    // reloads); if several are crossed together only the latest is said. A warning whose
    // time had passed more than a few seconds before this page opened is not announced as
    // if new: a page opened with 15 seconds left does not say "5 minutes left".
    var done = warned();
    var crossed = warnings.filter(function (w) { return left <= w * 60000 && done.indexOf(w) === -1; });
    var loading = firstCheck;
    firstCheck = false;
    if (!crossed.length) return;
    try { localStorage.setItem(WARNED_KEY, JSON.stringify(done.concat(crossed))); } catch (e) { /* ignore */ }
    var fresh = crossed.filter(function (w) { return !loading || w * 60000 - left <= STALE_WARNING_MS; });
    if (fresh.length) announce(fresh[fresh.length - 1]);
  }

  function tick() {
    var timer = $("timer");
    if (!timer || clock.deadline === null) return;
    // Counting down to an absolute deadline: a throttled background tab cannot drift.
    var left = Math.max(0, clock.deadline - (Date.now() + clock.offset));
    timer.textContent = format(left);
    timer.classList.toggle("low", left <= 5 * 60000);
    if (left > 0) checkWarnings(left);
    else timeUp();
  }

  function timeUp() {
    if (clock.timeUpSent || sender.closed) return;
    clock.timeUpSent = true;
    setStatus("saving", "Time is up — submitting…");
    // Send what is queued first: the server still accepts saves for a few seconds.
    flush(4000).then(function () {
      return fetch(exam.dataset.timeUpUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "HX-Request": "true", "X-CSRFToken": csrfToken() },
      });
    }).then(function (resp) {
      syncClock(function (h) { return resp.headers.get(h); });
      var target = resp.headers.get("HX-Redirect");
      if (target) { window.location.assign(target); return; }
      clock.timeUpSent = false; // the server's clock is behind ours: try again at its deadline
    }).catch(function () {
      clock.timeUpSent = false;
      setStatus("retrying", "Time is up — offline, retrying…");
    });
  }

  // --- autosave queue -------------------------------------------------------------------------
  function formBody(form) {
    var data = new URLSearchParams(new FormData(form));
    data.delete("go");
    data.delete("walk"); // navigation state, not part of the answer
    return data.toString();
  }

  function enqueue(form) {
    recordAnswer(form);
    if (client.on) paintCells();
    queue.push({ url: form.action, body: formBody(form), position: form.dataset.position });
    storeQueue();
    setStatus("saving", "Saving… " + waitingText());
    pump();
  }

  function applyFragment(html) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html;
    tpl.content.querySelectorAll("[hx-swap-oob]").forEach(function (fresh) {
      fresh.removeAttribute("hx-swap-oob");
      var old = fresh.id && $(fresh.id);
      if (old) old.replaceWith(fresh);
    });
  }

  function scheduleRetry(message) {
    sender.busy = false;
    setStatus("retrying", message + " " + waitingText() + ".");
    clearTimeout(sender.timer);
    sender.timer = setTimeout(pump, sender.delay);
    sender.delay = Math.min(sender.delay * 2, 8000);
  }

  // The server closed the attempt (time ran out, or another tab submitted) while changes
  // were still queued: they cannot be recorded. They are never dropped silently: the
  // result page is told which questions they were and says so.
  function closed(resp) {
    sender.closed = true;
    var lost = [];
    queue.forEach(function (entry) {
      if (entry.position && lost.indexOf(entry.position) < 0) lost.push(entry.position);
    });
    queue = [];
    storeQueue();
    return resp.text().then(function (text) {
      alertMessage(lost.length
        ? text + " Not recorded: your last change to question " + lost.join(", ") + "."
        : text);
      setStatus("error", "Exam closed");
      forgetAttempt();
      var result = resp.headers.get("X-Exam-Result") || exam.dataset.resultUrl;
      if (lost.length) result += (result.indexOf("?") < 0 ? "?" : "&") + "unsaved=" + lost.join(",");
      setTimeout(function () { window.location.assign(result); }, 2500);
    });
  }

  // Sends the queue one save at a time, oldest first, so that the server sees the
  // candidate's changes in the order they made them.
  function pump() {
    if (sender.busy || sender.closed) return;
    if (!queue.length) { setStatus("saved", "All answers saved"); return; }
    if (navigator.onLine === false) {
      // The browser knows it has no network: the "online" event (below) sends the queue.
      // Trying anyway only fails, once per answer given while offline.
      setStatus("retrying", "Offline: " + waitingText() + " when the connection returns.");
      return;
    }
    sender.busy = true;
    var entry = queue[0];
    fetch(entry.url, {
      method: "POST",
      body: entry.body,
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        "HX-Request": "true",
        "X-CSRFToken": csrfToken(),
      },
    }).then(function (resp) {
      syncClock(function (h) { return resp.headers.get(h); });
      if (resp.ok && resp.headers.get("X-Exam-Saved")) {
        sender.acked += 1;
        queue.shift();
        storeQueue();
        sender.delay = 1000;
        return resp.text().then(function (html) {
          // The page moving by itself paints its own navigator; the reply's cell would
          // carry the position of a save made before later moves.
          if (!client.on) applyFragment(html);
          sender.busy = false;
          pump();
        });
      }
      if (resp.status === 400) {
        queue.shift();
        storeQueue();
        return resp.text().then(function (text) {
          alertMessage(text);
          sender.busy = false;
          setStatus("error", "Not saved: " + text);
          if (queue.length) pump();
        });
      }
      if (resp.status === 409) { sender.busy = false; return closed(resp); }
      scheduleRetry(resp.redirected
        ? "Not saved — you have been signed out. Sign in again in another tab; retrying…"
        : "Not saved — retrying…");
    }).catch(function () {
      scheduleRetry("Not saved — offline, retrying…");
    });
  }

  // Resolves when the queue is empty or after `ms`, whichever comes first.
  function flush(ms) {
    pump();
    return new Promise(function (resolve) {
      var waited = 0;
      (function wait() {
        if (!queue.length || waited >= ms) { resolve(); return; }
        waited += 100;
        setTimeout(wait, 100);
      })();
    });
  }

  // A queued change the server has not stored yet still shows on its question.
  function applyQueuedToForm() {
    var form = $("answer-form");
    if (!form) return;
    var latest = null;
    queue.forEach(function (entry) { if (entry.position === form.dataset.position) latest = entry; });
    if (!latest) return;
    var params = new URLSearchParams(latest.body);
    var chosen = params.getAll("choice");
    form.querySelectorAll("input[name=choice]").forEach(function (input) {
      input.checked = chosen.indexOf(input.value) !== -1;
    });
    var flag = form.querySelector("input[name=flagged]");
    if (flag) flag.checked = params.get("flagged") === "1";
  }

  // --- answering -----------------------------------------------------------------------------
  function enforceChoose(form, changed) {
    var choose = Number(form.dataset.choose || 1);
    if (form.dataset.kind !== "multiple" || changed.type !== "checkbox" || !changed.checked) return true;
    var count = form.querySelectorAll("input[name=choice]:checked").length;
    if (count <= choose) { $("choose-msg").textContent = ""; return true; }
    changed.checked = false;
    $("choose-msg").textContent = "Choose " + choose + ": clear one of your answers before choosing another.";
    return false;
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    var form = input.form;
    if (!form || form.id !== "answer-form") return;
    if (input.name === "choice" && !enforceChoose(form, input)) return;
    if (input.name === "choice") {
      var msg = $("choose-msg");
      if (msg && form.querySelectorAll("input[name=choice]:checked").length <= Number(form.dataset.choose || 1)) msg.textContent = "";
    }
    enqueue(form);
  });

  // --- navigation ---------------------------------------------------------------------------
  var navigating = false;

  function focusHeading() {
    var heading = $("q-heading") || $("review-list-heading");
    if (heading) heading.focus();
  }

  function navigate(url, push) {
    if (!window.htmx || !$("question-panel")) { window.location.assign(url); return; }
    navigating = true;
    window.htmx.ajax("GET", url, { target: "#question-panel", swap: "outerHTML" }).then(function () {
      if (push) history.pushState({ exam: true }, "", url);
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-nav]");
    if (!button) return;
    event.preventDefault();
    if (button.dataset.full) { goReview(button.dataset.nav); return; }
    var position = itemOf(button.dataset.nav);
    if (position) { showItem(position, true); return; }
    navigate(button.dataset.nav, true);
  });

  // --- leaving the page -------------------------------------------------------------------------
  // The review and submit pages count answers on the server, and submitting closes the
  // attempt: a save still queued would be missing from the counts, then refused as late.
  // So a full page load waits for the queue; if it cannot empty (offline), the candidate
  // stays here with their answers kept and is told why.
  var LEAVE_WAIT_MS = 10000;
  var leaving = false;

  function afterSaving(then) {
    if (!queue.length || sender.closed) { then(); return; }
    if (leaving) return;
    leaving = true;
    setStatus("saving", "Saving your answers…");
    flush(LEAVE_WAIT_MS).then(function () {
      leaving = false;
      if (!queue.length) { then(); return; }
      alertMessage(queue.length + (queue.length === 1 ? " change is" : " changes are") +
        " not saved yet, so this page stays open: your answers are kept here and are sent when the connection returns. Try again then.");
    });
  }

  function leaveAfterSaving(url) {
    afterSaving(function () { window.location.assign(url); });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-full-nav]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    if (client.on && link.getAttribute("accesskey") === "r") {
      event.preventDefault();
      goReview(link.href);
      return;
    }
    if (!queue.length) return;
    event.preventDefault();
    leaveAfterSaving(link.href);
  });

  // Submitting: the counts on this page must include every queued change, so once the queue
  // has emptied the page reloads to show the final counts before the candidate confirms.
  document.addEventListener("submit", function (event) {
    if (event.target.id !== "submit-form" || !queue.length) return;
    event.preventDefault();
    afterSaving(function () { window.location.reload(); });
  });

  window.addEventListener("popstate", function () {
    var path = window.location.pathname;
    if (client.on && !window.location.search) {
      var position = itemOf(path);
      if (position) { showItem(position, false); return; }
      if (/\/review\/$/.test(path)) { showReview(false); return; }
    }
    if (/\/items\/\d+\/$/.test(window.location.pathname) && $("question-panel")) {
      // With the query: a review walk (?walk=flagged) goes on where it was.
      navigate(window.location.pathname + window.location.search, false);
    } else {
      window.location.reload();
    }
  });

  document.body.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail.xhr;
    if (xhr) syncClock(function (h) { return xhr.getResponseHeader(h); });
  });

  var filtering = false;
  document.addEventListener("click", function (event) {
    if (event.target.closest("a[data-filter]")) filtering = true;
  });

  function rememberPlace() {
    var form = $("answer-form");
    if (!form) return;
    try { localStorage.setItem(PLACE_KEY, form.dataset.position); } catch (e) { /* ignore */ }
  }

  // Opened through "Resume" (?resume): go on to the item this browser showed last. The
  // address changes at once; the page shows that item from the payload, or asks the server.
  function resumeUrl() {
    if (!/[?&]resume\b/.test(window.location.search)) return null;
    var path = window.location.pathname;
    history.replaceState(history.state, "", path);
    var place = null;
    try { place = localStorage.getItem(PLACE_KEY); } catch (e) { /* ignore */ }
    var form = $("answer-form");
    if (!place || !form || place === form.dataset.position) return null;
    var url = path.replace(/\/items\/\d+\/$/, "/items/" + place + "/");
    if (url === path) return null;
    history.replaceState({ exam: true }, "", url);
    return url;
  }

  document.body.addEventListener("htmx:afterSwap", function () {
    rememberPlace();
    if (navigating) {
      navigating = false;
      applyQueuedToForm();
      focusHeading();
    } else if (filtering) {
      filtering = false;
      focusHeading();
    }
  });

  document.body.addEventListener("htmx:sendError", function () {
    navigating = false;
    alertMessage("You are offline: your answers are kept and will be sent, but another question cannot be opened until the connection returns.");
  });

  document.body.addEventListener("htmx:beforeRequest", function () { alertMessage(""); });


  // --- delivering from the payload (exams; no request per move) --------------------------------
  function itemUrl(n) { return base + "items/" + n + "/"; }

  // The item a URL names, when the page can show it itself (not a review walk's ?walk=).
  function itemOf(url) {
    if (!client.on || url.indexOf("?") !== -1) return null;
    var m = /\/items\/(\d+)\/$/.exec(url);
    var n = m ? Number(m[1]) : 0;
    return n >= 1 && n <= client.payload.total ? n : null;
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Line breaks as <br>, as the server's |linebreaksbr (highlights count the same text).
  function setLines(node, text) {
    node.textContent = "";
    String(text).split(/\r\n|\r|\n/).forEach(function (line, i) {
      if (i) node.appendChild(document.createElement("br"));
      node.appendChild(document.createTextNode(line));
    });
  }

  function navButton(value, label, url, key, css) {
    var button = el("button", { type: "submit", name: "go", value: value, "data-nav": url, "data-key": key }, label);
    if (css) button.className = css;
    return button;
  }

  function renderNavButtons(box, n) {
    var total = client.payload.total;
    box.textContent = "";
    var buttons = [];
    if (n > 1) buttons.push(navButton("prev", "Previous", itemUrl(n - 1), "p"));
    buttons.push(el("button", { type: "submit", name: "go", value: "stay", class: "no-js-only" }, "Save"));
    if (n < total) {
      buttons.push(navButton("next", "Save and next", itemUrl(n + 1), "n", "primary"));
    } else {
      var last = navButton("review", "Save and review", base + "review/", "n", "primary");
      last.dataset.full = "1";
      buttons.push(last);
    }
    buttons.forEach(function (button) { box.appendChild(button); box.appendChild(document.createTextNode(" ")); });
  }

  // The question panel, rebuilt in place for item n: the same markup the server sends.
  function renderItem(n) {
    var data = client.payload.items[n - 1];
    var answer = answerOf(n);
    var form = $("answer-form");
    form.action = itemUrl(n) + "save/";
    form.dataset.position = String(n);
    form.dataset.choose = String(data.choose);
    form.dataset.kind = data.kind;
    form.querySelectorAll("input[name=walk], #walk-status, .exam-error").forEach(function (node) { node.remove(); });
    $("q-heading").textContent = "Question " + n + " of " + client.payload.total;
    var box = form.querySelector(".item");
    var old = box.querySelector(".case-doc");
    if (old) old.remove();
    box.classList.toggle("with-case", data["case"] !== null);
    if (data["case"] !== null) {
      var aside = $("tpl-case").content.firstElementChild.cloneNode(true);
      client.payload.cases[data["case"]].forEach(function (section) {
        var part = el("section");
        part.appendChild(el("h4", {}, section.heading));
        part.appendChild(el("div", { class: "body" }, section.body));
        aside.appendChild(part);
      });
      box.insertBefore(aside, box.firstChild);
    }
    setLines($("stem"), data.stem);
    var choose = $("choose-n");
    if (choose) choose.remove();
    var fieldset = form.querySelector("fieldset.options");
    if (data.kind === "multiple") {
      choose = el("p", { id: "choose-n", class: "choose" });
      choose.appendChild(el("strong", {}, "Choose " + data.choose + "."));
      $("stem").after(choose);
      fieldset.setAttribute("aria-describedby", "stem choose-n");
    } else {
      fieldset.setAttribute("aria-describedby", "stem");
    }
    var list = form.querySelector(".option-list");
    list.textContent = "";
    data.options.forEach(function (text, i) {
      var row = $("tpl-option").content.firstElementChild.cloneNode(true);
      var letter = String.fromCharCode(65 + i);
      row.dataset.option = String(i);
      var input = row.querySelector("input");
      input.type = data.kind === "multiple" ? "checkbox" : "radio";
      input.value = String(i);
      input.checked = answer.choices.indexOf(i) !== -1;
      row.querySelector(".letter").textContent = letter + ".";
      row.querySelector(".text").textContent = text;
      row.querySelector(".strike-letter").textContent = letter;
      list.appendChild(row);
    });
    form.querySelector("input[name=flagged]").checked = !!answer.flagged;
    $("choose-msg").textContent = "";
    renderNavButtons(form.querySelector(".nav-buttons"), n);
  }

  function paintCells() {
    var current = client.review ? null : client.position;
    document.querySelectorAll("#navigator button[id^=nav-]").forEach(function (cell) {
      var n = Number(cell.value);
      var answer = answerOf(n);
      var answered = answer.choices.length > 0;
      cell.className = "cell" + (answered ? " answered" : "") + (answer.flagged ? " flagged" : "");
      cell.setAttribute("aria-label", "Question " + n + ", " + (answered ? "answered" : "unanswered") + (answer.flagged ? ", flagged" : ""));
      if (n === current) cell.setAttribute("aria-current", "step"); else cell.removeAttribute("aria-current");
    });
  }

  function retitle(what) {
    document.title = document.title.replace(/^[^·]*·/, what + " ·");
  }

  function showItem(n, push) {
    hideReview();
    client.position = n;
    renderItem(n);
    paintCells();
    try { localStorage.setItem(PLACE_KEY, String(n)); } catch (e) { /* ignore */ }
    if (push) history.pushState({ exam: true }, "", itemUrl(n));
    retitle("Question " + n);
    alertMessage("");
    document.body.dispatchEvent(new CustomEvent("exam:shown"));
    $("q-heading").focus();
  }

  // The form's inputs from the answers kept here (a reply or another tab may have changed them).
  function applyLocalToForm() {
    var form = $("answer-form");
    if (!form) return;
    var answer = answerOf(form.dataset.position);
    form.querySelectorAll("input[name=choice]").forEach(function (input) {
      input.checked = answer.choices.indexOf(Number(input.value)) !== -1;
    });
    var flag = form.querySelector("input[name=flagged]");
    if (flag) flag.checked = !!answer.flagged;
  }

  // --- the review list, from the answers kept here -----------------------------------------
  var FILTERS = [["all", "All"], ["answered", "Answered"], ["unanswered", "Unanswered"], ["flagged", "Flagged"]];

  function hideReview() {
    var box = $("client-review");
    client.review = null;
    if (box) { box.hidden = true; box.textContent = ""; }
    $("question-panel").hidden = false;
  }

  function renderReview(notice) {
    var box = $("client-review");
    var total = client.payload.total;
    var rows = [];
    var counts = { answered: 0, unanswered: 0, flagged: 0 };
    for (var n = 1; n <= total; n++) {
      var answer = answerOf(n);
      var answered = answer.choices.length > 0;
      counts[answered ? "answered" : "unanswered"] += 1;
      if (answer.flagged) counts.flagged += 1;
      var show = client.review;
      if (show === "all" || (show === "answered" && answered) || (show === "unanswered" && !answered) ||
          (show === "flagged" && answer.flagged)) rows.push([n, answered, answer.flagged]);
    }
    box.textContent = "";
    box.appendChild(el("h2", { id: "review-heading", tabindex: "-1" }, "Review"));
    if (notice) box.appendChild(el("p", { class: "exam-error", role: "alert" }, notice));
    var waiting = pendingPositions().length;
    box.appendChild(el("p", { id: "review-waiting" }, waiting
      ? waitingText() + " when the connection allows; they are kept in this browser."
      : "Every answer is saved."));
    box.appendChild(el("p", {}, counts.answered + " answered · " + counts.unanswered + " unanswered · " +
      counts.flagged + " flagged · " + total + " in all"));
    var filters = el("nav", { class: "filters", "aria-label": "Show" });
    FILTERS.forEach(function (pair) {
      var link = el("a", { href: base + "review/?show=" + pair[0], "data-client-filter": pair[0] }, pair[1]);
      if (pair[0] === client.review) link.setAttribute("aria-current", "true");
      filters.appendChild(link);
      filters.appendChild(document.createTextNode(" "));
    });
    box.appendChild(filters);
    var list = el("div", { id: "review-list", "data-show": client.review });
    var label = client.review === "all" ? "All questions" : client.review.charAt(0).toUpperCase() + client.review.slice(1) + " questions";
    list.appendChild(el("h3", { id: "review-list-heading", tabindex: "-1" }, label + " (" + rows.length + ")"));
    if (rows.length) {
      var ol = el("ol", { class: "review-cells" });
      rows.forEach(function (row) {
        var li = el("li");
        li.appendChild(el("a", {
          href: itemUrl(row[0]), "data-client-item": String(row[0]),
          class: "cell" + (row[1] ? " answered" : "") + (row[2] ? " flagged" : ""),
        }, "Question " + row[0]));
        li.appendChild(document.createTextNode(" "));
        li.appendChild(el("span", { class: "state" }, (row[1] ? "answered" : "unanswered") + (row[2] ? ", flagged" : "")));
        ol.appendChild(li);
      });
      list.appendChild(ol);
    } else {
      list.appendChild(el("p", { class: "empty" }, "None."));
    }
    box.appendChild(list);
    var actions = el("p");
    actions.appendChild(el("a", { class: "button", href: itemUrl(client.position || 1), "data-client-item": String(client.position || 1) }, "Back to the questions"));
    actions.appendChild(document.createTextNode(" "));
    actions.appendChild(el("a", { class: "button primary", href: base + "submit/", "data-full-nav": "" }, "Submit…"));
    box.appendChild(actions);
  }

  function showReview(push, notice) {
    client.review = client.review || "all";
    $("question-panel").hidden = true;
    $("client-review").hidden = false;
    renderReview(notice);
    paintCells();
    if (push) history.pushState({ exam: true }, "", base + "review/");
    retitle("Review");
    $("review-heading").focus();
  }

  // Review: the server's page when every answer has reached it; otherwise (offline, or saves
  // failing) the list made here from the answers this browser holds, with what still waits.
  var REVIEW_WAIT_MS = 3000;

  function goReview(url) {
    if (!client.on) { leaveAfterSaving(url); return; }
    if (!navigator.onLine) { showReview(true); return; }
    if (!queue.length) { window.location.assign(url); return; }
    setStatus("saving", "Saving your answers… " + waitingText() + ".");
    flush(REVIEW_WAIT_MS).then(function () {
      if (!queue.length) window.location.assign(url); else showReview(true);
    });
  }

  document.addEventListener("click", function (event) {
    if (!client.on) return;
    var item = event.target.closest("a[data-client-item]");
    if (item) {
      event.preventDefault();
      showItem(Number(item.dataset.clientItem), true);
      return;
    }
    var filter = event.target.closest("a[data-client-filter]");
    if (filter) {
      event.preventDefault();
      client.review = filter.dataset.clientFilter;
      renderReview();
      $("review-list-heading").focus();
    }
  });

  // --- the heartbeat: the server's time and state, and what another tab saved -----------------
  function mergeServer(answers) {
    var pending = pendingPositions();
    var merged = {};
    Object.keys(answers).forEach(function (position) { merged[position] = answers[position]; });
    pending.forEach(function (position) {
      if (local.answers[position]) merged[position] = local.answers[position];
      else delete merged[position];
    });
    local.answers = merged;
    storeLocal();
  }

  function refreshShown() {
    if (!client.on) return;
    if (client.review) renderReview(); else applyLocalToForm();
    paintCells();
  }

  function forgetAttempt() {
    [ANSWERS_KEY, CLOCK_KEY, PLACE_KEY].forEach(function (key) {
      try { localStorage.removeItem(key); } catch (e) { /* ignore */ }
    });
    if (!window.caches) return;
    caches.open(PAGE_CACHE).then(function (cache) {
      cache.delete(base + "offline-shell");
      cache.delete(exam.dataset.payloadUrl);
    }).catch(function () { /* nothing kept */ });
  }

  function closedElsewhere(body) {
    if (sender.closed) return;
    sender.closed = true;
    var lost = pendingPositions();
    queue = [];
    storeQueue();
    var text = body.state === "expired"
      ? "Time is up: this exam was submitted at its deadline."
      : "This exam has been submitted (in another window or tab).";
    text += " Answers saved before then are kept.";
    if (lost.length) text += " Not recorded: your last change to question " + lost.join(", ") + ".";
    alertMessage(text + " ");
    var link = el("a", { href: body.result || exam.dataset.resultUrl }, "See your result");
    $("exam-alert").appendChild(link);
    setStatus("error", "Exam closed");
    document.querySelectorAll("#answer-form input, #answer-form button").forEach(function (node) { node.disabled = true; });
    forgetAttempt();
  }

  function heartbeat(withAnswers) {
    if (sender.closed || !exam.dataset.stateUrl) return Promise.resolve();
    var acked = sender.acked;
    return fetch(exam.dataset.stateUrl + (withAnswers ? "?answers=1" : ""), { credentials: "same-origin" })
      .then(function (resp) {
        if (!resp.ok || resp.redirected) return null;
        syncClock(function (h) { return resp.headers.get(h); });
        return resp.json();
      }).then(function (body) {
        if (!body) return;
        if (body.state !== "in_progress") { closedElsewhere(body); return; }
        // A save acknowledged meanwhile is newer than these answers: wait for the next beat.
        if (body.answers && acked === sender.acked) { mergeServer(body.answers); refreshShown(); }
      }).catch(function () { /* offline: the answers kept here stand */ });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") heartbeat(true);
  });

  // --- going offline-capable -------------------------------------------------------------------
  function loadPayload() {
    var url = exam.dataset.payloadUrl;
    return fetch(url, { credentials: "same-origin" }).then(function (resp) {
      if (!resp.ok || resp.redirected) throw new Error("no payload");
      if (window.caches) {
        var copy = resp.clone();
        caches.open(PAGE_CACHE).then(function (cache) { return cache.put(url, copy); }).catch(function () { /* ignore */ });
      }
      return resp.json();
    }).catch(function () {
      if (!window.caches) return null;
      return caches.match(url).then(function (kept) { return kept ? kept.json() : null; }).catch(function () { return null; });
    });
  }

  // One item page of this attempt kept for the service worker to open offline (the first
  // page was loaded before the worker was in charge, so it did not keep it then).
  function keepShell() {
    if (!window.caches) return;
    var key = base + "offline-shell";
    caches.open(PAGE_CACHE).then(function (cache) {
      return cache.match(key).then(function (kept) {
        if (kept) return null;
        return fetch(itemUrl(client.position || 1), { credentials: "same-origin" }).then(function (resp) {
          if (resp.ok && !resp.redirected) return cache.put(key, resp);
          return null;
        });
      });
    }).catch(function () { /* offline reloads then need the network */ });
  }

  function registerWorker() {
    if (!("serviceWorker" in navigator) || !exam.dataset.swUrl) return;
    navigator.serviceWorker.register(exam.dataset.swUrl, { scope: exam.dataset.swScope }).catch(function () {
      /* without a worker a reload needs the network; everything else still works */
    });
  }

  function startClient() {
    registerWorker();
    return loadPayload().then(function (data) {
      if (!data || !data.items || !data.items.length) return false;
      client.payload = data;
      return heartbeat(true).then(function () {
        if (sender.closed) return true;
        client.on = true;
        var form = $("answer-form");
        client.position = Number(form.dataset.position);
        var path = window.location.pathname;
        var wanted = itemOf(path);
        if (/\/review\/$/.test(path)) showReview(false);
        else if (/\/submit\/$/.test(path)) {
          showReview(false, "Submitting needs the connection. Your answers are kept in this browser; submit when it returns.");
        } else if (wanted && wanted !== client.position) showItem(wanted, false);
        else { applyLocalToForm(); paintCells(); }
        exam.dataset.offline = "ready";
        keepShell();
        return true;
      });
    });
  }

  // --- keyboard -------------------------------------------------------------------------------
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var t = event.target;
    // The calculator's keys are its own (exam-tools.js).
    if (t && t.closest && t.closest("dialog")) return;
    if (t && (t.isContentEditable || /^(TEXTAREA|SELECT)$/.test(t.tagName) ||
        (t.tagName === "INPUT" && !/^(radio|checkbox|button|submit)$/.test(t.type)))) return;
    var key = event.key.toLowerCase();
    var form = $("answer-form");
    // Options: 1-6, or A-E (F is the flag, as on the flag's label).
    var index = "123456".indexOf(key);
    if (index === -1 && key.length === 1) index = "abcde".indexOf(key);
    if (form && index !== -1) {
      selectOption(form, index, event);
      return;
    }
    if (key === "f" && form && !event.shiftKey) {
      var flag = form.querySelector("input[name=flagged]");
      if (flag) { event.preventDefault(); flag.click(); }
      return;
    }
    if (key === "n" || key === "p") {
      var button = document.querySelector("button[data-key=" + key + "]");
      if (button) { event.preventDefault(); button.click(); }
      return;
    }
    if (key === "r") {
      var review = document.querySelector("a[accesskey=r]");
      if (review) { event.preventDefault(); goReview(review.href); }
    }
  });

  function selectOption(form, index, event) {
    var inputs = form.querySelectorAll("input[name=choice]");
    if (index >= inputs.length || inputs[index].disabled) return;
    event.preventDefault();
    inputs[index].click();
    inputs[index].focus();
  }

  // --- start -------------------------------------------------------------------------------
  window.addEventListener("online", function () {
    sender.delay = 1000;
    clearTimeout(sender.timer);
    pump();
    heartbeat(true);
  });
  window.addEventListener("offline", function () {
    if (queue.length) setStatus("retrying", "Offline: " + waitingText() + " when the connection returns.");
  });
  window.addEventListener("beforeunload", function (event) {
    // With the service worker in charge the page reopens offline and sends what it kept.
    var kept = navigator.serviceWorker && navigator.serviceWorker.controller;
    if (queue.length && !sender.closed && !kept) { event.preventDefault(); event.returnValue = ""; }
  });
  document.documentElement.classList.add("js");
  var resume = resumeUrl();
  var offlineCapable = exam.dataset.mode === "exam" && $("answer-form") && $("tpl-option") && exam.dataset.payloadUrl;
  if (offlineCapable) {
    startClient().then(function (on) { if (!on && resume) navigate(resume, false); });
  } else if (resume) {
    navigate(resume, false);
  }
  if (!resume) rememberPlace();
  applyQueuedToForm();
  if (queue.length && $("submit-form")) afterSaving(function () { window.location.reload(); });
  else if (queue.length) pump();
  // A light beat while the tab is in view; a tab coming back into view asks at once.
  setInterval(function () { if (document.visibilityState === "visible") heartbeat(false); }, HEARTBEAT_MS);
  if (clock.deadline !== null) { tick(); setInterval(tick, 250); }
})();

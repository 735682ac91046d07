/* The candidate's exam screen: countdown, autosave with an offline queue, navigation,
 * keyboard shortcuts and focus. Vanilla JS; htmx (from django-htmx) swaps the panels.
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
  var sender = { busy: false, delay: 1000, timer: null, closed: false };
  var queue = loadQueue();

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
    if (now) clock.offset = Number(now) - Date.now();
    if (deadline !== null && deadline !== undefined) clock.deadline = deadline ? Number(deadline) : null;
  }

  // --- countdown ---------------------------------------------------------------------------
  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function format(ms) {
    var s = Math.ceil(ms / 1000);
    return pad(Math.floor(s / 3600)) + ":" + pad(Math.floor((s % 3600) / 60)) + ":" + pad(s % 60);
  }

  function warned() {
    try { return JSON.parse(sessionStorage.getItem(WARNED_KEY) || "[]"); } catch (e) { return []; }
  }

  function announce(minutes) {
    var text = minutes + " minute" + (minutes === 1 ? "" : "s") + " left.";
    var banner = $("time-warning");
    if (banner) { banner.hidden = false; banner.textContent = text; }
    var live = $("announcer");
    if (live) live.textContent = text;
  }

  function checkWarnings(left) {
    // Announce only the latest threshold crossed, once per attempt (even across reloads):
    // a page opened with 3 minutes left says "5 minutes" once, not "30" and then "5".
    var done = warned();
    var crossed = warnings.filter(function (w) { return left <= w * 60000; });
    if (!crossed.length) return;
    var latest = crossed[crossed.length - 1];
    if (done.indexOf(latest) !== -1) return;
    try { sessionStorage.setItem(WARNED_KEY, JSON.stringify(done.concat(crossed))); } catch (e) { /* ignore */ }
    announce(latest);
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
    queue.push({ url: form.action, body: formBody(form), position: form.dataset.position });
    storeQueue();
    setStatus("saving", "Saving…");
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
    setStatus("retrying", message);
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
        queue.shift();
        storeQueue();
        sender.delay = 1000;
        return resp.text().then(function (html) {
          applyFragment(html);
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
    if (button.dataset.full) { leaveAfterSaving(button.dataset.nav); return; }
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
    if (!link || !queue.length || event.ctrlKey || event.metaKey || event.shiftKey) return;
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

  // Opened through "Resume" (?resume): go on to the item this browser showed last.
  function resumePlace() {
    if (!/[?&]resume\b/.test(window.location.search)) return false;
    var path = window.location.pathname;
    history.replaceState(history.state, "", path);
    var place = null;
    try { place = localStorage.getItem(PLACE_KEY); } catch (e) { /* ignore */ }
    var form = $("answer-form");
    if (!place || !form || place === form.dataset.position) return false;
    var url = path.replace(/\/items\/\d+\/$/, "/items/" + place + "/");
    if (url === path) return false;
    navigate(url, false);
    history.replaceState({ exam: true }, "", url);
    return true;
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
      if (review) { event.preventDefault(); leaveAfterSaving(review.href); }
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
  window.addEventListener("online", function () { sender.delay = 1000; clearTimeout(sender.timer); pump(); });
  window.addEventListener("beforeunload", function (event) {
    if (queue.length && !sender.closed) { event.preventDefault(); event.returnValue = ""; }
  });
  document.documentElement.classList.add("js");
  if (!resumePlace()) rememberPlace();
  applyQueuedToForm();
  if (queue.length && $("submit-form")) afterSaving(function () { window.location.reload(); });
  else if (queue.length) pump();
  if (clock.deadline !== null) { tick(); setInterval(tick, 250); }
})();

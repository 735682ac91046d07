/* The exam pages' service worker (served by exams.views.service_worker at /exams/sw.js,
 * scope /exams/attempts/). It keeps what an attempt needs to open with no network: the
 * static files, a copy of an item page of each attempt (the shell: exam.js renders any
 * item into it from the payload) and the attempt's payload. Pages are asked of the
 * network first, so online nothing is served stale; only when the network fails does the
 * kept copy answer. Saves (POST) are never touched: exam.js queues them.
 */
"use strict";

var VERSION = "{{ version }}";
var STATIC_CACHE = "ccs-exam-static-" + VERSION;
var PAGE_CACHE = "ccs-exam-pages-v1"; // shared with exam.js, which puts the shell there
var ASSETS = {{ assets_json|safe }};
var ATTEMPT_PAGE = /^(.*\/attempts\/(\d+)\/)(items\/\d+\/|review\/|submit\/)?$/;
var RESULT_PAGE = /^(.*\/attempts\/(\d+)\/)result\/$/;
var PAYLOAD = /\/attempts\/\d+\/payload\/$/;

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(STATIC_CACHE).then(function (cache) { return cache.addAll(ASSETS); })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("ccs-exam-static-") === 0 && name !== STATIC_CACHE;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function shellKey(base) { return base + "offline-shell"; }

// A finished attempt's pages are of no more use offline: forget them.
function forget(base) {
  return caches.open(PAGE_CACHE).then(function (cache) {
    return cache.keys().then(function (requests) {
      return Promise.all(requests.filter(function (request) {
        return new URL(request.url).pathname.indexOf(base) === 0;
      }).map(function (request) { return cache.delete(request); }));
    });
  });
}

function page(event, url) {
  var match = url.pathname.match(ATTEMPT_PAGE);
  var finished = url.pathname.match(RESULT_PAGE);
  return fetch(event.request).then(function (response) {
    if (finished && response.ok) event.waitUntil(forget(finished[1]));
    if (match && match[3] && match[3].indexOf("items/") === 0 && response.ok &&
        !response.redirected) {
      var copy = response.clone();
      event.waitUntil(caches.open(PAGE_CACHE).then(function (cache) {
        return cache.put(shellKey(match[1]), copy);
      }));
    }
    return response;
  }).catch(function (error) {
    if (!match) throw error;
    // Offline: the attempt's shell; exam.js shows the item, review or notice the URL asks.
    return caches.open(PAGE_CACHE).then(function (cache) {
      return cache.match(shellKey(match[1]));
    }).then(function (kept) {
      if (kept) return kept;
      throw error;
    });
  });
}

function payload(event) {
  return fetch(event.request).then(function (response) {
    if (response.ok) {
      var copy = response.clone();
      event.waitUntil(caches.open(PAGE_CACHE).then(function (cache) {
        return cache.put(event.request.url, copy);
      }));
    }
    return response;
  }).catch(function (error) {
    return caches.open(PAGE_CACHE).then(function (cache) {
      return cache.match(event.request.url);
    }).then(function (kept) {
      if (kept) return kept;
      throw error;
    });
  });
}

function asset(event) {
  // Static files: the kept copy when there is one (their names change with their content
  // in production), else the network.
  return caches.match(event.request).then(function (kept) {
    return kept || fetch(event.request);
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") { event.respondWith(page(event, url)); return; }
  if (PAYLOAD.test(url.pathname)) { event.respondWith(payload(event)); return; }
  if (ASSETS.indexOf(url.pathname) !== -1) { event.respondWith(asset(event)); }
});

// Reports the browser's time zone once, when the person has none stored (the page says so
// with data-tz-report on <body>; ccs_sim/time_zones.py). The server keeps it for later pages;
// without JavaScript nothing is reported and times stay in the site's zone.
(function () {
  "use strict";
  var body = document.body;
  var url = body && body.getAttribute("data-tz-report");
  if (!url || !window.fetch || !window.Intl) return;
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (error) {
    return;
  }
  if (!zone) return;
  var headers = {};
  try {
    headers = JSON.parse(body.getAttribute("hx-headers") || "{}");
  } catch (error) {
    headers = {};
  }
  var data = new FormData();
  data.append("time_zone", zone);
  fetch(url, { method: "POST", body: data, headers: headers, credentials: "same-origin" })
    .then(function (response) {
      if (response.status === 204) body.removeAttribute("data-tz-report");
    })
    .catch(function () {
      // Offline: the next page asks again.
    });
})();

/* Operator console: the progress of a background job (reading and previewing an uploaded register).
   Asks the server for the job's state every second and shows it in the live region; when the job has
   ended the page is loaded again, and the server sends the operator on to the preview or says why it
   failed. Without JavaScript the link "Sprawdź stan teraz" does the same by hand. */
(function () {
  "use strict";
  var el = document.getElementById("job-status");
  if (!el || !window.fetch) { return; }
  var url = el.getAttribute("data-status-url");
  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (job) {
        if (!job) { setTimeout(poll, 3000); return; }
        if (!job.open) { window.location.reload(); return; }
        el.textContent = job.text;
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
})();

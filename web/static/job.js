// Keeps the job page current: polls the status API and counts the ETA down between polls.
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box) { return; }
  var url = box.dataset.statusUrl;
  var eta = null;
  var ahead = 0;
  function $(id) { return document.getElementById(id); }
  function words(seconds) {
    if (seconds < 60) { return "about " + Math.max(1, Math.round(seconds)) + " s"; }
    var m = Math.round(seconds / 60);
    return m < 90 ? "about " + m + " min" : "about " + (m / 60).toFixed(1) + " h";
  }
  function etaText() {
    if (ahead > 0) {
      return "· waiting for " + ahead + " job(s)" +
        (eta === null ? "" : " (" + words(eta) + " until yours is done)");
    }
    return eta === null ? "" : "· " + words(eta) + " left";
  }
  function cell(text) {
    var td = document.createElement("td");
    td.textContent = text;  // text, never markup: file names come from the upload
    return td;
  }
  function showFailures(s) {
    var rows = $("failure-rows");
    rows.textContent = "";
    (s.failures || []).forEach(function (f) {
      var tr = document.createElement("tr");
      tr.appendChild(cell(f.file));
      tr.appendChild(cell(f.reason));
      rows.appendChild(tr);
    });
    $("failures").hidden = !(s.failures && s.failures.length);
    $("more-failures").textContent = s.more_failures ?
      "and " + s.more_failures + " more: the report's failure column lists them all." : "";
  }
  function show(job) {
    $("status").textContent = job.status;
    $("position").textContent = job.queue_position ? "(number " + job.queue_position + " in the queue)" : "";
    $("progress").max = job.total || 1;
    $("progress").value = job.processed;
    $("counts").textContent = job.progress_text;
    eta = job.eta_seconds;
    ahead = job.status === "queued" ? job.jobs_ahead : 0;
    $("eta").textContent = etaText();
    $("notice").hidden = !job.notice;
    $("notice").textContent = job.notice || "";
    $("error").hidden = !job.error;
    $("error").textContent = job.error || "";
    $("cancel-form").hidden = !(job.status === "queued" || job.status === "processing");
    if (job.model) { $("model").textContent = job.model_line || ("Model: " + job.model); }
    if (job.status === "finished") {
      $("done").hidden = false;
      $("download").href = job.download_url;
      var s = job.summary;
      if (s) {
        $("summary").textContent = job.summary_text;
        showFailures(s);
      }
      if (job.expires_on) {
        $("expires").textContent = "Results are kept until " + job.expires_on + " (UTC), then deleted.";
      }
    }
    return job.status === "queued" || job.status === "processing";
  }
  function poll() {
    fetch(url, { headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (job) { if (show(job)) { setTimeout(poll, 2000); } })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setInterval(function () {
    if (eta !== null && eta > 0) { eta -= 1; $("eta").textContent = etaText(); }
  }, 1000);
  $("cancel-form").addEventListener("submit", function (event) {
    event.preventDefault();
    if (!window.confirm("Cancel this job? Your uploaded photos are deleted from the server " +
                        "and no results are kept.")) { return; }
    fetch($("cancel-form").action, {
      method: "POST",
      headers: { "Accept": "application/json",
                 "X-CSRFToken": document.querySelector("meta[name=csrf-token]").content }
    }).then(poll);
  });
  if (box.dataset.status === "queued" || box.dataset.status === "processing") { poll(); }
})();

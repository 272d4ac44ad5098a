// Keeps the job page current: polls the status API and counts the ETA down between polls.
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box) { return; }
  var url = box.dataset.statusUrl;
  var eta = null;
  function $(id) { return document.getElementById(id); }
  function words(seconds) {
    if (seconds < 60) { return "about " + Math.max(1, Math.round(seconds)) + " s left"; }
    var m = Math.round(seconds / 60);
    return m < 90 ? "about " + m + " min left" : "about " + (m / 60).toFixed(1) + " h left";
  }
  function show(job) {
    $("status").textContent = job.status;
    $("position").textContent = job.queue_position ? "(number " + job.queue_position + " in the queue)" : "";
    $("progress").max = job.total || 1;
    $("progress").value = job.processed;
    $("counts").textContent = job.processed + " of " + job.total + " images";
    eta = job.eta_seconds;
    $("eta").textContent = eta === null ? "" : "· " + words(eta);
    $("error").hidden = !job.error;
    $("error").textContent = job.error || "";
    $("cancel-form").hidden = !(job.status === "queued" || job.status === "processing");
    if (job.model) { $("model").textContent = "Model: " + job.model; }
    if (job.status === "finished") {
      $("done").hidden = false;
      $("download").href = job.download_url;
      var s = job.summary;
      if (s) {
        $("summary").textContent = s.images + " images: " + s.animal + " with animals, " + s.person +
          " with people, " + s.vehicle + " with vehicles, " + s.empty + " empty, " + s.errors + " could not be read.";
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
    if (eta !== null && eta > 0) { eta -= 1; $("eta").textContent = "· " + words(eta); }
  }, 1000);
  $("cancel-form").addEventListener("submit", function (event) {
    event.preventDefault();
    fetch($("cancel-form").action, {
      method: "POST",
      headers: { "Accept": "application/json",
                 "X-CSRFToken": document.querySelector("meta[name=csrf-token]").content }
    }).then(poll);
  });
  if (box.dataset.status === "queued" || box.dataset.status === "processing") { poll(); }
})();

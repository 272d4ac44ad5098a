// Dropzone on the upload page. Configured here, not inline, so the page needs no inline script.
(function () {
  "use strict";
  var el = document.getElementById("dropzone");
  if (!el || typeof Dropzone === "undefined") { return; }  // plain form still works
  Dropzone.autoDiscover = false;
  var form = document.getElementById("job-form");
  var submit = document.getElementById("submit");
  var state = document.getElementById("upload-state");
  var total = document.getElementById("total");
  var totalBar = document.getElementById("total-progress");
  var totalText = document.getElementById("total-text");
  var csrf = document.querySelector("meta[name=csrf-token]").content;
  document.getElementById("plain-upload").hidden = true;
  var zone = new Dropzone(el, {
    url: el.dataset.url,
    paramName: "file",
    chunking: true,
    forceChunking: true,
    chunkSize: parseInt(el.dataset.chunkBytes, 10),
    retryChunks: false,         // resumeAfter() below sends a lost chunk again, patiently
    parallelUploads: 2,
    timeout: 0,
    maxFilesize: parseInt(el.dataset.maxMb, 10),
    acceptedFiles: el.dataset.accepted,
    headers: { "X-CSRFToken": csrf },
    addRemoveLinks: true,
    dictRemoveFile: "Remove",
    dictCancelUpload: "Cancel"
  });
  // A chunk the site did not answer (a restart of the site, a dropped link, a proxy saying the
  // site is away) is not an error yet: after a pause, growing, the page asks the server what it
  // holds of the file, then sends the chunk again, moves on past it, or takes the finished file.
  // A refusal (4xx) is the server's answer, and shown at once.
  var PAUSES = [500, 1000, 2000, 4000, 8000, 15000, 30000, 30000, 30000];  // about 2 minutes
  var giveUp = zone._handleUploadError.bind(zone);
  function transient(xhr) {
    return !xhr || xhr.status === 0 || xhr.status === 502 || xhr.status === 503 || xhr.status === 504;
  }
  function resumeAfter(files, chunk, pause) {
    var file = files[0];
    state.textContent = "The server is not answering; trying again in " +
      Math.round(PAUSES[pause] / 1000 * 10) / 10 + " s. Nothing sent so far is lost.";
    setTimeout(function () {
      if (file.status === Dropzone.CANCELED) { return; }
      var url = el.dataset.arrivedUrl + "?draft=" + encodeURIComponent(el.dataset.draft) +
        "&uuid=" + encodeURIComponent(file.upload.uuid);
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (held) {
          chunk.pauses = pause + 1;
          state.textContent = "Uploading… please wait before starting detection.";
          if (held.state === "done") {
            zone._finished(files, { ok: true, name: held.name }, null);
          } else if (held.state === "arriving" && held.received.indexOf(chunk.index) >= 0 &&
                     chunk.index < file.upload.totalChunkCount - 1) {
            file.upload.finishedChunkUpload(chunk, { ok: true });
          } else {
            zone._uploadData(files, [chunk.dataBlock]);
          }
        })
        .catch(function () {
          if (pause + 1 < PAUSES.length) { resumeAfter(files, chunk, pause + 1); }
          else { giveUp(files, null, "The server did not come back; drop the file again later."); }
        });
    }, PAUSES[pause]);
  }
  zone._handleUploadError = function (files, xhr, response) {
    var file = files[0];
    var chunk = file.upload && file.upload.chunked ? zone._getChunk(file, xhr) : null;
    var pause = chunk ? (chunk.pauses || 0) : PAUSES.length;
    if (file.status === Dropzone.CANCELED || !chunk || !transient(xhr) || pause >= PAUSES.length) {
      return giveUp(files, xhr, response);
    }
    resumeAfter(files, chunk, pause);
  };
  zone.on("sending", function (file, xhr, data) {
    data.append("draft", el.dataset.draft);
    data.append("fullpath", file.fullPath || "");  // keeps dropped camera folders apart
  });
  zone.on("success", function (file, response) {
    if (response && response.name) { file.serverName = response.name; }
  });
  zone.on("removedfile", function (file) {
    // Removing takes the file off the server too: it is never processed.
    var data = new FormData();
    data.append("draft", el.dataset.draft);
    if (file.serverName) { data.append("name", file.serverName); }
    if (file.upload && file.upload.uuid) { data.append("uuid", file.upload.uuid); }
    fetch(el.dataset.removeUrl, { method: "POST", body: data,
      headers: { "X-CSRFToken": csrf, "Accept": "application/json" } });
    refresh();
  });
  function busy() {
    return zone.getUploadingFiles().length + zone.getQueuedFiles().length > 0;
  }
  function unfinished() {
    return zone.files.filter(function (f) { return f.status !== Dropzone.SUCCESS; });
  }
  function refresh() {
    var done = zone.files.filter(function (f) { return f.status === Dropzone.SUCCESS; }).length;
    var bad = unfinished().filter(function (f) { return f.status === Dropzone.ERROR; });
    submit.disabled = busy();
    if (busy()) {
      state.textContent = "Uploading… please wait before starting detection.";
    } else if (bad.length) {
      state.textContent = "Not uploaded: " + bad.map(function (f) { return f.name; }).join(", ") +
        ". Remove them (or drop them again) before starting detection.";
    } else {
      state.textContent = done ? done + " file(s) uploaded completely." : "";
    }
  }
  var started = null;
  function human(bytes) {
    var units = ["bytes", "KB", "MB", "GB"], i = 0;
    while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i += 1; }
    return (i ? bytes.toFixed(1) : bytes) + " " + units[i];
  }
  zone.on("totaluploadprogress", function (percent, totalBytes, sentBytes) {
    if (!busy()) { return; }
    if (started === null) { started = Date.now(); }
    var seconds = (Date.now() - started) / 1000;
    var speed = seconds > 0 ? sentBytes / seconds : 0;
    var left = speed > 0 ? (totalBytes - sentBytes) / speed : null;
    total.hidden = false;
    totalBar.value = percent;
    totalText.textContent = human(sentBytes) + " of " + human(totalBytes) +
      (speed > 0 ? " · " + human(speed) + "/s" : "") +
      (left !== null ? " · about " + (left < 90 ? Math.round(left) + " s" : Math.round(left / 60) + " min") + " left" : "");
  });
  zone.on("addedfile", refresh);
  zone.on("processing", refresh);  // says "Uploading…" as soon as a file starts
  zone.on("complete", refresh);
  zone.on("queuecomplete", function () { started = null; refresh(); });
  zone.on("error", function (file, message) {
    var text = (message && message.error) ? message.error : message;
    state.textContent = file.name + ": " + text;
    refresh();
  });
  window.addEventListener("beforeunload", function (event) {
    if (busy()) { event.preventDefault(); event.returnValue = ""; }
  });
  form.addEventListener("submit", function (event) {
    if (event.submitter && event.submitter.classList.contains("remove")) { return; }
    var bad = unfinished();
    if (busy() || bad.length) {
      event.preventDefault();
      refresh();
    }
  });
})();

// Dropzone on the upload page. Configured here, not inline, so the page needs no inline script.
(function () {
  "use strict";
  var el = document.getElementById("dropzone");
  if (!el || typeof Dropzone === "undefined") { return; }  // plain form still works
  Dropzone.autoDiscover = false;
  var form = document.getElementById("job-form");
  var submit = document.getElementById("submit");
  var state = document.getElementById("upload-state");
  document.getElementById("plain-upload").hidden = true;
  var zone = new Dropzone(el, {
    url: el.dataset.url,
    paramName: "file",
    chunking: true,
    forceChunking: true,
    chunkSize: parseInt(el.dataset.chunkBytes, 10),
    retryChunks: true,
    retryChunksLimit: 5,
    parallelUploads: 2,
    timeout: 0,
    maxFilesize: parseInt(el.dataset.maxMb, 10),
    acceptedFiles: el.dataset.accepted,
    headers: { "X-CSRFToken": document.querySelector("meta[name=csrf-token]").content },
    addRemoveLinks: true
  });
  function busy() {
    return zone.getUploadingFiles().length + zone.getQueuedFiles().length > 0;
  }
  function refresh() {
    var done = zone.getAcceptedFiles().filter(function (f) { return f.status === "success"; }).length;
    submit.disabled = busy();
    state.textContent = busy() ? "Uploading… please wait before starting detection."
                               : (done ? done + " file(s) uploaded." : "");
  }
  zone.on("addedfile", refresh);
  zone.on("complete", refresh);
  zone.on("queuecomplete", refresh);
  zone.on("error", function (file, message) {
    var text = (message && message.error) ? message.error : message;
    state.textContent = file.name + ": " + text;
  });
  form.addEventListener("submit", function (event) {
    if (busy()) { event.preventDefault(); refresh(); }
  });
})();

// The results page: counts and the threshold slider, filters, the paged gallery, bulk accept
// and exports. Everything is read from the JSON API a page at a time (50,000-image jobs). A
// project's review page runs the same over every card (its API has no threshold to apply, no
// exports here and no folders: locations and periods instead).
(function () {
  "use strict";
  var T = window.Trapline, root = T.root, $ = T.$;
  if (!root) { return; }
  var state = T.state = { threshold: 0.5, jobThreshold: 0.5, page: 1, pages: 1, total: 0,
                          perPage: 48, items: [], query: {} };
  var lastBulk = null;

  T.post = function (url, body) {
    return fetch(url, { method: "POST", body: JSON.stringify(body), headers: {
      "Content-Type": "application/json", "Accept": "application/json",
      "X-CSRFToken": document.querySelector("meta[name=csrf-token]").content } })
      .then(function (r) { return r.json().then(function (b) { return { status: r.status, body: b }; }); });
  };
  T.message = function (text) {
    $("results-message").hidden = !text;
    $("results-message").textContent = text || "";
  };
  T.reviewer = function () {
    var name = $("reviewer").value.trim();
    if (!name && T.viewerOpen && T.viewerOpen()) { T.askName(); return name; }  // the field is under the viewer
    if (!name) { T.message("Type your name first: it is recorded with each correction."); $("reviewer").focus(); }
    return name;
  };
  // logged in, the site signs each correction with the account: the field shows its name
  if (!$("reviewer").dataset.account) $("reviewer").value = localStorage.getItem("trapline.reviewer") || "";
  $("reviewer").addEventListener("change", function () {
    localStorage.setItem("trapline.reviewer", $("reviewer").value.trim());
    seedUndo();
  });
  T.setReviewer = function (name) {
    $("reviewer").value = name;
    localStorage.setItem("trapline.reviewer", name);
    seedUndo();
  };
  // undo (Z) survives a reload: the server says which of this person's changes still can be
  function seedUndo() {
    if (!root.dataset.undoableUrl) { return; }
    var name = $("reviewer").value.trim();
    if (!name) { return; }
    fetch(root.dataset.undoableUrl + "?reviewer=" + encodeURIComponent(name))
      .then(function (r) { return r.json(); })
      .then(function (body) { if (!T.undoStack.length) { T.undoStack.push.apply(T.undoStack, body.undoable || []); } });
  }

  function cell(text) { var td = document.createElement("td"); td.textContent = text; return td; }
  function row(cells) { var tr = document.createElement("tr"); cells.forEach(function (c) { tr.appendChild(cell(c)); }); return tr; }

  // `reviewed` (the summary's): how many of each count a person reviewed; the slider's counts
  // at another threshold are the detector's own, so they have none
  // a class the job's model cannot detect is said so, not counted as 0
  var unseen = [];
  function showCounts(outcomes, boxes, reviewed) {
    var rows = $("outcome-rows");
    rows.textContent = "";
    ["animal", "person", "vehicle", "empty", "error"].forEach(function (o) {
      if (unseen.indexOf(o) >= 0 && !outcomes[o]) {
        var tr = row([o]), td = cell("not detected by this model");
        td.colSpan = 3; td.className = "not-detected"; tr.appendChild(td); rows.appendChild(tr);
        return;
      }
      rows.appendChild(row([o, String(outcomes[o] || 0), boxes[o] === undefined ? "" : String(boxes[o]),
        reviewed ? String(reviewed.outcomes[o] || 0) : "–"]));
    });
  }
  function countsFrom(s) {
    var n = s.reviewed.images;
    if (!n) { return "Counts from the model: nobody has reviewed a file yet."; }
    if (s.basis === "reviewed") { return "Counts from the review: every file was reviewed."; }
    return "Counts from the review for " + n.toLocaleString() + " of " + s.images.toLocaleString() +
      " files, from the model for the rest.";
  }
  function showSummary(s) {
    state.jobThreshold = s.threshold;
    if (s.model_facts) {
      unseen = ["animal", "person", "vehicle"].filter(function (c) { return s.model_facts.classes.indexOf(c) < 0; });
      $("model-facts").textContent = s.model_facts.not_detected ? s.model_facts.name + ": " + s.model_facts.not_detected + "." : "";
    }
    var boxes = {};
    Object.keys(s.categories).forEach(function (k) { boxes[k] = s.categories[k].detections; });
    showCounts(s.outcomes, boxes, s.reviewed);
    $("counts-from").textContent = countsFrom(s);
    var list = $("species-list");
    list.textContent = "";
    (s.species || []).forEach(function (name) { var o = document.createElement("option"); o.value = name; list.appendChild(o); });
    var folders = $("folder-rows"), select = $("folder-filter");
    if (!folders || !select) { return; }
    folders.textContent = "";
    (s.folders || []).forEach(function (f) {
      folders.appendChild(row([f.folder || "(top level)", f.images, f.animal, f.person, f.vehicle, f.empty, f.error, f.reviewed].map(String)));
      if (!select.dataset.filled) {
        var opt = document.createElement("option");
        opt.value = f.folder; opt.textContent = f.folder || "(top level)";
        select.appendChild(opt);
      }
    });
    select.dataset.filled = "1";
  }
  T.refreshSummary = function () {
    return fetch(root.dataset.summaryUrl).then(function (r) { return r.json(); }).then(showSummary);
  };
  // the counts follow the review: after a burst of corrections, one summary request
  var countsTimer = null;
  T.countsChanged = function () {
    clearTimeout(countsTimer);
    countsTimer = setTimeout(function () {
      T.refreshSummary();
      if (T.refreshDashboard) { T.refreshDashboard(); }
    }, 400);
  };

  var slideTimer = null;
  function onSlide() {
    state.threshold = parseFloat($("threshold").value);
    $("threshold-value").textContent = state.threshold.toFixed(2);
    renderGallery();
    if (T.viewerRedraw) { T.viewerRedraw(); }
    if (!root.dataset.thresholdUrl) { return; }  // a project: each card keeps its own
    $("threshold-apply").disabled = Math.abs(state.threshold - state.jobThreshold) < 0.001;
    clearTimeout(slideTimer);
    slideTimer = setTimeout(function () {
      fetch(root.dataset.summaryUrl + "?threshold=" + state.threshold)
        .then(function (r) { return r.json(); })
        .then(function (s) {
          showCounts(s.at_threshold.outcomes, s.at_threshold.detections, null);
          $("counts-from").textContent = "The model's own counts at " + state.threshold.toFixed(2) +
            "; reviewed files keep their review at any threshold.";
        });
    }, 150);
  }
  $("threshold").addEventListener("input", onSlide);
  if (root.dataset.thresholdUrl) $("threshold-apply").addEventListener("click", function () {
    T.post(root.dataset.thresholdUrl, { threshold: state.threshold }).then(function (res) {
      if (res.status !== 200) { T.message(res.body.error); return; }
      T.message("Outcomes, filters and the next export now use " + state.threshold.toFixed(2) + ".");
      T.refreshSummary().then(onSlide);
      if (T.refreshDashboard) { T.refreshDashboard(); }
      T.loadPage(state.page);
    });
  });

  function readFilters() {
    var form = $("filters"), q = {};
    ["outcome", "category", "min_conf", "max_conf", "reviewed", "order", "location", "period"].forEach(function (n) {
      if (form.elements[n] && form.elements[n].value !== "") { q[n] = form.elements[n].value; }
    });
    var folder = form.elements.folder;
    if (folder && folder.selectedIndex > 0) { q.folder = folder.value; }
    return q;
  }
  T.setFilters = function (values) {
    var form = $("filters");
    Object.keys(values).forEach(function (k) { form.elements[k].value = values[k]; });
    state.query = readFilters();
  };
  $("filters").addEventListener("change", function () { state.query = readFilters(); T.loadPage(1); });

  T.loadPage = function (page) {
    var params = new URLSearchParams(state.query);
    params.set("page", page);
    params.set("per_page", state.perPage);
    return fetch(root.dataset.mediaUrl + "?" + params.toString())
      .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
      .then(function (res) {
        if (!res.ok) { T.message(res.body.error); return; }
        state.page = res.body.page; state.pages = Math.max(1, res.body.pages);
        state.total = res.body.total; state.items = res.body.media;
        renderGallery();
      });
  };

  function tile(item, index) {
    var a = document.createElement("button");
    a.type = "button";
    a.className = "tile" + (item.review ? " reviewed" : "") + (item.failure ? " failed" : "");
    a.dataset.index = String(index);
    var frame = document.createElement("div");
    frame.className = "frame";
    if (item.thumbnail_url) {
      var img = document.createElement("img");
      img.src = item.thumbnail_url; img.alt = item.path; img.loading = "lazy";
      frame.appendChild(img);
    }
    var overlay = document.createElement("div");
    overlay.className = "overlay";
    frame.appendChild(overlay);
    T.fit(frame, item, 232, 160);
    T.drawBoxes(overlay, item, state.threshold, {});
    var caption = document.createElement("span");
    caption.className = "caption";
    var outcome = item.review ? item.verified_outcome : T.outcomeOf(item, state.threshold);
    if (item.kind === "video") { a.className += " video"; }
    caption.textContent = (item.review ? "✓ " : "") +
      (item.video ? "▶ " + item.video.frames.length + " frames · " : "") + outcome +
      (item.max_conf !== null ? " · " + Math.round(item.max_conf * 100) + "%" : "") +
      (item.failure ? " · " + item.failure : "");
    var name = document.createElement("span");
    name.className = "name";
    name.textContent = (item.job && root.dataset.project ? item.job.slice(0, 8) + " / " : "") + item.path;
    a.appendChild(frame); a.appendChild(caption); a.appendChild(name);
    return a;
  }
  function when(iso) { return iso ? iso.replace("T", " ").slice(0, 19) : "no capture time"; }
  function eventHead(event) {
    var head = document.createElement("div");
    head.className = "event-head";
    head.dataset.event = event.id;
    var facts = document.createElement("span");
    facts.className = "event-facts";
    facts.textContent = "Event " + event.id + " · " + event.deployment + " · " + event.files +
      (event.files === 1 ? " file" : " files") + " · " + when(event.start) +
      (event.end && event.end !== event.start ? " → " + when(event.end).slice(11) : "") +
      " · " + event.outcome;
    var accept = document.createElement("button");
    accept.type = "button"; accept.className = "secondary accept-event";
    accept.dataset.event = event.id;
    accept.textContent = "Accept this event";
    accept.title = "Accept, as the AI saw them, all of its files nobody reviewed yet";
    head.appendChild(facts); head.appendChild(accept);
    return head;
  }
  function renderGallery() {
    var gallery = $("gallery"), last = null;
    gallery.textContent = "";
    state.items.forEach(function (item, i) {
      if (state.query.order === "event" && item.event && item.event.id !== last) {
        gallery.appendChild(eventHead(item.event));
        last = item.event.id;
      }
      gallery.appendChild(tile(item, i));
    });
    $("page-info").textContent = "page " + state.page + " of " + state.pages;
    $("gallery-count").textContent = state.total.toLocaleString() + " images match";
    $("page-prev").disabled = state.page <= 1;
    $("page-next").disabled = state.page >= state.pages;
  }
  T.renderGallery = renderGallery;
  T.acceptEvent = acceptEvent;
  function acceptEvent(id) {
    var who = T.reviewer();
    if (!who) { return; }
    T.post(root.dataset.reviewsUrl, { action: "bulk_accept", reviewer: who, filter: { event: id } }).then(function (res) {
      if (res.status !== 201) { T.message(res.body.error); return; }
      lastBulk = res.body.batch;
      T.undoStack.push({ batch: lastBulk });
      $("bulk-undo").hidden = false;
      T.message("Accepted event " + id + ": " + res.body.images + " files not reviewed before.");
      T.loadPage(state.page).then(function () { if (T.viewerRefresh) { T.viewerRefresh(); } });
      T.refreshSummary();
    });
  }
  $("gallery").addEventListener("click", function (event) {
    var button = event.target.closest(".accept-event");
    if (button) { acceptEvent(button.dataset.event); return; }
    var t = event.target.closest(".tile");
    if (t) { T.openViewer((state.page - 1) * state.perPage + parseInt(t.dataset.index, 10)); }
  });
  $("page-prev").addEventListener("click", function () { T.loadPage(state.page - 1); });
  $("page-next").addEventListener("click", function () { T.loadPage(state.page + 1); });
  // both load the gallery in their order before the viewer opens on its first image, so what
  // is shown is the filter a following bulk accept acts on
  function reviewIn(order) {
    T.setFilters({ reviewed: "no", order: order });
    T.loadPage(1).then(function () { if (state.total) { T.openViewer(0); } else { T.message("Nothing left to review in this filter."); } });
  }
  $("review-species").addEventListener("click", function () { reviewIn("species_uncertain"); });
  $("review-uncertain").addEventListener("click", function () { reviewIn("uncertain"); });

  $("bulk-accept").addEventListener("click", function () {
    var who = T.reviewer();
    if (!who) { return; }
    if (!window.confirm("Accept, as the AI saw them, all images in this filter that nobody reviewed yet?")) { return; }
    T.post(root.dataset.reviewsUrl, { action: "bulk_accept", reviewer: who, filter: state.query }).then(function (res) {
      if (res.status !== 201) { T.message(res.body.error); return; }
      lastBulk = res.body.batch;
      T.undoStack.push({ batch: lastBulk });
      $("bulk-undo").hidden = false;
      T.message("Accepted " + res.body.images + " images.");
      T.loadPage(state.page); T.refreshSummary();
    });
  });
  $("bulk-undo").addEventListener("click", function () {
    T.post(root.dataset.reviewsUrl, { action: "undo_bulk", batch: lastBulk, reviewer: T.reviewer() }).then(function (res) {
      T.message(res.status === 200 ? "Undone on " + res.body.undone + " images" +
        (res.body.kept ? " (" + res.body.kept + " changed since were kept)." : ".") : res.body.error);
      $("bulk-undo").hidden = true;
      T.loadPage(state.page);
    });
  });

  function showExports(job) {
    var list = $("downloads");
    list.textContent = "";
    (job.downloads || []).forEach(function (d) {
      var li = document.createElement("li"), a = document.createElement("a");
      a.href = d.url; a.textContent = (d.what === "full" ? "Photos and reports" : "Reports only") + " (" + d.size + ")";
      li.appendChild(a);
      li.appendChild(document.createTextNode(" made " + d.made_at.replace("T", " ").slice(0, 16) + " UTC"));
      list.appendChild(li);
    });
    var e = job.export;
    var waiting = e && e.stage === "queued" ? "waiting for the model server" : "";
    $("export-progress").textContent = !e ? (job.follow_up_error || "") :
      e.kind === "evaluate" ? "Comparing with your truth file on the model server" + (waiting ? ": " + waiting : "") + "; the zips can be made again after it." :
      "Making the zip: " + (waiting || (e.stage || "starting") + ", " + (e.done || 0) + " of " + job.total + " images");
    $("export-full").disabled = $("export-reports").disabled = !!e;
    return !!e;
  }
  function pollExport() {
    fetch(root.dataset.statusUrl).then(function (r) { return r.json(); }).then(function (job) {
      if (showExports(job)) { setTimeout(pollExport, 1500); }
    });
  }
  function startExport(photos) {
    T.post(root.dataset.exportsUrl, { photos: photos, threshold: state.threshold }).then(function (res) {
      if (res.status !== 202) { T.message(res.body.error); return; }
      state.jobThreshold = state.threshold;
      showExports(res.body); pollExport();
    });
  }
  if (root.dataset.statusUrl) {
    $("export-full").addEventListener("click", function () { startExport(true); });
    $("export-reports").addEventListener("click", function () { startExport(false); });
  }

  T.undoStack = [];
  seedUndo();
  T.refreshSummary().then(function () {
    $("threshold").value = state.jobThreshold;
    onSlide();
  });
  state.query = readFilters();
  T.loadPage(1);
  if (root.dataset.statusUrl) { pollExport(); }
})();

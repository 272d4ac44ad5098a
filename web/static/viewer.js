// The image viewer and review: a large web rendition with the boxes drawn by the browser,
// previous/next through the gallery's filter and order, and every review action on one click or
// one key, each undoable. Conflicts (someone else changed the image) reload it with a message.
// A video shows its best frame large and its checked frames as a filmstrip; each frame shows
// its own boxes.
(function () {
  "use strict";
  var T = window.Trapline, root = T.root, $ = T.$;
  if (!root) { return; }
  var v = { index: 0, item: null, selected: -1, hidden: false, drawing: false, start: null,
            frame: null, low: false, opener: null };
  var ADVANCE_KEY = "trapline.advance";

  function state() { return T.state; }
  function current() { return v.item; }

  function say(text) { $("v-message").hidden = !text; $("v-message").textContent = text || ""; }
  T.viewerSay = say;
  T.viewerItem = function () { return v.item; };
  T.viewerOpen = function () { return !$("viewer").hidden; };

  function layout() {
    var stage = $("stage"), strip = $("filmstrip");
    var below = strip.hidden ? 0 : strip.offsetHeight;
    T.fit($("frame"), v.item, stage.clientWidth - 16, stage.clientHeight - 16 - below);
  }
  function redraw() {
    if (!v.item) { return; }
    T.drawBoxes($("overlay"), v.item, state().threshold,
                { selected: v.selected, labels: true, hidden: v.hidden, frame: v.frame, low: v.low });
    panel();
    film();
  }
  T.viewerRedraw = redraw;

  function facts(item) {
    var parts = [];
    if (item.captured) { parts.push("Taken " + item.captured.replace("T", " ")); }
    var camera = [item.make, item.model].filter(Boolean).join(" ");
    if (camera) { parts.push("Camera " + camera + (item.serial ? " (" + item.serial + ")" : "")); }
    if (item.width) { parts.push(item.width + " × " + item.height + " px"); }
    if (item.video) {
      var vid = item.video, shown = frameInfo(item, v.frame);
      parts.push("Video " + (vid.duration ? vid.duration.toFixed(1) + " s" : "") +
        (vid.frame_rate ? " at " + parseFloat(vid.frame_rate.toFixed(2)) + " fps" : "") + " (" + vid.codec + "), " +
        vid.frames.length + " frames checked");
      if (shown) {
        parts.push("Showing frame " + shown.number + " at " + shown.time.toFixed(1) + " s" +
          (shown.number === vid.best_frame ? " (its best detection)" : ""));
      }
      var first = firstSeen(item);
      if (first) { parts.push("First seen: " + first); }
    }
    return parts.join(" · ");
  }
  // at the slider's threshold, the first checked frame each category was seen in
  function firstSeen(item) {
    var first = {}, threshold = state().threshold;
    item.detections.forEach(function (d) {
      var s = T.boxState(d, threshold);
      if (!s.counted || d.frame === null || d.frame === undefined) { return; }
      if (first[s.category] === undefined || d.frame < first[s.category]) { first[s.category] = d.frame; }
    });
    return ["animal", "person", "vehicle"].filter(function (c) { return first[c] !== undefined; })
      .map(function (c) {
        var f = frameInfo(item, first[c]);
        return c + (f ? " at " + f.time.toFixed(1) + " s" : " in frame " + first[c]);
      })
      .join(", ");
  }
  function frameInfo(item, number) {
    if (!item.video) { return null; }
    return item.video.frames.find(function (f) { return f.number === number; }) || null;
  }
  // the filmstrip: every checked frame, small, with its boxes; the one shown is marked
  function film() {
    var strip = $("filmstrip"), item = v.item;
    if (!item.video || !item.video.frames.length) { strip.hidden = true; strip.textContent = ""; return; }
    var s = state();
    if (strip.dataset.media !== String(item.id) + ":" + item.version + ":" + s.threshold) {
      strip.textContent = "";
      strip.dataset.media = String(item.id) + ":" + item.version + ":" + s.threshold;
      item.video.frames.forEach(function (f) {
        var b = document.createElement("button");
        b.type = "button"; b.dataset.frame = String(f.number);
        b.title = "frame " + f.number + " at " + f.time.toFixed(1) + " s";
        var frame = document.createElement("div"), img = document.createElement("img");
        frame.className = "frame";
        img.src = f.thumbnail_url; img.alt = b.title; img.loading = "lazy";
        var overlay = document.createElement("div");
        overlay.className = "overlay";
        frame.appendChild(img); frame.appendChild(overlay);
        T.fit(frame, item, 96, 54);
        T.drawBoxes(overlay, item, s.threshold, { frame: f.number });
        var seen = item.detections.some(function (d) {
          return d.frame === f.number && T.boxState(d, s.threshold).counted;
        });
        if (seen) { b.className = "seen"; }
        var time = document.createElement("span");
        time.className = "time"; time.textContent = f.time.toFixed(1) + " s";
        b.appendChild(frame); b.appendChild(time);
        strip.appendChild(b);
      });
      strip.hidden = false;
      layout();
    }
    Array.prototype.forEach.call(strip.children, function (b) {
      b.classList.toggle("current", b.dataset.frame === String(v.frame));
    });
  }
  function showFrame(number) {
    var item = v.item, info = frameInfo(item, number);
    if (!info) { return; }
    v.frame = number;
    v.selected = -1;
    // the best frame has a large rendition; the others their filmstrip picture, enlarged
    $("photo").src = number === item.video.best_frame && item.view_url ? item.view_url : info.thumbnail_url;
    redraw();
  }
  function stepFrame(delta) {
    var item = v.item;
    if (!item || !item.video) { return; }
    var frames = item.video.frames, i = frames.findIndex(function (f) { return f.number === v.frame; });
    var next = frames[i + delta];
    if (next) { showFrame(next.number); }
  }
  $("filmstrip").addEventListener("click", function (event) {
    var b = event.target.closest("button");
    if (b) { showFrame(parseInt(b.dataset.frame, 10)); }
  });
  function panel() {
    var item = v.item, s = state();
    $("v-pos").textContent = (v.index + 1) + " of " + s.total;
    $("v-file").textContent = item.path;
    $("v-outcome").textContent = "AI: " + T.outcomeOf(item, s.threshold, true) +
      (item.review ? " · reviewed (" + item.review + ") by " + item.reviewer + ": " + item.verified_outcome : " · not reviewed yet") +
      (item.doubt !== null && !item.review ? " · nearest box " + item.doubt.toFixed(2) + " from the threshold" : "");
    var f = $("v-facts");
    f.textContent = facts(item);
    if (item.latitude !== null && item.longitude !== null) {
      var a = document.createElement("a");
      a.href = "https://www.openstreetmap.org/?mlat=" + item.latitude + "&mlon=" + item.longitude;
      a.textContent = " GPS " + item.latitude.toFixed(5) + ", " + item.longitude.toFixed(5);
      a.rel = "noopener"; a.target = "_blank";
      f.appendChild(a);
    }
    var list = $("v-boxes"), low = 0;
    list.textContent = "";
    item.detections.forEach(function (d, i) {
      if (!T.inFrame(item, d, v.frame)) { return; }
      var st = T.boxState(d, s.threshold);
      if (!st.shown && !v.low) { low += 1; return; }
      var li = document.createElement("li");
      li.className = (i === v.selected ? "selected " : "") + (st.shown ? "" : "below");
      li.dataset.index = String(i);
      var label = document.createElement("span");
      label.textContent = T.boxLabel(d) + (st.shown || d.suppressed_by ? "" : " (below threshold)");
      li.appendChild(label);
      [["✓", "accept"], ["✗", "reject"]].forEach(function (b) {
        var btn = document.createElement("button");
        btn.type = "button"; btn.textContent = b[0]; btn.dataset.act = b[1]; btn.title = b[1];
        li.appendChild(btn);
      });
      var sel = document.createElement("select");
      sel.dataset.act = "relabel"; sel.setAttribute("aria-label", "category");
      ["animal", "person", "vehicle"].forEach(function (c) { var o = document.createElement("option"); o.textContent = c; sel.appendChild(o); });
      sel.value = st.category;
      li.appendChild(sel);
      if (st.category === "animal" && !st.rejected) {
        if (d.suggested_species && !d.species) {
          var hint = document.createElement("span");
          hint.className = "suggestion";
          hint.textContent = "suggested: " + d.suggested_species + " (distance " +
            (d.species_distance || 0).toFixed(4) + (d.species_runner_up ? ", runner-up " + d.species_runner_up : "") + ")";
          li.appendChild(hint);
        }
        var sp = document.createElement("input");
        sp.type = "text"; sp.placeholder = d.suggested_species && d.suggested_species !== "unknown" ? d.suggested_species : "species";
        sp.value = d.species || "";
        sp.setAttribute("list", "species-list"); sp.dataset.act = "species";
        sp.setAttribute("aria-label", "species");
        li.appendChild(sp);
      }
      if (i === v.selected && !st.rejected && T.fields.length) { li.appendChild(T.fieldInputs(d.fields || {}, "box")); }
      list.appendChild(li);
    });
    $("v-low").textContent = low ? low + (low === 1 ? " box" : " boxes") + " below the threshold hidden (L shows them)"
      : (v.low ? "Boxes below the threshold are shown dashed (L hides them)" : "");
    T.showEvent(item);
  }

  function show(item) {
    var same = v.item && v.item.id === item.id;
    v.item = item;
    if (v.selected >= item.detections.length) { v.selected = -1; }
    if (!same || !frameInfo(item, v.frame)) { v.frame = item.video ? item.video.best_frame : null; }
    say("");
    var info = frameInfo(item, v.frame);
    $("photo").src = info && v.frame !== item.video.best_frame ? info.thumbnail_url
      : item.view_url || item.thumbnail_url || "";
    $("photo").alt = item.path;
    if (!item.video) { $("filmstrip").hidden = true; }
    if (!same) { T.zoomReset(); }
    layout(); redraw();
  }
  T.viewerRefresh = function () {
    if (!$("viewer").hidden) { T.openViewer(v.index); }
  };
  T.openViewer = function (index) {
    var s = state();
    if (index < 0 || index >= s.total) { return; }
    var page = Math.floor(index / s.perPage) + 1;
    var go = page === s.page ? Promise.resolve() : T.loadPage(page);
    return go.then(function () {
      v.index = index; v.selected = -1;
      if ($("viewer").hidden) {  // the dialog takes the focus; closing gives it back
        v.opener = document.activeElement;
        $("viewer").hidden = false;
        document.body.classList.add("viewing");
        $("viewer").focus();
      }
      show(state().items[index - (state().page - 1) * s.perPage]);
    });
  };
  function close() {
    $("viewer").hidden = true; document.body.classList.remove("viewing"); v.drawing = false;
    $("v-name-box").hidden = true;
    T.renderGallery();
    // back to the tile of the image last shown (the gallery was drawn again), else the opener
    var tile = document.querySelector(".tile[data-index='" + (v.index - (state().page - 1) * state().perPage) + "']");
    (tile || v.opener || document.body).focus();
  }
  // after A or E: the next image, when the setting says so (on unless turned off)
  function advancing() { return localStorage.getItem(ADVANCE_KEY) !== "off"; }
  $("v-advance").checked = advancing();
  $("v-advance").addEventListener("change", function () {
    localStorage.setItem(ADVANCE_KEY, $("v-advance").checked ? "on" : "off");
  });
  function actAndAdvance(action) {
    var at = v.index, sent = act(action);
    if (!sent) { return; }
    sent.then(function (res) {
      if (res && res.status === 201 && advancing() && v.index === at && at + 1 < state().total) {
        T.openViewer(at + 1);
      }
    });
  }
  // after an event was tagged: its files are reviewed now; on to the next event's first file
  T.afterEventTag = function (eventId) {
    var at = v.index;
    T.loadPage(state().page).then(function () {
      var s = state(), start = (s.page - 1) * s.perPage;
      var next = s.items.findIndex(function (m, i) {
        return start + i > at && m.event && m.event.id !== eventId;
      });
      T.openViewer(advancing() && next >= 0 ? start + next : at);
    });
  };

  function replace(item) {
    var s = state(), i = s.items.findIndex(function (m) { return m.id === item.id; });
    if (i >= 0) { s.items[i] = item; }
    if (v.item && v.item.id === item.id) { show(item); }
  }
  function send(body) {
    var who = T.reviewer();
    if (!who) { return Promise.resolve(); }
    body.reviewer = who;
    return T.post(root.dataset.reviewsUrl, body).then(function (res) {
      if (res.status === 201) {
        if (body.action !== "undo") { T.undoStack.push({ review_id: res.body.review_id }); }
        replace(res.body.media);
        T.countsChanged();
      } else if (res.status === 409) {
        if (res.body.media) { replace(res.body.media); }
        say(res.body.error);
      } else { say(res.body.error || "Not saved."); }
      return res;
    });
  }
  function act(action, extra) {
    var item = current();
    if (!item) { return; }
    var body = Object.assign({ action: action, version: item.version }, extra || {});
    if (!body.detection_id) { body.media_id = item.id; }
    return send(body);
  }
  // J / K: the next or previous box of the frame shown (those below the threshold only while
  // L shows them)
  function cycle(delta) {
    var item = v.item, shown = [], threshold = state().threshold;
    item.detections.forEach(function (d, i) {
      if (T.inFrame(item, d, v.frame) && (v.low || T.boxState(d, threshold).shown)) { shown.push(i); }
    });
    if (!shown.length) { return; }
    var at = shown.indexOf(v.selected);
    v.selected = shown[at < 0 ? (delta > 0 ? 0 : shown.length - 1) : (at + delta + shown.length) % shown.length];
    redraw();
  }
  function selectedBox() {
    var d = v.item && v.item.detections[v.selected];
    if (!d) { say("Select a box first (J / K or click it)."); }
    return d;
  }
  function boxAct(action, extra) {
    var d = selectedBox();
    if (d) { act(action, Object.assign({ detection_id: d.id }, extra || {})); }
  }
  function undo() {
    var last = T.undoStack.pop();
    if (!last) { say("Nothing of yours to undo."); return; }
    if (last.batch) {
      T.post(root.dataset.reviewsUrl, { action: "undo_bulk", batch: last.batch, reviewer: T.reviewer() })
        .then(function () { T.countsChanged(); T.loadPage(state().page).then(function () { if (!$("viewer").hidden) { T.openViewer(v.index); } }); });
      return;
    }
    send({ action: "undo", review_id: last.review_id }).then(function (res) {
      if (res && res.status === 201 && (!v.item || res.body.media.id !== v.item.id)) {
        say("Undone on " + res.body.media.path + ".");
      }
    });
  }

  $("v-boxes").addEventListener("click", function (event) {
    var li = event.target.closest("li");
    if (!li) { return; }
    v.selected = parseInt(li.dataset.index, 10);
    var a = event.target.dataset.act;
    if (a === "accept" || a === "reject") { boxAct(a); } else { redraw(); }
  });
  $("v-boxes").addEventListener("change", function (event) {
    var a = event.target.dataset.act;
    if (a === "relabel") { boxAct("relabel", { category: event.target.value }); }
    if (a === "species") { boxAct("species", { species: event.target.value }); }
    if (a === "field") {  // one of the project's own fields, on the selected box
      var change = {};
      change[event.target.dataset.field] = event.target.value === "" ? null : event.target.value;
      boxAct("fields", { fields: change });
    }
  });
  $("overlay").addEventListener("click", function (event) {
    var box = event.target.closest(".box");
    if (box && !v.drawing) { v.selected = parseInt(box.dataset.index, 10); redraw(); }
  });

  // drawing a missing box: press D (or the button), then drag on the photo
  function point(event) {
    var r = $("frame").getBoundingClientRect();
    return { x: Math.min(1, Math.max(0, (event.clientX - r.left) / r.width)),
             y: Math.min(1, Math.max(0, (event.clientY - r.top) / r.height)) };
  }
  function startDrawing() { v.drawing = true; $("frame").classList.add("drawing"); say("Drag on the photo to draw the box."); }
  $("frame").addEventListener("mousedown", function (event) {
    if (!v.drawing) { return; }
    event.preventDefault();
    v.start = point(event);
    var ghost = document.createElement("div");
    ghost.className = "box ghost"; ghost.id = "ghost";
    $("overlay").appendChild(ghost);
  });
  $("frame").addEventListener("mousemove", function (event) {
    var ghost = $("ghost");
    if (!v.start || !ghost) { return; }
    var p = point(event);
    ghost.style.left = Math.min(p.x, v.start.x) * 100 + "%";
    ghost.style.top = Math.min(p.y, v.start.y) * 100 + "%";
    ghost.style.width = Math.abs(p.x - v.start.x) * 100 + "%";
    ghost.style.height = Math.abs(p.y - v.start.y) * 100 + "%";
  });
  window.addEventListener("mouseup", function (event) {
    if (!v.start) { return; }
    var p = point(event), s = v.start;
    v.start = null; v.drawing = false; $("frame").classList.remove("drawing");
    var box = [Math.min(p.x, s.x), Math.min(p.y, s.y), Math.abs(p.x - s.x), Math.abs(p.y - s.y)];
    if (box[2] < 0.005 || box[3] < 0.005) { redraw(); say("That box was too small; press D to try again."); return; }
    var added = { bbox: box, category: $("v-draw-category").value };
    if (v.item.video) { added.frame = v.frame; }  // drawn on the frame shown
    act("add", added);
  });

  $("v-prev").addEventListener("click", function () { T.openViewer(v.index - 1); });
  $("v-next").addEventListener("click", function () { T.openViewer(v.index + 1); });
  $("v-close").addEventListener("click", close);
  $("v-accept").addEventListener("click", function () { actAndAdvance("accept"); });
  $("v-empty").addEventListener("click", function () { actAndAdvance("empty"); });
  $("v-low-toggle").addEventListener("click", function () { v.low = !v.low; redraw(); });
  $("v-draw").addEventListener("click", startDrawing);
  $("v-undo").addEventListener("click", undo);
  window.addEventListener("resize", function () { if (v.item) { layout(); } });

  // G: the selected animal box (else the first one still waiting) takes its suggested species
  function acceptSuggestion() {
    if (!v.item) { return; }
    var dets = v.item.detections, i = v.selected;
    if (i < 0 || !dets[i] || !dets[i].suggested_species) {
      i = dets.findIndex(function (d) { return d.suggested_species && !d.species && d.review !== "rejected"; });
    }
    var d = dets[i];
    if (!d || !d.suggested_species) { say("No species suggestion on this photo."); return; }
    if (d.suggested_species === "unknown") { say("The suggestion is \"unknown\": press S and type the species."); return; }
    v.selected = i;
    boxAct("species", { species: d.suggested_species });
  }

  var KEYS = {
    ArrowLeft: function () { T.openViewer(v.index - 1); },
    ArrowRight: function () { T.openViewer(v.index + 1); },
    a: function () { actAndAdvance("accept"); },
    e: function () { actAndAdvance("empty"); },
    t: function () {
      if (!T.openEventTag(v.item)) { say("Order the gallery by event to tag a whole event at once."); }
    },
    "+": T.zoomIn,
    "=": T.zoomIn,
    "-": T.zoomOut,
    0: T.zoomReset,
    l: function () { v.low = !v.low; redraw(); },
    "?": function () { $("v-shortcuts").open = !$("v-shortcuts").open; },
    d: startDrawing,
    j: function () { cycle(1); },
    k: function () { cycle(-1); },
    "[": function () { stepFrame(-1); },
    "]": function () { stepFrame(1); },
    x: function () { boxAct("reject"); },
    c: function () { boxAct("accept"); },
    1: function () { boxAct("relabel", { category: "animal" }); },
    2: function () { boxAct("relabel", { category: "person" }); },
    3: function () { boxAct("relabel", { category: "vehicle" }); },
    g: acceptSuggestion,
    s: function () { var input = $("v-boxes").querySelector("li.selected input[data-act=species]"); if (input) { input.focus(); } else { say("Select an animal box first."); } },
    f: function () {
      var input = $("v-boxes").querySelector("li.selected [data-act=field]");
      if (input) { input.focus(); } else { say(T.fields.length ? "Select a box first (J / K)." : "This project records no fields of its own."); }
    },
    z: undo,
    b: function () { v.hidden = !v.hidden; redraw(); },
    Escape: close
  };
  // the name, asked inside the viewer when a first correction is made without one
  T.askName = function () {
    $("v-name-box").hidden = false;
    $("v-name").focus();
    say("Type your name: it is recorded with each correction. Then press the key again.");
  };
  $("v-name").addEventListener("keydown", function (event) {
    if (event.key !== "Enter" && event.key !== "Escape") { return; }
    event.preventDefault(); event.stopPropagation();
    if (event.key === "Enter" && $("v-name").value.trim()) {
      T.setReviewer($("v-name").value.trim());
      say("Thank you, " + $("v-name").value.trim() + ".");
    }
    $("v-name-box").hidden = true;
    $("viewer").focus();
  });
  document.addEventListener("keydown", function (event) {
    if ($("viewer").hidden || event.altKey || event.metaKey) { return; }
    var typing = /^(INPUT|SELECT|TEXTAREA)$/.test(event.target.tagName);
    if (typing) {  // Enter or Esc leaves the field, and the viewer's keys work again
      if (event.key === "Enter" || event.key === "Escape") { event.target.blur(); $("viewer").focus(); }
      return;
    }
    var key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    if (event.ctrlKey && key !== "z") { return; }
    if (event.shiftKey && key === "a") {
      event.preventDefault();
      if (v.item && v.item.event) { T.acceptEvent(v.item.event.id); }
      else { say("Order the gallery by event to accept a whole event at once."); }
      return;
    }
    var handler = KEYS[key];
    if (handler) { event.preventDefault(); handler(); }
  });
})();

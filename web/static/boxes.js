// Draws a media item's boxes over its picture as positioned elements (no canvas, no inline
// style attributes: positions are set through the CSSOM, which the site's CSP allows).
(function () {
  "use strict";
  var T = window.Trapline = window.Trapline || {};
  T.$ = function (id) { return document.getElementById(id); };
  T.root = document.getElementById("results");  // the results section, when the job is done

  // What a box is now: the reviewer's word where there is one, else the machine's (a box a
  // location's repeat rule suppressed counts nowhere; it is shown with the boxes below the
  // threshold).
  T.machineCounts = function (d, threshold) {
    return d.source === "machine" && !d.suppressed_by && d.confidence >= threshold;
  };
  T.boxState = function (d, threshold) {
    var category = d.verified_category || d.category;
    var kept = d.review === "accepted" || d.review === "changed" || d.review === "added";
    var counted = d.review ? kept : T.machineCounts(d, threshold);
    return { category: category, counted: counted, rejected: d.review === "rejected",
             shown: counted || d.review === "rejected" };
  };

  T.boxLabel = function (d) {
    var s = T.boxState(d, 0);
    var text = d.species || s.category;
    if (d.source === "human") { return text + " (drawn)"; }
    var pct = Math.round(d.confidence * 100) + "%";
    if (d.review === "changed") { return text + " (AI: " + d.category + " " + pct + ") ✓"; }
    text += " " + pct;
    if (d.review === "rejected") { return text + " rejected"; }
    if (d.suppressed_by && !d.review) { return text + " suppressed (repeat rule " + d.suppressed_by + ")"; }
    return d.review ? text + " ✓" : text;
  };

  // Fits a frame of the image's aspect ratio inside width x height.
  T.fit = function (frame, item, width, height) {
    var w = item.width || 4, h = item.height || 3;
    var scale = Math.min(width / w, height / h);
    frame.style.width = Math.floor(w * scale) + "px";
    frame.style.height = Math.floor(h * scale) + "px";
  };

  // A video shows one checked frame at a time (its best one unless `frame` says which): only
  // that frame's boxes, and the boxes a person drew.
  T.inFrame = function (item, d, frame) {
    if (!item.video || d.frame === null || d.frame === undefined) { return true; }
    return d.frame === (frame === undefined || frame === null ? item.video.best_frame : frame);
  };

  // `options.low`: the boxes below the threshold too (drawn dashed)
  T.drawBoxes = function (overlay, item, threshold, options) {
    options = options || {};
    overlay.textContent = "";
    if (options.hidden) { return; }
    (item.detections || []).forEach(function (d, index) {
      var s = T.boxState(d, threshold);
      if ((!s.shown && !options.low) || !T.inFrame(item, d, options.frame)) { return; }
      var box = document.createElement("div");
      box.className = "box cat-" + s.category + (s.rejected ? " rejected" : "") + (s.shown ? "" : " below") +
        (index === options.selected ? " selected" : "") + (d.source === "human" ? " human" : "");
      box.style.left = (d.bbox[0] * 100) + "%";
      box.style.top = (d.bbox[1] * 100) + "%";
      box.style.width = (d.bbox[2] * 100) + "%";
      box.style.height = (d.bbox[3] * 100) + "%";
      box.dataset.index = String(index);
      if (options.labels) {
        var label = document.createElement("span");
        label.className = "label";
        label.textContent = T.boxLabel(d);
        box.appendChild(label);
      }
      overlay.appendChild(box);
    });
  };

  // The image's outcome now; with `machine` the AI's own, ignoring every review.
  T.outcomeOf = function (item, threshold, machine) {
    if (item.failure) { return "error"; }
    var found = {};
    (item.detections || []).forEach(function (d) {
      if (machine) {
        if (T.machineCounts(d, threshold)) { found[d.category] = true; }
        return;
      }
      var s = T.boxState(d, threshold);
      if (s.counted) { found[s.category] = true; }
    });
    var names = ["animal", "person", "vehicle"].filter(function (c) { return found[c]; });
    return names.length ? names.join("+") : "empty";
  };
})();

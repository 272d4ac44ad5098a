// The Repeats page: reject or keep a whole group of repeated boxes, rescue a crop, undo; all by
// keyboard too. Each change goes to the job's review API; the page is then loaded again, so
// what it shows is what the server holds (the message says what was done).
(function () {
  "use strict";
  var root = document.getElementById("repeats");
  if (!root) { return; }
  var message = document.getElementById("repeats-message");
  var reviewer = document.getElementById("reviewer");
  var KEY = "trapline.repeats." + location.pathname;

  if (!reviewer.dataset.account) { reviewer.value = localStorage.getItem("trapline.reviewer") || ""; }
  reviewer.addEventListener("change", function () {
    localStorage.setItem("trapline.reviewer", reviewer.value.trim());
  });

  function say(text) { message.hidden = !text; message.textContent = text || ""; }
  var kept = JSON.parse(sessionStorage.getItem(KEY) || "{}");
  sessionStorage.removeItem(KEY);
  say(kept.message);

  // the spot: the group's place drawn over its frame
  Array.prototype.forEach.call(document.querySelectorAll(".spot-box"), function (el) {
    var b = el.dataset.bbox.split(",").map(Number);
    el.style.left = (b[0] * 100) + "%"; el.style.top = (b[1] * 100) + "%";
    el.style.width = (b[2] * 100) + "%"; el.style.height = (b[3] * 100) + "%";
  });

  var groups = Array.prototype.slice.call(root.querySelectorAll("details.repeat"));
  var cursor = { group: 0, crop: 0 };
  if (kept.group) {
    groups.forEach(function (g, i) { if (g.dataset.group === kept.group) { cursor.group = i; g.open = true; } });
    cursor.crop = kept.crop || 0;
  }
  function crops(group) { return group ? group.querySelectorAll("li.crop") : []; }
  function show() {
    Array.prototype.forEach.call(root.querySelectorAll(".current"), function (el) { el.classList.remove("current"); });
    var group = groups[cursor.group];
    if (!group) { return; }
    group.classList.add("current");
    var list = crops(group);
    if (!list.length) { return; }
    cursor.crop = Math.max(0, Math.min(cursor.crop, list.length - 1));
    var tile = list[cursor.crop];
    tile.classList.add("current");
    if (group.open) { tile.focus({ preventScroll: false }); } else { group.querySelector("summary").focus(); }
  }

  function name() {
    var who = reviewer.value.trim();
    if (!who) { say("Type your name first: it is recorded with each correction."); reviewer.focus(); }
    return who;
  }
  function post(body) {
    return fetch(root.dataset.reviewsUrl, { method: "POST", body: JSON.stringify(body), headers: {
      "Content-Type": "application/json", "Accept": "application/json",
      "X-CSRFToken": document.querySelector("meta[name=csrf-token]").content } })
      .then(function (r) { return r.json().then(function (b) { return { status: r.status, body: b }; }); });
  }
  function done(text) {
    var group = groups[cursor.group];
    sessionStorage.setItem(KEY, JSON.stringify({ message: text, group: group ? group.dataset.group : "", crop: cursor.crop }));
    location.reload();
  }
  function failed(answer) { say((answer.body && answer.body.error) || "That did not work; try again."); }

  function judge(action) {
    var group = groups[cursor.group], who = name();
    if (!group || !who) { return; }
    post({ action: action, group: group.dataset.group, reviewer: who }).then(function (a) {
      if (a.status !== 201) { return failed(a); }
      var what = action === "reject_group" ? "Rejected" : "Kept";
      done(what + " the group: " + a.body.boxes + " boxes in " + a.body.images + " files" +
           (a.body.rescued ? " (" + a.body.rescued + " rescued left as they were)" : "") + ". Z undoes it." +
           (a.body.rule ? " Remembered as rule " + a.body.rule.id + " of " + a.body.rule.location +
            ": its later cards' boxes there are suppressed." : ""));
    });
  }
  function rescue() {
    var group = groups[cursor.group], who = name();
    var tile = crops(group)[cursor.crop];
    if (!tile || !who) { return; }
    post({ action: "rescue", detection_id: Number(tile.dataset.box), reviewer: who }).then(function (a) {
      if (a.status !== 201) { return failed(a); }
      done("Rescued the crop of " + tile.querySelector("img").alt + ": it stays a detection. Z undoes it.");
    });
  }
  function undo() {
    var who = name();
    if (!who) { return; }
    fetch(root.dataset.undoableUrl + "?reviewer=" + encodeURIComponent(who))
      .then(function (r) { return r.json(); })
      .then(function (body) {
        var last = (body.undoable || []).pop();
        if (!last) { say("Nothing of yours to undo here."); return; }
        var request = last.batch ? { action: "undo_bulk", batch: last.batch } : { action: "undo", review_id: last.review_id };
        request.reviewer = who;
        post(request).then(function (a) {
          if (a.status !== 200 && a.status !== 201) { return failed(a); }
          done(last.batch ? "Undone: " + a.body.undone + " files put back as they were" +
               ((a.body.rules_off || []).length ? "; the rule it taught is switched off." : ".") : "Undone.");
        });
      });
  }

  // a location's rule switched off: every box it suppressed counts again
  Array.prototype.forEach.call(document.querySelectorAll(".rule-off"), function (button) {
    button.addEventListener("click", function () {
      fetch(button.dataset.url, { method: "DELETE", headers: { "Accept": "application/json",
        "X-CSRFToken": document.querySelector("meta[name=csrf-token]").content } })
        .then(function (r) { return r.json().then(function (b) { return { status: r.status, body: b }; }); })
        .then(function (a) {
          if (a.status !== 200) { return failed(a); }
          done("Rule " + a.body.id + " switched off: " + a.body.restored + " boxes count again.");
        });
    });
  });

  groups.forEach(function (group, i) {
    group.querySelector(".reject-group").addEventListener("click", function () { cursor.group = i; judge("reject_group"); });
    group.querySelector(".keep-group").addEventListener("click", function () { cursor.group = i; judge("keep_group"); });
    Array.prototype.forEach.call(crops(group), function (tile, j) {
      tile.addEventListener("click", function () { cursor.group = i; cursor.crop = j; show(); });
    });
  });

  document.addEventListener("keydown", function (e) {
    if (e.target === reviewer || e.altKey || e.ctrlKey || e.metaKey) { return; }
    var group = groups[cursor.group];
    var handled = true;
    switch (e.key) {
      case "ArrowDown": cursor.group = Math.min(cursor.group + 1, groups.length - 1); cursor.crop = 0; break;
      case "ArrowUp": cursor.group = Math.max(cursor.group - 1, 0); cursor.crop = 0; break;
      case "ArrowRight": cursor.crop += 1; break;
      case "ArrowLeft": cursor.crop -= 1; break;
      case "Enter": if (group) { group.open = !group.open; } break;
      case "x": case "X": judge("reject_group"); break;
      case "k": case "K": judge("keep_group"); break;
      case "r": case "R": rescue(); break;
      case "z": case "Z": undo(); break;
      default: handled = false;
    }
    if (handled) { e.preventDefault(); show(); }
  });
  show();
}());

// Tagging a whole event from the viewer (gallery ordered by event): T opens the form with the
// species suggested (the same names as S and G offer) and the event's MaxN as the count to
// confirm; digits type the count, + and - change it, Enter applies it to every file of the
// event nobody reviewed yet as one undoable action (Z), Esc closes the form.
(function () {
  "use strict";
  var T = window.Trapline, root = T.root, $ = T.$;
  if (!root || !$("v-tag")) { return; }
  var shown = null;  // the event the form is for
  T.fields = JSON.parse(root.dataset.fields || "[]");  // the project's own fields

  // an input per project field (a choice is a list), for a box (`where` "box") or the event
  T.fieldInputs = function (values, where) {
    var box = document.createElement("div");
    box.className = "fields";
    T.fields.forEach(function (f) {
      var label = document.createElement("label"), input;
      label.textContent = f.name + " ";
      if (f.kind === "choice") {
        input = document.createElement("select");
        [""].concat(f.choices).forEach(function (c) {
          var o = document.createElement("option"); o.value = c; o.textContent = c || "(not set)"; input.appendChild(o);
        });
      } else {
        input = document.createElement("input");
        input.type = "text";
        if (f.kind === "number") { input.inputMode = "decimal"; input.size = 6; }
      }
      input.value = values[f.name] === undefined || values[f.name] === null ? "" : String(values[f.name]);
      input.dataset.act = where === "box" ? "field" : "";
      input.dataset.field = f.name;
      label.appendChild(input);
      box.appendChild(label);
    });
    return box;
  };

  function suggestion(event) {
    var found = "";
    T.state.items.forEach(function (item) {
      if (found || !item.event || item.event.id !== event.id) { return; }
      item.detections.forEach(function (d) {
        if (found || (d.verified_category || d.category) !== "animal" || d.review === "rejected") { return; }
        if (d.species) { found = d.species; }
        else if (d.suggested_species && d.suggested_species !== "unknown") { found = d.suggested_species; }
      });
    });
    return found;
  }
  function facts(event) {
    var text = "Event " + event.id + " · " + event.files + (event.files === 1 ? " file" : " files") +
      " · MaxN " + event.maxn.animal + (event.maxn.animal === 1 ? " animal" : " animals") +
      " · " + event.reviewed + " reviewed";
    if (event.confirmed) {
      text += " · confirmed: " + (event.confirmed.species ? event.confirmed.species + " × " : "") +
        event.confirmed.count + " by " + event.confirmed.reviewer;
    }
    return text;
  }
  // the event box of the viewer's panel, for the item shown
  T.showEvent = function (item) {
    var box = $("v-event");
    box.hidden = !item.event;
    if (!item.event) { close(); return; }
    $("v-event-facts").textContent = facts(item.event);
    if (shown && shown.id !== item.event.id) { close(); }
  };
  function close() { $("v-tag").hidden = true; shown = null; }
  T.openEventTag = function (item) {
    if (!item || !item.event) { return false; }
    shown = item.event;
    $("v-tag").hidden = false;
    var holder = $("v-tag-fields");
    holder.textContent = "";
    if (T.fields.length) { holder.appendChild(T.fieldInputs((shown.confirmed && shown.confirmed.fields) || {}, "event")); }
    $("v-tag-species").value = (shown.confirmed && shown.confirmed.species) || suggestion(shown);
    $("v-tag-count").value = String(shown.confirmed ? shown.confirmed.count : shown.maxn.animal);
    $("v-tag-species").focus();
    $("v-tag-species").select();
    return true;
  };
  function step(delta) {
    var n = parseInt($("v-tag-count").value, 10) || 0;
    $("v-tag-count").value = String(Math.max(0, n + delta));
  }
  function submit() {
    var event = shown, who = T.reviewer();
    if (!event || !who) { return; }
    var count = $("v-tag-count").value.trim(), fields = {};
    $("v-tag-fields").querySelectorAll("[data-field]").forEach(function (input) {
      if (input.value !== "") { fields[input.dataset.field] = input.value; }
    });
    T.post(root.dataset.reviewsUrl, { action: "tag_event", reviewer: who, event: event.id, fields: fields,
      species: $("v-tag-species").value.trim() || null, count: count === "" ? null : parseInt(count, 10) })
      .then(function (res) {
        if (res.status !== 201) { T.viewerSay(res.body.error || "Not saved."); return; }
        T.undoStack.push({ batch: res.body.batch });
        close();
        T.countsChanged();
        T.viewerSay("Event " + res.body.event + ": " + (res.body.species ? res.body.species + " × " : "") +
          res.body.count + " on " + res.body.images + (res.body.images === 1 ? " file" : " files") +
          " not reviewed before (Z undoes it).");
        T.afterEventTag(event.id);
      });
  }
  function keys(e) {
    if (e.key === "Enter") { e.preventDefault(); e.stopPropagation(); submit(); return; }
    if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); close(); $("viewer").focus(); return; }
    if (e.target === $("v-tag-count") && (e.key === "+" || e.key === "=" || e.key === "-")) {
      e.preventDefault(); e.stopPropagation(); step(e.key === "-" ? -1 : 1);
    }
  }
  $("v-tag-species").addEventListener("keydown", keys);
  $("v-tag-count").addEventListener("keydown", keys);
  $("v-tag-apply").addEventListener("click", submit);
  $("v-tag-cancel").addEventListener("click", close);
  $("v-tag-open").addEventListener("click", function () { T.openEventTag(T.viewerItem()); });
})();

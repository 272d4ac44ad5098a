// The survey dashboard on the results page: the cameras table (sortable), and the charts and
// map the server draws as SVG. Reloaded when a new threshold is applied.
(function () {
  "use strict";
  var T = window.Trapline, $ = T.$, box = $("dashboard");
  if (!box) { return; }
  var cameras = [], sortKey = "folder", ascending = true;

  function position(c) {
    return c.latitude === null ? "" : c.latitude.toFixed(5) + ", " + c.longitude.toFixed(5);
  }
  function shown(c, key) {
    if (key === "folder") { return c.folder || "(top level)"; }
    if (key === "position") { return position(c) || "none"; }
    if (key === "first" || key === "last") { return c[key] ? c[key].replace("T", " ") : ""; }
    return String(c[key]);
  }
  function render() {
    var numeric = !!document.querySelector("#camera-table th[data-key='" + sortKey + "']").dataset.numeric;
    cameras.sort(function (a, b) {
      var x = sortKey === "position" ? position(a) : a[sortKey], y = sortKey === "position" ? position(b) : b[sortKey];
      if (!numeric) { x = x || ""; y = y || ""; }
      var order = x < y ? -1 : x > y ? 1 : 0;
      return ascending ? order : -order;
    });
    var rows = $("camera-rows");
    rows.textContent = "";
    cameras.forEach(function (c) {
      var tr = document.createElement("tr");
      ["folder", "images", "detections", "animal", "person", "vehicle", "reviewed", "first", "last", "position"].forEach(function (k) {
        var td = document.createElement("td"); td.textContent = shown(c, k); tr.appendChild(td);
      });
      rows.appendChild(tr);
    });
    document.querySelectorAll("#camera-table th").forEach(function (th) {
      if (th.dataset.key === sortKey) { th.setAttribute("aria-sort", ascending ? "ascending" : "descending"); }
      else { th.removeAttribute("aria-sort"); }
    });
  }
  document.querySelectorAll("#camera-table th").forEach(function (th) {
    th.tabIndex = 0;
    function sort() {
      ascending = th.dataset.key === sortKey ? !ascending : !th.dataset.numeric;
      sortKey = th.dataset.key;
      render();
    }
    th.addEventListener("click", sort);
    th.addEventListener("keydown", function (e) { if (e.key === "Enter") { sort(); } });
  });

  T.refreshDashboard = function () {
    var stamp = Date.now();
    ["chart-hours", "chart-days", "chart-map"].forEach(function (id) {
      $(id).src = $(id).dataset.src + "?v=" + stamp;
    });
    return fetch(box.dataset.insightsUrl).then(function (r) { return r.json(); }).then(function (body) {
      cameras = body.cameras;
      render();
    });
  };
  T.refreshDashboard();
}());

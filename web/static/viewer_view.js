// How the viewer shows the picture, in the browser only: zoom (wheel, + and -, 0 to fit) with
// drag to pan, and brightness and contrast for night infrared frames. The picture and its boxes
// move together (one transform on the frame), so boxes and drawing stay where they belong.
(function () {
  "use strict";
  var T = window.Trapline, $ = T.$;
  if (!T.root || !$("viewer")) { return; }
  var view = { zoom: 1, x: 0, y: 0, drag: null };
  var MAX_ZOOM = 8;

  function apply() {
    $("frame").style.transform = "translate(" + view.x + "px, " + view.y + "px) scale(" + view.zoom + ")";
    $("frame").classList.toggle("zoomed", view.zoom > 1);
    $("v-zoom").textContent = Math.round(view.zoom * 100) + "%";
  }
  // keeps the picture covering what it can of the stage: no panning it out of sight
  function clamp() {
    var frame = $("frame"), w = frame.offsetWidth, h = frame.offsetHeight;
    var spareX = w * (view.zoom - 1), spareY = h * (view.zoom - 1);
    view.x = Math.min(0, Math.max(-spareX, view.x));
    view.y = Math.min(0, Math.max(-spareY, view.y));
  }
  // zooms by `factor` keeping the point (px, py) of the frame, in unzoomed pixels, in place
  function zoomBy(factor, px, py) {
    var frame = $("frame");
    if (px === undefined) { px = frame.offsetWidth / 2; py = frame.offsetHeight / 2; }
    var next = Math.min(MAX_ZOOM, Math.max(1, view.zoom * factor));
    var sx = (px * view.zoom + view.x), sy = (py * view.zoom + view.y);  // on screen
    view.x = sx - px * next; view.y = sy - py * next; view.zoom = next;
    clamp(); apply();
  }
  T.zoomIn = function () { zoomBy(1.5); };
  T.zoomOut = function () { zoomBy(1 / 1.5); };
  T.zoomReset = function () { view.zoom = 1; view.x = 0; view.y = 0; apply(); };
  T.zoomLevel = function () { return view.zoom; };

  $("stage").addEventListener("wheel", function (event) {
    if ($("viewer").hidden) { return; }
    event.preventDefault();
    var r = $("frame").getBoundingClientRect();
    zoomBy(event.deltaY < 0 ? 1.25 : 0.8, (event.clientX - r.left) / view.zoom, (event.clientY - r.top) / view.zoom);
  }, { passive: false });
  $("frame").addEventListener("mousedown", function (event) {
    if (view.zoom <= 1 || $("frame").classList.contains("drawing")) { return; }
    event.preventDefault();
    view.drag = { x: event.clientX - view.x, y: event.clientY - view.y };
  });
  window.addEventListener("mousemove", function (event) {
    if (!view.drag) { return; }
    view.x = event.clientX - view.drag.x; view.y = event.clientY - view.drag.y;
    clamp(); apply();
  });
  window.addEventListener("mouseup", function () { view.drag = null; });

  // brightness and contrast: CSS filters on the rendition, nothing is sent or stored
  function light() {
    var b = $("v-brightness").value, c = $("v-contrast").value;
    $("photo").style.filter = "brightness(" + b + "%) contrast(" + c + "%)";
    $("v-light-values").textContent = b + "% · " + c + "%";
  }
  T.lightReset = function () { $("v-brightness").value = 100; $("v-contrast").value = 100; light(); };
  $("v-brightness").addEventListener("input", light);
  $("v-contrast").addEventListener("input", light);
  $("v-light-reset").addEventListener("click", T.lightReset);
  $("v-zoom-in").addEventListener("click", T.zoomIn);
  $("v-zoom-out").addEventListener("click", T.zoomOut);
  $("v-zoom-fit").addEventListener("click", T.zoomReset);
  apply(); light();
})();

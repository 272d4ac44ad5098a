// The ecology page's camera checks: a finding's span recorded as an operation gap, a card's
// clock shifted by the hours the check proposes, and a shift undone; each through the project's
// API, then the page is loaded again with what changed.
(function () {
  "use strict";
  var root = document.getElementById("camera-checks-root");
  if (!root) { return; }
  var message = document.getElementById("checks-message");

  function send(method, url, body) {
    return fetch(root.dataset.api + url, { method: method, body: body ? JSON.stringify(body) : null,
      headers: { "Content-Type": "application/json", "Accept": "application/json",
        "X-CSRFToken": document.querySelector("meta[name=csrf-token]").content } })
      .then(function (r) { return r.json().then(function (b) { return { status: r.status, body: b }; }); });
  }
  function after(answer, ok, button) {
    if (answer.status >= 400) {
      button.disabled = false;
      message.textContent = (answer.body && answer.body.error) || "That did not work; try again.";
      return;
    }
    sessionStorage.setItem("trapline-checks-message", ok);
    location.reload();
  }
  var said = sessionStorage.getItem("trapline-checks-message");
  if (said) { message.textContent = said; sessionStorage.removeItem("trapline-checks-message"); }

  root.addEventListener("click", function (e) {
    var b = e.target.closest("button");
    if (!b) { return; }
    b.disabled = true;
    if (b.classList.contains("make-gap")) {
      send("POST", "/locations/" + b.dataset.location + "/gaps",
           { start: b.dataset.start, end: b.dataset.end, reason: b.dataset.reason })
        .then(function (a) { after(a, "Recorded as not working: the effort leaves it out.", b); });
    } else if (b.classList.contains("fix-clock")) {
      send("POST", "/periods/" + b.dataset.period + "/clock", { shift_hours: Number(b.dataset.hours) })
        .then(function (a) { after(a, "The card's times are shifted by " + b.dataset.hours + " h in every survey output.", b); });
    } else if (b.classList.contains("undo-clock")) {
      send("DELETE", "/periods/" + b.dataset.period + "/clock")
        .then(function (a) { after(a, "The clock correction is undone.", b); });
    }
  });
}());

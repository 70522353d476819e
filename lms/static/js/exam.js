// The exam page, progressively enhanced (the page works without this file; CSP: no inline script).
// 1. The countdown: the server's deadline and its "now" at render time; the device's clock only
//    measures the seconds elapsed since, so a wrong device clock changes nothing.
// 2. Each click is saved at once. Without a connection the answer waits in localStorage and is sent
//    when the browser is back online (or on the next exam page that loads), oldest first.
(function () {
  "use strict";

  var timer = document.querySelector("[data-test=countdown]");
  if (timer) {
    var deadline = Date.parse(timer.dataset.deadline);
    var offset = Date.parse(timer.dataset.now) - Date.now();
    var left = timer.querySelector("[data-test=time-left]");
    var tick = function () {
      var seconds = Math.max(0, Math.floor((deadline - (Date.now() + offset)) / 1000));
      var minutes = Math.floor(seconds / 60);
      left.textContent = minutes + ":" + String(seconds % 60).padStart(2, "0");
      timer.classList.toggle("urgent", seconds < 120);
      if (seconds === 0) {
        window.clearInterval(handle);
        var status = document.querySelector("[data-test=save-status]");
        if (status) { status.textContent = status.dataset.timeup; }
      }
    };
    var handle = window.setInterval(tick, 1000);
    tick();
  }

  var form = document.querySelector("form[data-autosave]");
  var prefix = "lms-exam-queue:";

  function say(kind) {
    var status = document.querySelector("[data-test=save-status]");
    if (status && status.dataset[kind]) { status.textContent = status.dataset[kind]; status.dataset.state = kind; }
  }

  function queued() {
    var items = [];
    for (var i = 0; i < window.localStorage.length; i++) {
      var key = window.localStorage.key(i);
      if (key && key.indexOf(prefix) === 0) {
        try { items.push({key: key, entry: JSON.parse(window.localStorage.getItem(key))}); } catch (e) { /* skip */ }
      }
    }
    return items.sort(function (a, b) { return a.entry.at - b.entry.at; });
  }

  function send(entry) {
    var body = new URLSearchParams();
    entry.fields.forEach(function (pair) { body.append(pair[0], pair[1]); });
    return window.fetch(entry.url, {method: "POST", body: body, credentials: "same-origin",
                                    headers: {"X-Requested-With": "fetch"}})
      .then(function (response) {
        if (response.ok) { return "saved"; }
        if (response.status === 409) { return "late"; }
        if (response.status < 500) { return "dropped"; }  // never accepted (not hers, a stale form): drop it
        throw new Error("status " + response.status);
      });
  }

  var flushing = false;
  function flush() {
    if (flushing) { return; }
    var items = queued();
    if (!items.length) { return; }
    flushing = true;
    var next = function () {
      var item = items.shift();
      if (!item) { flushing = false; say("saved"); return; }
      send(item.entry).then(function (outcome) {
        window.localStorage.removeItem(item.key);
        if (outcome === "late") { say("late"); }
        next();
      }, function () { flushing = false; say("queued"); });
    };
    next();
  }

  if (form) {
    say("live");
    form.addEventListener("change", function () {
      var fields = [];
      new FormData(form).forEach(function (value, name) { if (name !== "go") { fields.push([name, value]); } });
      var entry = {url: form.dataset.autosave, fields: fields, at: Date.now()};
      var key = prefix + form.dataset.attempt + ":" + form.dataset.question;
      window.localStorage.setItem(key, JSON.stringify(entry));  // kept until the server has it
      say("saving");
      send(entry).then(function (outcome) {
        if (window.localStorage.getItem(key) === JSON.stringify(entry)) { window.localStorage.removeItem(key); }
        say(outcome === "dropped" ? "live" : outcome);
      }, function () { say("queued"); });
    });
  }
  window.addEventListener("online", flush);
  flush();
}());

// Save-as-you-go for the checklist: each answer form posts itself when its
// choice changes, and the page shows the new compliance. Without JavaScript
// the Save buttons do the same with a page load.
document.querySelectorAll("form.answer").forEach(function (form) {
  var select = form.querySelector("select");
  var status = form.querySelector(".saved");
  select.addEventListener("change", function () {
    status.textContent = "saving…";
    fetch(form.action, {
      method: "POST",
      headers: { "Accept": "application/json" },
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin",
    }).then(function (r) { return r.json().then(function (b) { return [r.ok, b]; }); })
      .then(function (res) {
        if (!res[0]) { status.textContent = res[1].error || "not saved"; return; }
        status.textContent = "saved";
        var c = document.getElementById("compliance");
        if (c) c.textContent = res[1].compliance;
        var p = document.getElementById("progress");
        if (p) { p.value = res[1].answered; }
        var pt = document.getElementById("progress-text");
        if (pt) pt.textContent = res[1].answered + " of " + res[1].total + " answered";
      })
      .catch(function () { status.textContent = "not saved: check the connection"; });
  });
});
// Schema import: a chosen file fills the text area.
var file = document.getElementById("schema-file");
if (file) {
  file.addEventListener("change", function () {
    var f = file.files[0];
    if (!f) return;
    f.text().then(function (t) {
      document.getElementById("schema-text").value = t;
      var n = document.getElementById("schema-name");
      if (n) n.value = f.name;
    });
  });
}
// Save-as-you-go for the generation form: every change is saved as the
// account's draft (a short pause after typing), and the technical
// checklist's progress follows the answers.
var gen = document.getElementById("generate-form");
if (gen) {
  var draftStatus = document.getElementById("draft-status");
  var timer = null;
  var progress = function () {
    var selects = gen.querySelectorAll("select[name^='sc.']");
    var n = 0;
    selects.forEach(function (s) { if (s.value) n++; });
    var bar = document.getElementById("tech-progress");
    if (bar) bar.value = n;
    var text = document.getElementById("tech-progress-text");
    if (text) text.textContent = n + " of " + selects.length + " answered";
  };
  // Once the form is submitted no draft is saved any more (the generation
  // forgets it), and a save still on its way is awaited first: otherwise a
  // late save would bring the draft back after the ISMS was generated.
  var submitting = false;
  var inflight = null;
  var save = function () {
    if (submitting) return;
    draftStatus.textContent = "saving the draft…";
    inflight = fetch("/isms/new/draft", {
      method: "POST",
      headers: { "Accept": "application/json" },
      body: new URLSearchParams(new FormData(gen)),
      credentials: "same-origin",
    }).then(function (r) { return r.json().then(function (b) { return [r.ok, b]; }); })
      .then(function (res) {
        draftStatus.textContent = res[0]
          ? "Draft saved at " + res[1].saved_time + ": it is kept until the ISMS is generated."
          : "Draft not saved: " + (res[1].error || "the server refused it");
      })
      .catch(function () { draftStatus.textContent = "Draft not saved: check the connection"; })
      .then(function () { inflight = null; });
  };
  var later = function (ms) { clearTimeout(timer); timer = setTimeout(save, ms); };
  gen.addEventListener("submit", function (e) {
    clearTimeout(timer);
    submitting = true;
    if (inflight) {
      e.preventDefault();
      var submitter = e.submitter;
      inflight.then(function () { gen.requestSubmit(submitter || undefined); });
    }
  });
  gen.addEventListener("change", function () { progress(); later(200); });
  gen.addEventListener("input", function (e) {
    if (e.target.tagName === "INPUT") later(800);
  });
}

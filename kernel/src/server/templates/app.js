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

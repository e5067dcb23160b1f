(function () {
  "use strict";
  var tbody = document.getElementById("findings-body");
  var rows = Array.prototype.slice.call(tbody.querySelectorAll("tr.finding"));
  var counter = document.getElementById("findings-counter");
  var emptyRow = document.getElementById("findings-empty");
  var controls = {
    status: document.getElementById("filter-status"),
    severity: document.getElementById("filter-severity"),
    rule: document.getElementById("filter-rule"),
    q: document.getElementById("filter-q")
  };
  var sortState = { key: "", dir: "ascending" };

  rows.forEach(function (row, index) {
    row.detailsRow = document.getElementById(row.getAttribute("data-details"));
    row.originalIndex = index;
    row.searchText = (row.textContent + " " + row.detailsRow.textContent).toLowerCase();
  });

  function value(name) { return controls[name].value; }

  function apply() {
    var status = value("status"), severity = value("severity"), rule = value("rule");
    var q = value("q").trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (row) {
      var visible = (!status || row.getAttribute("data-status") === status) &&
                    (!severity || row.getAttribute("data-severity") === severity) &&
                    (!rule || row.getAttribute("data-rule") === rule) &&
                    (!q || row.searchText.indexOf(q) !== -1);
      row.hidden = !visible;
      row.detailsRow.hidden = !visible || row.querySelector(".toggle").getAttribute("aria-expanded") !== "true";
      if (visible) shown += 1;
    });
    counter.textContent = "Showing " + shown + " of " + rows.length;
    tbody.setAttribute("data-visible", String(shown));
    emptyRow.hidden = shown !== 0;
  }

  function sortKey(row, key) {
    if (key === "status") return Number(row.getAttribute("data-status-rank"));
    if (key === "severity") return Number(row.getAttribute("data-severity-rank"));
    return row.getAttribute("data-" + key).toLowerCase();
  }

  function sortRows() {
    var key = sortState.key, sign = sortState.dir === "ascending" ? 1 : -1;
    var ordered = rows.slice();
    if (key) {
      ordered.sort(function (a, b) {
        var x = sortKey(a, key), y = sortKey(b, key);
        if (x < y) return -sign;
        if (x > y) return sign;
        return a.originalIndex - b.originalIndex;
      });
    }
    ordered.forEach(function (row) {
      tbody.insertBefore(row, emptyRow);
      tbody.insertBefore(row.detailsRow, emptyRow);
    });
    document.querySelectorAll("th[data-sort]").forEach(function (th) {
      if (th.getAttribute("data-sort") === key) th.setAttribute("aria-sort", sortState.dir);
      else th.removeAttribute("aria-sort");
    });
  }

  function writeHash() {
    var params = new URLSearchParams();
    Object.keys(controls).forEach(function (name) { if (value(name)) params.set(name, value(name)); });
    if (sortState.key) { params.set("sort", sortState.key); params.set("dir", sortState.dir); }
    var open = rows.filter(function (row) { return row.querySelector(".toggle").getAttribute("aria-expanded") === "true"; })
                   .map(function (row) { return row.id; });
    if (open.length) params.set("open", open.join(","));
    var hash = params.toString();
    try { history.replaceState(null, "", hash ? "#" + hash : location.pathname + location.search); } catch (e) { /* file: URLs in some browsers */ }
  }

  function readHash() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ""));
    Object.keys(controls).forEach(function (name) {
      var wanted = params.get(name) || "";
      controls[name].value = wanted;
      if (controls[name].value !== wanted) controls[name].value = "";
    });
    var key = params.get("sort") || "";
    sortState.key = document.querySelector('th[data-sort="' + key.replace(/[^a-z]/g, "") + '"]') ? key : "";
    sortState.dir = params.get("dir") === "descending" ? "descending" : "ascending";
    var open = (params.get("open") || "").split(",");
    rows.forEach(function (row) { expand(row, open.indexOf(row.id) !== -1); });
  }

  function update() { apply(); writeHash(); }

  Object.keys(controls).forEach(function (name) {
    controls[name].addEventListener(name === "q" ? "input" : "change", update);
  });
  document.getElementById("filter-clear").addEventListener("click", function () {
    Object.keys(controls).forEach(function (name) { controls[name].value = ""; });
    update();
  });
  document.querySelectorAll("th[data-sort]").forEach(function (th) {
    th.addEventListener("click", function () {
      var key = th.getAttribute("data-sort");
      sortState.dir = sortState.key === key && sortState.dir === "ascending" ? "descending" : "ascending";
      sortState.key = key;
      sortRows();
      writeHash();
    });
  });
  function expand(row, expanded) {
    var toggle = row.querySelector(".toggle");
    toggle.setAttribute("aria-expanded", String(expanded));
    toggle.textContent = expanded ? "Hide details" : "Details";
    row.detailsRow.hidden = !expanded || row.hidden;
  }
  tbody.addEventListener("click", function (event) {
    var toggle = event.target.closest(".toggle");
    if (!toggle) return;
    expand(toggle.closest("tr.finding"), toggle.getAttribute("aria-expanded") !== "true");
    writeHash();
  });
  document.querySelectorAll("[data-set-status], [data-set-q]").forEach(function (button) {
    button.addEventListener("click", function () {
      Object.keys(controls).forEach(function (name) { controls[name].value = ""; });
      controls.status.value = button.getAttribute("data-set-status") || "";
      controls.q.value = button.getAttribute("data-set-q") || "";
      update();
      document.getElementById("findings").scrollIntoView();
    });
  });
  window.addEventListener("hashchange", function () { readHash(); sortRows(); apply(); });

  readHash();
  sortRows();
  apply();
  document.documentElement.setAttribute("data-ready", "1");
})();

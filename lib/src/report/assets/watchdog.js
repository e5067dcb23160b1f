(function () {
  var root = document.documentElement;
  function count(name) { root.setAttribute(name, String(Number(root.getAttribute(name) || "0") + 1)); }
  window.addEventListener("error", function (event) {
    count("data-js-errors");
    root.setAttribute("data-js-error-message", String(event.message));
  });
  document.addEventListener("securitypolicyviolation", function (event) {
    count("data-csp-violations");
    root.setAttribute("data-csp-violation", event.violatedDirective + " " + event.blockedURI);
  });
})();

// Draws the dashboard's charts: each [data-chart] element gets the Vega-Lite spec from the
// <script type="application/json" id="spec-NAME"> beside it. Runs on load, after the filter
// form swaps the dashboard in (htmx), and when htmx restores a page from its history cache
// (canvases come back blank, so they are drawn again).
(function () {
  "use strict";

  var options = {
    renderer: "canvas",
    // Evaluate Vega expressions with vega-embed's interpreter instead of compiling them with
    // Function(): the Content-Security-Policy allows no eval (script-src 'self').
    ast: true,
    // Export (PNG/SVG) is useful for slides; the online editor is not available offline.
    actions: { export: true, source: false, compiled: false, editor: false },
  };

  function draw(element, force) {
    if (element.dataset.drawn && !force) {
      return;
    }
    element.dataset.drawn = "yes";
    var source = document.getElementById("spec-" + element.dataset.chart);
    if (!source || typeof vegaEmbed !== "function") {
      return;
    }
    var spec;
    try {
      spec = JSON.parse(source.textContent);
    } catch (error) {
      element.textContent = "This chart could not be read.";
      return;
    }
    vegaEmbed(element, spec, options)
      .then(function () {
        // vega-embed's export menu is a <summary> holding only an icon: give it a name, so a
        // keyboard or screen-reader user knows what the control is.
        var menu = element.querySelector(".vega-embed summary");
        if (menu) {
          menu.setAttribute("aria-label", "Chart actions: save as PNG or SVG");
        }
      })
      .catch(function (error) {
        element.textContent = "This chart could not be drawn: " + error.message;
      });
  }

  function drawAll(force) {
    var elements = document.querySelectorAll("[data-chart]");
    Array.prototype.forEach.call(elements, function (element) {
      draw(element, force);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawAll(false);
    // New charts arrive without the "drawn" mark; the ones already drawn are left alone.
    document.body.addEventListener("htmx:afterSettle", function () {
      drawAll(false);
    });
    document.body.addEventListener("htmx:historyRestore", function () {
      drawAll(true);
    });
    // Blank date fields mean "no limit": leave them out of the URL the form pushes.
    document.body.addEventListener("htmx:configRequest", function (event) {
      var parameters = event.detail.parameters;
      Object.keys(parameters).forEach(function (key) {
        if (parameters[key] === "") {
          delete parameters[key];
        }
      });
    });
  });
})();

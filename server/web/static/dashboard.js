/* 统计分析: the 打印 button, and long breakdowns unfolded on paper (the page prints A4 landscape,
 * dashboard.css). A file, not inline handlers: the Content-Security-Policy allows scripts from 'self' only. */
(function () {
  "use strict";
  var button = document.querySelector(".x-print");
  if (button) {
    button.addEventListener("click", function () { window.print(); });
  }
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details.x-chart-more").forEach(function (d) { d.open = true; });
  });
})();

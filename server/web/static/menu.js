/* The 菜单 button of narrow screens: shows or hides the ledger menu (app.css hides it below 768 px).
   A script file of our own, since the CSP allows no inline scripts. */
(function () {
  "use strict";
  document.querySelectorAll(".app-menu-toggle").forEach(function (button) {
    var sidebar = button.closest(".app-sidebar");
    button.addEventListener("click", function () {
      var open = sidebar.classList.toggle("is-open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  });
})();

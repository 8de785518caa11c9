// The workbench's shared script. The login form also leaves the key in this tab's
// sessionStorage, where the pages that call the API themselves (review, quality over time,
// label next) look for it; logging out removes it. Nothing else here touches the key.
"use strict";
(() => {
  const login = document.getElementById("login");
  if (login) login.addEventListener("submit", () => sessionStorage.setItem("sentiforge-key", login.elements.key.value.trim()));
  const logout = document.getElementById("logout");
  if (logout) logout.addEventListener("submit", () => sessionStorage.removeItem("sentiforge-key"));
})();

// The nav's links that take a dataset keep the one a page's script has open (the review and
// label pages change it without a reload); the server drew them for the dataset of the URL.
function keepDatasetInNav(name) {
  for (const a of document.querySelectorAll("a[data-nav=jobs], a[data-nav=review], a[data-nav=label], a[data-nav=drift]")) {
    a.setAttribute("href", `/${a.dataset.nav}${name ? "?dataset=" + encodeURIComponent(name) : ""}`);
  }
}

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

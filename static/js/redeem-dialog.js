/* The redemption confirmation of the campaign and member dashboards (templates/core/_redeem_dialog.html and
 * _redeem_form.html). No inline code: the CSP forbids it. A submitted form.redeem-form opens the <dialog> with
 * the form's data-confirm question; "Yes, redeem" posts the form with confirmed=1 and disables its button.
 * Without this script the server asks for the confirmation on a page of its own.
 * Delegated, so forms that campaign.js swaps in on a live update work too. If the form the dialog was opened
 * from has been replaced meanwhile, its successor is found by data-prize; if there is none (the prize is no
 * longer affordable after the update), nothing is posted. */
(function () {
  "use strict";

  var dialog = document.getElementById("redeem-dialog");
  var dialogText = document.getElementById("redeem-dialog-text");
  var pendingForm = null;

  if (!dialog || typeof dialog.showModal !== "function") {
    return;
  }

  function current(form) {
    if (form.isConnected) {
      return form;
    }
    var prize = form.getAttribute("data-prize");
    return prize ? document.querySelector("form.redeem-form[data-prize=\"" + CSS.escape(prize) + "\"]") : null;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("redeem-form")) {
      return;
    }
    var confirmed = form.querySelector("input[name=confirmed]");
    if (confirmed && confirmed.value === "1") {
      return;
    }
    event.preventDefault();
    pendingForm = form;
    dialogText.textContent = form.getAttribute("data-confirm") || "";
    dialog.returnValue = "";
    dialog.showModal();
  });

  dialog.addEventListener("close", function () {
    var form = pendingForm && current(pendingForm);
    pendingForm = null;
    if (!form || dialog.returnValue !== "confirm") {
      return;
    }
    form.querySelector("input[name=confirmed]").value = "1";
    var button = form.querySelector("button[type=submit]");
    if (button) {
      button.disabled = true; // one click, one redemption (the token makes a replay harmless anyway)
    }
    form.submit();
  });
})();

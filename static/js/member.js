/* Member dashboard enhancements (templates/loyalty/member_dashboard.html). No inline code: the CSP forbids it.
 * - Redeem forms open a confirmation <dialog>; "Yes, redeem" submits the form with confirmed=1.
 *   Without this script the server asks for the confirmation on a page of its own.
 * - The copy button (hidden until this script runs) copies the referral link with the Clipboard API and
 *   announces the result in a live region. */
(function () {
  "use strict";

  var dialog = document.getElementById("redeem-dialog");
  var dialogText = document.getElementById("redeem-dialog-text");
  var pendingForm = null;

  if (dialog && typeof dialog.showModal === "function") {
    document.querySelectorAll("form.redeem-form").forEach(function (form) {
      form.addEventListener("submit", function (event) {
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
    });
    dialog.addEventListener("close", function () {
      var form = pendingForm;
      pendingForm = null;
      if (form && dialog.returnValue === "confirm") {
        form.querySelector("input[name=confirmed]").value = "1";
        var button = form.querySelector("button[type=submit]");
        if (button) {
          button.disabled = true; // one click, one redemption (the token makes a replay harmless anyway)
        }
        form.submit();
      }
    });
  }

  function announce(status, text) {
    if (status) {
      status.textContent = "";
      window.setTimeout(function () { status.textContent = text; }, 50);
    }
  }

  document.querySelectorAll("button.copy-button").forEach(function (button) {
    var input = document.getElementById(button.getAttribute("data-copy-target"));
    var status = document.querySelector(".copy-status");
    if (!input) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      var copied = button.getAttribute("data-copied");
      var failed = button.getAttribute("data-copy-failed");
      function fallback() {
        input.focus();
        input.select();
        var ok = false;
        try {
          ok = document.execCommand("copy");
        } catch (error) {
          ok = false;
        }
        announce(status, ok ? copied : failed);
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(function () {
          announce(status, copied);
        }, fallback);
      } else {
        fallback();
      }
    });
  });
})();

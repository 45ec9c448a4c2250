/* Member dashboard enhancements (templates/loyalty/member_dashboard.html). No inline code: the CSP forbids it.
 * - The redemption dialog is static/js/redeem-dialog.js (shared with the campaign dashboard).
 * - The copy button (hidden until this script runs) copies the referral link with the Clipboard API and
 *   announces the result in a live region. */
(function () {
  "use strict";

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

/* The admin campaign console (templates/campaigns/console/). No inline code: the CSP forbids it.
 * - Schema drop zone: a file dropped on it goes into its file input (the form still posts it as usual);
 *   without this script the file input works on its own.
 * - Monitoring page: subscribes to the campaign's topic on the live websocket (/ws/live/); each progress
 *   broadcast fetches the totals and last runs again, so a run appears without a reload. "Execute now" posts
 *   in place and shows the result; without this script it is a plain form post and a redirect.
 * The wizard's live feedback is htmx's (hx-post on the text areas). */
(function () {
  "use strict";

  function showFile(zone, input) {
    var out = zone.querySelector(".dropzone-file");
    if (out) {
      out.textContent = input.files && input.files.length
        ? (zone.getAttribute("data-chosen") || "") + " " + input.files[0].name : "";
    }
  }

  document.querySelectorAll("[data-dropzone]").forEach(function (zone) {
    var input = zone.querySelector("input[type=file]");
    if (!input) {
      return;
    }
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("dragging");
      });
    });
    ["dragleave", "dragend"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("dragging"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.classList.remove("dragging");
      var files = event.dataTransfer && event.dataTransfer.files;
      if (files && files.length) {
        input.files = files;
        showFile(zone, input);
        input.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
    input.addEventListener("change", function () { showFile(zone, input); });
  });

  var config = document.getElementById("console-live");
  if (!config) {
    return;
  }
  var live = JSON.parse(config.textContent);
  var region = document.getElementById("live-region");
  var status = document.getElementById("live-status");
  var refreshing = null;

  function say(key) {
    if (status) {
      status.textContent = status.getAttribute("data-" + key) || "";
    }
  }

  function refresh() {
    if (refreshing) {
      return refreshing;
    }
    refreshing = fetch(live.fragment_url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html !== null && region) {
          region.innerHTML = html;
        }
      })
      .catch(function () { /* the next broadcast or a reload brings it */ })
      .then(function () { refreshing = null; });
    return refreshing;
  }

  var delay = 1000;
  function connect() {
    if (!("WebSocket" in window)) {
      say("offline");
      return;
    }
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + "/ws/live/");
    socket.addEventListener("open", function () {
      socket.send(JSON.stringify({ action: "subscribe", topic: live.topic }));
    });
    socket.addEventListener("message", function (event) {
      var message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      if (message.type === "subscribed" && message.topic === live.topic) {
        delay = 1000;
        document.documentElement.setAttribute("data-live", "subscribed");
        say("connected");
      } else if (message.type === "event" && message.topic === live.topic && message.event === "campaign.progress") {
        refresh().then(function () { say("updated"); });
      }
    });
    socket.addEventListener("close", function (event) {
      document.documentElement.removeAttribute("data-live");
      if (event.code === 4401 || event.code === 4403 || event.code === 4404) {
        say("offline");
        return;
      }
      window.setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    });
  }
  connect();

  var form = document.getElementById("execute-form");
  var result = document.getElementById("execute-result");
  if (form && window.fetch && window.FormData) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      var label = button ? button.textContent : "";
      if (button) {
        button.disabled = true;
        button.textContent = form.getAttribute("data-running") || label;
      }
      fetch(form.action, {
        method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" }
      })
        .then(function (response) { return response.text(); })
        .then(function (html) {
          if (result) {
            result.innerHTML = html;
          }
          return refresh();
        })
        .catch(function () { /* the run, if it started, still arrives over the websocket */ })
        .then(function () {
          if (button) {
            button.disabled = false;
            button.textContent = label;
          }
        });
    });
  }
})();

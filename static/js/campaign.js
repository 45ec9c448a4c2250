/* The participant's campaign dashboard (templates/campaigns/participant/dashboard.html). No inline code: the
 * CSP forbids it; data comes from json_script elements.
 * - The progress chart (Chart.js, vendor/chart.js) from #progress-data; the table beside it has the same data.
 * - The redemption dialog is static/js/redeem-dialog.js (shared with the member dashboard).
 * - Live: the page subscribes over /ws/live/ to the user's and the campaign's topics (#live-config); on an
 *   event about this campaign it fetches the dashboard's changing part (live/) and swaps it in, keeping the
 *   focus where it was, and says so in a status message. */
(function () {
  "use strict";

  var config = readJSON("live-config");
  var container = document.getElementById("campaign-live");
  var statusLine = document.getElementById("live-status");
  var chart = null;

  function readJSON(id) {
    var element = document.getElementById(id);
    if (!element) {
      return null;
    }
    try {
      return JSON.parse(element.textContent);
    } catch (error) {
      return null;
    }
  }

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  // ------------------------------------------------------------------------------------------ chart
  function drawChart() {
    if (chart) {
      chart.destroy();
      chart = null;
    }
    var canvas = document.getElementById("progress-chart");
    var data = readJSON("progress-data");
    if (!canvas || !data || typeof window.Chart !== "function") {
      return;
    }
    var colours = [cssVar("--brand-strong", "#1e3a8a"), cssVar("--muted", "#4b5563")];
    var dashes = [[], [6, 4]];
    var text = cssVar("--text", "#111827");
    var grid = cssVar("--border", "#e5e7eb");
    chart = new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: data.series.map(function (series, index) {
          return {
            label: series.label,
            data: series.values,
            borderColor: colours[index % colours.length],
            backgroundColor: colours[index % colours.length],
            borderDash: dashes[index % dashes.length],
            pointStyle: index % 2 ? "rectRot" : "circle",
            pointRadius: 3,
            tension: 0.2
          };
        })
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: window.matchMedia("(prefers-reduced-motion: reduce)").matches ? false : { duration: 300 },
        scales: {
          y: {
            beginAtZero: true,
            suggestedMax: 100,
            title: { display: true, text: canvas.getAttribute("data-y-label") || "", color: text },
            ticks: { color: text },
            grid: { color: grid }
          },
          x: { ticks: { color: text, maxRotation: 0, autoSkip: true }, grid: { color: grid } }
        },
        plugins: { legend: { labels: { color: text } } }
      }
    });
  }

  // ------------------------------------------------------------------------------------------ live
  function say(key) {
    if (statusLine) {
      statusLine.textContent = statusLine.getAttribute("data-" + key) || "";
    }
  }

  var refreshTimer = null;
  var refreshing = false;
  var again = false;

  function refresh() {
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = true;
    var focusedId = document.activeElement && container.contains(document.activeElement) ? document.activeElement.id : "";
    fetch(config.fragment + window.location.search, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (!response.ok || response.redirected) { // redirected: signed out meanwhile (the login page)
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        if (chart) {
          chart.destroy();
          chart = null;
        }
        container.innerHTML = html; // our own server-rendered, auto-escaped HTML
        drawChart();
        if (focusedId) {
          var target = document.getElementById(focusedId);
          if (target) {
            target.focus();
          }
        }
        container.setAttribute("data-refreshed", String(Date.now()));
        say("updated");
      })
      .catch(function () {
        say("offline");
      })
      .then(function () {
        refreshing = false;
        if (again) {
          again = false;
          refresh();
        }
      });
  }

  function scheduleRefresh() {
    // An execution sends two events (the campaign's and the user's): one fetch for both.
    window.clearTimeout(refreshTimer);
    refreshTimer = window.setTimeout(refresh, 250);
  }

  var retryDelay = 1000;
  var FINAL_CODES = [4401, 4403, 4404];

  function connect() {
    if (!config || !container || typeof window.WebSocket !== "function") {
      return;
    }
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + config.socket);
    socket.addEventListener("open", function () {
      retryDelay = 1000;
      config.topics.forEach(function (topic) {
        socket.send(JSON.stringify({ action: "subscribe", topic: topic }));
      });
    });
    socket.addEventListener("message", function (message) {
      var data;
      try {
        data = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      if (data.type === "subscribed" && data.topic === config.topics[config.topics.length - 1]) {
        container.setAttribute("data-live", "on");
        say("connected");
      } else if (data.type === "event" && data.payload && data.payload.campaign_id === config.campaign) {
        scheduleRefresh();
      }
    });
    socket.addEventListener("close", function (event) {
      container.setAttribute("data-live", "off");
      if (FINAL_CODES.indexOf(event.code) !== -1) {
        say("offline");
        return;
      }
      window.setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    });
  }

  drawChart();
  connect();
})();

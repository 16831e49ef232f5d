// The logs page's Follow button: opens the API's event stream for the page's filter and puts each new record
// on top of the table; the server ends the stream when the grant ends (the `end` event).
(function () {
  "use strict";
  var button = document.getElementById("follow");
  var rows = document.getElementById("log-records");
  var state = document.getElementById("follow-state");
  if (!button || !rows) { return; }
  var source = null;

  function cell(text, tag) {
    var td = document.createElement("td");
    var inner = tag ? document.createElement(tag) : td;
    inner.textContent = text;
    if (tag) { td.appendChild(inner); }
    return td;
  }

  function show(record) {
    var row = document.createElement("tr");
    var time = record.timestamp.replace("T", " ").replace("+00:00", "");
    row.appendChild(cell(time));
    if (record.malformed) {
      row.className = "malformed followed";
      var flag = cell("malformed");
      flag.colSpan = 3;
      row.appendChild(flag);
      row.appendChild(cell(record.raw, "code"));
    } else {
      row.className = "followed";
      row.appendChild(cell(record.kubernetes.pod_name));
      row.appendChild(cell(record.kubernetes.container_name));
      row.appendChild(cell(record.stream));
      row.appendChild(cell(record.log, "code"));
    }
    var empty = rows.querySelector("tr.empty");
    if (empty) { empty.remove(); }
    rows.insertBefore(row, rows.firstChild);
    while (rows.children.length > 1000) { rows.removeChild(rows.lastChild); }  // a long follow stays light
  }

  function stop(message) {
    if (source) { source.close(); source = null; }
    button.textContent = "Follow";
    state.textContent = message;
  }

  button.addEventListener("click", function () {
    if (source) { stop("Stopped."); return; }
    source = new EventSource(button.dataset.url);
    button.textContent = "Stop following";
    state.textContent = "Following…";
    source.addEventListener("record", function (event) { show(JSON.parse(event.data)); });
    source.addEventListener("end", function (event) { stop("Ended: " + JSON.parse(event.data).reason + "."); });
    source.onerror = function () { if (source && source.readyState === EventSource.CLOSED) { stop("Disconnected."); } };
  });
})();

/// The console's style sheet and its one script, served from `/console/static/` so that
/// the Content-Security-Policy can forbid everything from elsewhere, inline code included.
enum ConsoleAssets {
    static let css = """
        :root { --fg: #1d2430; --muted: #5b6678; --line: #d8dee8; --bg: #f6f8fb; --good: #1a7f37; --bad: #c62828; --warn: #a15c00; --busy: #1f5fbf; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
        header { display: flex; align-items: center; gap: 1.5rem; padding: .6rem 1.5rem; background: #12324f; color: #fff; flex-wrap: wrap; }
        header a { color: #dbe8f7; text-decoration: none; }
        header a.brand { font-weight: 700; color: #fff; font-size: 1.1rem; }
        header nav { display: flex; gap: 1rem; flex: 1; }
        header nav a[aria-current="page"] { color: #fff; border-bottom: 2px solid #7fb8ff; }
        header form.who { display: flex; gap: .6rem; align-items: center; margin: 0; }
        main { max-width: 78rem; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
        footer { text-align: center; color: var(--muted); font-size: .8rem; padding: 1rem; }
        h1 small, h3 small { color: var(--muted); font-weight: 400; font-size: .7em; }
        table { border-collapse: collapse; width: 100%; background: #fff; margin: .5rem 0 1.5rem; }
        th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { background: #eef2f7; font-weight: 600; }
        code, pre { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .88em; }
        pre { background: #fff; border: 1px solid var(--line); padding: .6rem; overflow-x: auto; white-space: pre-wrap; }
        dl { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; background: #fff; padding: .8rem; border: 1px solid var(--line); }
        dt { color: var(--muted); } dd { margin: 0; }
        .good { color: var(--good); } .bad, .error { color: var(--bad); } .warn { color: var(--warn); } .busy { color: var(--busy); }
        .status { font-weight: 600; }
        .ok { background: #e7f5ec; border: 1px solid #b7e0c4; padding: .6rem .8rem; }
        .alerts, .notice { background: #fff4e5; border: 1px solid #f0c98a; padding: .4rem .8rem; }
        .rule { background: #fff; border: 1px solid var(--line); padding: .2rem .8rem; margin-bottom: 1rem; }
        form.filter, form.action { display: flex; gap: .8rem; align-items: end; flex-wrap: wrap; margin: .6rem 0; }
        form.action.danger button { background: var(--bad); }
        button { background: #1f5fbf; color: #fff; border: 0; padding: .45rem .9rem; border-radius: 4px; font: inherit; cursor: pointer; }
        input, select { font: inherit; padding: .35rem .5rem; border: 1px solid #b9c3d1; border-radius: 4px; background: #fff; }
        .login { max-width: 32rem; margin: 3rem auto; background: #fff; padding: 1.5rem; border: 1px solid var(--line); }
        .login form { display: grid; gap: .6rem; }
        ol.steps { list-style: none; padding: 0; }
        li.step { color: var(--fg); background: #fff; border: 1px solid var(--line); border-left: 5px solid var(--line); margin: .6rem 0; padding: .4rem .9rem; }
        li.step.good { border-left-color: var(--good); } li.step.bad { border-left-color: var(--bad); }
        li.step.warn { border-left-color: var(--warn); } li.step.busy { border-left-color: var(--busy); }
        li.step h3 { margin: .3rem 0; color: var(--fg); }
        li.step .times { color: var(--muted); margin: .2rem 0; }
        pre.log { max-height: 16rem; overflow-y: auto; }
        .document { background: #fff; border: 1px solid var(--line); padding: .2rem 1rem; }
        """

    /// A lifebuoy: served here, so that the browser does not ask for /favicon.ico.
    static let icon = """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">\
        <circle cx="16" cy="16" r="12" fill="none" stroke="#d32f2f" stroke-width="7"/>\
        <circle cx="16" cy="16" r="12" fill="none" stroke="#fff" stroke-width="7" stroke-dasharray="9.42 9.42"/></svg>
        """

    /// Fetches the live part of an execution's page (`#live`, with `data-src`) every second
    /// and swaps it in, until the server marks it final. It leaves the page alone while a
    /// person is in one of its fields or has typed into one, asked again when the answer
    /// arrives: typing can start while the fetch is on its way.
    static let liveScript = """
        "use strict";
        (function () {
          function busy(live) {
            var active = document.activeElement;
            if (active && active.tagName === "INPUT" && live.contains(active)) { return true; }
            return Array.prototype.some.call(live.querySelectorAll("input[type=text], input:not([type])"),
              function (field) { return field.value !== ""; });
          }
          function poll() {
            var live = document.getElementById("live");
            if (!live || live.dataset.final === "true") { return; }
            if (busy(live)) { setTimeout(poll, 1000); return; }
            fetch(live.dataset.src, { credentials: "same-origin", headers: { "Accept": "text/html" } })
              .then(function (response) {
                if (!response.ok) { throw new Error("HTTP " + response.status); }
                return response.text();
              })
              .then(function (html) {
                if (!busy(live)) { live.outerHTML = html; }
                setTimeout(poll, 1000);
              })
              .catch(function () { setTimeout(poll, 5000); });
          }
          document.addEventListener("DOMContentLoaded", function () { setTimeout(poll, 1000); });
        })();
        """
}

import Mustache

/// The console's pages as Mustache templates, compiled into the binary so that `lifeboat`
/// serves them wherever it is installed. `{{x}}` escapes for HTML (quotes included, so it is
/// safe inside attributes); nothing here uses `{{{x}}}`, so every value the console shows
/// is escaped. Nothing is fetched from elsewhere: the style sheet and the one script (the
/// live execution view) come from `/console/static/`.
enum ConsoleTemplates {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in templates {
            do {
                try library.register(text, named: name)
            } catch {
                // The templates are constants of this file: one that does not parse is a bug.
                preconditionFailure("console template \(name) does not parse: \(error)")
            }
        }
        return library
    }()

    static let templates: [String: String] = [
        "head": head, "foot": foot, "login": login, "error": error, "dashboard": dashboard, "backups": backups, "backup": backup,
        "locations": locations, "plans": plans, "executions": executions, "plan": plan, "execution": execution, "execution-live": executionLive, "report": report,
        "blocks": blocks,
    ]

    static let head = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{frame.title}} · Lifeboat</title>
        <link rel="stylesheet" href="/console/static/console.css">
        <link rel="icon" href="/console/static/icon.svg" type="image/svg+xml">
        {{#frame.live}}<noscript><meta http-equiv="refresh" content="5"></noscript>
        <script src="/console/static/live.js" defer></script>{{/frame.live}}
        </head>
        <body>
        <header>
        <a class="brand" href="/console">Lifeboat</a>
        {{#frame.user}}
        <nav>
        <a href="/console"{{#frame.onDashboard}} aria-current="page"{{/frame.onDashboard}}>Dashboard</a>
        <a href="/console/backups"{{#frame.onBackups}} aria-current="page"{{/frame.onBackups}}>Backups</a>
        <a href="/console/locations"{{#frame.onLocations}} aria-current="page"{{/frame.onLocations}}>Locations</a>
        <a href="/console/plans"{{#frame.onPlans}} aria-current="page"{{/frame.onPlans}}>Plans</a>
        <a href="/console/report"{{#frame.onReport}} aria-current="page"{{/frame.onReport}}>Report</a>
        </nav>
        <form class="who" method="post" action="/console/logout">
        <span>{{frame.user}} ({{frame.role}})</span>
        <input type="hidden" name="csrf" value="{{frame.csrf}}">
        <button type="submit">Log out</button>
        </form>
        {{/frame.user}}
        </header>
        <main>
        {{#frame.notice}}<p class="notice" role="status">{{frame.notice}}</p>{{/frame.notice}}
        """

    static let foot = """
        </main>
        <footer>Lifeboat {{frame.version}} · times in UTC</footer>
        </body>
        </html>
        """

    static let login = """
        {{>head}}
        <section class="login">
        <h1>Log in</h1>
        <p>Paste an API token. <code>lifeboat token create --name NAME --role auditor|operator|admin</code> makes one; the console keeps it on the server and gives this browser a session cookie instead.</p>
        {{#failure}}<p class="error" role="alert">{{failure}}</p>{{/failure}}
        <form method="post" action="/console/login">
        <input type="hidden" name="csrf" value="{{loginCSRF}}">
        <input type="hidden" name="next" value="{{next}}">
        <label for="token">Token</label>
        <input id="token" name="token" type="password" autocomplete="off" required autofocus>
        <button type="submit">Log in</button>
        </form>
        </section>
        {{>foot}}
        """

    static let error = """
        {{>head}}
        <h1>{{status}}</h1>
        <p class="error" role="alert">{{message}}</p>
        <p><a href="{{back}}">Back</a></p>
        {{>foot}}
        """

    static let dashboard = """
        {{>head}}
        <h1>Dashboard</h1>
        {{#hasConditions}}
        <section class="alerts">
        <h2>Needs attention</h2>
        <ul>{{#conditions}}<li>{{.}}</li>{{/conditions}}</ul>
        </section>
        {{/hasConditions}}
        {{^hasConditions}}<p class="ok">All is well: every source is within its RPO and nothing waits for a person.</p>{{/hasConditions}}
        <h2>Sources</h2>
        <table>
        <thead><tr><th>Source</th><th>Kind</th><th>Last backup</th><th>Newest restorable point</th><th>RPO lag / target</th><th>Running</th></tr></thead>
        <tbody>
        {{#sources}}
        <tr><td><a href="/console/backups?source={{name}}">{{name}}</a></td><td>{{kind}}</td><td>{{lastBackup}}</td><td>{{newestPoint}}</td>
        <td class="{{#breach}}bad{{/breach}}{{^breach}}good{{/breach}}">{{lag}} / {{target}}</td><td>{{running}}</td></tr>
        {{/sources}}
        </tbody>
        </table>
        <h2>Copies waiting for a location</h2>
        <table>
        <thead><tr><th>Location</th><th>Role</th><th>Pending copies</th><th>Oldest pending</th></tr></thead>
        <tbody>
        {{#locations}}<tr><td>{{name}}</td><td>{{role}}</td><td class="{{#pending}}warn{{/pending}}">{{pendingCopies}}</td><td>{{oldestPending}}</td></tr>{{/locations}}
        </tbody>
        </table>
        <h2>Drills</h2>
        <table>
        <thead><tr><th>Plan</th><th>Last drill</th><th>Passed</th><th>Next due</th></tr></thead>
        <tbody>
        {{#plans}}<tr><td><a href="/console/plans/{{name}}">{{name}}</a></td><td>{{lastDrill}}</td><td>{{passed}}</td><td>{{nextDue}}</td></tr>{{/plans}}
        {{^plans}}<tr><td colspan="4">No recovery plan yet: <code>lifeboat plan create FILE</code>.</td></tr>{{/plans}}
        </tbody>
        </table>
        {{>foot}}
        """

    static let backups = """
        {{>head}}
        <h1>Backups</h1>
        <form class="filter" method="get" action="/console/backups">
        <label>Source <select name="source"><option value="">any</option>{{#sourceOptions}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/sourceOptions}}</select></label>
        <label>Type <select name="type"><option value="">any</option>{{#typeOptions}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/typeOptions}}</select></label>
        <label>Status <select name="status"><option value="">any</option>{{#statusOptions}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/statusOptions}}</select></label>
        <button type="submit">Filter</button>
        </form>
        {{#canBackup}}
        <form class="action" method="post" action="/console/backups">
        <input type="hidden" name="csrf" value="{{frame.csrf}}">
        <label>Back up <select name="source">{{#sourceOptions}}<option value="{{value}}">{{value}}</option>{{/sourceOptions}}</select></label>
        <label>as <select name="type"><option value="">the source's default</option>{{#typeOptions}}<option value="{{value}}">{{value}}</option>{{/typeOptions}}</select></label>
        <button type="submit">Start backup</button>
        </form>
        {{/canBackup}}
        <table>
        <thead><tr><th>Started</th><th>Source</th><th>Type</th><th>Status</th><th>Duration</th><th>Read</th><th>Added</th><th>Copies</th><th>By</th></tr></thead>
        <tbody>
        {{#rows}}
        <tr><td><a href="/console/backups/{{id}}">{{started}}</a></td><td>{{source}}</td><td>{{type}}</td><td class="status {{statusClass}}">{{status}}</td>
        <td>{{duration}}</td><td>{{bytesRead}}</td><td>{{bytesAdded}}</td><td>{{copies}}</td><td>{{requestedBy}}</td></tr>
        {{/rows}}
        {{^rows}}<tr><td colspan="9">No backup matches.</td></tr>{{/rows}}
        </tbody>
        </table>
        {{>foot}}
        """

    static let backup = """
        {{>head}}
        <h1>Backup of {{source}}</h1>
        <dl>
        <dt>Id</dt><dd><code>{{id}}</code></dd>
        <dt>Type</dt><dd>{{type}} ({{scheduleType}})</dd>
        <dt>Status</dt><dd class="status {{statusClass}}">{{status}}</dd>
        <dt>Snapshot</dt><dd><code>{{snapshot}}</code></dd>
        <dt>Started</dt><dd>{{started}}</dd>
        <dt>Duration</dt><dd>{{duration}}</dd>
        <dt>Files, read, added</dt><dd>{{files}}, {{bytesRead}}, {{bytesAdded}}</dd>
        <dt>Checksum (SHA-256)</dt><dd><code>{{checksum}}</code></dd>
        <dt>Requested by</dt><dd>{{requestedBy}} on {{host}}</dd>
        {{#error}}<dt>Error</dt><dd class="error">{{error}}</dd>{{/error}}
        </dl>
        <h2>Checks</h2>
        <table>
        <thead><tr><th>Check</th><th>Passed</th><th>Details</th></tr></thead>
        <tbody>{{#checks}}<tr><td>{{name}}</td><td class="{{#passed}}good{{/passed}}{{^passed}}bad{{/passed}}">{{#passed}}yes{{/passed}}{{^passed}}no{{/passed}}</td><td>{{details}}</td></tr>{{/checks}}</tbody>
        </table>
        <h2>Copies</h2>
        <table>
        <thead><tr><th>Location</th><th>Role</th><th>Status</th><th>Verified</th><th>Error</th></tr></thead>
        <tbody>{{#copies}}<tr><td>{{location}}</td><td>{{role}}</td><td class="status {{statusClass}}">{{status}}</td><td>{{verified}}</td><td>{{error}}</td></tr>{{/copies}}</tbody>
        </table>
        {{>foot}}
        """

    static let locations = """
        {{>head}}
        <h1>Locations</h1>
        <section class="rule {{#rule.met}}good{{/rule.met}}{{^rule.met}}bad{{/rule.met}}">
        <h2>3-2-1-1-0: {{#rule.met}}met{{/rule.met}}{{^rule.met}}not met{{/rule.met}}</h2>
        <p>{{rule.copies}} copies · {{rule.mediaTypes}} media types · {{rule.offsite}} offsite · {{rule.offline}} offline or immutable · {{rule.errors}} verification errors</p>
        {{^empty(rule.missing)}}<ul>{{#rule.missing}}<li>{{.}}</li>{{/rule.missing}}</ul>{{/empty(rule.missing)}}
        </section>
        {{^empty(warnings)}}<ul class="warnings">{{#warnings}}<li>{{.}}</li>{{/warnings}}</ul>{{/empty(warnings)}}
        <table>
        <thead><tr><th>Location</th><th>Role</th><th>Where</th><th>Reachable</th><th>Snapshots</th><th>Newest</th><th>Stored</th><th>Last verified</th><th>Pending copies</th></tr></thead>
        <tbody>
        {{#rows}}
        <tr><td>{{name}}</td><td>{{role}}</td><td><code>{{location}}</code></td>
        <td class="{{#reachable}}good{{/reachable}}{{^reachable}}bad{{/reachable}}">{{#reachable}}yes{{/reachable}}{{^reachable}}no: {{problem}}{{/reachable}}</td>
        <td>{{snapshots}}</td><td>{{newest}}</td><td>{{bytes}}</td><td>{{lastVerified}}</td><td>{{pending}}</td></tr>
        {{/rows}}
        </tbody>
        </table>
        {{>foot}}
        """

    static let plans = """
        {{>head}}
        <h1>Recovery plans</h1>
        <table>
        <thead><tr><th>Plan</th><th>Revision</th><th>System</th><th>RTO</th><th>RPO</th><th>Steps</th><th>Last drill</th><th>Next drill due</th></tr></thead>
        <tbody>
        {{#plans}}
        <tr><td><a href="/console/plans/{{name}}">{{name}}</a></td><td>{{revision}}</td><td>{{systemType}}</td><td>{{rto}}</td><td>{{rpo}}</td><td>{{steps}}</td>
        <td>{{lastDrill}}</td><td class="{{#overdue}}bad{{/overdue}}">{{nextDrillDue}}</td></tr>
        {{/plans}}
        {{^plans}}<tr><td colspan="8">No recovery plan yet: <code>lifeboat plan create FILE</code>, or POST /api/recovery/plan/create.</td></tr>{{/plans}}
        </tbody>
        </table>
        <h2>Recent executions</h2>
        {{>executions}}
        {{>foot}}
        """

    static let executions = """
        <table>
        <thead><tr><th>Created</th><th>Plan</th><th>Mode</th><th>Status</th><th>RTO achieved / target</th><th>By</th></tr></thead>
        <tbody>
        {{#executions}}
        <tr><td><a href="/console/executions/{{id}}">{{created}}</a></td><td>{{plan}} r{{revision}}</td><td>{{mode}}</td><td class="status {{statusClass}}">{{status}}</td><td>{{rto}}</td><td>{{user}}</td></tr>
        {{/executions}}
        {{^executions}}<tr><td colspan="6">None yet.</td></tr>{{/executions}}
        </tbody>
        </table>
        """

    static let plan = """
        {{>head}}
        <h1>Plan {{name}} <small>revision {{revision}}</small></h1>
        {{#canDrill}}
        <form class="action" method="post" action="/console/plans/{{name}}/executions">
        <input type="hidden" name="csrf" value="{{frame.csrf}}">
        <input type="hidden" name="mode" value="TEST">
        <button type="submit" id="start-drill">Start a drill (TEST, in a sandbox)</button>
        </form>
        {{/canDrill}}
        {{#canExecute}}
        <form class="action danger" method="post" action="/console/plans/{{name}}/executions">
        <input type="hidden" name="csrf" value="{{frame.csrf}}">
        <input type="hidden" name="mode" value="EXECUTE">
        <label>Type the plan's name to restore onto production <input name="confirm" autocomplete="off" required></label>
        <button type="submit">Execute against production</button>
        </form>
        {{/canExecute}}
        <h2>Executions</h2>
        {{>executions}}
        <h2>Runbook</h2>
        <article class="document">{{>blocks}}</article>
        {{>foot}}
        """

    /// A ``RecoveryDocument``'s blocks (a runbook, the report).
    static let blocks = """
        {{#blocks}}
        {{#h2}}<h2>{{h2}}</h2>{{/h2}}{{#h3}}<h3>{{h3}}</h3>{{/h3}}{{#h4}}<h4>{{h4}}</h4>{{/h4}}
        {{#paragraph}}<p>{{paragraph}}</p>{{/paragraph}}
        {{^empty(list)}}<ul>{{#list}}<li>{{.}}</li>{{/list}}</ul>{{/empty(list)}}
        {{#code}}<pre><code>{{code}}</code></pre>{{/code}}
        {{#table}}<table><thead><tr>{{#header}}<th>{{.}}</th>{{/header}}</tr></thead><tbody>{{#rows}}<tr>{{#cells}}<td>{{.}}</td>{{/cells}}</tr>{{/rows}}</tbody></table>{{/table}}
        {{/blocks}}
        """

    static let execution = """
        {{>head}}
        <h1>Execution of {{plan}} <small>{{mode}}</small></h1>
        {{>execution-live}}
        {{>foot}}
        """

    /// The part of an execution's page that changes while it runs: live.js fetches it again
    /// from `/console/executions/ID/live` until it is final.
    static let executionLive = """
        <section id="live" data-src="/console/executions/{{id}}/live" data-final="{{isFinal}}">
        <dl>
        <dt>Status</dt><dd class="status {{statusClass}}" id="execution-status">{{status}}</dd>
        <dt>Plan</dt><dd><a href="/console/plans/{{plan}}">{{plan}}</a> revision {{revision}}</dd>
        <dt>Requested by</dt><dd>{{user}}, {{created}}</dd>
        <dt>Incident time</dt><dd>{{incidentTime}}</dd>
        <dt>RTO achieved / target</dt><dd>{{rto}}</dd>
        <dt>RPO achieved / target</dt><dd>{{rpo}}</dd>
        {{#restorePoint}}<dt>Restore point</dt><dd>{{restorePoint}}</dd>{{/restorePoint}}
        {{#error}}<dt>Error</dt><dd class="error">{{error}}</dd>{{/error}}
        </dl>
        {{#canCancel}}
        <form class="action danger" method="post" action="/console/executions/{{id}}/cancel">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <button type="submit" id="cancel">Cancel the execution</button>
        </form>
        {{/canCancel}}
        <ol class="steps">
        {{#steps}}
        <li class="step {{statusClass}}">
        <h3>{{name}} <small>{{type}}{{#critical}} · critical{{/critical}}</small> <span class="status {{statusClass}}">{{status}}</span></h3>
        <p class="times">{{times}}{{#attempts}} · attempts: {{attempts}}{{/attempts}}</p>
        {{#approval}}<p>Approved by {{approval}}</p>{{/approval}}
        {{#canApprove}}
        <form class="action approve" method="post" action="/console/executions/{{id}}/approve">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <input type="hidden" name="step" value="{{name}}">
        <label>Comment <input name="comment" autocomplete="off"></label>
        <button type="submit" class="approve-step">Approve {{name}}</button>
        </form>
        {{/canApprove}}
        {{#log}}<pre class="log">{{log}}</pre>{{/log}}
        </li>
        {{/steps}}
        </ol>
        </section>
        """

    static let report = """
        {{>head}}
        <form class="filter" method="get" action="/console/report">
        <label>Plan <select name="plan"><option value="">every plan</option>{{#planOptions}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/planOptions}}</select></label>
        <button type="submit">Show</button>
        <a href="/api/report?format=html{{#plan}}&amp;plan={{plan}}{{/plan}}">as a standalone HTML file (needs a bearer token)</a>
        </form>
        <article class="document">{{>blocks}}</article>
        {{>foot}}
        """
}

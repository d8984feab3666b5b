import Foundation
import Hummingbird
import HummingbirdTesting
import LifeboatCatalog
import LifeboatCore
import LifeboatOperations
import LifeboatTestSupport
import Synchronization
import Testing

@testable import LifeboatServer

/// The console's pages and forms on a real repository and catalog, in process: sessions,
/// CSRF, roles, escaping, and a drill started, approved and reported from the pages.
@Suite("console", .timeLimit(.minutes(5)))
struct ConsoleTests {
    let scratch = ScratchDirectory("console")

    /// A drill that restores the files source, waits for a person, then checks the restore.
    static let gatedPlan = """
        name: app
        systemType: IMPORTANT
        steps:
          - {name: restore-app, type: RESTORE_BACKUP, source: app}
          - {name: sign-off, type: MANUAL_APPROVAL}
          - {name: verify-app, type: VERIFY_SYSTEM, source: app}
        """

    @Test("without a session a page sends the browser to the login form and a form post is refused; the assets are served with the policy")
    func anonymous() async throws {
        let f = try await APIFixture(scratch)
        try await f.serve { client in
            let browser = ConsoleBrowser(client)
            for path in ["/console", "/console/backups", "/console/plans/app", "/console/report"] {
                let page = try await browser.get(path)
                #expect(page.status == .seeOther, "\(path)")
                #expect(page.headers[.location] == "/console/login?next=\(path)", "\(path)")
            }
            let post = try await browser.post("/console/plans/app/executions", [("mode", "TEST"), ("csrf", "x")], csrf: false)
            #expect(post.status == .unauthorized)
            let root = try await browser.get("/")
            #expect(root.status == .seeOther && root.headers[.location] == "/console")
            let unknown = try await browser.get("/console/no/such/page")
            #expect(unknown.status == .notFound)
            #expect(unknown.headers[.contentType]?.hasPrefix("text/html") == true)
            let css = try await browser.get("/console/static/console.css")
            #expect(css.status == .ok)
            #expect(css.headers[.contentType]?.hasPrefix("text/css") == true)
            let login = try await browser.get("/console/login")
            #expect(login.status == .ok)
            let policy = try #require(login.headers[.contentSecurityPolicy])
            #expect(policy.contains("default-src 'none'") && policy.contains("script-src 'self'"))
            #expect(login.headers[.cacheControl] == "no-store")
            // Nothing in any page comes from elsewhere.
            #expect(!login.body.contains("http://") && !login.body.contains("https://"))
        }
        let executions = try await RecoveryExecutor(context: f.context).list()
        #expect(executions.isEmpty)
    }

    @Test("a token logs in to an HttpOnly, SameSite=Strict session cookie; the dashboard shows the source; logout ends the session")
    func loginAndLogout() async throws {
        let f = try await APIFixture(scratch)
        _ = try await BackupJob(context: f.context).run(.init(source: "app"), passphrase: TestRepository.passphrase)
        try await f.serve { client in
            let browser = ConsoleBrowser(client)
            let login = try await browser.logIn(f.tokens["auditor"]!)
            #expect(login.status == .seeOther)
            #expect(login.headers[.location] == "/console")
            let cookie = try #require(browser.setCookies[Console.sessionCookie])
            for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console"] { #expect(cookie.contains(attribute), "\(cookie)") }
            #expect(!cookie.contains(f.tokens["auditor"]!), "the cookie carries a session id, never the token")
            let dashboard = try await browser.get("/console")
            #expect(dashboard.status == .ok)
            #expect(dashboard.body.contains(">app</a>"))
            #expect(dashboard.body.contains("test-auditor (auditor)"))
            let logout = try await browser.post("/console/logout", [])
            #expect(logout.status == .seeOther)
            #expect(browser.cookies[Console.sessionCookie] == nil)
            #expect(try await browser.get("/console").status == .seeOther)
        }
        let trail = try await AuditTrail(context: f.context).list()
        #expect(trail.contains { $0.route == "/console/login" && $0.tokenName == "test-auditor" && $0.status == 303 })
    }

    @Test("a refused token gets the form again with 401 and counts against the address; expired and revoked tokens do not log in")
    func refusedLogin() async throws {
        let f = try await APIFixture(scratch)
        try await f.serve { client in
            let browser = ConsoleBrowser(client)
            for name in ["expired", "revoked"] {
                let page = try await browser.logIn(f.tokens[name]!)
                #expect(page.status == .unauthorized, "\(name)")
                #expect(page.body.contains("That token is not accepted"), "\(name)")
                #expect(browser.cookies[Console.sessionCookie] == nil)
            }
            let wrong = try await browser.logIn("lbt_" + String(repeating: "A", count: 43))
            #expect(wrong.status == .unauthorized)
            // Without the login form's own cookie (a post from another page), nothing is checked.
            let forged = try await browser.post("/console/login", [("token", f.tokens["admin"]!), ("csrf", "forged")], csrf: false)
            #expect(forged.status == .forbidden)
            #expect(browser.cookies[Console.sessionCookie] == nil)
        }
        let trail = try await AuditTrail(context: f.context).list()
        #expect(trail.filter { $0.route == "/console/login" && $0.status == 401 }.count == 3)
    }

    @Test("ten refused logins from one address get it 429, for the login form and the API alike")
    func throttled() async throws {
        let f = try await APIFixture(scratch)
        try await f.serve { client in
            let browser = ConsoleBrowser(client)
            for _ in 0..<10 { try await browser.logIn("lbt_" + String(repeating: "B", count: 43)) }
            let page = try await browser.logIn(f.tokens["admin"]!)
            #expect(page.status == .tooManyRequests)
            #expect(page.headers[.retryAfter] != nil)
            try await client.execute(uri: "/api/plans", method: .get, headers: API.headers(.admin)) { response in
                #expect(response.status == .tooManyRequests)
            }
        }
    }

    @Test("a form without the session's CSRF token is refused 403 and starts nothing")
    func csrf() async throws {
        let f = try await APIFixture(scratch)
        _ = try await BackupJob(context: f.context).run(.init(source: "app"), passphrase: TestRepository.passphrase)
        _ = try await RecoveryPlans(context: f.context).create(text: Self.gatedPlan, origin: "test")
        try await f.serve { client in
            let browser = ConsoleBrowser(client)
            try await browser.logIn(f.tokens["operator"]!)
            for fields in [[("mode", "TEST")], [("mode", "TEST"), ("csrf", "not-the-token")]] {
                let page = try await browser.post("/console/plans/app/executions", fields, csrf: false)
                #expect(page.status == .forbidden)
                #expect(page.body.contains("CSRF"))
            }
        }
        #expect(try await RecoveryExecutor(context: f.context).list().isEmpty)
    }

    @Test("an auditor sees no drill or backup form and is refused 403 when posting one; only an admin may execute against production, after typing the plan's name")
    func roles() async throws {
        let f = try await APIFixture(scratch)
        _ = try await BackupJob(context: f.context).run(.init(source: "app"), passphrase: TestRepository.passphrase)
        _ = try await RecoveryPlans(context: f.context).create(text: Self.gatedPlan, origin: "test")
        try await f.serve { client in
            let auditor = ConsoleBrowser(client)
            try await auditor.logIn(f.tokens["auditor"]!)
            let plan = try await auditor.get("/console/plans/app")
            #expect(plan.status == .ok)
            #expect(!plan.body.contains("Start a drill"))
            #expect(!(try await auditor.get("/console/backups")).body.contains("Start backup"))
            #expect(try await auditor.post("/console/plans/app/executions", [("mode", "TEST")]).status == .forbidden)
            #expect(try await auditor.post("/console/backups", [("source", "app")]).status == .forbidden)

            let operator_ = ConsoleBrowser(client)
            try await operator_.logIn(f.tokens["operator"]!)
            let page = try await operator_.get("/console/plans/app")
            #expect(page.body.contains("Start a drill"))
            #expect(!page.body.contains("Execute against production"))
            #expect(try await operator_.post("/console/plans/app/executions", [("mode", "EXECUTE"), ("confirm", "app")]).status == .forbidden)

            let admin = ConsoleBrowser(client)
            try await admin.logIn(f.tokens["admin"]!)
            #expect(try await admin.get("/console/plans/app").body.contains("Execute against production"))
            let unconfirmed = try await admin.post("/console/plans/app/executions", [("mode", "EXECUTE"), ("confirm", "ap")])
            #expect(unconfirmed.status == .unprocessableContent)
        }
        #expect(try await RecoveryExecutor(context: f.context).list().isEmpty)
    }

    @Test("an operator starts a drill from the plan's page, approves its step with a comment that is shown escaped, and the report lists the succeeded drill")
    func drill() async throws {
        let f = try await APIFixture(scratch)
        _ = try await BackupJob(context: f.context).run(.init(source: "app"), passphrase: TestRepository.passphrase)
        _ = try await RecoveryPlans(context: f.context).create(text: Self.gatedPlan, origin: "test")
        let executor = RecoveryExecutor(context: f.context)
        let comment = #"<script>alert("x")</script> & checked"#
        let executionID = Mutex<String?>(nil)
        try await f.serve { client in
            let browser = ConsoleBrowser(client)
            try await browser.logIn(f.tokens["operator"]!)
            try await browser.get("/console/plans/app")
            let started = try await browser.post("/console/plans/app/executions", [("mode", "TEST")])
            #expect(started.status == .seeOther)
            let location = try #require(started.headers[.location])
            #expect(location.hasPrefix("/console/executions/"))
            let id = String(location.dropFirst("/console/executions/".count))
            executionID.withLock { $0 = id }
            // The execution waits for the approval: the catalog says so once the restore is done.
            let uuid = try #require(UUID(uuidString: id))
            #expect(await f.log.waitFor("execution \(id) waits for an approval"), "\(f.log.lines)")
            #expect(try await executor.status(uuid).status == .waitingApproval)
            let live = try await browser.get("/console/executions/\(id)/live")
            #expect(live.body.contains("data-final=\"false\""))
            #expect(live.body.contains("Approve sign-off"))
            try await browser.get(location)
            let approved = try await browser.post("/console/executions/\(id)/approve", [("step", "sign-off"), ("comment", comment)])
            #expect(approved.status == .seeOther, "\(approved.body)")
            #expect(await f.log.waitFor("execution \(id) of app (TEST) ended"), "\(f.log.lines)")
            let done = try await executor.status(uuid)
            #expect(done.status == .succeeded, "\(done.error ?? "")")
            let page = try await browser.get(location)
            #expect(page.body.contains("data-final=\"true\""))
            #expect(page.body.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; checked"))
            #expect(!page.body.contains("<script>alert"))
            #expect(page.body.contains("test-operator (console)"))
            let report = try await browser.get("/console/report?plan=app")
            #expect(report.status == .ok)
            #expect(report.body.contains(String(id.prefix(8))), "the report names the drill")
        }
        let id = try #require(executionID.withLock { $0 })
        let record = try await executor.status(try #require(UUID(uuidString: id)))
        #expect(record.user == "test-operator (console)")
        #expect(record.steps.first { $0.name == "sign-off" }?.approvalComment == comment)
    }

    @Test("every page answers an operator: a backup started from the backups page lands on its own page; a drill is cancelled from its page; unknown records are 404 pages, malformed ids 400")
    func pages() async throws {
        let f = try await APIFixture(scratch)
        _ = try await RecoveryPlans(context: f.context).create(text: Self.gatedPlan, origin: "test")
        let executor = RecoveryExecutor(context: f.context)
        try await f.serve { client in
            let browser = ConsoleBrowser(client)
            try await browser.logIn(f.tokens["operator"]!)
            let backups = try await browser.get("/console/backups")
            #expect(backups.body.contains("No backup matches."))
            let started = try await browser.post("/console/backups", [("source", "app"), ("type", "FULL")])
            #expect(started.status == .seeOther, "\(started.body)")
            let location = try #require(started.headers[.location])
            #expect(location.hasPrefix("/console/backups/"))
            _ = try #require(UUID(uuidString: String(location.dropFirst("/console/backups/".count))))
            // The backup's own page: its row is written before the form is answered.
            let page = try await browser.get(location)
            #expect(page.status == .ok)
            #expect(page.body.contains("Backup of app"))
            for path in ["/console/locations", "/console/plans", "/console/report", "/console/backups?source=app&status=RUNNING"] {
                #expect(try await browser.get(path).status == .ok, "\(path)")
            }
            #expect(try await browser.get("/console/backups?status=NOPE").status == .badRequest)
            #expect(try await browser.get("/console/backups/\(UUID())").status == .notFound)
            #expect(try await browser.get("/console/backups/not-an-id").status == .badRequest)
            #expect(try await browser.get("/console/plans/no-such-plan").status == .notFound)
            #expect(try await browser.get("/console/executions/\(UUID())").status == .notFound)
            let unknownSource = try await browser.post("/console/backups", [("source", "nope")])
            #expect(unknownSource.status == .unprocessableContent)
            #expect(unknownSource.body.contains("nope"))

            try await browser.get("/console/plans/app")
            let drill = try await browser.post("/console/plans/app/executions", [("mode", "TEST")])
            let execution = try #require(drill.headers[.location])
            let uuid = try #require(UUID(uuidString: String(execution.dropFirst("/console/executions/".count))))
            let name = uuid.uuidString.lowercased()
            #expect(await f.log.waitFor("execution \(name) waits for an approval"), "\(f.log.lines)")
            try await browser.get(execution)
            let cancelled = try await browser.post("\(execution)/cancel", [])
            #expect(cancelled.status == .seeOther)
            #expect(await f.log.waitFor("execution \(name) of app (TEST) ended"), "\(f.log.lines)")
            #expect(try await executor.status(uuid).status == .cancelled)
            let final = try await browser.get(execution)
            #expect(final.body.contains("CANCELLED") && !final.body.contains("Cancel the execution"))
            // Approving a step of a finished execution is a conflict, shown as a page.
            let late = try await browser.post("\(execution)/approve", [("step", "sign-off")])
            #expect(late.status == .conflict)
        }
    }

    @Test("revoking the token ends its console sessions at the next request")
    func revoked() async throws {
        let f = try await APIFixture(scratch)
        let created = try await AccessTokens(context: f.context).create(name: "short-lived", role: .auditor, lifetime: nil)
        try await f.serve { client in
            let browser = ConsoleBrowser(client)
            try await browser.logIn(created.token)
            #expect(try await browser.get("/console").status == .ok)
            _ = try await AccessTokens(context: f.context).revoke(name: "short-lived")
            #expect(try await browser.get("/console").status == .seeOther)
        }
    }

    @Test("after login the browser goes back to a console page, never to another site", arguments: [
        ("/console/plans/app", "/console/plans/app"), ("//evil.example/console", "/console"), ("https://evil.example", "/console"),
        ("/console\\@evil", "/console"), ("/api/plans", "/console"), (nil, "/console"),
    ] as [(String?, String)])
    func safeNext(next: String?, expected: String) {
        #expect(Console.safeNext(next) == expected)
    }
}

import Foundation
import LifeboatCatalog
import LifeboatCore

/// The runbook of a plan: what a person needs when Lifeboat's own server is gone. Every
/// step with the commands that do it by hand, where each copy of each source is, how to
/// open a repository from a location and a passphrase alone, who to call, and each
/// regulatory notification with its deadline (a date when the incident time is known).
public enum RecoveryRunbook {
    /// - Parameters:
    ///   - backups: the BackupLog (newest first), for the snapshots each location holds.
    ///   - incidentTime: when given, deadlines become dates.
    public static func document(
        plan: RecoveryPlan, revision: RecoveryPlanRevision, configuration config: LifeboatConfiguration, backups: [BackupRecord], incidentTime: Date?,
        generatedAt: Date
    ) -> RecoveryDocument {
        var doc = RecoveryDocument(title: "Recovery runbook: \(plan.name)")
        doc.add(
            .paragraph(
                "Plan \(plan.name), revision \(revision.revision) of \(ISO8601.format(revision.createdAt)) by \(revision.createdBy); this runbook was written \(ISO8601.format(generatedAt)). \(plan.systemType.rawValue) system: recovery time objective \(plan.rtoTarget)\(plan.rto == nil ? " (the default for its type)" : ""), recovery point objective \(plan.rpo?.text ?? "not set")."
            ))
        if let d = plan.description { doc.add(.paragraph(d)) }
        if let incidentTime {
            doc.add(
                .paragraph(
                    "Incident at \(ISO8601.format(incidentTime)): the recovery is due by \(ISO8601.format(incidentTime.addingTimeInterval(Double(plan.rtoTarget.seconds))))."
                ))
        }
        let passphraseFile = config.passphrase?.file ?? "/path/to/passphrase"

        doc.add(.heading(1, "Before you start"))
        doc.add(
            .list([
                "The lifeboat binary (any release that reads repository format 1) on a machine that can reach a location below.",
                "The repository passphrase: \(config.passphrase?.file.map { "the first line of \($0)" } ?? config.passphrase?.env.map { "the environment variable \($0)" } ?? "kept by the team") (commands below read it with --password-file \(passphraseFile)).",
                "Nothing else: every location is self-describing; the catalog and lifeboat.yaml are not needed to restore.",
            ] + (plan.steps.contains { $0.type == .notify }
                ? ["For the notifications: each webhook's URL (under webhooks: in lifeboat.yaml, or wherever the team keeps secrets). A URL often carries its token, so this runbook never prints one whole: the commands read it from a variable WEBHOOK_<NAME>."]
                : [])))

        doc.add(.heading(1, "Where the copies are"))
        doc.add(
            .table(
                header: ["location", "role", "where", "kind"],
                rows: config.locations.map { l in
                    [l.name, l.role.rawValue, l.path, [l.mediaType, l.medium.map { "medium label \($0)" }, l.isOffsite ? "off-site" : "on-site", l.isOfflineOrImmutable ? "offline or immutable" : nil].compactMap { $0 }.joined(separator: ", ")]
                }))
        let sources = Set(plan.steps.compactMap(\.source))
        var rows: [[String]] = []
        for source in config.sources where sources.contains(source.name) {
            for location in config.locations {
                let newest = backups.first { b in
                    b.source == source.name && b.snapshotId != nil && b.locations.contains { $0.location == location.name && ($0.status == .verified || $0.status == .present) }
                }
                rows.append([source.name, location.name, newest?.snapshotId.map { String($0.prefix(8)) } ?? "none recorded", newest.map { ISO8601.format($0.startedAt) } ?? ""])
            }
        }
        if !rows.isEmpty {
            doc.add(.paragraph("The newest snapshot of each source the catalog recorded in each location:"))
            doc.add(.table(header: ["source", "location", "snapshot", "taken"], rows: rows))
        }

        doc.add(.heading(1, "Opening a repository from a location and a passphrase alone"))
        for l in config.locations {
            switch (l.role, l.isS3) {
            case (.airGapped, _):
                doc.add(.paragraph("\(l.name) (\(l.role.rawValue), a bundle at \(l.path)\(l.medium.map { ", medium \($0)" } ?? "")): check it, then import it into an empty folder and use that."))
                doc.add(
                    .code(
                        "lifeboat airgap verify \(q(l.path)) --read-data --password-file \(q(passphraseFile))\nlifeboat airgap import \(q(l.path)) --repo /var/tmp/lifeboat-\(l.name) --password-file \(q(passphraseFile))\nlifeboat snapshots --repo /var/tmp/lifeboat-\(l.name) --password-file \(q(passphraseFile))"
                    ))
            case (_, true):
                doc.add(.paragraph("\(l.name) (\(l.role.rawValue), object storage): the credentials come from the environment."))
                doc.add(
                    .code(
                        "export AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... AWS_ENDPOINT_URL_S3=... AWS_REGION=...\nlifeboat snapshots --repo \(q(l.path)) --password-file \(q(passphraseFile))"))
            default:
                doc.add(.paragraph("\(l.name) (\(l.role.rawValue)\(l.medium.map { ", removable medium \($0): mount it first" } ?? "")):"))
                doc.add(.code("lifeboat snapshots --repo \(q(l.path)) --password-file \(q(passphraseFile))"))
            }
        }

        doc.add(.heading(1, "Steps"))
        let primary = config.primary ?? config.locations.first
        for (i, step) in plan.steps.enumerated() {
            let after = step.after ?? (i > 0 ? [plan.steps[i - 1].name] : [])
            doc.add(.heading(2, "\(i + 1). \(step.name) (\(step.type.rawValue))"))
            var facts = [after.isEmpty ? "First." : "After \(after.joined(separator: ", "))."]
            facts.append(step.isCritical ? "Critical: if it fails, stop and escalate." : "Not critical: on failure, note it and go on.")
            if let t = step.attemptTimeout { facts.append("Allow \(PlanDuration.format(t.components.seconds))\(step.retryCount > 0 ? ", and up to \(step.retryCount) more tries" : "").") }
            doc.add(.paragraph(facts.joined(separator: " ")))
            let location = step.location.flatMap { name in config.locations.first { $0.name == name } } ?? primary
            doc.add(.code(manualCommands(step, config: config, location: location, backups: backups, passphraseFile: passphraseFile, plan: plan)))
        }

        if let team = plan.team, !team.isEmpty { doc.add(.heading(1, "Recovery team")); doc.add(people(team)) }
        if let contacts = plan.contacts, !contacts.isEmpty { doc.add(.heading(1, "Contacts")); doc.add(people(contacts)) }
        if let vendors = plan.vendors, !vendors.isEmpty {
            doc.add(.heading(1, "Vendors"))
            doc.add(.table(header: ["name", "service", "phone", "email", "contract"], rows: vendors.map { [$0.name, $0.service ?? "", $0.phone ?? "", $0.email ?? "", $0.contract ?? ""] }))
        }
        if let notices = plan.regulatory, !notices.isEmpty {
            doc.add(.heading(1, "Regulatory notifications"))
            doc.add(
                .table(
                    header: ["notification", "authority", "when", "deadline", "due"],
                    rows: notices.map { n in
                        [
                            n.name, n.authority ?? "", n.when ?? "always", "\(n.deadline) after the incident",
                            incidentTime.map { ISO8601.format($0.addingTimeInterval(Double(n.deadline.seconds))) } ?? "give --incident-time for the date",
                        ]
                    }))
        }
        if let every = plan.testing?.every { doc.add(.paragraph("This plan is drilled every \(every) (lifeboat recover \(plan.name) --test).")) }
        return doc
    }

    private static func people(_ list: [RecoveryPlan.Person]) -> RecoveryDocument.Block {
        .table(header: ["name", "role", "email", "phone"], rows: list.map { [$0.name, $0.role ?? "", $0.email ?? "", $0.phone ?? ""] })
    }

    /// What does a step by hand, as shell lines.
    static func manualCommands(
        _ step: RecoveryStep, config: LifeboatConfiguration, location: LifeboatConfiguration.Location?, backups: [BackupRecord], passphraseFile: String,
        plan: RecoveryPlan
    ) -> String {
        let repo = "--repo \(q(location?.path ?? "/path/to/repository")) --password-file \(q(passphraseFile))"
        let source = step.source.flatMap { name in config.sources.first { $0.name == name } }
        let snapshot =
            step.snapshot.flatMap { $0 == "latest" ? nil : $0 }
            ?? backups.first { $0.source == step.source && $0.status == .succeeded && $0.snapshotId != nil }?.snapshotId.map { String($0.prefix(8)) }
            ?? "latest"
        switch step.type {
        case .restoreBackup:
            guard let source else { return "# source \(step.source ?? "?") is not in lifeboat.yaml" }
            switch source.kind {
            case .sqlite:
                let target = step.target ?? source.path ?? "/path/to/database"
                return """
                    # keep what is there, then restore and check the snapshot (\(snapshot == "latest" ? "the newest SQLite snapshot: 'lifeboat snapshots' lists them" : "snapshot \(snapshot)"))
                    [ -e \(q(target)) ] && mv \(q(target)) \(q(target + ".before-manual"))
                    lifeboat restore-db \(snapshot) --sqlite-target \(q(target)) \(repo)
                    """
            case .files:
                let paths = source.paths ?? []
                var lines = ["# restore the snapshot beside production, read back, then swap each folder in (keeping the old one)"]
                lines.append("lifeboat restore \(snapshot) --target /var/tmp/lifeboat-restore --verify \(repo)")
                for (original, target) in zip(paths, step.target.map { [$0] } ?? paths) {
                    lines.append("[ -e \(q(target)) ] && mv \(q(target)) \(q(target + ".before-manual"))")
                    lines.append("mv \(q("/var/tmp/lifeboat-restore" + original)) \(q(target))")
                }
                return lines.joined(separator: "\n")
            case .postgres:
                let target = step.target ?? source.pgdata ?? "/path/to/pgdata"
                let pointInTime = step.toTime.map { " --to-time \(q($0))" } ?? step.toLsn.map { " --to-lsn \(q($0))" } ?? step.toName.map { " --to-name \(q($0))" } ?? ""
                let base = step.snapshot.flatMap { $0 == "latest" ? nil : $0 } ?? "latest"
                return """
                    # with the server stopped, keep the data directory, then restore the base backup and recover\(pointInTime.isEmpty ? " to the end of the archive" : "")
                    pg_ctl -D \(q(target)) status   # must say no server is running: stop it first
                    [ -e \(q(target)) ] && mv \(q(target)) \(q(target + ".before-manual"))
                    lifeboat restore-db \(base) --pgdata \(q(target))\(pointInTime) --as-production \(repo)
                    pg_ctl -D \(q(target)) start
                    """
            }
        case .verifySystem:
            guard let source else { return "# source \(step.source ?? "?") is not in lifeboat.yaml" }
            switch source.kind {
            case .sqlite:
                let target = plan.steps.first { $0.type == .restoreBackup && $0.source == source.name }?.target ?? source.path ?? "/path/to/database"
                return "sqlite3 \(q(target)) 'PRAGMA integrity_check'   # must print ok" + (step.query.map { "\nsqlite3 \(q(target)) \(q($0))   # must print 1" } ?? "")
            case .files:
                return (source.paths ?? []).map { "ls -la \(q($0))" }.joined(separator: "\n")
            case .postgres:
                return "psql \(q(source.url ?? "")) -c 'SELECT 1'" + (step.query.map { "\npsql \(q(source.url ?? "")) -At -c \(q($0))   # must print t" } ?? "")
            }
        case .runCommand:
            let env = (step.environment ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\(q($0.value)) " }.joined()
            return env + (step.command ?? []).map(q).joined(separator: " ")
        case .httpCheck:
            return "curl -s -o /dev/null -w '%{http_code}\\n' \(q(step.url ?? ""))   # must print \(step.expectStatus ?? 200)"
        case .notify:
            // The URL often is its own secret (a token in its path or query): the runbook, printed
            // and passed around, names the endpoint and where the whole URL is kept.
            let name = step.webhook ?? "?"
            let shown = config.webhooks[name].map { RedactedURL($0).description } ?? "not in lifeboat.yaml"
            let variable = "WEBHOOK_" + name.uppercased().unicodeScalars.map { CharacterSet.alphanumerics.contains($0) && $0.isASCII ? String($0) : "_" }.joined()
            let body = "{\"plan\": \"\(plan.name)\", \"message\": \"\(step.message ?? "")\"}"
            return """
                # \(variable): the whole URL of webhook '\(name)' (\(shown)), under webhooks: in lifeboat.yaml; it is a secret
                curl -X POST -H 'Content-Type: application/json' -d \(q(body)) "$\(variable)"
                """
        case .manualApproval:
            let lead = plan.team?.first.map { "\($0.name)\($0.role.map { " (\($0))" } ?? "")" } ?? "the incident lead"
            return "# get the sign-off of \(lead) before going on, and note who gave it and when"
        case .wait:
            return "sleep \(step.duration?.seconds ?? 0)"
        }
    }

    /// Shell quoting for the commands a person copies.
    static func q(_ s: String) -> String { WalRestoreCommand.shellQuote(s) }
}

import ArgumentParser
import Foundation
import LifeboatCore

struct SnapshotsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "snapshots", abstract: "List the snapshots, oldest first.")

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let repo = try await repository.open()
        let all = try await repo.snapshots()
        if output.json {
            try JSONOutput.print(all.map(SnapshotJSON.init))
            return
        }
        print("ID        Time                      Type          Host              Tags        Source  Paths")
        for e in all {
            let s = e.snapshot
            let time = ISO8601.format(s.time).prefix(19).replacingOccurrences(of: "T", with: " ")
            print(
                "\(e.id.shortHex)  \(time.padding(toLength: 24, withPad: " ", startingAt: 0))  \(s.type.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0))  \(s.host.padding(toLength: 16, withPad: " ", startingAt: 0))  \(s.tags.joined(separator: ",").padding(toLength: 10, withPad: " ", startingAt: 0))  \(s.source.kind.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0))  \(s.paths.joined(separator: " "))"
            )
        }
        print("\(all.count) snapshot\(all.count == 1 ? "" : "s")")
    }
}

struct SnapshotJSON: Encodable {
    let id: String
    let shortId: String
    let time: Date
    let endTime: Date
    let type: String
    let source: SourceKind
    let paths: [String]
    let tags: [String]
    let parent: String?
    let host: String
    let username: String
    let tree: String
    let dataKey: String
    let statistics: Snapshot.Statistics
    let warnings: Int
    let sourceName: String?
    let database: DatabaseFacts?
    let postgres: PostgreSQLFacts?
    let checks: Snapshot.Checks

    init(_ e: SnapshotEntry) {
        let s = e.snapshot
        id = e.id.hex
        shortId = e.id.shortHex
        time = s.time
        endTime = s.endTime
        type = s.type.rawValue
        source = s.source.kind
        paths = s.paths
        tags = s.tags
        parent = s.parent?.hex
        host = s.host
        username = s.username
        tree = s.tree.hex
        dataKey = s.dataKey.hex
        statistics = s.statistics
        warnings = s.warnings.count
        sourceName = s.source.name
        database = s.database
        postgres = s.postgres
        checks = s.checks
    }

    enum CodingKeys: String, CodingKey {
        case id, shortId, time, endTime, type, source, sourceName, paths, tags, parent, host, username, tree, dataKey, statistics, warnings
        case database, postgres, checks
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(shortId, forKey: .shortId)
        try c.encode(time, forKey: .time)
        try c.encode(endTime, forKey: .endTime)
        try c.encode(type, forKey: .type)
        try c.encode(source, forKey: .source)
        try c.encode(paths, forKey: .paths)
        try c.encode(tags, forKey: .tags)
        try c.encode(parent, forKey: .parent)
        try c.encode(host, forKey: .host)
        try c.encode(username, forKey: .username)
        try c.encode(tree, forKey: .tree)
        try c.encode(dataKey, forKey: .dataKey)
        try c.encode(statistics, forKey: .statistics)
        try c.encode(warnings, forKey: .warnings)
        try c.encode(sourceName, forKey: .sourceName)
        try c.encodeIfPresent(database, forKey: .database)
        try c.encodeIfPresent(postgres, forKey: .postgres)
        try c.encode(checks, forKey: .checks)
    }
}

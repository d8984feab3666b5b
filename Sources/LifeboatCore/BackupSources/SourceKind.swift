/// What a source is. Raw values are what snapshots, lifeboat.yaml and the catalog say.
public enum SourceKind: String, Codable, Sendable, CaseIterable {
    case files, sqlite, postgres
}

/// Snapshots in groups that share the values of some fields, as `snapshots --group-by` shows them.
public enum SnapshotGrouping {
    public enum Field: String, Sendable, CaseIterable {
        /// The configured source's name (the `source:NAME` tag a run writes); empty when none.
        case source
        case host
        /// The whole tag list, comma-separated in order (restic's grouping by tags).
        case tag
    }

    public struct Group: Sendable {
        /// Each grouped field's value, in the order the fields were given.
        public let key: [(field: Field, value: String)]
        /// Oldest first, as the input.
        public let entries: [SnapshotEntry]
    }

    /// Groups `entries` by `fields`, groups in the order their first (oldest) snapshot comes;
    /// no fields is one group holding everything.
    public static func groups(_ entries: [SnapshotEntry], by fields: [Field]) -> [Group] {
        var order: [[String]] = []
        var members: [[String]: [SnapshotEntry]] = [:]
        for entry in entries {
            let values = fields.map { value(of: $0, in: entry.snapshot) }
            if members[values] == nil { order.append(values) }
            members[values, default: []].append(entry)
        }
        return order.map { values in Group(key: Array(zip(fields, values)).map { (field: $0.0, value: $0.1) }, entries: members[values] ?? []) }
    }

    public static func value(of field: Field, in snapshot: Snapshot) -> String {
        switch field {
        case .source: snapshot.sourceName ?? ""
        case .host: snapshot.host
        case .tag: snapshot.tags.joined(separator: ",")
        }
    }
}

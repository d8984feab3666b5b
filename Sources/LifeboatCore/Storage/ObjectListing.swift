/// A listing of one kind: the objects with valid names, and the keys that are not.
///
/// Storage is someone else's computer: whatever a location lists is checked against the
/// kind's name syntax (``ObjectName``) before it becomes a name, so a key such as
/// `wal/00000001/../../../etc/cron.d/x` is never read, written nor deleted anywhere. The
/// keys refused are kept here so that the verbs that look at a whole location (`check`,
/// `verify`, `replicate`, `airgap`) can report them.
public struct ObjectListing: Sendable, Equatable {
    public var objects: [ObjectInfo]
    public var rejected: [RejectedObjectKey]

    public init(objects: [ObjectInfo] = [], rejected: [RejectedObjectKey] = []) {
        self.objects = objects
        self.rejected = rejected
    }
}

/// A key in a location's listing that is not a valid object name of its kind (a path
/// leading out of its folder, a name of another syntax, a link): it is never read, written
/// or deleted, only reported.
public struct RejectedObjectKey: Sendable, Hashable, CustomStringConvertible {
    public let kind: ObjectKind
    /// The key relative to the location, escaped (``ObjectName/escaped(_:)``).
    public let key: String
    public let reason: String
    public let location: String

    public init(kind: ObjectKind, key: some Sequence<UInt8>, reason: String, location: String) {
        self.kind = kind
        self.key = ObjectName.escaped(key)
        self.reason = reason
        self.location = location
    }

    public var description: String {
        "\(location) holds '\(key)', which is not a \(kind.rawValue) object (\(reason)): it was ignored; remove it from the location"
    }
}

/// `--json` output of the verbs that report keys they refused (docs/cli.md): the kind, the
/// key escaped as in messages, why, and the location.
extension RejectedObjectKey: Encodable {
    enum CodingKeys: String, CodingKey { case kind, key, reason, location }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind.rawValue, forKey: .kind)
        try c.encode(key, forKey: .key)
        try c.encode(reason, forKey: .reason)
        try c.encode(location, forKey: .location)
    }
}

/// Who made a request, once their bearer token (or the console session that carries it) checked
/// out: what the audit trail records beside the route and the outcome.
public struct Caller: Sendable, Equatable, CustomStringConvertible {
    /// The name the token was created with (`lifeboat token create --name`): never the token.
    public var tokenName: String
    public var role: Role

    public init(tokenName: String, role: Role) {
        self.tokenName = tokenName
        self.role = role
    }

    public var description: String { "\(tokenName) (\(role))" }
}

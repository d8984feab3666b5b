import Foundation

/// A location that cannot be turned into a backend.
public enum LocationError: Error, Sendable, CustomStringConvertible {
    case invalidS3URL(String)
    case invalidS3Endpoint(String)
    case noS3Credentials
    /// The folder for a new repository cannot be made.
    case cannotCreate(String)
    /// No repository was named by any setting.
    case noRepository

    public var description: String {
        switch self {
        case .invalidS3URL(let url): return "'\(url)' is not s3://bucket/prefix (bucket names have at least 3 characters)"
        case .invalidS3Endpoint(let e): return "the S3 endpoint '\(e)' is not a URL like http://127.0.0.1:9000"
        case .noS3Credentials: return "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones)"
        case .cannotCreate(let path): return "cannot create the repository directory \(path): does its parent exist?"
        case .noRepository:
            return "no repository given: use --repo, set LIFEBOAT_REPOSITORY, or name a PRIMARY location in lifeboat.yaml"
        }
    }
}

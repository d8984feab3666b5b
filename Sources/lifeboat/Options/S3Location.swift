import Foundation
import LifeboatCore

/// `s3://bucket/prefix` with endpoint, region and credentials from flags or the standard
/// AWS environment variables. Credentials never come from the command line.
enum S3Location {
    static func backend(_ url: String, endpoint: String?, region: String?, environment: [String: String], objectLock: ObjectLock? = nil) throws -> S3Backend {
        let rest = url.dropFirst("s3://".count)
        let parts = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let bucket = parts.first, bucket.count >= 3 else {
            throw CLIError("'\(url)' is not s3://bucket/prefix (bucket names have at least 3 characters)")
        }
        let prefix = parts.count > 1 ? String(parts[1]) : ""
        let endpointText = endpoint ?? environment["AWS_ENDPOINT_URL_S3"] ?? environment["AWS_ENDPOINT_URL"]
        let resolvedRegion = region ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
        guard let endpointURL = URL(string: endpointText ?? "https://s3.\(resolvedRegion).amazonaws.com"), endpointURL.host != nil else {
            throw CLIError("the S3 endpoint '\(endpointText ?? "")' is not a URL like http://127.0.0.1:9000")
        }
        guard let key = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"] else {
            throw CLIError("no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones)")
        }
        let credentials = S3Signer.Credentials(accessKeyID: key, secretAccessKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"])
        var configuration = S3Backend.Configuration(endpoint: endpointURL, region: resolvedRegion, bucket: String(bucket), prefix: prefix, credentials: credentials)
        configuration.objectLock = objectLock
        return S3Backend(configuration: configuration)
    }
}

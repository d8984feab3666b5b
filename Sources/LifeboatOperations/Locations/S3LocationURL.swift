import Foundation
import LifeboatCore

/// `s3://bucket/prefix` with endpoint, region and credentials from explicit settings or the
/// standard AWS environment variables. Credentials never come from a command line or
/// lifeboat.yaml.
struct S3LocationURL {
    var bucket: String
    var prefix: String

    init(_ url: String) throws {
        let rest = url.dropFirst("s3://".count)
        let parts = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard url.hasPrefix("s3://"), let bucket = parts.first, bucket.count >= 3 else {
            throw LocationError.invalidS3URL(url)
        }
        self.bucket = String(bucket)
        self.prefix = parts.count > 1 ? String(parts[1]) : ""
    }

    /// The backend's settings; `endpoint` and `region` override the environment's.
    func configuration(endpoint: String?, region: String?, environment: [String: String]) throws -> S3Backend.Configuration {
        let endpointText = endpoint ?? environment["AWS_ENDPOINT_URL_S3"] ?? environment["AWS_ENDPOINT_URL"]
        let resolvedRegion = region ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
        guard let endpointURL = URL(string: endpointText ?? "https://s3.\(resolvedRegion).amazonaws.com"), endpointURL.host != nil else {
            throw LocationError.invalidS3Endpoint(endpointText ?? "")
        }
        guard let key = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"] else {
            throw LocationError.noS3Credentials
        }
        let credentials = S3Signer.Credentials(accessKeyID: key, secretAccessKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"])
        return S3Backend.Configuration(endpoint: endpointURL, region: resolvedRegion, bucket: bucket, prefix: prefix, credentials: credentials)
    }
}

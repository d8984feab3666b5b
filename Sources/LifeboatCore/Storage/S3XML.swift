import Foundation
import NIOCore

#if canImport(FoundationXML)
import FoundationXML
#endif

/// The little of S3's XML that Lifeboat reads: an error document's code, one element of
/// an answer, and ListObjectsV2 pages.
package enum S3XML {
    /// The `<Code>` of an S3 error document, or nil when the body holds none.
    package static func errorCode(_ body: ByteBuffer) -> String? {
        let text = String(buffer: body)
        guard let start = text.range(of: "<Code>"), let end = text.range(of: "</Code>", range: start.upperBound..<text.endIndex) else { return nil }
        return String(text[start.upperBound..<end.lowerBound])
    }

    /// The text of the first `<name>` element (enough for `UploadId`).
    static func element(_ name: String, in body: ByteBuffer) -> String? {
        let text = String(buffer: body)
        guard let start = text.range(of: "<\(name)>"), let end = text.range(of: "</\(name)>", range: start.upperBound..<text.endIndex) else { return nil }
        return String(text[start.upperBound..<end.lowerBound])
    }

    /// One page of a ListObjectsV2 answer.
    package struct ListPage {
        var objects: [(String, Int)] = []
        var isTruncated = false
        var nextToken: String?

        package static func parse(_ body: ByteBuffer) -> ListPage {
            let delegate = Delegate()
            let parser = XMLParser(data: Data(Array(buffer: body)))
            parser.delegate = delegate
            parser.parse()
            return delegate.page
        }

        private final class Delegate: NSObject, XMLParserDelegate {
            var page = ListPage()
            var text = ""
            var key: String?
            var size = 0

            func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
                text = ""
                if name == "Contents" {
                    key = nil
                    size = 0
                }
            }

            func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

            func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
                switch name {
                case "Key": key = text
                case "Size": size = Int(text) ?? 0
                case "Contents": if let key { page.objects.append((key, size)) }
                case "IsTruncated": page.isTruncated = text == "true"
                case "NextContinuationToken": page.nextToken = text
                default: break
                }
            }
        }
    }
}

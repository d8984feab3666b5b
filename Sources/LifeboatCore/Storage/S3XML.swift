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

    /// The bytes of a key listed with `encoding-type=url` (form encoding, as botocore reads
    /// it: `+` is a space); nil when a `%` is not followed by two hex digits.
    static func percentDecoded(_ text: String) -> [UInt8]? {
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        let utf8 = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var i = 0
        while i < utf8.count {
            switch utf8[i] {
            case UInt8(ascii: "%"):
                guard i + 2 < utf8.count, let high = nibble(utf8[i + 1]), let low = nibble(utf8[i + 2]) else { return nil }
                out.append(high << 4 | low)
                i += 3
            case UInt8(ascii: "+"):
                out.append(UInt8(ascii: " "))
                i += 1
            default:
                out.append(utf8[i])
                i += 1
            }
        }
        return out
    }

    /// One page of a ListObjectsV2 answer.
    package struct ListPage {
        struct Object {
            let key: String
            let sizeBytes: Int
            let modified: Date?
        }

        var objects: [Object] = []
        var isTruncated = false
        var nextToken: String?

        /// nil when the body is not a well-formed listing: a page read in part would make
        /// objects look absent.
        package static func parse(_ body: ByteBuffer) -> ListPage? {
            let bytes = Array(buffer: body)
            // Foundation's XMLParser traps on an element name that is not UTF-8 (found by the
            // s3-listing fuzz target): a hostile or broken endpoint must not crash a backup.
            // S3 answers in UTF-8, so anything else is no listing.
            guard String(validating: bytes, as: UTF8.self) != nil else { return nil }
            let delegate = Delegate()
            let parser = XMLParser(data: Data(bytes))
            parser.delegate = delegate
            guard parser.parse(), delegate.sawRoot, !delegate.isBroken else { return nil }
            return delegate.page
        }

        static func date(_ text: String) -> Date? {
            if let d = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt).parse(text) { return d }
            return try? Date.ISO8601FormatStyle(timeZone: .gmt).parse(text)  // some servers leave the fraction out
        }

        private final class Delegate: NSObject, XMLParserDelegate {
            var page = ListPage()
            var text = ""
            var key: String?
            var size: Int?
            var modified: Date?
            var sawRoot = false
            var isBroken = false

            func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
                text = ""
                if name == "ListBucketResult" { sawRoot = true }
                if name == "Contents" {
                    key = nil
                    size = nil
                    modified = nil
                }
            }

            func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

            func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
                switch name {
                case "Key": key = text
                case "Size": size = Int(text)
                case "LastModified": modified = ListPage.date(text)
                case "Contents":
                    // An entry without a key or a sane size is a broken page, not an empty object.
                    guard let key, let size, size >= 0 else {
                        isBroken = true
                        return
                    }
                    page.objects.append(Object(key: key, sizeBytes: size, modified: modified))
                case "IsTruncated": page.isTruncated = text == "true"
                case "NextContinuationToken": page.nextToken = text
                default: break
                }
            }
        }
    }
}

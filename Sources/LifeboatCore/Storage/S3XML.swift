import Foundation
import NIOCore

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

        /// nil when the body is not a whole listing: a page read in part would make objects
        /// look absent.
        ///
        /// A scan for the few elements a listing has, not Foundation's XMLParser: that one
        /// traps or reads through a null pointer on some malformed documents (an element name
        /// that is not UTF-8, a processing instruction without data; found by the s3-listing
        /// fuzz target), and a hostile or broken endpoint must not crash a backup. Keys come
        /// percent-encoded (`encoding-type=url`), so no element of a listing nests text the
        /// scan could mistake for a tag.
        package static func parse(_ body: ByteBuffer) -> ListPage? {
            guard let text = String(validating: Array(buffer: body), as: UTF8.self), text.contains("<ListBucketResult") else { return nil }
            var page = ListPage()
            var outside = ""
            var rest = text[...]
            while let open = rest.range(of: "<Contents>") {
                outside += rest[..<open.lowerBound]
                guard let close = rest.range(of: "</Contents>", range: open.upperBound..<rest.endIndex) else { return nil }
                let entry = rest[open.upperBound..<close.lowerBound]
                // An entry without a key or a sane size is a broken page, not an empty object.
                guard let key = element("Key", in: entry).flatMap(unescaped), let size = element("Size", in: entry).flatMap({ Int($0) }), size >= 0
                else { return nil }
                let modified = element("LastModified", in: entry).flatMap(unescaped).flatMap(date)
                page.objects.append(Object(key: key, sizeBytes: size, modified: modified))
                rest = rest[close.upperBound...]
            }
            outside += rest
            guard outside.contains("</ListBucketResult>") else { return nil }
            let top = outside[...]
            page.isTruncated = element("IsTruncated", in: top) == "true"
            if let token = element("NextContinuationToken", in: top) {
                guard let decoded = unescaped(token) else { return nil }
                page.nextToken = decoded
            }
            return page
        }

        /// The text between the first `<name>` and the `</name>` after it.
        static func element(_ name: String, in text: Substring) -> Substring? {
            guard let start = text.range(of: "<\(name)>"), let end = text.range(of: "</\(name)>", range: start.upperBound..<text.endIndex) else { return nil }
            return text[start.upperBound..<end.lowerBound]
        }

        /// Character data with XML's five named entities and numeric references replaced; nil
        /// when it holds markup or an entity XML does not define.
        static func unescaped(_ text: Substring) -> String? {
            guard !text.contains("<") else { return nil }
            guard text.contains("&") else { return String(text) }
            var out = ""
            var i = text.startIndex
            while i < text.endIndex {
                guard text[i] == "&" else {
                    out.append(text[i])
                    i = text.index(after: i)
                    continue
                }
                guard let semicolon = text[i...].firstIndex(of: ";") else { return nil }
                let entity = text[text.index(after: i)..<semicolon]
                switch entity {
                case "amp": out.append("&")
                case "lt": out.append("<")
                case "gt": out.append(">")
                case "quot": out.append("\"")
                case "apos": out.append("'")
                default:
                    guard entity.hasPrefix("#"), entity.count <= 9 else { return nil }
                    let digits = entity.dropFirst()
                    let value = digits.hasPrefix("x") ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits, radix: 10)
                    guard let value, let scalar = Unicode.Scalar(value) else { return nil }
                    out.unicodeScalars.append(scalar)
                }
                i = text.index(after: semicolon)
            }
            return out
        }

        static func date(_ text: String) -> Date? {
            if let d = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt).parse(text) { return d }
            return try? Date.ISO8601FormatStyle(timeZone: .gmt).parse(text)  // some servers leave the fraction out
        }
    }
}

/// A table for a terminal whose column widths come from its content: no value is ever cut
/// (`CONFIGURATIO`, `source:sho`); the last column is left unpadded. Widths count
/// characters, as a terminal shows most names.
struct TextTable {
    var header: [String]?
    private(set) var rows: [[String]] = []

    init(header: [String]? = nil) {
        self.header = header
    }

    mutating func append(_ row: [String]) { rows.append(row) }

    /// The lines, header first, columns two spaces apart.
    var lines: [String] {
        let all = (header.map { [$0] } ?? []) + rows
        let columns = all.map(\.count).max() ?? 0
        var widths = Array(repeating: 0, count: columns)
        for row in all {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        return all.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
            }.joined(separator: "  ")
        }
    }

    /// `cell` padded with spaces to `width` characters; a longer one is left whole.
    static func padded(_ cell: String, to width: Int) -> String {
        cell.count >= width ? cell : cell + String(repeating: " ", count: width - cell.count)
    }

    func print() {
        for line in lines { Swift.print(line) }
    }
}

import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A restored PostgreSQL data directory, worked on through one descriptor opened when the
/// directory was made, never through a path inside it.
///
/// The directory holds whatever the snapshot held, and the snapshot holds what the
/// database's OS user put in its data directory: a `pg_hba.conf -> /etc/shadow` is one
/// `ln -s` away for that user. Everything lifeboat reads or writes here as root is opened
/// relative to the directory's descriptor with `O_NOFOLLOW`; a file is written under a
/// fresh name and renamed over the old entry, so a symbolic link where a file belongs is
/// replaced, never written through, and its owner and mode are set on the new file's
/// descriptor. `pg_wal` and each tablespace under `pg_tblspc` become real, empty folders
/// inside the directory: restored as links they would point into production's own.
final class RestoredDataDirectory {
    let path: String
    private let fd: Int32
    /// Links found where lifeboat writes or needs a folder, replaced: `name -> target`.
    private(set) var replacedLinks: [String] = []

    /// Opens `path`, which must be a directory. The path itself is the operator's (or a
    /// sandbox's), not the snapshot's: it is resolved once, here.
    init(path: String) throws {
        self.path = path
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileSystemError("open", RawPath(path), errno: errno) }
    }

    deinit { close(fd) }

    /// The directory's owner (which every file written here gets when running as root).
    var owner: (uid: uid_t, gid: gid_t) {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return (geteuid(), getegid()) }
        return (st.st_uid, st.st_gid)
    }

    func setOwner(uid: uid_t, gid: gid_t) throws {
        guard fchown(fd, uid, gid) == 0 else { throw FileSystemError("chown", RawPath(path), errno: errno) }
    }

    func setMode(_ mode: mode_t) throws {
        guard fchmod(fd, mode) == 0 else { throw FileSystemError("chmod", RawPath(path), errno: errno) }
    }

    /// A regular file's text; nil when the entry is absent, a link (not followed) or not a
    /// regular file. `O_NONBLOCK` keeps a FIFO planted under the name from hanging the open.
    func read(_ name: String) -> String? {
        RegularFile.text(at: fd, name)
    }

    /// Replaces `name` by a regular file holding `text`, mode 0600, owned like the
    /// directory: written under a temporary name with `O_EXCL | O_NOFOLLOW`, fsynced and
    /// renamed over whatever was there (a link is replaced, not followed).
    /// - Throws: ``FileSystemError``; `EISDIR` when a folder has the file's name.
    func write(_ name: String, _ text: String) throws {
        noteLink(name)
        let temporary = ".\(name).lifeboat-\(Digest256.random().hex.prefix(8))"
        let file = openat(fd, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard file >= 0 else { throw FileSystemError("open", RawPath(path + "/" + temporary), errno: errno) }
        var failure: (String, Int32)?
        let bytes = Array(text.utf8)
        if let e = bytes.withUnsafeBytes({ DurableFile.writeAll(file, $0, at: 0) }) {
            failure = ("write", e)
        } else if geteuid() == 0, fchown(file, owner.uid, owner.gid) != 0 {
            failure = ("chown", errno)
        } else if fsync(file) != 0 {
            failure = ("fsync", errno)
        }
        close(file)
        if failure == nil, renameat(fd, temporary, fd, name) != 0 { failure = ("rename", errno) }
        if let (operation, e) = failure {
            unlinkat(fd, temporary, 0)
            throw FileSystemError(operation, RawPath(path + "/" + name), errno: e)
        }
    }

    /// Removes a file (absent is fine); a link is removed itself, never what it names.
    func remove(_ name: String) throws {
        guard unlinkat(fd, name, 0) == 0 || errno == ENOENT else { throw FileSystemError("unlink", RawPath(path + "/" + name), errno: errno) }
    }

    /// Makes `pg_wal` (with its `archive_status`) a real folder: the contents of pg_wal are
    /// never in a base backup, the WAL comes from the archive, and a link restored from a
    /// cluster made with `initdb --waldir` points at production's WAL.
    func makeWalFolder() throws {
        let wal = try realFolder("pg_wal", in: fd, shownAs: "pg_wal")
        defer { close(wal) }
        close(try realFolder("archive_status", in: wal, shownAs: "pg_wal/archive_status"))
    }

    /// Makes every entry of `pg_tblspc` (a link to a tablespace's folder, elsewhere) and
    /// each tablespace `oids` names a real, empty folder inside the directory: lifeboat
    /// refuses to back up clusters with tablespaces, so a link there was not made by it and
    /// points at another cluster's data.
    func makeTablespaceFolders(oids: [String]) throws {
        let spaces = try realFolder("pg_tblspc", in: fd, shownAs: "pg_tblspc")
        defer { close(spaces) }
        let names = Set(oids.filter { !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) } + Self.entries(of: spaces))
        for name in names.sorted() {
            close(try realFolder(name, in: spaces, shownAs: "pg_tblspc/" + name))
        }
    }

    /// Removes a folder inside this directory and what it holds, without following a link
    /// anywhere (a link in it, or in its place, is removed itself).
    func removeTree(_ components: [String]) {
        guard let last = components.last else { return }
        var parent = dup(fd)
        for component in components.dropLast() {
            let next = openat(parent, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            close(parent)
            guard next >= 0 else { return }
            parent = next
        }
        Self.removeTree(last, in: parent)
        close(parent)
    }

    /// Removes `path` and what it holds, each folder opened relative to its parent with
    /// `O_NOFOLLOW`: a folder of the database's user swapped for a link while this runs
    /// (as root) leads nowhere outside. For sandboxes.
    static func removeTree(atPath path: String) {
        let parent = open((path as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard parent >= 0 else { return }
        removeTree((path as NSString).lastPathComponent, in: parent)
        close(parent)
    }

    /// `name` in `parent` as a real folder owned like the data directory: created when
    /// absent, a link (or a file) replaced by an empty folder. Returns its descriptor.
    private func realFolder(_ name: String, in parent: Int32, shownAs shown: String) throws -> Int32 {
        var st = stat()
        if fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0, st.st_mode & S_IFMT != S_IFDIR {
            noteLink(shown, at: parent, name)
            guard unlinkat(parent, name, 0) == 0 else { throw FileSystemError("unlink", RawPath(path + "/" + shown), errno: errno) }
        }
        if mkdirat(parent, name, 0o700) == 0 {
            if geteuid() == 0, fchownat(parent, name, owner.uid, owner.gid, AT_SYMLINK_NOFOLLOW) != 0 {
                throw FileSystemError("chown", RawPath(path + "/" + shown), errno: errno)
            }
        } else if errno != EEXIST {
            throw FileSystemError("mkdir", RawPath(path + "/" + shown), errno: errno)
        }
        let folder = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard folder >= 0 else { throw FileSystemError("open", RawPath(path + "/" + shown), errno: errno) }
        return folder
    }

    private func noteLink(_ name: String) { noteLink(name, at: fd, name) }

    private func noteLink(_ shown: String, at parent: Int32, _ name: String) {
        var st = stat()
        guard fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0, st.st_mode & S_IFMT == S_IFLNK else { return }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlinkat(parent, name, &buffer, buffer.count - 1)
        let target = n >= 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
        replacedLinks.append("\(shown) -> \(target)")
    }

    private static func removeTree(_ name: String, in parent: Int32) {
        var st = stat()
        guard fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return }
        guard st.st_mode & S_IFMT == S_IFDIR else {
            unlinkat(parent, name, 0)
            return
        }
        let dir = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard dir >= 0 else { return }
        for child in entries(of: dir) { removeTree(child, in: dir) }
        close(dir)
        unlinkat(parent, name, AT_REMOVEDIR)
    }

    /// The names in an open folder, without `.` and `..`.
    private static func entries(of dir: Int32) -> [String] {
        let copy = dup(dir)
        guard copy >= 0 else { return [] }
        guard let stream = fdopendir(copy) else {
            close(copy)
            return []
        }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}

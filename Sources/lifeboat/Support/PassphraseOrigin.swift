import Synchronization

/// Where the command took its passphrase from, for the message of a passphrase that opens
/// nothing: the error is reported in `main`, far from the options that read it. A Mutex:
/// the command runs on its own task, the report comes after it ended.
enum PassphraseOrigin {
    private static let stored = Mutex<String?>(nil)

    static var last: String? {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}

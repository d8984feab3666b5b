// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Lifeboat",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "lifeboat", targets: ["lifeboat"]),
        .library(name: "LifeboatCore", targets: ["LifeboatCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"4.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/vapor/fluent-kit", from: "1.57.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/vapor/fluent-sqlite-driver", from: "4.9.0"),
        .package(url: "https://github.com/vapor/fluent-postgres-driver", from: "2.14.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.13.4"),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird", from: "2.1.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        // Only the header: libzstd itself comes from Debian's libzstd-dev.
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        // SQLite's C library from Debian's libsqlite3-dev: the online backup API and checks.
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // PostgreSQL's client library from Debian's libpq-dev: one session per base backup
        // (pg_backup_start and pg_backup_stop must share it) and the pre-backup checks.
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // Linux headers Glibc's module leaves out (extended attributes).
        .systemLibrary(name: "CLinux"),
        // The engine: no server stack, no argument parser (a CI grep enforces it).
        .target(
            name: "LifeboatCore",
            dependencies: [
                "CZstd",
                "CLinux",
                "CSQLite",
                "CLibPQ",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The catalog: BackupLog and its migrations on Fluent (SQLite file or PostgreSQL).
        // Core never imports it; the CLI records what Core returns.
        .target(
            name: "LifeboatCatalog",
            dependencies: [
                "LifeboatCore",
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // What a user can ask for, the same for the CLI, the daemon and the API: lifeboat.yaml,
        // the locations' backends, backup jobs with their record, restoration tests, keys.
        .target(
            name: "LifeboatOperations",
            dependencies: [
                "LifeboatCore",
                "LifeboatCatalog",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // The API's types and routing, generated from docs/openapi.yaml by scripts/generate-api
        // and committed (the build never runs the generator: it would add minutes to a cold CI build).
        .target(
            name: "LifeboatAPI",
            dependencies: [.product(name: "OpenAPIRuntime", package: "swift-openapi-runtime")]
        ),
        // The daemon's stack (DESIGN §2): one ServiceGroup with the scheduler and a Hummingbird 2
        // listener for health and Prometheus metrics. Only here and above: Core, Catalog and
        // Operations stay free of the server stack.
        .target(
            name: "LifeboatServer",
            dependencies: [
                "LifeboatCore",
                "LifeboatCatalog",
                "LifeboatOperations",
                "LifeboatAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The CLI: parse, call Operations (or Core), render, map to an exit status.
        .executableTarget(
            name: "lifeboat",
            dependencies: [
                "LifeboatCore",
                "LifeboatCatalog",
                "LifeboatOperations",
                "LifeboatServer",
                "CLinux",
                "CSQLite",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Per-stage throughput of the byte path (chunker, HMAC, SHA-256, AES-GCM, zstd).
        .executableTarget(
            name: "lifeboat-benchmarks",
            dependencies: [
                "LifeboatCore",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Benchmarks/LifeboatBenchmarks"
        ),
        // The parsers of bytes from storage and users, as fuzz targets (DESIGN §2: no engine
        // code here, only calls into it). `package` access, not @testable: release builds too.
        .target(
            name: "LifeboatFuzzTargets",
            dependencies: ["LifeboatCore", "LifeboatOperations", .product(name: "NIOCore", package: "swift-nio")]
        ),
        // libFuzzer's driver when scripts/fuzz builds it with -sanitize=fuzzer; otherwise a
        // replayer of inputs and the writer of the seed corpus.
        .executableTarget(
            name: "lifeboat-fuzz",
            dependencies: ["LifeboatFuzzTargets", "CLibFuzzer"]
        ),
        // libFuzzer's driver entry, declared only (its library comes with -sanitize=fuzzer).
        .systemLibrary(name: "CLibFuzzer"),
        // Fixtures shared by the test targets: scratch directories, sample trees, the CLI runner.
        .target(
            name: "LifeboatTestSupport",
            dependencies: [
                "LifeboatCore", "CLinux", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/LifeboatTestSupport"
        ),
        .testTarget(
            name: "LifeboatCoreTests",
            dependencies: ["LifeboatCore", "LifeboatTestSupport", "CLinux"]
        ),
        // The catalog on SQLite and on a scratch PostgreSQL, and the pipeline that writes it.
        .testTarget(
            name: "LifeboatCatalogTests",
            dependencies: ["LifeboatCatalog", "LifeboatCore", "LifeboatTestSupport"]
        ),
        // Operations on real repositories and catalogs: backup jobs, leases, restoration tests.
        .testTarget(
            name: "LifeboatOperationsTests",
            dependencies: ["LifeboatOperations", "LifeboatCatalog", "LifeboatCore", "LifeboatTestSupport"]
        ),
        // The daemon's services in process: the HTTP routes through HummingbirdTesting.
        .testTarget(
            name: "LifeboatServerTests",
            dependencies: [
                "LifeboatServer",
                "LifeboatAPI",
                "LifeboatOperations",
                "LifeboatCatalog",
                "LifeboatCore",
                "LifeboatTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // Every committed fuzz input (seeds and past findings) through its target, at every test run.
        .testTarget(
            name: "LifeboatFuzzTargetsTests",
            dependencies: ["LifeboatFuzzTargets"]
        ),
        // Runs the built `lifeboat` binary; the dependency makes sure it is built first.
        .testTarget(
            name: "lifeboatTests",
            dependencies: ["lifeboat", "LifeboatCore", "LifeboatTestSupport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
